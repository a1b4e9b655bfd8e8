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


def test_myositis_ossificans_has_a_population_rate_of_the_published_order():
    # Trauma at the site is a significant injury in the year before imaging (0.4%, sheu2016); with
    # 9% after a contusion (ryan1991) and 40% of cases without recalled trauma the rate is about
    # 0.06% of adults. The former definition (5% trauma at any time) gave 0.6%.
    engine = inference_for("general_adult")
    assert 0.0002 <= engine.posterior("myositis_ossificans", {})[1] <= 0.002
    assert engine.posterior("myositis_ossificans", {"local_trauma_history": "present"})[1] >= 0.05


def test_postsurgical_ossification_has_the_prevalence_weighted_rate_of_its_operations():
    # Hip (30%, zhu2015) and knee (14%, gkiatas2021) arthroplasty weighted by their prevalence.
    p = inference_for("general_adult").posterior("postsurgical_heterotopic_ossification", {})[1]
    assert 0.003 <= p <= 0.008
    # After a hip arthroplasty the hip figure itself holds.
    assert inference_for("post_hip_arthroplasty").posterior(
        "postsurgical_heterotopic_ossification", {})[1] == pytest.approx(0.30)


def test_calciphylaxis_keeps_its_dialysis_prevalence_and_is_rare_outside_dialysis():
    assert inference_for("dialysis_unit").posterior("calciphylaxis", {})[1] == pytest.approx(0.0124, rel=0.01)
    assert inference_for("general_adult").posterior("calciphylaxis", {"chronic_kidney_disease": "absent"})[1] < 1e-5


def test_painful_skin_necrosis_speaks_for_calciphylaxis_on_dialysis():
    evidence = {"soft_tissue_calcification": "present", "lesion_site": "subcutaneous", "local_pain": "present"}
    engine = inference_for("dialysis_unit")
    p_cause = {state: engine.consult({**evidence, "painful_skin_necrosis": state}).differential
               .set_index("id").loc["calciphylaxis", "p_cause"] for state in ("absent", "present")}
    assert p_cause["present"] > 0.8
    assert p_cause["present"] > p_cause["absent"] + 0.3


def test_chondrocalcinosis_speaks_for_calcium_pyrophosphate_deposition():
    # Neame 2003: knee chondrocalcinosis in 7% of adults >=40, rising with age.
    engine = inference_for("general_adult")
    assert engine.posterior("calcium_pyrophosphate_deposition", {"age_group": "older"})[1] > 0.05
    evidence = {"age_group": "older", "lesion_site": "tendon_or_bursa", "calcification_pattern": "linear_sheet"}
    p_without = engine.consult({"soft_tissue_calcification": "present", **evidence}).differential.set_index("id")
    p_with = engine.consult({"soft_tissue_calcification": "present", **evidence,
                             "chondrocalcinosis": "present"}).differential.set_index("id")
    odds = [p / (1 - p) for p in (frame.loc["calcium_pyrophosphate_deposition", "p_cause"] for frame in (p_without, p_with))]
    assert p_with.loc["calcium_pyrophosphate_deposition", "p_cause"] > 0.9
    assert odds[1] > 5 * odds[0]


def test_a_large_deep_mass_raises_the_sarcomas():
    engine = inference_for("general_adult")
    evidence = {"soft_tissue_calcification": "present", "age_group": "young_adult", "lesion_site": "intramuscular",
                "palpable_mass": "present", "noncalcified_soft_tissue_mass": "present"}
    small = engine.consult({**evidence, "lesion_size": "under_5_cm"}).groups.set_index("id")
    large = engine.consult({**evidence, "lesion_size": "5_cm_or_more"}).groups.set_index("id")
    assert large.loc["neoplastic", "p_cause"] > 3 * small.loc["neoplastic", "p_cause"]


@pytest.mark.parametrize("condition, finding, low, high", [
    ("primary_hyperparathyroidism", "serum_phosphate", "low", "high"),
    ("hypervitaminosis_d", "serum_phosphate", "normal", "high"),
    ("milk_alkali_syndrome", "serum_phosphate", "normal", "high"),
    ("sarcoidosis", "serum_calcium", "normal", "high"),
])
def test_the_mineral_state_speaks_to_the_metabolic_causes(condition, finding, low, high):
    # Metastatic calcification follows the calcium-phosphate product (conditions.yaml): with the
    # condition known, a raised product makes it likelier to be what produced the calcification.
    engine = inference_for("general_population")
    known = {"soft_tissue_calcification": "present", condition: "present"}
    if finding != "serum_calcium":
        known["serum_calcium"] = "high"
    p_cause = {state: engine.consult({**known, finding: state}).differential
               .set_index("id").loc[condition, "p_cause"] for state in (low, high)}
    assert p_cause[high] > 1.5 * p_cause[low]


def test_hypercalcaemia_of_malignancy_is_a_pth_independent_cause():
    # gastanaga2016: 0.03% of adults; hypercalcaemia is its definition and suppresses PTH.
    engine = inference_for("general_adult")
    assert 0.0001 <= engine.posterior("hypercalcaemia_of_malignancy", {})[1] <= 0.0008
    known = {"hypercalcaemia_of_malignancy": "present"}
    assert engine.posterior("serum_calcium", known)[2] > 0.8
    assert engine.posterior("pth", known)[0] > 0.5


def test_multiple_subcutaneous_nodules_with_nothing_else_known_are_injection_granulomas():
    # A calcified injection granuloma in 1 of 72 adults at CT (hong_ctc2008), 93% of them in the
    # subcutaneous fat: the commonest cause of such nodules, which used to fall into the leak.
    differential = inference_for("general_adult").consult(
        {"soft_tissue_calcification": "present", "lesion_site": "subcutaneous",
         "distribution": "multiple_regional"}).differential
    assert differential.iloc[0]["id"] == "injection_site_calcification"
