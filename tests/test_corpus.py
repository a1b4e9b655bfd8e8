"""The published-case corpus, the learning of the lesion tables and the evaluation protocol."""

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from calcinosis import EvidenceError, PriorsError, load_priors
from calcinosis.interfaces.cli import main
from calcinosis.data.corpus import corpus_dir, load_corpus
from calcinosis.analyses.evaluation import (brier, calibration_table, evaluate, expected_calibration_error, log_loss, ranks,
                                   summarise)
from calcinosis.analyses.learning import count_corpus
from calcinosis.data.priors import with_counts

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- metrics, by hand
def test_metrics_on_a_hand_computed_set():
    # Three cases, causes (a, b, other); ranks are among the two conditions a and b.
    p = np.array([[0.7, 0.2, 0.1],    # truth a: rank 1
                  [0.5, 0.3, 0.2],    # truth b: rank 2
                  [0.4, 0.4, 0.2]])   # truth b: tied with a, counted against: rank 2
    truth = np.array([0, 1, 1])
    assert ranks(p[:, :2], truth).tolist() == [1, 2, 2]
    # Brier: (0.3^2 + 0.2^2 + 0.1^2) + (0.5^2 + 0.7^2 + 0.2^2) + (0.4^2 + 0.6^2 + 0.2^2), over 3
    assert brier(p, truth) == pytest.approx((0.14 + 0.78 + 0.56) / 3)
    assert log_loss(p, truth) == pytest.approx(-(np.log(0.7) + np.log(0.3) + np.log(0.4)) / 3)
    summary = summarise(p, truth, n_conditions=2)
    assert summary["top1"] == pytest.approx(1 / 3) and summary["top3"] == 1.0
    assert summary["mrr"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    # Leaders: a (0.7, right), a (0.5, wrong), a (0.4, tie resolved to the first column: wrong).
    table = calibration_table(np.array([0.7, 0.5, 0.4]), np.array([1.0, 0.0, 0.0]), bins=10)
    filled = table[table["n"] > 0]
    assert filled["n"].tolist() == [1, 1, 1]
    assert filled["low"].round(1).tolist() == [0.3, 0.4, 0.6]
    # ECE = (|0 - 0.4| + |0 - 0.5| + |1 - 0.7|) / 3
    assert expected_calibration_error(table) == pytest.approx((0.4 + 0.5 + 0.3) / 3)
    assert summary["ece"] == pytest.approx((0.4 + 0.5 + 0.3) / 3)


def test_log_loss_of_a_zero_probability_is_finite():
    assert np.isfinite(log_loss(np.array([[1.0, 0.0]]), np.array([1])))


# --------------------------------------------------------------------------- the corpus
def test_every_corpus_file_loads_and_cites_its_source(corpus):
    assert len(corpus) > 0
    for case in corpus.cases:
        assert case.path.parent.name == case.diagnosis, f"{case.path}: folder and diagnosis differ"
        assert case.publication and case.citation and case.confirmation_method
        assert any(case.citation.get(k) for k in ("doi", "pmid", "url"))
        assert set(case.evidence) | {"diagnosis"} <= set(case.extraction)


def test_corpus_command_lists_every_condition_and_other_causes(capsys, corpus):
    assert main(["corpus", "--json"]) == 0
    import json
    payload = json.loads(capsys.readouterr().out)
    assert payload["patients"] == len(corpus)
    assert payload["publications"] == len(corpus.publications)
    assert [r["id"] for r in payload["by_condition"]] == [*corpus.vocabulary.conditions, "other_causes"]
    assert sum(r["patients"] for r in payload["by_condition"]) == len(corpus)


def test_a_case_of_a_cause_outside_the_conditions_names_it(tmp_path):
    from calcinosis.errors import EvidenceError
    from calcinosis.data.evidence import case_from_mapping
    from calcinosis.data.vocabulary import load_vocabulary

    vocabulary = load_vocabulary()
    case = {"id": "x_1", "title": "calcified haematoma", "source": "a report", "evidence": {"local_pain": "present"},
            "diagnosis": "other_causes"}
    with pytest.raises(EvidenceError, match="named_cause"):
        case_from_mapping(case, vocabulary, "x_1.yaml")
    named = case_from_mapping({**case, "named_cause": "calcified chronic haematoma"}, vocabulary, "x_1.yaml")
    assert named.diagnosis == "other_causes" and named.named_cause == "calcified chronic haematoma"
    with pytest.raises(EvidenceError, match="named_cause"):
        case_from_mapping({**case, "diagnosis": "gout", "named_cause": "tophus"}, vocabulary, "x_1.yaml")


def _copy_of(corpus, tmp_path, n=3) -> Path:
    folder = tmp_path / "published"
    for case in corpus.cases[:n]:
        target = folder / case.path.parent.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(case.path, target)
    return folder


@pytest.mark.parametrize("edit, words", [
    (lambda d: d["evidence"].update({"serum_phosphat": "high"}), ["evidence", "serum_phosphat", "serum_phosphate"]),
    (lambda d: d.pop("citation"), ["citation", "missing"]),
    (lambda d: d["citation"].update({"doi": None, "pmid": None, "url": None}), ["citation", "DOI"]),
    (lambda d: d.update({"confirmation": "hunch"}), ["confirmation", "histology"]),
    (lambda d: d["extraction"].pop("diagnosis"), ["extraction", "diagnosis"]),
    (lambda d: d.update({"diagnosis": "gout_"}), ["diagnosis", "gout_"]),
    (lambda d: d.update({"comorbid": ["lupus"]}), ["comorbid", "lupus"]),
])
def test_a_corrupted_corpus_file_names_file_and_key(corpus, tmp_path, edit, words):
    folder = _copy_of(corpus, tmp_path)
    path = sorted(folder.rglob("*.yaml"))[0]
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(EvidenceError) as error:
        load_corpus(folder, corpus.vocabulary)
    message = str(error.value)
    assert path.name in message
    for word in words:
        assert word in message


def test_the_same_patient_twice_is_refused(corpus, tmp_path):
    folder = _copy_of(corpus, tmp_path, n=1)
    path = next(folder.rglob("*.yaml"))
    data = yaml.safe_load(path.read_text())
    data["id"] = path.stem + "_copy"
    (path.parent / f"{data['id']}.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(EvidenceError, match="same patient"):
        load_corpus(folder, corpus.vocabulary)


# --------------------------------------------------------------------------- learning
def test_committed_counts_are_what_the_corpus_gives(priors, corpus):
    assert priors.counts is not None
    assert count_corpus(priors, corpus.cases).model_dump() == priors.counts.model_dump(), \
        "priors/corpus_counts.yaml is stale: run `calcinosis learn`"


def test_learned_rows_are_derived_and_their_arithmetic_holds(priors):
    learned = 0
    for sign, rows in priors.counts.rows.items():
        for cause, entry in rows.items():
            row, judgement = priors.lesion_signs[sign][cause], priors.judgement_lesion_signs[sign][cause]
            assert row.kind == "derived" and row.source == "published_corpus"
            assert entry.prior_weight == judgement.concentration
            # the counts of the row's published series, if any, are added with the corpus's
            series = {}
            for s in judgement.series:
                for state, count in s.counts.items():
                    series[state] = series.get(state, 0) + count
            n = sum(entry.counts.values()) + sum(series.values())
            for state, value in row.probabilities.items():
                added = entry.counts.get(state, 0) + series.get(state, 0)
                expected = (entry.prior_weight * entry.prior[state] + added) / (entry.prior_weight + n)
                assert value == pytest.approx(expected, abs=1e-12)
            # the interval narrows with the count: the learned row is surer than its judgement
            assert row.concentration == pytest.approx(judgement.concentration + n)
            assert row.concentration > judgement.concentration
            learned += 1
    assert learned > 0


def _priors_copy(tmp_path) -> Path:
    folder = tmp_path / "priors"
    shutil.copytree(ROOT / "priors", folder)
    return folder


def test_the_loader_checks_the_arithmetic_of_learned_rows(tmp_path):
    folder = _priors_copy(tmp_path)
    path = folder / "corpus_counts.yaml"
    data = yaml.safe_load(path.read_text())
    sign, rows = next(iter(data["rows"].items()))
    cause, entry = next(iter(rows.items()))
    state = next(iter(entry["probabilities"]))
    entry["probabilities"][state] += 0.01
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(PriorsError, match=rf"corpus_counts.yaml: rows.{sign}.{cause}.probabilities.{state}"):
        load_priors(folder)


def test_stale_counts_are_refused_when_the_judgement_changes(tmp_path, priors):
    folder = _priors_copy(tmp_path)
    sign, rows = next(iter(priors.counts.rows.items()))
    cause = next(iter(rows))
    text = (folder / "lesion.yaml").read_text()
    data = yaml.safe_load(text)
    row = data["signs"][sign][cause]
    first, second = list(row["probabilities"])[:2]
    row["probabilities"][first], row["probabilities"][second] = row["probabilities"][second], row["probabilities"][first]
    (folder / "lesion.yaml").write_text(yaml.safe_dump(data))
    if row["probabilities"][first] == row["probabilities"][second]:
        pytest.skip("the two first states of this row are equal")
    with pytest.raises(PriorsError, match="stale"):
        load_priors(folder)



def test_the_leak_is_scored_but_never_learned_from_case_reports(priors, corpus):
    """Published patients of other causes are the unusual masses that earn a report; counting
    them would teach the leak the look of a referred mass (learning.yaml: unlearned_causes)."""
    leak = [c for c in corpus.cases if c.diagnosis == "other_causes"]
    assert len(leak) >= 10
    assert sum(c.evidence.get("palpable_mass") == "present" for c in leak) >= 5  # what counting would learn
    assert "other_causes" in priors.learning.unlearned_causes
    assert not any("other_causes" in rows for rows in priors.counts.rows.values())
    for rows in priors.lesion_signs.values():
        leak_row = rows["other_causes"]
        assert isinstance(leak_row, list) or leak_row.source != "published_corpus"


def test_injection_site_rows_are_not_learned_from_infusion_reports(priors, corpus):
    """Its occurrence counts calcified gluteal injection granulomas; its published patients are
    infusion and extravasation calcinoses of the skin, many in neonates (learning.yaml)."""
    published = [c for c in corpus.cases if c.diagnosis == "injection_site_calcification"]
    assert len(published) >= 10
    assert sum(c.evidence.get("age_group") == "child" for c in published) >= 5  # what counting would learn
    assert "injection_site_calcification" in priors.learning.unlearned_causes
    assert not any("injection_site_calcification" in rows for rows in priors.counts.rows.values())


def test_counts_for_an_unlearned_cause_or_an_unknown_one_are_refused(tmp_path, priors):
    folder = _priors_copy(tmp_path)
    learning = folder / "learning.yaml"
    text = learning.read_text()
    line = re.search(r"^unlearned_causes: .*$", text, re.M).group(0)
    learning.write_text(text.replace(line, "unlearned_causes: [other_cuases]"))
    with pytest.raises(PriorsError, match=r"unlearned_causes: 'other_cuases' is not a cause.*other_causes"):
        load_priors(folder)
    sign, rows = next(iter(priors.counts.rows.items()))
    cause = next(iter(rows))
    learning.write_text(text.replace(line, f"unlearned_causes: [other_causes, {cause}]"))
    with pytest.raises(PriorsError, match=rf"rows.{sign}.{cause}: learning.yaml lists '{cause}' in unlearned_causes"):
        load_priors(folder)

# --------------------------------------------------------------------------- the protocol
def test_a_case_is_never_scored_by_a_model_that_saw_its_publication(priors, corpus):
    """One publication alone in the corpus: out of sample its cases must be scored by the
    network before learning (nothing else to learn from), in sample by the learned one."""
    publication, members = max(corpus.publications.items(), key=lambda kv: len(kv[1]))
    lone = type(corpus)(cases=members, folder=corpus.folder, vocabulary=corpus.vocabulary)
    learned = with_counts(priors, count_corpus(priors, members), priors.learning)
    result = evaluate(learned, members, lone)
    frame = result.cases.set_index(["id", "protocol"])["p_true"]
    changed = 0
    for case in members:
        assert frame[(case.id, "network")] == pytest.approx(frame[(case.id, "judgement")], abs=1e-12)
        changed += abs(frame[(case.id, "in_sample")] - frame[(case.id, "judgement")]) > 1e-9
    assert changed, "learning from the publication must change its in-sample scores"


def test_a_case_outside_the_corpus_is_matched_by_its_doi(priors, corpus, tmp_path):
    case = next(c for c in corpus.cases if c.citation.get("doi"))
    data = yaml.safe_load(case.path.read_text())
    data["publication"] = "renamed_key"
    data["id"] = "renamed_key_1"
    path = tmp_path / "renamed_key_1.yaml"
    path.write_text(yaml.safe_dump(data))
    other = load_corpus(tmp_path, corpus.vocabulary)
    assert corpus.publication_of(other.cases[0]) == case.publication


# --------------------------------------------------------------------------- figures users read
@pytest.mark.slow
def test_the_committed_evaluation_report_is_what_the_command_writes(evaluation):
    from calcinosis.interfaces.evaluation_report import section

    committed = (ROOT / "reports" / "evaluation" / "report.md").read_text(encoding="utf-8")
    assert section(evaluation, ".").split("\n", 1)[1] in committed, \
        "reports/evaluation/report.md is stale: run `calcinosis evaluate --scenario-from-case --report`"


@pytest.mark.slow
def test_the_readme_quotes_the_out_of_sample_figures(evaluation):
    row = evaluation.summary().set_index("protocol").loc["network"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r"out of sample on (\d+)\s+published\s+patients:\s+top-1 (\d+)%,\s+top-3 (\d+)%", readme)
    assert quoted, "the README must quote the out-of-sample figures"
    assert [int(x) for x in quoted.groups()] == [int(row["cases"]), round(row["top1"] * 100), round(row["top3"] * 100)]
    by_condition = evaluation.by("diagnosis").set_index("diagnosis")["top3"]
    table = dict(re.findall(r"^\| ([a-z_]+) \| [a-z_]+ \| \d+ \| \d+ \| (\d+%|-) \|$", readme, re.M))
    assert set(table) == set(by_condition.index)
    for condition, top3 in by_condition.items():
        assert table[condition] == ("-" if top3 != top3 else f"{round(100 * top3)}%"), condition


def test_an_injury_years_before_the_lesion_is_not_coded_as_recent_trauma(corpus):
    """local_trauma_history is an injury at the site within the year before imaging
    (population.yaml); an injury years or decades earlier is left out."""
    remote = re.compile(r"\b([2-9]|\d{2,}|decades?|many) years? (earlier|before|ago)\b|\bat age \d+|\bold (trauma|injur)", re.I)
    coded = [c for c in corpus.cases if c.evidence.get("local_trauma_history") == "present"]
    assert len(coded) > 15
    wrong = [c.id for c in coded if remote.search(str(c.extraction["local_trauma_history"]))]
    assert not wrong, wrong


def test_no_published_series_of_the_priors_is_a_corpus_publication(priors, corpus):
    """A series counted in lesion.yaml must not be a corpus publication, or its cases
    would be scored by a model that saw them."""
    from calcinosis.data.corpus import locators

    seen = set().union(*(locators(c) for c in corpus.cases)) | {c.publication for c in corpus.cases}
    sources = {s.source for rows in priors.judgement_lesion_signs.values() for row in rows.values()
               if not isinstance(row, list) for s in row.series}
    assert len(sources) >= 5
    for key in sources:
        ref = priors.references[key]
        ids = {key} | {f"{kind}:{str(value).strip().lower().rstrip('/')}"
                       for kind, value in (("doi", ref.doi), ("url", ref.url)) if value}
        assert not ids & seen, key
