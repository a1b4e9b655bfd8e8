"""The command line: readable output, JSON contract, and clear errors with status 2."""

import json
import shutil
import subprocess
import sys

import pytest

from calcinosis.interfaces.cli import main
from calcinosis.data.vocabulary import load_vocabulary

from .conftest import ROOT, fast_first

FIG1 = ROOT / "evidence_examples" / "paparo2011_fig01_gluteal_tumoral_calcinosis.yaml"


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_consult_json_contract(capsys):
    status, out, err = run(capsys, "consult", FIG1, "--json")
    assert status == 0, err
    payload = json.loads(out)
    assert {"case", "scenario", "evidence", "differential", "groups"} <= set(payload)
    assert payload["scenario"] == "general_population"  # the default: all ages
    assert payload["evidence"]["soft_tissue_calcification"] == "present"
    rows = payload["differential"]
    assert len(rows) == len(load_vocabulary().conditions)
    assert {"id", "label", "group", "p_cause", "p_present", "prior_cause"} <= set(rows[0])
    causes = [r["p_cause"] for r in rows]
    assert causes == sorted(causes, reverse=True)
    assert len(payload["groups"]) == 6
    total = sum(g["p_cause"] for g in payload["groups"]) + payload["other_causes"]["p_cause"]
    assert total == pytest.approx(1.0, abs=1e-9)


def test_consult_table_shows_differential_groups_and_disclaimer(capsys):
    status, out, _ = run(capsys, "consult", FIG1)
    assert status == 0
    assert "Differential" in out and "Pathogenetic groups" in out
    assert "not a diagnosis" in out


def test_interval_labels_follow_the_credible_mass_setting(tmp_path, monkeypatch, capsys):
    """The credible mass is a setting (priors/settings.yaml): the labels say what it is."""
    import re

    folder = tmp_path / "priors"
    shutil.copytree(ROOT / "priors", folder)
    settings = folder / "settings.yaml"
    text = settings.read_text(encoding="utf-8")
    assert re.search(r"^credible_mass: 0\.90 ", text, re.M)
    settings.write_text(re.sub(r"^credible_mass: 0\.90 ", "credible_mass: 0.80 ", text, flags=re.M), encoding="utf-8")
    monkeypatch.setenv("CALCINOSIS_PRIORS", str(folder))
    status, out, err = run(capsys, "consult", FIG1, "--draws", "200")
    assert status == 0, err
    assert "80% intervals over 200 parameter draws" in out and out.count("80% interval") >= 3
    assert not re.search(r"\b90% interval", out)


def test_set_changes_the_evidence(capsys):
    fig6 = ROOT / "evidence_examples" / "paparo2011_fig06_rotator_cuff.yaml"
    _, out, _ = run(capsys, "consult", fig6, "--json", "--set", "chronic_kidney_disease=present")
    payload = json.loads(out)
    assert payload["evidence"]["chronic_kidney_disease"] == "present"
    ckd = next(r for r in payload["differential"] if r["id"] == "chronic_kidney_disease")
    assert ckd["p_present"] == 1.0


def test_nodes_json_lists_kinds_states_and_parents(capsys):
    status, out, _ = run(capsys, "nodes", "--json")
    assert status == 0
    nodes = {n["id"]: n for n in json.loads(out)["nodes"]}
    assert nodes["gout"]["kind"] == "condition"
    assert nodes["age_group"]["kind"] == "risk_factor"
    assert nodes["serum_phosphate"]["kind"] == "finding"
    assert nodes["lesion_site"]["parents"] == ["lesion_cause"]
    status, out, _ = run(capsys, "nodes", "--json", "--all")
    kinds = {n["kind"] for n in json.loads(out)["nodes"]}
    assert "latent" in kinds


def test_priors_listing_counts_kinds(capsys):
    status, out, _ = run(capsys, "priors", "--json")
    assert status == 0
    payload = json.loads(out)
    summary = payload["summary"]
    assert summary["total"] == summary["literature"] + summary["derived"] + summary["judgement"]
    assert summary["total"] == len(payload["parameters"]) > 500
    first = payload["parameters"][0]
    assert {"parameter", "value", "low", "high", "kind", "source", "locator"} <= set(first)
    share = (summary["literature"] + summary["derived"]) / summary["total"]
    assert summary["literature_or_derived_share"] == pytest.approx(share)


@pytest.mark.slow
def test_sensitive_parameters_provenance_share(priors):
    """The share among the parameters a case hinges on counts each parameter once, by its kind."""
    from calcinosis.data.evidence import bundled_cases, load_case
    from calcinosis.analyses.sensitivity import top_parameters, trusted_share

    case = load_case(bundled_cases()[0], priors.vocabulary)
    top = top_parameters(priors, [case, case], top=10)
    assert len(top) == 20 and set(top["case"]) == {case.id}
    trusted, distinct = trusted_share(top)
    assert distinct == 10
    assert trusted == int(top.head(10)["kind"].isin(["literature", "derived"]).sum())


@pytest.mark.parametrize("content, fragment", [
    ("id: x\ntitle: t\nsource: s\nevidence: {serum_phosphat: high}\n", "Did you mean 'serum_phosphate'?"),
    ("id: x\ntitle: t\nsource: s\nevidence: {serum_phosphate: hihg}\n", "Allowed: 'low', 'normal', 'high'"),
    ("id: x\ntitle: t\nsource: s\nevidence: {ana: [positive\n", "not valid YAML"),
    ("id: x\ntitle: t\nsource: s\nevidnce: {}\n", "unknown key 'evidnce'"),
    ("id: x\ntitle: t\nsource: s\nevidence: {ana: positive, ana: negative}\n", "duplicate key 'ana'"),
    ("id: x\ntitle: t\nsource: s\nscenario: general_adult\nevidence: {age_group: child}\n", "impossible under the model"),
    ("id: x\ntitle: t\nsource: s\nscenario: dialysis\nevidence: {}\n", "Did you mean 'dialysis_unit'?"),
    ("id: x\ntitle: t\nsource: s\nevidence: {}\ndiagnosis: goat\n", "Did you mean 'gout'?"),
    ("- just\n- a list\n", "must be a mapping"),
])
def test_bad_case_files_exit_2_with_a_clear_message(tmp_path, capsys, content, fragment):
    case = tmp_path / "case.yaml"
    case.write_text(content)
    status, out, err = run(capsys, "consult", case)
    assert status == 2
    assert fragment in err
    assert "Traceback" not in err and out == ""
    assert len(err.strip().splitlines()) == 1  # one paragraph


def test_missing_file_and_bad_set(capsys, tmp_path):
    status, _, err = run(capsys, "consult", tmp_path / "nope.yaml")
    assert status == 2 and "not found" in err
    status, _, err = run(capsys, "consult", FIG1, "--set", "serum_calcium")
    assert status == 2 and "expected 'id=state'" in err
    status, _, err = run(capsys, "consult", FIG1, "--set", "serum_calcium=very_high")
    assert status == 2 and "Allowed: 'low', 'normal', 'high'" in err


def test_impossible_evidence_names_the_conflicting_findings(tmp_path, capsys):
    case = tmp_path / "case.yaml"
    case.write_text("id: x\ntitle: t\nsource: s\nscenario: general_adult\n"
                    "evidence: {age_group: child, sex: female, ana: positive}\n")
    status, _, err = run(capsys, "consult", case)
    assert status == 2
    assert "age_group=child" in err and "ana=positive" not in err
    assert "--scenario paediatric" in err


@pytest.mark.parametrize("command", fast_first([[sys.executable, "-m", "calcinosis"], ["calcinosis"]], keep=0))
def test_module_and_console_script_are_the_same_program(command):
    if command[0] == "calcinosis":
        script = shutil.which("calcinosis") or str(ROOT / ".venv" / "bin" / "calcinosis")
        command = [script]
    out = subprocess.run([*command, "consult", str(FIG1), "--json"], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout)["case"]["id"] == FIG1.stem


def test_a_child_is_an_ordinary_patient_in_the_default_population(tmp_path, capsys):
    case = tmp_path / "case.yaml"
    case.write_text("id: x\ntitle: t\nsource: s\nevidence: {age_group: child, lesion_site: intramuscular}\n")
    status, out, _ = run(capsys, "consult", case, "--json", "--draws", "20")
    assert status == 0
    payload = json.loads(out)
    assert payload["scenario"] == "general_population"
    assert abs(sum(r["p_cause"] for r in payload["differential"]) + payload["other_causes"]["p_cause"] - 1) < 1e-9

