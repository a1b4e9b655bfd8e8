"""Exact posteriors: hand-computed sub-networks, explaining away, and coherence on random evidence."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calcinosis import EvidenceError, ImpossibleEvidenceError
from calcinosis.network.assembly import LESION_CAUSE

ADULT = {"age_group": "middle_aged", "sex": "female"}


def full(row, states):
    """A row's distribution over ``states`` (binary rows may list one state)."""
    values = {s: row.probabilities[s] for s in states if s in row.probabilities}
    rest = [s for s in states if s not in values]
    for s in rest:
        values[s] = (1 - sum(values.values())) / len(rest)
    return values


def context_evidence(priors, **overrides):
    """Every context node observed (so that conditions are independent given it)."""
    evidence = {node: priors.vocabulary.findings[node][0] for node in priors.vocabulary.categories["context"]}
    evidence.update(ADULT)
    evidence.update(overrides)
    return evidence


def hand_prior(priors, cid, evidence):
    """P(condition present | its parents observed) from the priors' numbers, by hand:
    baseline = occurrence / E[product of relative risks] over the population, where the
    parents are independent context nodes."""
    entry = priors.conditions[cid]
    assert all(p in priors.population for p in entry.relative_risk), "hand calculation needs context parents"
    occurrence = full(entry.occurrence, ["absent", "present"])["present"]
    expected = 1.0
    for parent, ratios in entry.relative_risk.items():
        weights = full(priors.population[parent], priors.vocabulary.findings[parent])
        if parent in entry.occurrence.given:
            expected *= ratios.get(entry.occurrence.given[parent]).value if entry.occurrence.given[parent] in ratios else 1.0
        else:
            expected *= sum(w * (ratios[s].value if s in ratios else 1.0) for s, w in weights.items())
    observed = math.prod(ratios[evidence[p]].value if evidence[p] in ratios else 1.0
                         for p, ratios in entry.relative_risk.items())
    return occurrence / expected * observed


def hand_production(priors, cid, evidence):
    """P(condition produces a calcification | parents observed), by hand."""
    rows = priors.conditions[cid].calcification
    row = next(r for r in rows if all(evidence[k] == v for k, v in r.given.items()))
    return hand_prior(priors, cid, evidence) * full(row, ["absent", "present"])["present"]


def context_only_conditions(priors):
    return [c for c, e in priors.conditions.items()
            if all(p in priors.population for p in e.relative_risk)
            and all(k in priors.population for r in e.calcification for k in r.given)]


def test_condition_prior_matches_hand_calculation(priors, engine):
    evidence = context_evidence(priors)
    for cid in context_only_conditions(priors):
        got = engine.posterior(cid, evidence)[1]
        assert got == pytest.approx(hand_prior(priors, cid, evidence), rel=1e-9, abs=1e-15), cid


def test_attribution_among_two_candidate_causes_by_hand(priors, engine):
    """With all but two conditions known absent, the index lesion is attributed uniformly
    among at most three producers (the two conditions and other causes)."""
    a, b = "calcific_tendinitis", "systemic_sclerosis"
    evidence = context_evidence(priors)
    evidence.update({c: "absent" for c in priors.vocabulary.conditions if c not in (a, b)})
    qa, qb = hand_production(priors, a, evidence), hand_production(priors, b, evidence)
    qo = full(priors.other_causes, ["absent", "present"])["present"]

    def share(q1, q2, q3):  # E[1{1 produces} / number of producers]
        return q1 * ((1 - q2) * (1 - q3) + q2 * (1 - q3) / 2 + (1 - q2) * q3 / 2 + q2 * q3 / 3)

    p_calc = 1 - (1 - qa) * (1 - qb) * (1 - qo)
    states = list(engine.network.nodes[LESION_CAUSE].states)
    got = engine.posterior(LESION_CAUSE, {**evidence, "soft_tissue_calcification": "present"})
    assert got[states.index(a)] == pytest.approx(share(qa, qb, qo) / p_calc, rel=1e-9)
    assert got[states.index(b)] == pytest.approx(share(qb, qa, qo) / p_calc, rel=1e-9)
    assert got[states.index("other_causes")] == pytest.approx(share(qo, qa, qb) / p_calc, rel=1e-9)


def test_noisy_or_finding_and_bayes_by_hand(priors, engine):
    """P(sarcoidosis | context, serum ACE raised) by Bayes' rule over the noisy-OR of ACE."""
    finding, cid = "serum_ace", "sarcoidosis"
    model = priors.noisy_max[finding]
    abnormal = model.dominance[-1]
    evidence = context_evidence(priors)
    causes = model.cause_rows()
    assert all(parent in priors.conditions or parent in priors.population for parent, _ in causes)

    def p_abnormal(target_state):
        no_push = 1 - model.leak.probabilities.get(abnormal, 0.0)
        for (parent, state), row in causes.items():
            push = row.probabilities.get(abnormal, 0.0)
            if parent == cid:
                no_push *= 1 - push * (target_state == state)
            elif parent in priors.population:
                no_push *= 1 - push * (evidence[parent] == state)
            else:
                no_push *= 1 - push * hand_prior(priors, parent, evidence)
        return 1 - no_push

    prior = hand_prior(priors, cid, evidence)
    numerator = prior * p_abnormal("present")
    expected = numerator / (numerator + (1 - prior) * p_abnormal("absent"))
    got = engine.posterior(cid, {**evidence, finding: abnormal})[1]
    assert got == pytest.approx(expected, rel=1e-9)


def test_knowing_a_sufficient_cause_explains_away_the_others(engine):
    base = {**ADULT, "soft_tissue_calcification": "present"}
    before = engine.consult(base).differential.set_index("id")
    after = engine.consult({**base, "calcific_tendinitis": "present"}).differential.set_index("id")
    others = before.index.drop("calcific_tendinitis")
    assert (after.loc[others, "p_cause"] < before.loc[others, "p_cause"]).all()
    assert (after.loc[others, "p_present"] <= before.loc[others, "p_present"] + 1e-12).all()
    assert after.loc["calcific_tendinitis", "p_cause"] > before.loc["calcific_tendinitis", "p_cause"]


def test_known_ckd_lowers_the_autoimmune_causes(engine):
    base = {**ADULT, "soft_tissue_calcification": "present", "lesion_site": "hand_digits"}
    before = engine.consult(base).differential.set_index("id")
    after = engine.consult({**base, "chronic_kidney_disease": "present"}).differential.set_index("id")
    for cid in ("systemic_sclerosis", "dermatomyositis", "systemic_lupus_erythematosus"):
        assert after.loc[cid, "p_cause"] < before.loc[cid, "p_cause"], cid


def evidence_strategy():
    from calcinosis import load_vocabulary

    vocabulary = load_vocabulary()
    nodes = vocabulary.nodes
    names = sorted(nodes)
    return st.dictionaries(st.sampled_from(names), st.just(None), max_size=8).flatmap(
        lambda chosen: st.fixed_dictionaries({k: st.sampled_from(nodes[k]) for k in chosen}))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(evidence=evidence_strategy())
def test_posteriors_are_coherent_on_random_evidence(engine, evidence):
    if evidence.get("soft_tissue_calcification") == "absent":
        # No calcification, no cause to rank: refused (the conditions' posteriors stay exact).
        with pytest.raises(EvidenceError, match="ranks what produced"):
            engine.consult(evidence)
        return
    try:
        result = engine.consult(evidence)
    except ImpossibleEvidenceError as exc:
        assert exc.conflict and set(exc.conflict.items()) <= set({**evidence, "soft_tissue_calcification": evidence.get("soft_tissue_calcification", "present")}.items())
        assert not engine.is_possible(exc.conflict)
        for key in exc.conflict:  # smallest: removing any one finding makes it possible
            assert engine.is_possible({k: v for k, v in exc.conflict.items() if k != key})
        return
    d = result.differential
    assert np.isfinite(d[["p_cause", "p_present", "prior_cause"]].to_numpy()).all()
    assert d["p_present"].between(0, 1).all() and d["p_cause"].between(0, 1).all()
    total = d["p_cause"].sum() + result.other_causes["p_cause"]
    assert total == pytest.approx(1.0, abs=1e-9)
    assert result.groups["p_cause"].sum() == pytest.approx(d["p_cause"].sum(), abs=1e-12)
    assert (d["p_cause"] <= d["p_present"] + 1e-9).all()  # a condition that is absent produces nothing


def test_probability_of_evidence(engine, priors):
    assert engine.evidence_probability({}) == 1.0
    assert engine.evidence_probability({"age_group": "child"}) == 0.0
    sex = full(priors.population["sex"], ["female", "male"])
    assert engine.evidence_probability({"sex": "female"}) == pytest.approx(sex["female"], rel=1e-12)
    both = engine.evidence_probability({"sex": "female", "soft_tissue_calcification": "present"})
    alone = engine.evidence_probability({"soft_tissue_calcification": "present"})
    posterior = engine.posterior("sex", {"soft_tissue_calcification": "present"})[0]
    assert both / alone == pytest.approx(posterior, rel=1e-9)


def test_every_parameter_source_follows_the_declared_protocol(priors):
    """Point values, draws and one-at-a-time sensitivity all declare what build_tables needs
    (network.ParameterSource)."""
    from calcinosis.network.assembly import ParameterSource, PointValues
    from calcinosis.analyses.sensitivity import OneAtATime
    from calcinosis.analyses.uncertainty import ParameterDraws

    for source in (PointValues(), ParameterDraws(priors, 4, 1), OneAtATime([])):
        assert isinstance(source, ParameterSource), type(source).__name__
