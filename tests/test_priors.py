"""Loading validates every file of priors/; a corrupted file is rejected with file and key."""

import re
import shutil

import numpy as np
import pytest
import yaml

from calcinosis import PriorsError, load_priors

from .conftest import ROOT


def test_bundled_priors_load_and_cover_the_vocabulary(priors):
    vocabulary = priors.vocabulary
    assert set(priors.conditions) == set(vocabulary.conditions)
    assert set(priors.population) == set(vocabulary.categories["context"])
    assert {"general_adult", "dialysis_unit", "rheumatology_clinic", "post_hip_arthroplasty", "paediatric"} <= set(priors.scenarios)
    assert next(iter(priors.references)) == "paparo2011"


def test_every_parameter_has_value_range_kind_and_resolvable_source(priors):
    table = priors.parameter_table()
    assert table["kind"].isin(["literature", "derived", "judgement"]).all()
    assert table["source"].isin(list(priors.references)).all()
    assert ((table["low"] <= table["value"]) & (table["value"] <= table["high"])).all()
    probabilities = table[~table["parameter"].str.contains("relative_risk")]
    assert probabilities["value"].between(0, 1).all()
    assert (table["locator"].str.len() > 3).all()


def test_judgements_are_wide(priors):
    table = priors.parameter_table()
    judged = table[(table["kind"] == "judgement") & (table["value"] > 0) & (table["value"] < 1)]
    odds = lambda p: p / (1 - p) if p < 1 else float("inf")
    ratio = judged.apply(lambda r: odds(r["high"]) / odds(r["low"]) if r["low"] > 0 else float("inf"), axis=1)
    rr = judged["parameter"].str.contains("relative_risk")
    assert (ratio[~rr] >= priors.settings.judgement_min_odds_ratio * 0.99).mean() > 0.95


def corrupt(tmp_path, file, mutate):
    folder = tmp_path / "priors"
    shutil.copytree(ROOT / "priors", folder)
    path = folder / file
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def first_cause(data):
    node = next(iter(data))
    cause = next(iter(data[node]["causes"]))
    return node, cause, data[node]["causes"][cause]


def test_probability_out_of_range(tmp_path):
    def mutate(data):
        node, cause, row = first_cause(data)
        state = next(iter(row["probabilities"]))
        row["probabilities"][state] = 1.7
        mutate.where = f"{node}.causes.{cause}.present.probabilities.{state}"
    folder = corrupt(tmp_path, "findings_clinical.yaml", mutate)
    with pytest.raises(PriorsError) as info:
        load_priors(folder)
    message = str(info.value)
    assert message.startswith("findings_clinical.yaml: ") and "[0, 1]" in message and "1.7" in message


def test_distribution_must_sum_to_one(tmp_path):
    def mutate(data):
        data["age_group"]["probabilities"]["older"] += 0.01
    folder = corrupt(tmp_path, "population.yaml", mutate)
    with pytest.raises(PriorsError, match=r"population.yaml: age_group.probabilities: must sum to 1"):
        load_priors(folder)


def test_unknown_source_key_is_named_with_the_closest(tmp_path):
    def mutate(data):
        data["conditions"]["gout"]["occurrence"]["source"] = "paparo2012"
    folder = corrupt(tmp_path, "conditions.yaml", mutate)
    with pytest.raises(PriorsError) as info:
        load_priors(folder)
    assert "conditions.yaml: conditions.gout.occurrence" in str(info.value)
    assert "Did you mean 'paparo2011'?" in str(info.value)


def test_misspelt_key_is_rejected(tmp_path):
    def mutate(data):
        row = data["conditions"]["gout"]["occurrence"]
        row["locater"] = row.pop("locator")
    folder = corrupt(tmp_path, "conditions.yaml", mutate)
    with pytest.raises(PriorsError) as info:
        load_priors(folder)
    assert "conditions.yaml: conditions.gout.occurrence" in str(info.value)
    assert "locater" in str(info.value)


def test_narrow_judgement_is_rejected(tmp_path):
    def mutate(data):
        row = data["other_causes"]["occurrence"]
        state = next(iter(row["probabilities"]))
        value = row["probabilities"][state]
        row.pop("concentration", None)
        row["kind"] = "judgement"
        row["interval"] = {state: [value * 0.95, min(1.0, value * 1.05)]}
    folder = corrupt(tmp_path, "conditions.yaml", mutate)
    with pytest.raises(PriorsError, match="judgement needs a wide range"):
        load_priors(folder)


def test_derived_needs_its_derivation(tmp_path):
    def mutate(data):
        row = data["conditions"]["gout"]["occurrence"]
        row["kind"] = "derived"
        row.pop("derivation", None)
    folder = corrupt(tmp_path, "conditions.yaml", mutate)
    with pytest.raises(PriorsError, match="conditions.gout.occurrence: kind 'derived' needs a 'derivation'"):
        load_priors(folder)


def test_missing_lesion_row(tmp_path):
    def mutate(data):
        del data["signs"]["lesion_site"]["gout"]
    folder = corrupt(tmp_path, "lesion.yaml", mutate)
    with pytest.raises(PriorsError, match="lesion.yaml: signs.lesion_site: needs one row for every cause; missing 'gout'"):
        load_priors(folder)


def test_cycle_between_conditions(tmp_path):
    def mutate(data):
        ratio = {"value": 2.0, "interval": [1.0, 4.0], "source": "paparo2011", "locator": "test", "kind": "literature"}
        data["conditions"]["chronic_kidney_disease"]["relative_risk"]["gout"] = {"present": ratio}
    folder = corrupt(tmp_path, "conditions.yaml", mutate)
    with pytest.raises(PriorsError, match="cycle"):
        load_priors(folder)


def test_duplicate_key_in_a_priors_file(tmp_path):
    folder = tmp_path / "priors"
    shutil.copytree(ROOT / "priors", folder)
    path = folder / "settings.yaml"
    path.write_text(path.read_text() + "sum_tolerance: 0.5\n")
    with pytest.raises(PriorsError, match="settings.yaml.*duplicate key 'sum_tolerance'"):
        load_priors(folder)


def test_attribution_order_names_conditions(tmp_path):
    def mutate(data):
        data["attribution_order"][0] = "chondrocalcinosis_disease"
    with pytest.raises(PriorsError, match=r"attribution_order.*'chondrocalcinosis_disease' is not a condition"):
        load_priors(corrupt(tmp_path, "settings.yaml", mutate))


def test_attribution_order_changes_speed_not_answers(priors):
    """The chain's order sets clique sizes: the differential is the same in vocabulary order,
    and the default order compiles to cliques several times smaller."""
    import dataclasses

    from calcinosis.inference.engine import CompiledEngine
    from calcinosis.network.assembly import LESION_CAUSE, build_tables

    plain = dataclasses.replace(priors, settings=priors.settings.model_copy(update={"attribution_order": ()}))
    evidence = [{"soft_tissue_calcification": "present"},
                {"soft_tissue_calcification": "present", "kidney_function": "failure", "serum_phosphate": "high",
                 "calcification_pattern": "multilobular_cystic"}]
    answers, sizes = [], []
    for p in (priors, plain):
        tables = build_tables(p, "general_adult")
        sizes.append(CompiledEngine(tables).plan([], [LESION_CAUSE]).total_entries)
        assert tables.states[LESION_CAUSE][1:] == [*priors.vocabulary.conditions, "other_causes"]
        answers.append(CompiledEngine(tables).query(evidence, [LESION_CAUSE]).marginals[LESION_CAUSE])
    # Exact for up to three simultaneous producers; four or more are rare enough that the
    # order moves no answer by more than a millionth.
    np.testing.assert_allclose(answers[0], answers[1], rtol=0, atol=1e-6)
    assert sizes[0] * 2 < sizes[1]


# ------------------------------------------------------------------ counts of published series
def test_series_counts_make_a_judgement_row_derived_by_the_stated_arithmetic(priors):
    """noncalcified_soft_tissue_mass | synovial_sarcoma: the judgement as a Dirichlet prior
    plus the 31 enhancing tumours of baheti2015 (the corpus's counts come on top)."""
    judgement = priors.judgement_lesion_signs["noncalcified_soft_tissue_mass"]["synovial_sarcoma"]
    assert judgement.kind == "judgement" and judgement.series[0].counts == {"present": 31}
    learned = priors.lesion_signs["noncalcified_soft_tissue_mass"]["synovial_sarcoma"]
    corpus = priors.counts.rows["noncalcified_soft_tissue_mass"]["synovial_sarcoma"].counts
    n = 31 + sum(corpus.values())
    w = judgement.concentration
    expected = (w * judgement.probabilities["present"] + 31 + corpus.get("present", 0)) / (w + n)
    assert learned.kind == "derived" and learned.probabilities["present"] == pytest.approx(expected, abs=1e-12)
    assert learned.concentration == pytest.approx(w + n) and "baheti2015" in learned.derivation
    before = load_priors(counts=False).lesion_signs["noncalcified_soft_tissue_mass"]["synovial_sarcoma"]
    assert before.kind == "derived" and before.probabilities["present"] == pytest.approx(
        (w * judgement.probabilities["present"] + 31) / (w + 31), abs=1e-12)


@pytest.mark.parametrize("series, words", [
    ({"source": "nosuch2001", "locator": "table 1", "counts": {"present": 3}}, "series[0].source: 'nosuch2001' is not a key"),
    ({"source": "baheti2015", "locator": "table 1", "counts": {"presnt": 3}}, "series[0].counts.presnt: not a state"),
    ({"source": "baheti2015", "locator": "table 1", "counts": {"present": -3}}, "series[0].counts.present: a count must be a number of patients"),
])
def test_a_bad_series_is_refused_with_its_path(tmp_path, series, words):
    def mutate(data):
        data["signs"]["palpable_mass"]["gout"]["series"] = [series]
    folder = corrupt(tmp_path, "lesion.yaml", mutate)
    with pytest.raises(PriorsError, match=re.escape(f"lesion.yaml: signs.palpable_mass.gout.{words}")):
        load_priors(folder, counts=False)


def test_series_belong_to_judgement_rows_of_the_lesion_tables(tmp_path):
    def literature(data):
        row = data["signs"]["bone_destruction"]["synovial_sarcoma"]
        row["series"] = [{"source": "baheti2015", "locator": "abstract", "counts": {"present": 3}}]
    with pytest.raises(PriorsError, match="bone_destruction.synovial_sarcoma.series: counts of published series"):
        load_priors(corrupt(tmp_path, "lesion.yaml", literature), counts=False)
