"""The one public entry point, ``calcinosis.Model``, and the package as a user installs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calcinosis
from calcinosis.interfaces.cli import main
from calcinosis.errors import EvidenceError, ImpossibleEvidenceError, PriorsError, ScenarioError
from calcinosis.foundation.extras import MissingExtraError, require

ROOT = Path(__file__).resolve().parent.parent
CASE = "paparo2011_fig01_gluteal_tumoral_calcinosis"


@pytest.fixture(scope="module")
def model():
    return calcinosis.Model.load(scenario="dialysis_unit")


EVIDENCE = {"lesion_site": "periarticular_large_joint", "serum_phosphate": "high", "sex": "female"}


def test_consult_equals_the_reference_engine(model):
    full = model.consult(EVIDENCE, draws=20, seed=3)
    reference = model.inference("pgmpy").consult(EVIDENCE).differential.set_index("id")
    ours = full.differential.set_index("id")
    assert np.abs(ours["p_cause"] - reference.loc[ours.index, "p_cause"]).max() < 1e-9
    assert np.abs(ours["p_present"] - reference.loc[ours.index, "p_present"]).max() < 1e-9
    assert list(full.differential.columns[:8]) == ["id", "label", "group", "p_cause", "p_present", "prior_cause",
                                                   "low", "high"]
    assert (full.differential["low"] <= full.differential["p_cause"] + 1e-12).all()
    assert {"finding", "likelihood_ratio"} <= set(full.evidence_impact.columns)
    assert not full.next_tests.empty and abs(full.groups["p_cause"].sum() + full.result.other_causes["p_cause"] - 1) < 1e-9
    json.dumps(full.to_dict(), allow_nan=False)


def test_posteriors_keep_the_index_and_equal_one_consultation_per_row(model):
    frame = pd.DataFrame({"lesion_site": ["hand_digits", None, "tendon_or_bursa"],
                          "serum_phosphate": ["high", "normal", np.nan],
                          "sex": [None, "male", "female"]}, index=pd.Index([30, 10, 20], name="patient"))
    table = model.posteriors(frame)
    assert list(table.index) == [30, 10, 20] and table.index.name == "patient"
    assert list(table.columns) == model.network.causes
    assert np.allclose(table.sum(axis=1), 1.0, atol=1e-12)
    reference = model.inference("pgmpy")
    for label, row in frame.iterrows():
        known = {k: v for k, v in row.items() if isinstance(v, str)}
        expected = reference.consult(known).differential.set_index("id")["p_cause"]
        assert np.abs(table.loc[label, expected.index] - expected).max() < 1e-9


@pytest.mark.parametrize("evidence, message", [
    ({"serum_phosphat": "high"}, "Did you mean 'serum_phosphate'?"),
    ({"serum_phosphate": "hihg"}, "Allowed: 'low', 'normal', 'high'. Did you mean 'high'?"),
    ({"sex": 1}, "state 1 is not valid for node 'sex'"),
    ("serum_phosphate=high", "must be a mapping"),
])
def test_bad_evidence_raises_the_typed_error_with_its_suggestion(model, evidence, message):
    with pytest.raises(EvidenceError, match=message.replace("(", r"\(").replace("?", r"\?").replace(".", r"\.")):
        model.consult(evidence, draws=2)


def test_posteriors_name_the_bad_row_and_column(model):
    with pytest.raises(EvidenceError, match="row 'b'.*Did you mean 'lesion_site'"):
        model.posteriors(pd.DataFrame({"lesion_sit": ["hand_digits"]}, index=["b"]))
    child = calcinosis.Model.load(scenario="general_adult")
    with pytest.raises(ImpossibleEvidenceError, match="row 'kid'") as info:
        child.posteriors(pd.DataFrame({"age_group": ["older", "child"]}, index=["ok", "kid"]))
    assert info.value.conflict == {"age_group": "child"}


def test_a_model_takes_a_whatif_and_refuses_interventions():
    priors = calcinosis.load_priors()
    whatif = calcinosis.build_whatif(priors, "general_adult", ["prevalence.gout=0.05"])
    model = calcinosis.Model(priors, whatif)
    assert model.scenario.id.startswith("general_adult+") and model.to_pgmpy().check_model()
    with pytest.raises(ScenarioError, match="interventions"):
        calcinosis.Model(priors, calcinosis.build_whatif(priors, "general_adult", do=["gout=present"]))


def test_networks_are_shared_between_populations_and_bounded(model):
    other = model.for_scenario("paediatric")
    assert other.network is model.for_scenario("paediatric").network
    assert model.network is model.for_scenario("dialysis_unit").network
    assert len(model._built) <= calcinosis.analyses.api.NETWORKS_KEPT


def test_a_missing_extra_names_what_to_install(monkeypatch):
    import importlib

    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module",
                        lambda name: (_ for _ in ()).throw(ImportError(name)) if name == "uvicorn" else real(name))
    with pytest.raises(MissingExtraError, match=r"pip install 'calcinosis\[web\]'"):
        require("uvicorn", "the web page")


def test_a_priors_variable_naming_nothing_is_named_in_the_error(monkeypatch, capsys):
    monkeypatch.setenv("CALCINOSIS_PRIORS", "/nonexistent/priors")
    with pytest.raises(PriorsError, match="CALCINOSIS_PRIORS=/nonexistent/priors: the folder does not exist"):
        calcinosis.load_priors()
    assert main(["priors"]) == 2
    assert "CALCINOSIS_PRIORS" in capsys.readouterr().err


def test_a_bundled_case_is_named_from_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["consult", CASE, "--draws", "4", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["case"]["id"] == CASE


def test_the_docstring_examples_run():
    import doctest

    result = doctest.testmod(calcinosis.analyses.api, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 6


@pytest.mark.slow
def test_the_wheel_installs_and_consults_outside_the_repository(tmp_path):
    """The built wheel, installed in a fresh virtual environment, carries its priors and cases."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
                   check=True, cwd=tmp_path, timeout=600)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = venv / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", *map(str, wheels.glob("*.whl"))], check=True, timeout=1200)
    env = {k: v for k, v in os.environ.items() if k != "CALCINOSIS_PRIORS"}
    done = subprocess.run([str(venv / "bin" / "calcinosis"), "consult", CASE, "--draws", "20", "--json"],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["differential"][0]["id"] == "primary_tumoral_calcinosis"
    assert "site-packages" in subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import calcinosis.foundation.resources as r; print(r.priors_dir())"],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=True).stdout


NODES = sorted(calcinosis.load_vocabulary().nodes)
TRIED = {"api evidence": 0}


def _value_strategy():
    from hypothesis import strategies as st

    states = sorted({s for n in NODES for s in calcinosis.load_vocabulary().nodes[n]})
    return st.one_of(st.sampled_from(states), st.text(max_size=8), st.integers(), st.none(), st.booleans(),
                     st.floats(allow_nan=True), st.lists(st.integers(), max_size=2))


def test_fuzz_the_python_api_never_leaks_an_internal_error(model):
    """Random evidence, valid or not: a typed error or a differential summing to one, never another exception."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    keys = st.one_of(st.sampled_from(NODES), st.text(max_size=12), st.integers())

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.dictionaries(keys, _value_strategy(), max_size=5))
    def check(evidence):
        TRIED["api evidence"] += 1
        try:
            table = model.posteriors(pd.DataFrame([evidence])) if all(isinstance(k, str) for k in evidence) else None
            result = model.inference().consult(evidence)
        except calcinosis.CalcinosisError:
            return
        assert abs(result.differential["p_cause"].sum() + result.other_causes["p_cause"] - 1) < 1e-9
        if table is not None:
            assert np.isfinite(table.to_numpy()).all() and abs(table.sum(axis=1).iloc[0] - 1) < 1e-9

    check()
    print(f"\nPython API fuzz: {TRIED['api evidence']} evidence sets tried")
    assert TRIED["api evidence"] >= 100


def test_the_command_line_describes_itself_without_the_numerical_stack():
    """`calcinosis --help` stays instant: building the parser imports neither pgmpy, numpy nor pandas."""
    code = ("import sys, calcinosis.interfaces.cli as c; c.build_parser().format_help(); "
            "print(sorted(m for m in ('pgmpy', 'numpy', 'pandas', 'scipy', 'matplotlib') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "[]"
