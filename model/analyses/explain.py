"""Why the differential looks as it does, and which test would settle it.

* **Evidence impact**: for every observed finding, how it moved each leading hypothesis
  ("this condition produced the calcification" against all the rest): the posterior with
  and without the finding, and the likelihood ratio of the finding given all the other
  evidence, LR = odds(H | all evidence) / odds(H | all evidence but this finding), with its
  weight of evidence in decibans (10 log10 LR). These are exact: every number comes from
  the network, and prior odds x LR = posterior odds holds to rounding.
* **Next best test**: for every finding not yet observed that can be tested (clinical,
  laboratory, imaging), the probability of each result, the leader's p_cause after each
  result, the chance that the result changes the leading cause, and the expected
  information gain on the cause of the calcification (entropy reduction, in bits).

Both run through the engine's batches: the leave-one-out evidence sets in one batch, and
P(finding | evidence, cause) for every finding and cause in another.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..inference.posteriors import Inference
from ..network.assembly import CALCIFICATION, LESION_CAUSE
from ..data.priors import OTHER_CAUSES

TESTABLE = ("clinical", "laboratory", "imaging")


def _odds(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return p / (1.0 - p)


def _cause_posteriors(inference: Inference, rows: list[dict[str, str]]) -> np.ndarray:
    """P(lesion_cause | row) for each evidence row, shape (rows, causes)."""
    engine = getattr(inference, "engine", None)
    if engine is not None:
        return engine.query(rows, [LESION_CAUSE]).marginals[LESION_CAUSE][:, 0]
    return np.array([inference.posterior(LESION_CAUSE, row) for row in rows])


def evidence_impact(inference: Inference, evidence: dict[str, str], top: int = 5) -> pd.DataFrame:
    """How each observed finding moved each of the ``top`` leading causes.

    Returns
    -------
    DataFrame
        One row per (finding, cause): finding, state, cause, p_without (p_cause without
        this finding), p_with (with all the evidence), likelihood_ratio, decibans
        (10 log10 LR), direction ('supports' or 'argues against').
    """
    evidence = dict(evidence)
    evidence.setdefault(CALCIFICATION, "present")
    states = list(inference.network.nodes[LESION_CAUSE].states)
    findings = [k for k in evidence if k != CALCIFICATION]
    rows = [evidence] + [{k: v for k, v in evidence.items() if k != f} for f in findings]
    posteriors = _cause_posteriors(inference, rows)
    full = posteriors[0]
    ranked = [states[i] for i in np.argsort(-full) if states[i] != "none"][:top]
    records = []
    for j, finding in enumerate(findings, start=1):
        for cause in ranked:
            i = states.index(cause)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = float(_odds(full[i]) / _odds(posteriors[j, i]))
                decibans = float(10 * np.log10(ratio))
            records.append({
                "finding": finding, "state": evidence[finding], "cause": cause,
                "p_without": float(posteriors[j, i]), "p_with": float(full[i]),
                "likelihood_ratio": ratio, "decibans": decibans,
                "direction": "supports" if ratio > 1 else "argues against" if ratio < 1 else "neutral",
                "note": _undefined_ratio(full[i], posteriors[j, i]),
            })
    return pd.DataFrame(records, columns=["finding", "state", "cause", "p_without", "p_with",
                                          "likelihood_ratio", "decibans", "direction", "note"])


def _undefined_ratio(p_with: float, p_without: float) -> str | None:
    """Why a likelihood ratio has no finite value (None when it has one)."""
    if p_with in (0.0, 1.0) and p_with == p_without:
        return f"undefined: the cause is {'certain' if p_with else 'impossible'} with and without this finding"
    if p_with in (0.0, 1.0) or p_without in (0.0, 1.0):
        return "unbounded: the finding makes the cause certain or impossible"
    return None


def _entropy(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
    return terms.sum(axis=-1)


def information_gain(prior: np.ndarray, p_result: np.ndarray, after: np.ndarray) -> float:
    """Expected information a test gives about the cause, in bits: the entropy of ``prior``
    (P(cause | evidence)) less the entropy after each result, ``after[:, s]`` = P(cause |
    evidence, result s), weighted by ``p_result[s]``. The one definition that the next-test
    ranking and the lesson on the value of a test share; rounding noise is reported as 0."""
    before = float(_entropy(np.asarray(prior, dtype=float)))
    expected_after = float((np.asarray(p_result) * _entropy(np.asarray(after, dtype=float).T)).sum())
    gain = before - expected_after
    return 0.0 if gain <= 1e-9 * max(before, 1.0) else gain


def testable_findings(inference: Inference, evidence: dict[str, str]) -> list[str]:
    vocabulary = inference.network.priors.vocabulary
    return [f for category in TESTABLE for f in vocabulary.categories[category]
            if f not in evidence and f != CALCIFICATION]


def next_tests(inference: Inference, evidence: dict[str, str], candidates: list[str] | None = None) -> pd.DataFrame:
    """Rank the unobserved testable findings by expected information gain on the cause.

    Returns
    -------
    DataFrame
        One row per finding, sorted by ``information_gain`` (bits, never negative):
        finding, category, information_gain, p_change_leader (probability that the
        result changes the leading cause), leader, and ``results``: a list of
        {state, probability, leader_p_cause, new_leader} per possible result.
    """
    evidence = dict(evidence)
    evidence.setdefault(CALCIFICATION, "present")
    network = inference.network
    vocabulary = network.priors.vocabulary
    causes = list(network.nodes[LESION_CAUSE].states)
    candidates = candidates if candidates is not None else testable_findings(inference, evidence)
    prior = inference.posterior(LESION_CAUSE, evidence)
    leader = int(np.nanargmax(prior))
    possible = [i for i, p in enumerate(prior) if p > 0]
    # P(finding | evidence, cause = k) for every candidate and every possible cause, in one batch.
    rows = [{**evidence, LESION_CAUSE: causes[k]} for k in possible]
    engine = getattr(inference, "engine", None)
    if engine is not None:
        given_cause = engine.query(rows, candidates).marginals
        conditional = {f: given_cause[f][:, 0] for f in candidates}
    else:
        conditional = {f: np.array([inference.posterior(f, row) for row in rows]) for f in candidates}
    records = []
    weights = prior[possible]
    for finding in candidates:
        likelihood = conditional[finding]                      # (causes, states)
        joint = likelihood * weights[:, None]                  # P(cause, result | evidence)
        p_result = joint.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            after = np.where(p_result > 0, joint / p_result, 0.0)  # P(cause | evidence, result)
        gain = information_gain(weights, p_result, after)
        results, change = [], 0.0
        for s, state in enumerate(network.nodes[finding].states):
            if p_result[s] <= 0:
                continue
            full_after = np.zeros(len(causes))
            full_after[possible] = after[:, s]
            new_leader = causes[int(np.argmax(full_after))]
            if new_leader != causes[leader]:
                change += float(p_result[s])
            results.append({"state": state, "probability": float(p_result[s]),
                            "leader_p_cause": float(full_after[leader]), "new_leader": new_leader})
        records.append({"finding": finding, "category": vocabulary.category_of(finding),
                        "information_gain": gain, "p_change_leader": change,
                        "leader": causes[leader], "results": results})
    table = pd.DataFrame(records, columns=["finding", "category", "information_gain", "p_change_leader",
                                           "leader", "results"])
    return table.sort_values(["information_gain", "finding"], ascending=[False, True], kind="stable").reset_index(drop=True)


def cause_label(vocabulary, cause: str) -> str:
    """The label of a cause of the lesion (a condition, or the causes outside the model)."""
    if cause == OTHER_CAUSES:
        return "Other or idiopathic causes"
    return vocabulary.conditions.get(cause, {}).get("label", cause)
