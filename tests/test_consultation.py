"""The uncertainty-aware consultation: intervals, evidence impact, next best tests,
sensitivity, the consult command's JSON and the report (rendered in a real browser)."""

import json
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calcinosis import load_case, load_priors
from calcinosis.interfaces.cli import main
from calcinosis.data.evidence import bundled_cases
from calcinosis.analyses.explain import evidence_impact, next_tests
from calcinosis.network.assembly import LESION_CAUSE
from calcinosis.interfaces.report import write_report
from calcinosis.analyses.sensitivity import one_way
from calcinosis.analyses.uncertainty import posterior_intervals

from .conftest import ROOT, fast_first, inference_for

FIG1 = ROOT / "evidence_examples" / "paparo2011_fig01_gluteal_tumoral_calcinosis.yaml"
FIG4 = ROOT / "evidence_examples" / "paparo2011_fig04_ssc_thumb_pulp.yaml"


def odds(p):
    return p / (1 - p)


# ----------------------------------------------------------------------------- intervals
def test_intervals_contain_the_point_posterior_and_are_reproducible(priors):
    case = load_case(FIG1)
    result = inference_for().consult(case.evidence).differential.set_index("id")
    first = posterior_intervals(priors, "general_adult", case.evidence, draws=400, seed=7)
    again = posterior_intervals(priors, "general_adult", case.evidence, draws=400, seed=7)
    other = posterior_intervals(priors, "general_adult", case.evidence, draws=400, seed=8)
    assert first.equals(again)
    assert not first.equals(other)
    causes = first[(first["kind"] == "condition") & (first["measure"] == "p_cause")].set_index("id")
    # The leading three: a minor cause whose lesion rows were learned from one or two patients has
    # a Dirichlet of small weight, whose draws pile up near zero, so its point value (the mean) can
    # lie above the central 90% of the draws.
    top = result.index[:3]
    assert (causes.loc[top, "low"] <= result.loc[top, "p_cause"] + 1e-9).all()
    assert (result.loc[top, "p_cause"] <= causes.loc[top, "high"] + 1e-9).all()


def test_intervals_shrink_when_the_ranges_are_narrowed(priors):
    case = load_case(FIG4)
    wide = posterior_intervals(priors, None, case.evidence, draws=400, seed=1)
    narrow = posterior_intervals(priors, None, case.evidence, draws=400, seed=1, narrow=0.25)
    width = lambda t: (t["high"] - t["low"]).to_numpy()
    assert width(narrow).sum() < 0.5 * width(wide).sum()
    groups = narrow[narrow["kind"] == "group"]
    assert (groups["low"] <= groups["high"]).all()


# ----------------------------------------------------------------------------- impact
@pytest.mark.slow
def test_evidence_impact_matches_reference_inference(priors):
    """p_with and p_without come from the engine's batch; they must equal pgmpy's
    posteriors with and without each finding, and the likelihood ratio must equal the
    ratio of likelihoods P(finding | H, rest) / P(finding | not H, rest) computed from
    probabilities of evidence."""
    case = load_case(FIG1)
    evidence = {**case.evidence, "soft_tissue_calcification": "present"}
    impact = evidence_impact(inference_for(), evidence, top=3)
    reference = inference_for("general_adult", "pgmpy")
    states = list(reference.network.nodes[LESION_CAUSE].states)
    for row in impact.itertuples():
        rest = {k: v for k, v in evidence.items() if k != row.finding}
        assert row.p_with == pytest.approx(reference.posterior(LESION_CAUSE, evidence)[states.index(row.cause)], abs=1e-9)
        assert row.p_without == pytest.approx(reference.posterior(LESION_CAUSE, rest)[states.index(row.cause)], abs=1e-9)
        finding = {row.finding: row.state}
        joint_h = reference.evidence_probability({**rest, **finding, LESION_CAUSE: row.cause})
        rest_h = reference.evidence_probability({**rest, LESION_CAUSE: row.cause})
        others = [c for c in states if c not in (row.cause, "none")]
        joint_not = sum(reference.evidence_probability({**rest, **finding, LESION_CAUSE: c}) for c in others)
        rest_not = sum(reference.evidence_probability({**rest, LESION_CAUSE: c}) for c in others)
        likelihood_ratio = (joint_h / rest_h) / (joint_not / rest_not)
        assert row.likelihood_ratio == pytest.approx(likelihood_ratio, rel=1e-9)
        assert odds(row.p_without) * row.likelihood_ratio == pytest.approx(odds(row.p_with), rel=1e-9)


# ----------------------------------------------------------------------------- next tests
PANEL = ["serum_phosphate", "serum_calcium", "pth", "inflammatory_markers", "creatine_kinase", "vitamin_d_25oh"]


def test_phosphate_settles_metabolic_against_dystrophic(priors):
    """Only two conditions remain possible: primary tumoral calcinosis (metabolic, high
    phosphate) and systemic sclerosis (dystrophic, normal phosphate). Among routine
    laboratory tests, serum phosphate gains the most information."""
    keep = ("primary_tumoral_calcinosis", "systemic_sclerosis")
    evidence = {c: "absent" for c in priors.vocabulary.conditions if c not in keep}
    evidence.update({"age_group": "young_adult", "sex": "female", "lesion_site": "periarticular_large_joint"})
    tests = next_tests(inference_for(), evidence, PANEL)
    assert tests.iloc[0]["finding"] == "serum_phosphate"
    assert (tests["information_gain"] >= 0).all()
    inference = inference_for()
    states = list(inference.network.nodes[LESION_CAUSE].states)
    tc = states.index("primary_tumoral_calcinosis")
    before = inference.posterior(LESION_CAUSE, {**evidence, "soft_tissue_calcification": "present"})[tc]
    high = inference.posterior(LESION_CAUSE, {**evidence, "soft_tissue_calcification": "present",
                                              "serum_phosphate": "high"})[tc]
    normal = inference.posterior(LESION_CAUSE, {**evidence, "soft_tissue_calcification": "present",
                                                "serum_phosphate": "normal"})[tc]
    assert high > 3 * before and normal < before


def test_information_gain_matches_reference_by_hand(priors):
    """EIG = H(cause | e) - sum_x P(x | e) H(cause | e, x), every term from pgmpy."""
    case = load_case(FIG1)
    evidence = {**case.evidence, "soft_tissue_calcification": "present"}
    reference = inference_for("general_adult", "pgmpy")
    finding = "serum_phosphate"
    table = next_tests(inference_for(), evidence, [finding]).iloc[0]

    def entropy(p):
        p = p[p > 0]
        return float(-(p * np.log2(p)).sum())

    p_result = reference.posterior(finding, evidence)
    expected = entropy(reference.posterior(LESION_CAUSE, evidence)) - sum(
        p * entropy(reference.posterior(LESION_CAUSE, {**evidence, finding: s}))
        for s, p in zip(reference.network.nodes[finding].states, p_result) if p > 0)
    assert table["information_gain"] == pytest.approx(expected, abs=1e-9)
    assert [r["probability"] for r in table["results"]] == pytest.approx(list(p_result[p_result > 0]), abs=1e-9)
    # the lesson on the value of a test gives the same information, by the same function
    from calcinosis.analyses.teaching import value_of_test

    context = {k: v for k, v in case.evidence.items() if k != finding}
    lesson = value_of_test(finding, context, case.diagnosis, inference_for())
    assert lesson["information_bits"] == pytest.approx(expected, abs=1e-9)


@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6))
def test_information_gain_is_never_negative(seed):
    inference = inference_for()
    rng = np.random.default_rng(seed)
    nodes = [n for n in inference.network.priors.vocabulary.findings if n != "age_group"]
    chosen = rng.choice(nodes, size=4, replace=False)
    evidence = {n: str(rng.choice(inference.network.nodes[n].states)) for n in chosen}
    evidence["soft_tissue_calcification"] = "present"
    if not inference.is_possible(evidence):
        return
    tests = next_tests(inference, evidence)
    assert (tests["information_gain"] >= 0).all()
    for results in tests["results"]:
        assert sum(r["probability"] for r in results) == pytest.approx(1.0, abs=1e-9)


# ----------------------------------------------------------------------------- sensitivity
def test_sensitivity_ranks_parameters_and_names_their_sources(priors):
    case = load_case(FIG1)
    table = one_way(priors, "general_adult", case.evidence)
    assert table["swing"].is_monotonic_decreasing
    assert table.iloc[0]["swing"] > 0.05
    assert set(table["kind"]) <= {"literature", "derived", "judgement"}
    assert table.head(10)["source"].isin(list(priors.references)).all()
    # A finding that was not observed cannot move the answer: its parameters swing by zero.
    assert (table[table["parameter"].str.startswith("lesion.zonal_pattern.")]["swing"] == 0).all()


# ----------------------------------------------------------------------------- command line
def test_consult_json_has_intervals_impact_and_next_tests(capsys):
    status = main(["consult", str(FIG1), "--json", "--draws", "200", "--seed", "3"])
    payload = json.loads(capsys.readouterr().out)
    assert status == 0
    for entry in payload["differential"] + payload["groups"]:
        low, high = entry["interval"]
        assert 0 <= low <= high <= 1
    assert payload["evidence_impact"] and payload["next_tests"]
    assert {"finding", "state", "cause", "likelihood_ratio", "decibans"} <= set(payload["evidence_impact"][0])
    assert {"finding", "information_gain", "p_change_leader", "results"} <= set(payload["next_tests"][0])
    assert payload["draws"] == 200 and payload["seed"] == 3
    main(["consult", str(FIG1), "--json", "--draws", "200", "--seed", "3"])
    assert json.loads(capsys.readouterr().out) == payload  # same seed, same answer


# ----------------------------------------------------------------------------- report
@pytest.mark.parametrize("path", fast_first(bundled_cases(), keep=1, ids=[p.stem for p in bundled_cases()]))
def test_report_for_every_bundled_case(path, tmp_path, priors):
    case = load_case(path)
    report = write_report(priors, case, tmp_path, draws=100, seed=1)
    page = report.html.read_text()
    assert page.count("data:image/png;base64,") == 4
    assert page.count("not a diagnosis") == 1
    assert 'src="http' not in page and "href=" not in page and "@import" not in page  # nothing fetched
    markdown = report.markdown.read_text()
    for figure in report.figures:
        assert figure.stat().st_size > 5000
        assert f"]({figure.name})" in markdown


def chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.slow
@pytest.mark.skipif(chromium() is None, reason="Debian chromium is not installed (.ci/run installs it)")
def test_report_renders_its_figures_in_a_real_browser(tmp_path, priors, one_browser):
    report = write_report(priors, load_case(FIG1), tmp_path, draws=100, seed=1)
    flags = CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([chromium(), *flags, "--virtual-time-budget=5000", "--dump-dom", report.html.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert dom.count('data-rendered="yes"') == 4, "every figure decoded and drawn by the browser"
    shot = tmp_path / "report.png"
    subprocess.run([chromium(), *flags, "--window-size=1100,2400", f"--screenshot={shot}", report.html.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.stat().st_size > 50_000
