"""Robustness: malformed and adversarial input at every entry point ends in a clear error
(exit status 2, one paragraph, no traceback) or a correct answer (exit 0, valid JSON
without NaN); never another exception, a hang or a NaN. Counts tried are printed."""

import json
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calcinosis import load_priors
from calcinosis.interfaces.cli import main
from calcinosis.errors import CalcinosisError, EvidenceError, ImpossibleEvidenceError
from calcinosis.data.evidence import bundled_cases, load_case, parse_assignments
from calcinosis.data.vocabulary import load_vocabulary

from .tried import TRIED

from .conftest import fast_first

VOCABULARY = load_vocabulary()
NODES = sorted(VOCABULARY.nodes)
PRIORS_DIR = Path(__file__).resolve().parent.parent / "priors"
FAST = ["--draws", "4", "--json"]


def _no_nan(text: str) -> None:
    def reject(constant):
        raise AssertionError(f"non-finite number {constant} in JSON output")
    json.loads(text, parse_constant=reject)


def run(argv, capsys, kind: str) -> int:
    """Run the command line; check the contract; return the exit status."""
    TRIED[kind] += 1
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        status = exc.code
    captured = capsys.readouterr()
    assert status in (0, 2), f"{argv}: exit status {status}; stderr {captured.err[-500:]}"
    assert "Traceback" not in captured.err
    if status == 2:
        message = captured.err.strip().splitlines()[-1]
        assert message.startswith("calcinosis: error:") or "usage:" in captured.err, captured.err
        assert "nan" not in message.lower().split()
    elif "--json" in argv:
        _no_nan(captured.out)
    return status


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "case.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", errors="surrogatepass"))
    return path


# ------------------------------------------------------------------ case files
values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                      max_leaves=6)
node_ids = st.sampled_from(NODES) | st.text(max_size=12)
states = st.sampled_from(sorted({s for ss in VOCABULARY.nodes.values() for s in ss})) | values
evidence = st.dictionaries(node_ids, states, max_size=4)
cases = st.fixed_dictionaries(
    {"id": st.just("fuzz") | values, "title": st.just("Fuzzed case") | values, "source": st.just("test") | values,
     "evidence": evidence | values},
    optional={"scenario": st.sampled_from(["general_adult", "paediatric", "dialysis_unit", "moon"]) | values,
              "assumed": st.lists(node_ids, max_size=2) | values,
              "diagnosis": st.sampled_from(sorted(VOCABULARY.conditions)) | values,
              "note": values, "extra_key": values})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases)
def test_fuzzed_case_files_loader(tmp_path, case):
    # Many inputs through the loader the CLI uses (fast); a few of them end to end below.
    TRIED["case files (loader)"] += 1
    path = write(tmp_path, yaml.safe_dump(case, allow_unicode=True))
    try:
        loaded = load_case(path, VOCABULARY)
    except CalcinosisError as exc:
        assert str(exc) and "\n" not in str(exc).strip()
    else:
        assert set(loaded.evidence) <= set(VOCABULARY.nodes)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases)
def test_fuzzed_case_files(tmp_path, capsys, case):
    path = write(tmp_path, yaml.safe_dump(case, allow_unicode=True))
    run(["consult", str(path), *FAST], capsys, "case files (command line)")


ADVERSARIAL = [
    "a: &x [1, 2]\nb: *x\n",                                                     # alias
    "id: x\nid: y\ntitle: t\nsource: s\nevidence: {}\n",                          # duplicate key
    "!!python/object/apply:os.system ['echo pwned']\n",                           # unsafe tag
    "id: !!binary aGVsbG8=\ntitle: t\nsource: s\nevidence: {}\n",                 # binary tag
    "id: x\ntitle: t\nsource: s\nevidence: {serum_calcium: !!float 1}\n",         # tagged float state
    "id: x\ntitle: t\nsource: s\nevidence: {? [a, b] : high}\n",                  # complex key
    "id: x\ntitle: t\nsource: s\nevidence:\n  serum_calcium: high\n  serum_calcium: low\n",
    "[" * 5000 + "]" * 5000,                                                       # deep nesting
    "id: ☃\ntitle: 'ünïcødé \u202e'\nsource: s\nevidence: {séx: female}\n",        # unicode
    "id: x\ntitle: t\nsource: s\nscenario: general_adult\nevidence: {age_group: child}\n",  # impossible in adults
    "",                                                                            # empty
    "---\na: 1\n---\nb: 2\n",                                                      # two documents
    "\t- tab indented",                                                            # invalid YAML
    "id: x\ntitle: t\nsource: s\nevidence: {serum_calcium: high}\nscenario: moon\n",
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_adversarial_case_files(tmp_path, capsys, text):
    assert run(["consult", str(write(tmp_path, text)), *FAST], capsys, "case files (adversarial)") == 2


def test_huge_and_binary_case_files(tmp_path, capsys):
    huge = "id: x\ntitle: t\nsource: s\nevidence: {}\nnote: '" + "x" * 1_100_000 + "'\n"
    assert run(["consult", str(write(tmp_path, huge)), *FAST], capsys, "case files (adversarial)") == 2
    assert run(["consult", str(write(tmp_path, b"\xff\xfe\x00garbage")), *FAST], capsys,
               "case files (adversarial)") == 2
    assert run(["consult", str(tmp_path / "missing.yaml"), *FAST], capsys, "case files (adversarial)") == 2
    assert run(["consult", str(tmp_path), *FAST], capsys, "case files (adversarial)") == 2


# ------------------------------------------------------------------ --set and other arguments
CASE = str(next(p for p in bundled_cases() if "fig01" in p.name))


SET_STRINGS = st.text(max_size=30) | st.builds(lambda n, s: f"{n}={s}", st.sampled_from(NODES),
                                               st.sampled_from(["high", "present", "child", "x", ""]))


@settings(max_examples=500, deadline=None)
@given(assignments=st.lists(SET_STRINGS, max_size=3))
def test_fuzzed_set_parser(assignments):
    TRIED["--set strings (parser)"] += 1
    try:
        parsed = parse_assignments(assignments, VOCABULARY)
    except CalcinosisError as exc:
        assert str(exc).startswith("--set")
    else:
        assert all(state in VOCABULARY.nodes[node] for node, state in parsed.items())


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(assignment=st.text(max_size=30) | st.builds(lambda n, s: f"{n}={s}", st.sampled_from(NODES),
                                                   st.sampled_from(["high", "present", "child", "x", ""])))
def test_fuzzed_set_strings(capsys, assignment):
    run(["consult", CASE, "--set", assignment, *FAST], capsys, "--set strings (command line)")


@pytest.mark.parametrize("argv", [
    ["consult", CASE, "--draws", "0"], ["consult", CASE, "--draws", "-3"], ["consult", CASE, "--top", "x"],
    ["consult", CASE, "--scenario", "moon"], ["nodes", "--scenario", "moon"], ["teach", CASE, "--order", "zzz"],
    ["export", "--format", "docx", "--out", "x"], ["validate", "--draws", "1"], ["lesson", "nonsense"],
    ["cases", "--folder", "/nonexistent"],
])
def test_bad_arguments(capsys, argv):
    assert run(argv, capsys, "arguments") == 2


# ------------------------------------------------------------------ priors files
def _mutate(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


PRIORS_MUTATIONS = {
    "out of range": ("conditions.yaml", "probabilities: {present: 0.0055}", "probabilities: {present: 1.7}"),
    "negative": ("conditions.yaml", "probabilities: {present: 0.0055}", "probabilities: {present: -0.1}"),
    "text number": ("conditions.yaml", "probabilities: {present: 0.0055}", "probabilities: {present: lots}"),
    "not summing": ("population.yaml", "young_adult: 0.379", "young_adult: 0.479"),
    "missing source": ("conditions.yaml", "source: usrds2018\n", "source: nobody2099\n"),
    "unknown key": ("conditions.yaml", "      source: usrds2018\n", "      sauce: usrds2018\n"),
    "cycle": ("conditions.yaml", "    relative_risk:\n      family_history_calcinosis:",
              "    relative_risk:\n      gout:\n        present: {value: 1.5, interval: [1.0, 2.0], source: paparo2011, "
              "locator: test, kind: literature}\n      family_history_calcinosis:"),
    "alias": ("settings.yaml", "sum_tolerance: 1.0e-9", "sum_tolerance: &t 1.0e-9\nx: *t"),
    "nan": ("conditions.yaml", "probabilities: {present: 0.0055}", "probabilities: {present: .nan}"),
}


@pytest.mark.parametrize("name", fast_first(sorted(PRIORS_MUTATIONS), keep=3))
def test_broken_priors(tmp_path, monkeypatch, capsys, name):
    folder = tmp_path / "priors"
    shutil.copytree(PRIORS_DIR, folder)
    file, old, new = PRIORS_MUTATIONS[name]
    if name == "cycle":  # gout depends on CKD; make primary tumoral calcinosis -> gout -> ... -> itself impossible
        _mutate(folder, "conditions.yaml", "      chronic_kidney_disease:\n        present: {value: 2.25",
                "      primary_tumoral_calcinosis:\n        present: {value: 1.5, interval: [1.0, 2.0], source: "
                "paparo2011, locator: test, kind: literature}\n      chronic_kidney_disease:\n        present: {value: 2.25")
    _mutate(folder, file, old, new)
    monkeypatch.setenv("CALCINOSIS_PRIORS", str(folder))
    assert run(["priors", "--json"], capsys, "priors files") == 2


# ------------------------------------------------------------------ impossible evidence
def test_impossible_evidence_names_the_smallest_conflict(engine):
    evidence = {"age_group": "child", "sex": "female", "serum_calcium": "high", "soft_tissue_calcification": "present"}
    with pytest.raises(ImpossibleEvidenceError) as info:
        engine.consult(evidence)
    assert info.value.conflict == {"age_group": "child"}


# ------------------------------------------------------------------ limits
@pytest.mark.parametrize("argv, fragment", [
    (["consult", "CASE", "--draws", "100000000"], "--draws: must lie from 1 to 10,000"),
    (["consult", "CASE", "--top", "0"], "--top: must lie from 1 to 100"),
    (["consult", "CASE", "--top", "-3"], "--top: must lie from 1 to 100"),
    (["consult", "CASE", "--draws", "many"], "expected a whole number"),
    (["validate", "--draws", "1"], "--draws: must lie from 2 to 10,000"),
    (["sweep", "prevalence.gout", "--from", "0.01", "--to", "0.02", "--steps", "1"], "--steps: must lie from 2 to 101"),
    (["simulate", "-n", "0", "--out", "x.csv"], "-n: must lie from 1 to 10,000,000"),
])
def test_counts_outside_their_range_are_refused(capsys, argv, fragment):
    case = str(next(p for p in bundled_cases() if "fig01" in p.name))
    with pytest.raises(SystemExit) as stop:
        main([case if a == "CASE" else a for a in argv])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_draws_beyond_the_memory_budget_are_refused_up_front(monkeypatch, priors):
    from calcinosis.analyses.uncertainty import posterior_intervals

    monkeypatch.setenv("CALCINOSIS_MEMORY_BUDGET_MB", "50")
    with pytest.raises(EvidenceError, match=r"above the memory budget of 50 MB; use at most \d+ draws"):
        posterior_intervals(priors, "general_adult", {}, draws=5000, seed=1)
    monkeypatch.setenv("CALCINOSIS_MEMORY_BUDGET_MB", "lots")
    with pytest.raises(EvidenceError, match="CALCINOSIS_MEMORY_BUDGET_MB"):
        posterior_intervals(priors, "general_adult", {}, draws=5001, seed=1)


# ------------------------------------------------------------------ file names
@pytest.mark.parametrize("case_id", fast_first([
    "/etc/passwd_report", "../../../escape", "..", "a/../../b", "fig\u2215slash", "fig\uff0fwide", "CON", "nul",
    "x" * 500, "ünïcødé", "",
], keep=2))
def test_no_report_is_written_outside_its_folder(tmp_path, capsys, case_id):
    from calcinosis.foundation.paths import file_stem

    out = tmp_path / "out"
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump({"id": case_id, "title": "t", "source": "s", "evidence": {"serum_calcium": "high"}}))
    assert main(["report", str(case), "--out", str(out), "--draws", "10"]) == 0
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != case]
    assert written and all(out in p.parents for p in written)
    stem = file_stem(case_id)
    assert (out / stem).is_dir() and len(stem) <= 80 and stem.lower() not in {"con", "nul", ".."}


def test_a_consultation_without_a_calcification_is_refused_alike_on_the_command_line_and_the_page(tmp_path, capsys):
    from calcinosis.interfaces.web import service

    case = tmp_path / "case.yaml"
    case.write_text("id: x\ntitle: t\nsource: s\nevidence: {soft_tissue_calcification: absent, sex: male}\n")
    assert main(["consult", str(case), "--json"]) == 2
    err = capsys.readouterr().err
    assert "ranks what produced a soft-tissue calcification" in err
    with pytest.raises(EvidenceError, match="ranks what produced a soft-tissue calcification"):
        service._evidence({"soft_tissue_calcification": "absent"})


def test_json_is_strict_when_every_condition_is_absent(tmp_path, capsys, priors):
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump({"id": "x", "title": "t", "source": "s",
                                    "evidence": {c: "absent" for c in priors.vocabulary.conditions}}))
    assert main(["consult", str(case), "--json", "--draws", "20"]) == 0
    payload = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert payload["other_causes"]["p_cause"] == pytest.approx(1.0)
    undefined = [r for r in payload["evidence_impact"] if r["likelihood_ratio"] is None]
    assert undefined and all(r["note"] for r in undefined)


def test_a_case_reference_must_name_a_reference_of_the_priors(tmp_path, capsys):
    case = yaml.safe_load((Path(__file__).resolve().parent.parent / "evidence_examples"
                           / "paparo2011_fig01_gluteal_tumoral_calcinosis.yaml").read_text())
    case["reference"] = "paparo2012"
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(case))
    TRIED["case references"] += 1
    assert main(["consult", str(path), *FAST]) == 2
    assert "reference: 'paparo2012' is not a key of priors/references.yaml. Did you mean 'paparo2011'?" in \
        capsys.readouterr().err


def test_consult_set_explains_where_population_settings_go(capsys):
    case = "evidence_examples/paparo2011_fig01_gluteal_tumoral_calcinosis.yaml"
    TRIED["--set on consult"] += 1
    assert main(["consult", case, "--set", "prevalence.gout=2", *FAST]) == 2
    assert "`calcinosis whatif`" in capsys.readouterr().err


# ------------------------------------------------------------------ every --json is strict JSON
def _strict_json_of(argv, capsys, tmp_path=None) -> dict:
    TRIED["--json outputs parsed strictly"] += 1
    assert main(argv) == 0, argv
    out = capsys.readouterr().out
    _no_nan(out)
    return json.loads(out)


@pytest.mark.parametrize("argv", fast_first([
    ["nodes", "--json"], ["priors", "--json"], ["cases", "--json"], ["corpus", "--json"],
    ["whatif", "--scenario", "dialysis_unit", "--draws", "4", "--json"],
    ["sweep", "prevalence.gout", "--from", "0", "--to", "0.05", "--steps", "3", "--draws", "4", "--json"],
    ["lesson", "explaining-away", "--json"], ["lesson", "test-value", "--json"],
], keep=3, ids=lambda argv: " ".join(argv[:2])))
def test_every_command_json_is_strict(capsys, argv):
    """Every listing, and a sweep from an occurrence of 0, parse strictly."""
    _strict_json_of(argv, capsys)


EXTREME_EVIDENCE = {
    "every condition present": {c: "present" for c in VOCABULARY.conditions},
    "the first state of every finding": {f: states[0] for f, states in VOCABULARY.findings.items()
                                         if f != "soft_tissue_calcification"},
    "the last state of every finding": {f: states[-1] for f, states in VOCABULARY.findings.items()},
    "a calcification and nothing else": {"soft_tissue_calcification": "present"},
}


@pytest.mark.parametrize("name", sorted(EXTREME_EVIDENCE))
def test_extreme_evidence_gives_strict_json_or_a_plain_refusal(tmp_path, capsys, name):
    case = tmp_path / "case.yaml"
    case.write_text(yaml.safe_dump({"id": "x", "title": name, "source": "s", "evidence": EXTREME_EVIDENCE[name]}))
    TRIED["--json outputs parsed strictly"] += 1
    status = main(["consult", str(case), *FAST])
    captured = capsys.readouterr()
    if status == 2:  # impossible evidence: refused with the findings that conflict
        assert "Traceback" not in captured.err and "conflict" in captured.err.lower(), captured.err
    else:
        assert status == 0
        _no_nan(captured.out)


@pytest.mark.slow
@pytest.mark.parametrize("path", bundled_cases(), ids=lambda p: p.stem)
def test_every_bundled_case_gives_strict_json(capsys, path):
    payload = _strict_json_of(["consult", str(path), *FAST], capsys)
    assert payload["differential"] and payload["version"]
    _strict_json_of(["teach", str(path), "--json"], capsys)
