"""How often the network is right on published patients, and how well calibrated it is.

Two parts:

* **metrics** on plain arrays (a row per case, a column per cause): the rank of the
  reference diagnosis, top-k, mean reciprocal rank, Brier score and log loss over all
  causes, and the calibration table with its expected calibration error;
* **the protocol**: :func:`evaluate` consults every case under several models at once
  (their tables are stacked on the engine's draw axis) and scores each case with the
  model that did not see its publication. The lesion tables are learned from the bundled
  corpus (:mod:`calcinosis.analyses.learning`); for a case of publication X the scoring model is
  learned from the corpus without X (leave one publication out). A case from a publication
  the corpus does not hold (matched by key, DOI, PMID or URL) is scored by the model learned
  from the whole corpus, which never saw it.

Protocols reported side by side: ``prior`` (the scenario's case mix alone: no finding),
``judgement`` (the network before learning, lesion tables as judged), ``network`` (out of
sample, the figure to read) and ``in_sample`` (the model users get, scored on the cases it
learned from; labelled as such).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.corpus import Corpus
from ..inference.engine import CompiledEngine
from ..errors import EvidenceError
from ..data.evidence import Case, bundled_cases, load_case
from ..inference.posteriors import Inference, engine_for
from .learning import fold_priors, judgement_priors
from ..network.assembly import CALCIFICATION, DEFAULT_SCENARIO, LESION_CAUSE, Tables, build_network, build_tables, get_scenario
from ..data.priors import OTHER_CAUSES, Priors, load_priors
from ..data.vocabulary import OTHER_GROUP

TOP_K = (1, 3, 5)
CALIBRATION_BINS = 10
LOG_FLOOR = 1e-12  # log loss of a probability of zero: a large finite penalty instead of infinity
PROTOCOLS = ("prior", "judgement", "network", "in_sample")
HEADLINE = "network"


# --------------------------------------------------------------------------- metrics
def ranks(probabilities: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """1-based rank of the true column in each row; ties count against the truth."""
    p_true = probabilities[np.arange(len(truth)), truth]
    higher_or_tied = (probabilities >= p_true[:, None]).sum(axis=1)
    return higher_or_tied.astype(int)


def cause_ranks(probabilities: np.ndarray, truth: np.ndarray, n_conditions: int) -> np.ndarray:
    """The rank of each case's diagnosis: a condition among the conditions (the differential's
    order), other causes (the last column) among all the causes."""
    among_conditions = ranks(probabilities[:, :n_conditions], np.minimum(truth, n_conditions - 1))
    return np.where(truth < n_conditions, among_conditions, ranks(probabilities, truth))


def brier(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """Mean over cases of the squared distance to the one-hot truth, summed over causes (0 best, 2 worst)."""
    onehot = np.zeros_like(probabilities)
    onehot[np.arange(len(truth)), truth] = 1.0
    return float(((probabilities - onehot) ** 2).sum(axis=1).mean())


def log_loss(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """Mean of -ln p(true cause), in nats; a zero probability counts as ``LOG_FLOOR``."""
    p_true = probabilities[np.arange(len(truth)), truth]
    return float(-np.log(np.maximum(p_true, LOG_FLOOR)).mean())


def calibration_table(confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS) -> pd.DataFrame:
    """Predicted probability binned in equal-width bins against the observed frequency.

    Returns one row per bin: low, high, n, predicted (mean), observed (frequency of
    ``correct``); empty bins have n = 0 and missing predicted/observed.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        members = index == b
        n = int(members.sum())
        rows.append({"low": edges[b], "high": edges[b + 1], "n": n,
                     "predicted": float(confidence[members].mean()) if n else None,
                     "observed": float(correct[members].mean()) if n else None})
    return pd.DataFrame(rows)


def expected_calibration_error(table: pd.DataFrame) -> float:
    """Sum over bins of (share of predictions in the bin) x |observed - predicted|."""
    filled = table[table["n"] > 0]
    total = filled["n"].sum()
    if not total:
        return float("nan")
    return float((filled["n"] / total * (filled["observed"] - filled["predicted"]).abs()).sum())


def summarise(probabilities: np.ndarray, truth: np.ndarray, n_conditions: int) -> dict:
    """Every headline metric of one protocol on one set of cases.

    ``probabilities`` has a column per cause (the conditions first, then other causes);
    the rank of a condition is taken among the conditions, as in the differential, and that
    of other causes (a published patient of a cause outside the conditions) among all the
    causes. Calibration is that of the leading condition (top-label): its p_cause against
    whether it is the diagnosis.
    """
    if not len(truth):
        return {"cases": 0}
    rank = cause_ranks(probabilities, truth, n_conditions)
    leader = probabilities[:, :n_conditions].argmax(axis=1)
    confidence = probabilities[np.arange(len(truth)), leader]
    table = calibration_table(confidence, (leader == truth).astype(float))
    out = {"cases": int(len(truth))}
    out.update({f"top{k}": float((rank <= k).mean()) for k in TOP_K})
    out.update({"mrr": float((1.0 / rank).mean()), "brier": brier(probabilities, truth),
                "log_loss": log_loss(probabilities, truth), "ece": expected_calibration_error(table),
                "mean_p_true": float(probabilities[np.arange(len(truth)), truth].mean())})
    return out


# --------------------------------------------------------------------------- protocol
@dataclass
class Evaluation:
    """Scores of every case under every protocol.

    Attributes
    ----------
    cases : DataFrame
        One row per case and protocol: id, publication, diagnosis, group, scenario,
        protocol, rank, p_true, leader, p_leader, leader_group, impossible.
    probabilities : dict
        Protocol -> array (cases, causes) of p_cause, causes in ``causes`` order.
    causes : list
        The condition ids, then ``other_causes``.
    misses : DataFrame
        Cases whose diagnosis is not in the top three out of sample, with the finding that
        counted most against it (its likelihood ratio for the diagnosis given the others).
    """

    cases: pd.DataFrame
    probabilities: dict[str, np.ndarray]
    causes: list[str]
    groups: dict[str, str]
    misses: pd.DataFrame
    options: dict = field(default_factory=dict)

    @property
    def n_conditions(self) -> int:
        return len(self.causes) - 1

    def _truth(self, protocol: str) -> np.ndarray:
        frame = self.cases[self.cases["protocol"] == protocol]
        return np.array([self.causes.index(d) for d in frame["diagnosis"]])

    def summary(self) -> pd.DataFrame:
        """One row per protocol: cases, top1, top3, top5, mrr, brier, log_loss, ece, mean_p_true."""
        return pd.DataFrame([{"protocol": p, **summarise(self.probabilities[p], self._truth(p), self.n_conditions)}
                             for p in PROTOCOLS])

    def by(self, column: str, protocol: str = HEADLINE) -> pd.DataFrame:
        """The metrics of one protocol per diagnosis (``column='diagnosis'``) or per group."""
        frame = self.cases[self.cases["protocol"] == protocol].reset_index(drop=True)
        probabilities, truth = self.probabilities[protocol], self._truth(protocol)
        keys = [*self.groups, OTHER_GROUP] if column == "group" else self.causes
        rows = []
        for key in keys:
            members = (frame[column] == key).to_numpy()
            rows.append({column: key, **summarise(probabilities[members], truth[members], self.n_conditions)})
        return pd.DataFrame(rows)

    def calibration(self, protocol: str = HEADLINE) -> pd.DataFrame:
        """Top-label calibration table of one protocol."""
        probabilities, truth = self.probabilities[protocol], self._truth(protocol)
        leader = probabilities[:, : self.n_conditions].argmax(axis=1)
        confidence = probabilities[np.arange(len(truth)), leader]
        return calibration_table(confidence, (leader == truth).astype(float))

    def confusion(self, protocol: str = HEADLINE) -> pd.DataFrame:
        """Counts of true group (rows) against the group of highest p_cause (columns, with 'other')."""
        frame = self.cases[self.cases["protocol"] == protocol]
        columns = [*self.groups, OTHER_GROUP]
        table = pd.crosstab(pd.Categorical(frame["group"], categories=[*self.groups, OTHER_GROUP]),
                            pd.Categorical(frame["leader_group"], categories=columns), dropna=False)
        table.index.name, table.columns.name = "true group", "leading group"
        return table

    def to_dict(self) -> dict:
        return {
            "options": self.options,
            "summary": self.summary().to_dict(orient="records"),
            "by_group": self.by("group").to_dict(orient="records"),
            "by_condition": self.by("diagnosis").to_dict(orient="records"),
            "calibration": self.calibration().to_dict(orient="records"),
            "confusion": {g: {c: int(v) for c, v in row.items()} for g, row in self.confusion().iterrows()},
            "cases": self.cases.to_dict(orient="records"),
            "misses": self.misses.to_dict(orient="records"),
        }


def _case_scenario(case: Case, scenario_from_case: bool) -> str:
    return (case.scenario if scenario_from_case and case.scenario else None) or DEFAULT_SCENARIO


def stack_tables(tables: list[Tables]) -> Tables:
    """The tables of several models of one structure as one set with a leading model axis
    (the engine's draw axis); a table that is the same in every model keeps a leading 1."""
    first = tables[0]
    arrays = {}
    for node, array in first.arrays.items():
        others = [t.arrays[node] for t in tables]
        if all(o.shape == array.shape and np.array_equal(o, array) for o in others):
            arrays[node] = array
        else:
            arrays[node] = np.concatenate([np.broadcast_to(o, (1, *o.shape[1:])) if o.shape[0] == 1 else o
                                           for o in others])
    return Tables(first.states, first.parents, arrays, first.info, len(tables), first.scenario)


def evaluate(priors: Priors, cases: list[Case], corpus: Corpus | None, *, scenario_from_case: bool = False,
             findings_only: bool = False, progress=None) -> Evaluation:
    """Score every case under every protocol (see the module docstring).

    Parameters
    ----------
    priors : Priors
        As loaded: the lesion tables learned from ``corpus``.
    cases : list of Case
        Cases with a ``diagnosis`` (others are skipped).
    corpus : Corpus or None
        The corpus the priors learned from; ``None`` when nothing was learned.
    scenario_from_case : bool
        Consult each case in the population it names (``scenario``), else in the default.
    findings_only : bool
        Drop known conditions from the evidence: only findings speak.
    progress : callable, optional
        Called with a label after each scenario and each case.
    """
    cases = [c for c in cases if c.diagnosis]
    vocabulary = priors.vocabulary
    conditions = list(vocabulary.conditions)
    causes = [*conditions, OTHER_CAUSES]
    learning_cases = corpus.cases if corpus is not None and priors.learning is not None else []
    home = {c.id: corpus.publication_of(c) if learning_cases else None for c in cases}
    records, rows_by_protocol, misses = [], {p: [] for p in PROTOCOLS}, []
    for scenario_id in sorted({_case_scenario(c, scenario_from_case) for c in cases}):
        members = [c for c in cases if _case_scenario(c, scenario_from_case) == scenario_id]
        scenario = get_scenario(priors, scenario_id)
        folds = sorted({home[c.id] for c in members if home[c.id]})
        models = [judgement_priors(priors), priors, *(fold_priors(priors, learning_cases, f) for f in folds)]
        engine = CompiledEngine(stack_tables([build_tables(m, scenario) for m in models]), dtype=np.float64)
        cause_states = engine.tables.states[LESION_CAUSE]
        columns = [cause_states.index(c) for c in causes]
        prior = engine.query([{CALCIFICATION: "present"}], [LESION_CAUSE]).marginals[LESION_CAUSE][0, 1, columns]
        if progress:
            progress(f"models of {scenario_id}")
        for case in members:
            evidence = {k: v for k, v in case.evidence.items() if not (findings_only and k in vocabulary.conditions)}
            evidence.setdefault(CALCIFICATION, "present")
            marginal = engine.query([evidence], [LESION_CAUSE]).marginals[LESION_CAUSE][0][:, columns]
            column = {"prior": None, "judgement": 0, "in_sample": 1,
                      "network": 2 + folds.index(home[case.id]) if home[case.id] else 1}
            for protocol in PROTOCOLS:
                p = prior if protocol == "prior" else marginal[column[protocol]]
                impossible = not np.isfinite(p).all()
                p = np.zeros(len(causes)) if impossible else p / p.sum()
                rows_by_protocol[protocol].append(p)
                records.append(_record(case, scenario_id, protocol, p, causes, vocabulary, impossible))
                if protocol == HEADLINE and records[-1]["rank"] > 3 and not impossible:
                    misses.append(_miss(engine, case, evidence, column[protocol], causes, columns, records[-1]))
            if progress:
                progress(case.id)
    frame = pd.DataFrame(records)
    probabilities = {p: np.array(rows) if rows else np.zeros((0, len(causes))) for p, rows in rows_by_protocol.items()}
    return Evaluation(
        cases=frame, probabilities=probabilities, causes=causes, groups=dict(vocabulary.groups),
        misses=pd.DataFrame(misses, columns=["id", "diagnosis", "rank", "p_true", "leader", "p_leader",
                                             "against", "likelihood_ratio"]),
        options={"scenario_from_case": scenario_from_case, "findings_only": findings_only,
                 "learning_cases": len(learning_cases),
                 "learning_publications": len({c.publication for c in learning_cases}),
                 "protocol": "leave one publication out" if learning_cases else "no parameter learned"},
    )


def _record(case: Case, scenario: str, protocol: str, p: np.ndarray, causes: list[str], vocabulary,
            impossible: bool) -> dict:
    conditions = causes[:-1]
    truth = causes.index(case.diagnosis)
    rank = int(cause_ranks(p[None, :], np.array([truth]), len(conditions))[0])
    leader = conditions[int(p[: len(conditions)].argmax())]
    group_p = {g: float(sum(p[i] for i, c in enumerate(conditions) if vocabulary.conditions[c]["group"] == g))
               for g in vocabulary.groups}
    group_p[OTHER_GROUP] = float(p[-1])
    return {"id": case.id, "publication": case.publication, "diagnosis": case.diagnosis,
            "group": vocabulary.group_of(case.diagnosis), "scenario": scenario, "protocol": protocol,
            "rank": rank, "p_true": float(p[truth]), "leader": leader, "p_leader": float(p[conditions.index(leader)]),
            "leader_group": max(group_p, key=group_p.get), "impossible": impossible}


def _miss(engine: CompiledEngine, case: Case, evidence: dict, column: int, causes: list[str], columns: list[int],
          record: dict) -> dict:
    """The finding whose removal raises the odds of the diagnosis most: the one that
    counted most against it, with its likelihood ratio given all the other findings."""
    truth = causes.index(case.diagnosis)
    findings = [k for k in evidence if k != CALCIFICATION]
    rows = [{k: v for k, v in evidence.items() if k != finding} for finding in findings]
    against, ratio = None, None
    if rows:
        without = engine.query(rows, [LESION_CAUSE]).marginals[LESION_CAUSE][:, column][:, columns]
        p_with = record["p_true"]
        odds = lambda p: p / (1 - p) if p < 1 else np.inf  # noqa: E731
        ratios = [odds(p_with) / odds(float(w[truth])) if float(w[truth]) > 0 else np.nan for w in without]
        finite = [(r, f) for r, f in zip(ratios, findings) if np.isfinite(r)]
        if finite:
            ratio, finding = min(finite)
            against = f"{finding}={evidence[finding]}"
    return {"id": case.id, "diagnosis": case.diagnosis, "rank": record["rank"], "p_true": record["p_true"],
            "leader": record["leader"], "p_leader": record["p_leader"], "against": against,
            "likelihood_ratio": ratio}


def case_rankings(folder: Path | None = None, engine: str = "compiled"):
    """Rank of the reference diagnosis for every bundled case (a pandas DataFrame)."""
    priors = load_priors()
    engines: dict[str, Inference] = {}
    rows = []
    paths = bundled_cases(folder)
    if not paths:
        raise EvidenceError(f"{folder or 'evidence_examples'}: no case files (*.yaml) found.")
    for path in paths:
        case = load_case(path, priors.vocabulary)
        scenario = case.scenario or DEFAULT_SCENARIO
        if scenario not in engines:
            engines[scenario] = engine_for(build_network(priors, scenario), engine)
        result = engines[scenario].consult(case.evidence, case_id=case.id)
        leader = result.differential.iloc[0]
        rows.append({"case": case.id, "scenario": scenario, "diagnosis": case.diagnosis,
                     "rank": result.rank_of(case.diagnosis) if case.diagnosis else None,
                     "p_cause": float(result.differential.set_index("id").loc[case.diagnosis, "p_cause"])
                     if case.diagnosis else None,
                     "leader": leader["id"], "leader_p_cause": float(leader["p_cause"])})
    return pd.DataFrame(rows)
