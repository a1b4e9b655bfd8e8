"""Fuzzing the three ways in: the Python API, the command line's options and the web page's
JSON endpoints. Whatever arrives, the answer is either correct (finite probabilities that sum
to one, strictly valid JSON) or one of the package's typed errors with a plain message;
never another exception, a hang, a NaN, memory beyond the budget or a file outside the output
folder. The number of inputs tried is printed at the end of the run."""

import json
from urllib.parse import quote

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from calcinosis import Model
from calcinosis.interfaces.cli import main
from calcinosis.errors import CalcinosisError
from calcinosis.data.vocabulary import load_vocabulary

from .tried import TRIED

VOCABULARY = load_vocabulary()
NODES = sorted(VOCABULARY.nodes)
STATES = sorted({s for ss in VOCABULARY.nodes.values() for s in ss})
FIG01 = "evidence_examples/paparo2011_fig01_gluteal_tumoral_calcinosis.yaml"


def fuzz(examples: int):
    """Hypothesis settings of these tests: no deadline (the first call builds the model)."""
    return settings(max_examples=examples, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

junk = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
node_ids = st.sampled_from(NODES) | st.text(max_size=12)
# mostly well-formed evidence (valid ids with valid or nearly valid states), so that the fuzz
# reaches inference and not only the first check
well_formed = st.sampled_from(NODES).flatmap(
    lambda node: st.tuples(st.just(node), st.sampled_from(list(VOCABULARY.nodes[node]))))
evidence = st.lists(well_formed, max_size=6).map(dict) | st.dictionaries(node_ids, st.sampled_from(STATES) | junk,
                                                                           max_size=4)


@pytest.fixture(scope="module")
def model():
    return Model.load()


def _finite_json(text: str):
    def reject(constant):
        raise AssertionError(f"non-finite number {constant} in JSON")
    return json.loads(text, parse_constant=reject)


# ------------------------------------------------------------------ the Python API
@pytest.mark.slow
@fuzz(60)
@given(evidence=evidence)
def test_fuzzed_api_consult(model, evidence):
    TRIED["API consult"] += 1
    try:
        full = model.consult(evidence, draws=4, seed=1)
    except CalcinosisError as error:
        assert str(error) and "Traceback" not in str(error)
        return
    d = full.differential
    assert np.isfinite(d[["p_cause", "low", "high", "p_present"]].to_numpy()).all()
    assert d["p_cause"].sum() + full.result.other_causes["p_cause"] == pytest.approx(1.0, abs=1e-9)
    _finite_json(json.dumps(full.to_dict(), allow_nan=False))


@fuzz(60)
@given(rows=st.lists(evidence, min_size=1, max_size=5))
def test_fuzzed_api_posteriors(model, rows):
    TRIED["API posteriors"] += 1
    frame = pd.DataFrame(rows, index=[f"p{i}" for i in range(len(rows))])
    try:
        out = model.posteriors(frame)
    except CalcinosisError as error:
        assert str(error)
        return
    assert list(out.index) == list(frame.index)
    assert np.isfinite(out.to_numpy()).all()
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-9)


# ------------------------------------------------------------------ the command line's options
number_text = st.integers(-10**12, 10**12).map(str) | st.sampled_from(["", "1e9", "nan", "inf", "-0", "3.5", "0x10"])
options = st.sampled_from([
    ["consult", FIG01, "--draws"], ["consult", FIG01, "--top"], ["validate", "--draws"],
    ["sweep", "prevalence.gout", "--from", "0.01", "--to", "0.02", "--steps"],
])


@fuzz(40)
@given(option=options, value=number_text)
def test_fuzzed_counts(capsys, option, value):
    try:
        assume(int(value) <= 50)  # larger valid counts are slow runs, not malformed input
    except ValueError:
        pass
    TRIED["command-line counts"] += 1
    argv = [*option, value] + (["--json"] if option[0] == "consult" else [])
    if option[-1] == "--top":
        argv += ["--draws", "4"]
    try:
        status = main(argv)
    except SystemExit as stop:
        status = stop.code
    captured = capsys.readouterr()
    assert status in (0, 2) and "Traceback" not in captured.err
    if status == 0 and "--json" in argv:
        _finite_json(captured.out)


# ------------------------------------------------------------------ the web page's JSON endpoints
@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    from calcinosis.interfaces.web.app import create_app

    return TestClient(create_app(report_draws=4))


scenarios = st.sampled_from(["general_adult", "general_population", "dialysis_unit", "paediatric", "moon"]) | junk
bodies = st.fixed_dictionaries({}, optional={
    "scenario": scenarios, "evidence": evidence | junk, "condition": st.sampled_from(sorted(VOCABULARY.conditions)) | junk,
    "target": st.sampled_from(sorted(VOCABULARY.conditions)) | junk, "measure": st.sampled_from(["p_cause", "p_present"]) | junk,
    "low": junk | st.floats(0, 1), "high": junk | st.floats(0, 1), "points": junk | st.integers(-3, 20),
    "order": st.lists(node_ids, max_size=3) | junk, "scenarios": st.lists(scenarios, max_size=2) | junk,
    "text": junk, "name": junk})
routes = st.sampled_from(["/api/differential", "/api/consult", "/api/walkthrough", "/api/casemix", "/api/sweep-range",
                          "/api/sweep", "/api/upload"])


@pytest.mark.slow
@fuzz(150)
@given(route=routes, body=bodies)
def test_fuzzed_web_endpoints(client, route, body):
    TRIED["web requests"] += 1
    response = client.post(route, content=json.dumps(body, allow_nan=True))
    assert response.status_code in (200, 400), (route, body, response.status_code, response.text[:300])
    payload = _finite_json(response.text)
    if response.status_code == 400:
        assert isinstance(payload.get("error"), str) and payload["error"]


@fuzz(40)
@given(stem=st.text(max_size=40))
def test_fuzzed_web_paths(client, stem):
    TRIED["web paths"] += 1
    for route in ("/api/case/", "/api/lesson/"):
        response = client.get(route + quote(stem, safe=""))
        assert response.status_code in (200, 400, 404, 405), (route, stem, response.status_code)
        if response.status_code in (200, 400):
            _finite_json(response.text)


def test_non_finite_and_fractional_numbers_in_a_request_are_refused_plainly(client):
    sweep = {"condition": "gout", "low": 0.01, "high": 0.02, "points": 4, "target": "gout", "measure": "p_cause"}
    for text, words in [(json.dumps(sweep, allow_nan=True).replace("0.02", "Infinity"), "Infinity is not a JSON number"),
                        (json.dumps({**sweep, "points": 1e308}), "points: give a whole number from 2 to 12"),
                        (json.dumps({**sweep, "points": 2.5}), "points: expected a whole number")]:
        TRIED["web requests"] += 1
        response = client.post("/api/sweep", content=text)
        assert response.status_code == 400 and words in response.json()["error"], response.text


# ------------------------------------------------------------------ memory and files
@pytest.mark.slow
@fuzz(12)
@given(evidence=st.lists(well_formed, max_size=4).map(dict), draws=st.integers(1, 10_000))
def test_fuzzed_draws_stay_within_the_memory_budget(model, monkeypatch, evidence, draws):
    """With a small budget, a consultation's parameter draws are refused up front with a
    message saying how many fit, or run within the budget (peak traced memory)."""
    import tracemalloc

    TRIED["API draws under a budget"] += 1
    budget_mb = 64
    monkeypatch.setenv("CALCINOSIS_MEMORY_BUDGET_MB", str(budget_mb))
    evidence.setdefault("soft_tissue_calcification", "present")
    try:  # one draw first: the imports, the network and the plans of this pattern are not the draws' memory
        model.consult(evidence, draws=1, seed=1)
    except CalcinosisError:
        return  # impossible or refused evidence: another test's concern
    tracemalloc.start()
    try:
        model.consult(evidence, draws=draws, seed=1)
    except CalcinosisError as error:
        if "memory budget" not in str(error):
            return  # impossible or refused evidence: another test's concern
        assert f"above the memory budget of {budget_mb} MB; use at most" in str(error)
        return
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak <= budget_mb * 2**20, f"{draws} draws peaked at {peak / 2**20:.0f} MB"


@fuzz(300)
@given(case_id=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
       | st.lists(st.sampled_from(["..", ".", "/", "\\", "\u2215", "\uff0f", "CON", "nul", "a", "~", "\x00"]),
                  max_size=12).map("".join))
def test_fuzzed_case_ids_become_file_names_inside_the_folder(tmp_path_factory, case_id):
    """Every id a case file can carry becomes, through the one sanitiser, a single short
    folder name inside the output folder."""
    from calcinosis.foundation.paths import file_stem

    TRIED["case ids as file names"] += 1
    out = tmp_path_factory.getbasetemp() / "reports"
    stem = file_stem(case_id)
    assert stem and len(stem) <= 80 and "/" not in stem and "\\" not in stem and "\x00" not in stem
    assert stem.lower() not in {".", "..", "con", "nul", "prn", "aux"}
    assert (out / stem).resolve().parent == out.resolve()
