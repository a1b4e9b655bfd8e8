"""The compiled engine gives pgmpy's exact answers (1e-9), batched over evidence and draws."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calcinosis import CompiledEngine, ParameterDraws, build_tables, load_case, load_priors
from calcinosis.data.evidence import bundled_cases
from calcinosis.network.assembly import LESION_CAUSE

from .conftest import fast_first, inference_for

CASES = bundled_cases()
TOLERANCE = 1e-9


@pytest.mark.parametrize("path", fast_first(CASES, keep=3, ids=[p.stem for p in CASES]))
def test_bundled_case_matches_pgmpy(path):
    case = load_case(path)
    scenario = case.scenario or "general_adult"
    fast, slow = inference_for(scenario), inference_for(scenario, "pgmpy")
    a, b = fast.consult(case.evidence), slow.consult(case.evidence)
    left, right = a.differential.set_index("id"), b.differential.set_index("id")
    for column in ("p_cause", "p_present", "prior_cause"):
        np.testing.assert_allclose(left[column], right.loc[left.index, column], atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(a.groups["p_cause"], b.groups["p_cause"], atol=TOLERANCE, rtol=0)
    assert a.other_causes["p_cause"] == pytest.approx(b.other_causes["p_cause"], abs=TOLERANCE)
    pe_fast, pe_slow = fast.evidence_probability(a.evidence), slow.evidence_probability(b.evidence)
    assert pe_fast == pytest.approx(pe_slow, rel=TOLERANCE)


def pattern_strategy():
    from calcinosis import load_vocabulary

    nodes = sorted(load_vocabulary().nodes)
    return st.lists(st.sampled_from(nodes), min_size=1, max_size=9, unique=True)


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=pattern_strategy(), seed=st.integers(0, 2**31 - 1))
def test_random_evidence_batches_match_pgmpy(pattern, seed):
    """20 observed patterns x 50 random evidence sets per run, each pattern's sets evaluated
    in one batch by the engine; 15 of each batch (300 sets) checked one at a time against pgmpy."""
    _batch_matches_pgmpy(pattern, seed)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=pattern_strategy(), seed=st.integers(0, 2**31 - 1))
def test_a_few_random_evidence_batches_match_pgmpy(pattern, seed):
    """The fast tier's share of the property above: 4 patterns."""
    _batch_matches_pgmpy(pattern, seed)


def _batch_matches_pgmpy(pattern, seed):
    """A batch of 50 rows whose first nodes have one state in every row (the engine folds
    them into the tables) and the others vary (indicators); its first row is also asked
    alone (every node folded). The rows are drawn independently, so the first 15 are a
    random sample of the batch: pgmpy, at about 0.1 s a query, checks those."""
    fast, slow = inference_for(), inference_for("general_adult", "pgmpy")
    states = {n: fast.network.nodes[n].states for n in pattern}
    rng = np.random.default_rng(seed)
    shared = {n: states[n][rng.integers(len(states[n]))] for n in pattern[:rng.integers(len(pattern) + 1)]}
    rows = [{**shared, **{n: states[n][rng.integers(len(states[n]))] for n in pattern if n not in shared}}
            for _ in range(50)]
    condition = str(rng.choice(list(fast.network.priors.vocabulary.conditions)))
    result = fast.engine.query(rows, [LESION_CAUSE, condition])
    alone = fast.engine.query(rows[:1], [LESION_CAUSE, condition])
    np.testing.assert_allclose(alone.probability[0], result.probability[0], rtol=TOLERANCE, atol=0)
    for target in (LESION_CAUSE, condition):
        np.testing.assert_allclose(alone.marginals[target][0], result.marginals[target][0], atol=TOLERANCE, rtol=0)
    for r, row in enumerate(rows[:15]):
        probability = slow.evidence_probability(row)
        assert result.probability[r, 0] == pytest.approx(probability, rel=TOLERANCE, abs=1e-300)
        if probability == 0:
            assert np.isnan(result.marginals[LESION_CAUSE][r, 0]).all()
            continue
        np.testing.assert_allclose(result.marginals[LESION_CAUSE][r, 0], slow.posterior(LESION_CAUSE, row),
                                   atol=TOLERANCE, rtol=0)
        np.testing.assert_allclose(result.marginals[condition][r, 0], slow.posterior(condition, row),
                                   atol=TOLERANCE, rtol=0)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_pairwise_contraction_as_a_matrix_product_equals_einsum(data):
    """The batched matrix product that runs each step of a batch equals numpy's einsum on
    random operands: labels shared with the output, summed, private to one operand (summed
    first), and shared axes of length one that broadcast, as a one-row batch does."""
    from calcinosis.inference.engine import _pairwise

    labels = list(range(7))
    a_labels = data.draw(st.lists(st.sampled_from(labels), min_size=1, max_size=5, unique=True))
    b_labels = data.draw(st.lists(st.sampled_from(labels), min_size=1, max_size=5, unique=True))
    output = data.draw(st.lists(st.sampled_from(sorted(set(a_labels) | set(b_labels))), max_size=6, unique=True))
    size = {l: data.draw(st.integers(1, 4)) for l in labels}
    shape = lambda ls: [size[l] if data.draw(st.booleans()) or l not in output else 1 for l in ls]
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    a, b = rng.random(shape(a_labels)), rng.random(shape(b_labels))
    longest = {l: max(x.shape[ls.index(l)] for x, ls in ((a, a_labels), (b, b_labels)) if l in ls)
               for l in set(a_labels) | set(b_labels)}
    full = lambda x, ls: np.broadcast_to(x, [longest[l] for l in ls])  # einsum's reading of a length-one axis
    expected = np.einsum(full(a, a_labels), a_labels, full(b, b_labels), b_labels, output)
    np.testing.assert_allclose(_pairwise(a, a_labels, b, b_labels, output), expected, rtol=1e-12, atol=1e-12)


def test_a_query_naming_an_unknown_node_or_state_gets_the_packages_error(engine):
    """Below the validated public paths, the engine itself names the bad node or state and
    suggests the closest, instead of a bare KeyError from its graph."""
    from calcinosis import EvidenceError

    with pytest.raises(EvidenceError, match="row 0: unknown node 'calcification'. Did you mean 'calcification_pattern'"):
        engine.engine.query([{"calcification": "present"}], [LESION_CAUSE])
    with pytest.raises(EvidenceError, match="unknown node 'lesion_caus'.*Did you mean 'lesion_cause'"):
        engine.engine.query([{}], ["lesion_caus"])
    with pytest.raises(EvidenceError, match=r"row 1: state 'hihg' is not valid for node 'serum_phosphate'.*'low', 'normal', 'high'.*Did you mean 'high'"):
        engine.engine.query([{"serum_phosphate": "high"}, {"serum_phosphate": "hihg"}], [LESION_CAUSE])


def test_draws_are_evaluated_at_once_and_match_one_by_one():
    priors = load_priors()
    draws = build_tables(priors, "general_adult", ParameterDraws(priors, 6, seed=3))
    batched = CompiledEngine(draws, dtype=np.float64).query([{"serum_phosphate": "high"}, {"ana": "positive"}], [LESION_CAUSE])
    single_precision = CompiledEngine(draws).query([{"serum_phosphate": "high"}, {"ana": "positive"}], [LESION_CAUSE])
    np.testing.assert_allclose(single_precision.marginals[LESION_CAUSE], batched.marginals[LESION_CAUSE], atol=1e-5)
    assert batched.marginals[LESION_CAUSE].shape == (2, 6, len(draws.states[LESION_CAUSE]))
    for d in range(6):
        single = build_tables(priors, "general_adult")
        single.arrays = {n: a[d:d + 1] if a.shape[0] > 1 else a for n, a in draws.arrays.items()}
        one = CompiledEngine(single).query([{"ana": "positive"}], [LESION_CAUSE])
        np.testing.assert_allclose(one.marginals[LESION_CAUSE][0, 0], batched.marginals[LESION_CAUSE][1, d], atol=1e-12)
    sums = batched.marginals[LESION_CAUSE].sum(axis=-1)
    np.testing.assert_allclose(sums, 1.0, atol=1e-12)


def test_plans_are_cached_and_small():
    fast = inference_for()
    evidence = {"serum_phosphate": "high", "lesion_site": "hand_digits", "soft_tissue_calcification": "present"}
    plan = fast.engine.plan(sorted(evidence), [LESION_CAUSE])
    assert fast.engine.plan(sorted(evidence), [LESION_CAUSE]) is plan
    assert plan.largest_clique <= 10**5


def test_one_patients_findings_leave_the_junction_tree():
    """For one patient the observed findings are sliced out of the tables: with the age
    group and sex known, the cliques hold several times fewer entries, same answers."""
    fast = inference_for()
    evidence = {"age_group": "older", "sex": "female", "serum_phosphate": "high", "lesion_site": "hand_digits",
                "soft_tissue_calcification": "present"}
    indicators = fast.engine.plan(sorted(evidence), [LESION_CAUSE])
    folded = fast.engine.plan(sorted(evidence), [LESION_CAUSE], folded=sorted(evidence))
    assert folded.folded == tuple(sorted(evidence)) and not indicators.folded
    assert not any(set(evidence) & set(clique) for clique in folded.cliques)
    assert folded.total_entries * 3 < indicators.total_entries
    alone = fast.engine.query([evidence], [LESION_CAUSE]).marginals[LESION_CAUSE][0]
    other = {**evidence, "sex": "male"}
    in_batch = fast.engine.query([evidence, other], [LESION_CAUSE]).marginals[LESION_CAUSE][0]
    np.testing.assert_allclose(alone, in_batch, atol=TOLERANCE, rtol=0)


@pytest.mark.slow
def test_bench_reports_every_figure_in_one_run(capsys):
    from calcinosis.interfaces.cli import main
    import json

    assert main(["bench", "--json", "--queries", "2", "--batch-patients", "600", "--mixed-patients", "600"]) == 0
    results = json.loads(capsys.readouterr().out)
    keys = ["pgmpy_ve_ms", "pyagrum_ms", "pyagrum_ms_repeated", "engine_ms_batch1_cold", "engine_ms_batch1",
            "engine_ms_batch100", "engine_ms_large_batch", "full_consult_s", "cli_consult_cold_s", "cli_help_s",
            "speedup_vs_pgmpy", "speedup_vs_pyagrum_new", "speedup_vs_pyagrum_repeated"]
    assert all(0 < results[k] < float("inf") for k in keys), {k: results.get(k) for k in keys}
    assert results["engine_ms_batch100"] < results["engine_ms_batch1"]  # batching pays
    assert results["engine_ms_batch1"] < results["engine_ms_batch1_cold"]  # a planned pattern is cheaper
    assert results["pgmpy_max_difference"] < 1e-9 and results["pyagrum_max_difference"] < 1e-9
    assert results["full_consult_case"]
    # Folding a patient's findings into the tables leaves contraction paths to a heuristic, so
    # asked alone a patient may cost slightly more arithmetic than in a batch, never much more.
    assert 0 < results["flops_per_query_alone"] < 1.05 * results["flops_per_query"]
    assert results["engine_memory_mb"] < 200 and results["mixed_patients"] == results["large_batch_patients"] == 600
    assert 0 < results["mixed_memory_mb"] < 1024  # the 1 GB budget
