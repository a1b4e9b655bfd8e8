"""Structural knowledge the network must carry, each change sourced in priors/ (and each
test fails on the network before the change)."""

import copy
import shutil
from pathlib import Path

import pytest
import yaml

from calcinosis import PriorsError, load_priors

from .conftest import inference_for

ROOT = Path(__file__).resolve().parent.parent
MASSES = {"soft_tissue_calcification": "present", "lesion_site": "periarticular_large_joint",
          "calcification_pattern": "multilobular_cystic", "distribution": "multiple_regional"}


def test_a_dialysis_patient_has_kidney_failure():
    # The vocabulary defines failure as eGFR < 15 or dialysis; the scenario replaces the row of
    # advanced CKD (41% failure) by its definition.
    assert inference_for("dialysis_unit").posterior("kidney_function", {})[2] == pytest.approx(1.0)
    assert inference_for("general_adult").posterior(
        "kidney_function", {"chronic_kidney_disease": "present"})[2] < 0.6


def test_phosphate_speaks_to_the_cause_in_a_dialysis_patient():
    engine = inference_for("dialysis_unit")
    p_cause = {state: engine.consult({**MASSES, "serum_phosphate": state}).differential
               .set_index("id").loc["chronic_kidney_disease", "p_cause"] for state in ("normal", "high")}
    assert p_cause["high"] > p_cause["normal"] + 0.2


def test_uraemic_calcinosis_keeps_its_published_rate_in_dialysis():
    produced = inference_for("dialysis_unit").posterior("produces__chronic_kidney_disease", {})[1]
    assert 0.005 <= produced <= 0.07  # 1.2% (0.5-7%) of dialysis patients, paparo2011


def _scenario_copy(tmp_path, edit) -> Path:
    folder = tmp_path / "priors"
    shutil.copytree(ROOT / "priors", folder)
    path = folder / "scenarios" / "dialysis_unit.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data))
    return folder


@pytest.mark.parametrize("edit, words", [
    (lambda d: d["noisy_max"].update({"kidney_functon": copy.deepcopy(d["noisy_max"]["kidney_function"])}),
     ["noisy_max.kidney_functon", "kidney_function"]),
    (lambda d: d["noisy_max"]["kidney_function"]["causes"].update(
        {"cysticercosis": copy.deepcopy(d["noisy_max"]["kidney_function"]["causes"]["chronic_kidney_disease"])}),
     ["replaces existing rows only", "cysticercosis"]),
    (lambda d: d["noisy_max"]["kidney_function"]["causes"]["chronic_kidney_disease"]["probabilities"].update(
        {"failure": 1.5}), ["kidney_function.causes.chronic_kidney_disease", "1.5"]),
])
def test_a_bad_scenario_row_is_refused_with_its_path(tmp_path, edit, words):
    with pytest.raises(PriorsError) as error:
        load_priors(_scenario_copy(tmp_path, edit))
    for word in words:
        assert word in str(error.value)


def test_the_relative_risk_of_ckd_for_gout_is_adjusted_for_age_and_sex():
    # bleyer2020: gout in 15% of dialysis patients; a crude ratio on top of age and sex gave 25%.
    p = inference_for("general_adult").posterior("gout", {"chronic_kidney_disease": "present"})[1]
    assert 0.12 <= p <= 0.18
