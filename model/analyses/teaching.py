"""Teaching Bayesian reasoning on the network: step-by-step updating, lessons and a quiz.

This module owns the teaching computations and their wording:

* :func:`walkthrough` adds a case's findings one at a time and, at each step, gives
  for the leading hypotheses ("H: this condition produced the calcification") the
  prior odds, the likelihood ratio of the new finding given everything known before,
  and the posterior odds and probability (the odds form of Bayes' rule). The
  likelihood ratio is computed exactly from probabilities of evidence,
  ``LR = P(f | H, e) / P(f | not H, e)``, so that prior odds x LR = posterior odds
  holds to rounding error; :func:`render_walkthrough` writes it out with the
  arithmetic visible.
* The lessons (:data:`LESSONS`): base-rate neglect, explaining away, conditional
  independence and d-separation, order-independence of updating, the value of a test
  before and after other evidence, and P(present) versus P(cause). Each returns a
  :class:`Lesson` (paragraphs, tables and a JSON-ready dict).
* The self-check quiz (:func:`quiz_questions`, :func:`reveal`).

The numbers all come from the network (``priors/``); this module holds no
probability. Everything it writes says once that it is teaching material and not a
diagnosis. The plots live in :mod:`calcinosis.interfaces.plots`, the commands in
:mod:`calcinosis.interfaces.teaching_cli`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import networkx as nx
import numpy as np
import pandas as pd

from .api import bundled_model
from ..foundation.defaults import DISCLAIMER, LESSON_NAMES
from ..errors import CalcinosisError, EvidenceError, allowed, suggestion
from .explain import information_gain
from ..data.evidence import Case, bundled_cases, load_case
from ..foundation.formatting import significant, significant_percent
from ..inference.posteriors import Inference, engine_for
from ..network.assembly import CALCIFICATION, DEFAULT_SCENARIO, LESION_CAUSE, Network
from ..data.priors import OTHER_CAUSES
from ..data.vocabulary import ALL_NODES_HINT, check_node, check_states, load_vocabulary
from ..foundation.yamlio import read_yaml


# --------------------------------------------------------------------------- engines
def engine_for_network(network: Network) -> Inference:
    """The inference engine used for teaching: the compiled engine, exact like pgmpy."""
    return engine_for(network)


def engine(scenario: str | None = None) -> Inference:
    """The engine of a scenario of the bundled priors (default ``general_population``)."""
    return bundled_model().for_scenario(scenario or DEFAULT_SCENARIO).inference()


def bundled_case(stem: str) -> Case:
    """A bundled case file by its file stem (e.g. ``paparo2011_fig09_calcified_tophus_peroneal_ckd``)."""
    paths = {p.stem: p for p in bundled_cases()}
    if stem not in paths:
        raise EvidenceError(f"no bundled case '{stem}'. Allowed: {allowed(paths)}.{suggestion(stem, paths)}")
    return load_case(paths[stem], bundled_model().priors.vocabulary)


# --------------------------------------------------------------------------- formatting
# number() and percent() are the teaching forms of formatting.significant / significant_percent.
number = significant
percent = significant_percent


def odds(p: float) -> float:
    return math.inf if p >= 1 else p / (1 - p)


# --------------------------------------------------------------------------- walkthrough
@dataclass
class HypothesisUpdate:
    """One hypothesis at one step: H = "``condition`` produced the calcification"."""

    condition: str
    label: str
    prior: float  # P(H | evidence before the finding)
    prior_odds: float
    p_finding_given_h: float | None
    p_finding_given_not_h: float | None
    likelihood_ratio: float | None  # None when undefined (H impossible or certain before)
    posterior_odds: float
    posterior: float  # P(H | evidence including the finding)


@dataclass
class Step:
    """The network after one more finding (``finding`` is None for the starting point)."""

    index: int
    finding: str | None
    state: str | None
    evidence: dict[str, str]
    p_finding: float | None  # P(finding = state | evidence before)
    updates: list[HypothesisUpdate]
    posterior: dict[str, float]  # condition id -> p_cause (and other_causes)

    @property
    def leader(self) -> str:
        return max((k for k in self.posterior if k != OTHER_CAUSES), key=self.posterior.get)


@dataclass
class Walkthrough:
    """A case's evidence added one finding at a time (see :func:`walkthrough`)."""

    case: Case | None
    scenario: str
    order: list[str]
    hypotheses: list[str]
    labels: dict[str, str]
    steps: list[Step]  # steps[0] is the starting point (only the calcification)
    final_differential: pd.DataFrame

    @property
    def final(self) -> dict[str, float]:
        return {k: v for k, v in self.steps[-1].posterior.items() if k != OTHER_CAUSES}

    def trajectory(self) -> pd.DataFrame:
        """p_cause of every cause (columns) at every step (rows: start, then one per finding)."""
        rows = [{"step": s.index, "finding": "start" if s.finding is None else f"{s.finding}={s.state}",
                 **s.posterior} for s in self.steps]
        return pd.DataFrame(rows)

    def likelihood_ratios(self) -> pd.DataFrame:
        """One row per (step, hypothesis): prior, LR, posterior, in probability and odds."""
        rows = []
        for step in self.steps[1:]:
            for u in step.updates:
                rows.append({"step": step.index, "finding": step.finding, "state": step.state,
                             "condition": u.condition, "label": u.label, "prior": u.prior,
                             "prior_odds": u.prior_odds, "p_finding_given_h": u.p_finding_given_h,
                             "p_finding_given_not_h": u.p_finding_given_not_h,
                             "likelihood_ratio": u.likelihood_ratio, "posterior_odds": u.posterior_odds,
                             "posterior": u.posterior})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """The ``--json`` form: ``steps`` (finding, state, likelihood_ratio, posterior) and ``final``."""
        def finite(x):
            return None if x is None or not math.isfinite(x) else float(x)

        steps = []
        for step in self.steps[1:]:
            steps.append({
                "step": step.index, "finding": step.finding, "state": step.state,
                "p_finding": finite(step.p_finding),
                "likelihood_ratio": {u.condition: finite(u.likelihood_ratio) for u in step.updates},
                "arithmetic": {u.condition: {"prior": u.prior, "prior_odds": finite(u.prior_odds),
                                             "p_finding_given_h": finite(u.p_finding_given_h),
                                             "p_finding_given_not_h": finite(u.p_finding_given_not_h),
                                             "likelihood_ratio": finite(u.likelihood_ratio),
                                             "posterior_odds": finite(u.posterior_odds), "posterior": u.posterior}
                               for u in step.updates},
                "posterior": {k: v for k, v in step.posterior.items() if k != OTHER_CAUSES},
                "other_causes": step.posterior.get(OTHER_CAUSES),
                "leader": step.leader,
            })
        start = self.steps[0]
        return {
            "case": None if self.case is None else {"id": self.case.id, "title": self.case.title,
                                                    "diagnosis": self.case.diagnosis},
            "scenario": self.scenario, "order": self.order, "hypotheses": self.hypotheses,
            "start": {"posterior": {k: v for k, v in start.posterior.items() if k != OTHER_CAUSES},
                      "other_causes": start.posterior.get(OTHER_CAUSES)},
            "steps": steps, "final": self.final,
            "final_other_causes": self.steps[-1].posterior.get(OTHER_CAUSES),
            "disclaimer": DISCLAIMER,
        }


def resolve_order(evidence: dict[str, str], order: Sequence[str] | None, where: str = "--order") -> list[str]:
    """The order in which to add ``evidence``: the ids of ``order`` first, then the rest
    in their given order. Unknown or repeated ids are an :class:`EvidenceError`."""
    keys = [k for k in evidence if k != CALCIFICATION]
    chosen: list[str] = []
    for item in order or []:
        item = item.strip()
        if not item:
            continue
        if item == CALCIFICATION:
            raise EvidenceError(f"{where}: '{CALCIFICATION}' is the starting point of every walkthrough, "
                                f"not a step; leave it out of the order.")
        if item not in keys:
            raise EvidenceError(f"{where}: '{item}' is not a finding of this case. The case's findings are "
                                f"{allowed(keys)}.{suggestion(item, keys)}")
        if item in chosen:
            raise EvidenceError(f"{where}: '{item}' is listed twice; each finding is added once.")
        chosen.append(item)
    return chosen + [k for k in keys if k not in chosen]


def walkthrough(evidence: dict[str, str], *, inference: Inference | None = None, scenario: str | None = None,
                order: Sequence[str] | None = None, top: int = 3, hypotheses: Sequence[str] | None = None,
                case: Case | None = None) -> Walkthrough:
    """Add ``evidence`` one finding at a time (odds form of Bayes' rule at each step).

    Parameters
    ----------
    evidence : dict
        Node id -> state. ``soft_tissue_calcification: present`` is the starting point.
    inference : Inference, optional
        The engine (default: the cached one of ``scenario``).
    order : list of str, optional
        Ids to add first, in this order; the rest follow in the evidence's order.
    top : int
        Number of hypotheses followed step by step: the leading causes of the final posterior.
    hypotheses : list of str, optional
        Condition ids to follow instead of the leading ones.

    Raises
    ------
    EvidenceError
        Bad order, unknown hypothesis, or evidence saying there is no calcification.
    ImpossibleEvidenceError
        When the evidence cannot occur under the model.
    """
    inference = inference or engine(scenario)
    network = inference.network
    vocabulary = network.priors.vocabulary
    evidence = dict(evidence)
    if evidence.get(CALCIFICATION, "present") != "present":
        raise EvidenceError(f"evidence: {CALCIFICATION} is '{evidence[CALCIFICATION]}'; a walkthrough asks what "
                            f"produced a calcification, so it needs {CALCIFICATION}: present.")
    sequence = resolve_order(evidence, order)
    final = inference.consult(evidence)  # checks that the evidence is possible
    if hypotheses:
        for h in hypotheses:
            if h not in vocabulary.conditions:
                raise EvidenceError(f"hypothesis '{h}' is not a condition id. Allowed: {allowed(vocabulary.conditions)}."
                                    f"{suggestion(h, vocabulary.conditions)}")
        tracked = list(dict.fromkeys(hypotheses))
    else:
        if top < 1:
            raise EvidenceError(f"--top must be at least 1; got {top}.")
        tracked = list(final.differential["id"].head(top))
        if case is not None and case.diagnosis and case.diagnosis not in tracked:
            tracked.append(case.diagnosis)
    labels = {cid: entry["label"] for cid, entry in vocabulary.conditions.items()}
    labels[OTHER_CAUSES] = "Other or idiopathic causes"
    cause_states = list(network.nodes[LESION_CAUSE].states)

    def posterior_map(ev):
        values = inference.posterior(LESION_CAUSE, ev)
        return {c: float(values[cause_states.index(c)]) for c in network.causes}

    known = {CALCIFICATION: "present"}
    p_known = inference.evidence_probability(known)
    p_h_known = {h: inference.evidence_probability({**known, LESION_CAUSE: h}) for h in tracked}
    steps = [Step(0, None, None, dict(known), None, [], posterior_map(known))]
    for i, finding in enumerate(sequence, start=1):
        state = evidence[finding]
        new = {**known, finding: state}
        p_new = inference.evidence_probability(new)
        updates = []
        for h in tracked:
            p_h_new = inference.evidence_probability({**new, LESION_CAUSE: h})
            prior = p_h_known[h] / p_known
            not_h_known, not_h_new = p_known - p_h_known[h], max(p_new - p_h_new, 0.0)
            given_h = p_h_new / p_h_known[h] if p_h_known[h] > 0 else None
            given_not_h = not_h_new / not_h_known if not_h_known > 0 else None
            if given_h is None or given_not_h is None:
                ratio = None
            elif given_not_h == 0:
                ratio = math.inf if given_h > 0 else None
            else:
                ratio = given_h / given_not_h
            updates.append(HypothesisUpdate(
                h, labels[h], prior, p_h_known[h] / not_h_known if not_h_known > 0 else math.inf,
                given_h, given_not_h, ratio, p_h_new / not_h_new if not_h_new > 0 else math.inf, p_h_new / p_new))
            p_h_known[h] = p_h_new
        steps.append(Step(i, finding, state, dict(new), p_new / p_known, updates, posterior_map(new)))
        known, p_known = new, p_new
    return Walkthrough(case, network.scenario.id, sequence, tracked, labels, steps, final.differential)


def case_walkthrough(path: Path | str, *, scenario: str | None = None, order: Sequence[str] | None = None,
                     top: int = 3, extra: dict[str, str] | None = None) -> Walkthrough:
    """:func:`walkthrough` of a case file (its scenario unless ``scenario`` is given)."""
    case = load_case(path, bundled_model().priors.vocabulary)
    evidence = {**case.evidence, **(extra or {})}
    return walkthrough(evidence, scenario=scenario or case.scenario, order=order, top=top, case=case)


def explain_update(u: HypothesisUpdate, finding: str, state: str) -> list[str]:
    """The arithmetic of one update, in lines a student can follow."""
    lines = [f'  H = "{u.label}" produced the calcification',
             f"    before: P(H) = {percent(u.prior)}, prior odds = {number(u.prior_odds)}"]
    if u.likelihood_ratio is None:
        lines.append("    the likelihood ratio is undefined: H was already excluded (or certain) before this finding.")
        return lines
    lines.append(f"    LR = P({finding}={state} | H) / P({finding}={state} | not H) = "
                 f"{number(u.p_finding_given_h)} / {number(u.p_finding_given_not_h)} = {number(u.likelihood_ratio)}")
    lines.append(f"    posterior odds = prior odds x LR = {number(u.prior_odds)} x {number(u.likelihood_ratio)} = "
                 f"{number(u.posterior_odds)}  ->  P(H) = odds / (1 + odds) = {percent(u.posterior)}")
    lr = u.likelihood_ratio
    if math.isinf(lr):
        lines.append("    only H explains this finding among the causes still possible: the odds become infinite.")
    elif lr > 1:
        lines.append(f"    the finding is {number(lr)} times as likely if H is true as if it is not: "
                     f"the odds of H are multiplied by {number(lr)}.")
    elif lr < 1 and lr > 0:
        lines.append(f"    the finding is {number(1 / lr)} times less likely if H is true: "
                     f"the odds of H are divided by {number(1 / lr)}.")
    elif lr == 0:
        lines.append("    the finding cannot occur if H is true: H is excluded.")
    else:
        lines.append("    the finding is as likely either way: it does not move H.")
    return lines


def render_walkthrough(w: Walkthrough, show: int = 5) -> str:
    """The walkthrough in words, with the arithmetic of every update."""
    out = []
    if w.case is not None:
        out.append(f"Step-by-step updating: {w.case.title} ({w.case.id})")
    else:
        out.append("Step-by-step updating")
    out.append(f"Scenario: {w.scenario}. Order: {', '.join(w.order) or '(no findings)'}.")
    out.append("")
    out.append("Bayes' rule in odds form: posterior odds = prior odds x likelihood ratio (LR).")
    out.append('H is "this condition produced the calcification"; LR = P(finding | H) / P(finding | not H), both given')
    out.append("everything known before the finding. Odds o and probability p convert as o = p / (1 - p), p = o / (1 + o).")
    out.append("")
    start = w.steps[0]
    out.append("Start: a soft-tissue calcification is present and nothing else is known. The prior is the scenario's "
               "case mix (p_cause, odds):")
    for h in w.hypotheses:
        out.append(f"  {w.labels[h]}: {percent(start.posterior[h])}, odds {number(odds(start.posterior[h]))}")
    for step in w.steps[1:]:
        out.append("")
        out.append(f"Step {step.index} of {len(w.steps) - 1}: add {step.finding} = {step.state}  "
                   f"(P of this finding given what was known: {percent(step.p_finding)})")
        for u in step.updates:
            out.extend(explain_update(u, step.finding, step.state))
        leader = step.leader
        out.append(f"  Leading cause now: {w.labels[leader]} ({percent(step.posterior[leader])}).")
    out.append("")
    out.append("Trajectory of p_cause (start, then after each step):")
    table = w.trajectory()
    leading = sorted((c for c in w.labels if c in table), key=lambda c: -table[c].max())[:show]
    for c in leading:
        out.append(f"  {w.labels[c][:44]:<44} " + " -> ".join(percent(v) for v in table[c]))
    out.append("")
    final = sorted(w.final.items(), key=lambda kv: -kv[1])[:show]
    out.append("Final posterior (equal to a consultation with all the evidence at once): "
               + "; ".join(f"{w.labels[c]} {percent(p)}" for c, p in final) + ".")
    if w.case is not None and w.case.diagnosis:
        rank = [c for c, _ in sorted(w.final.items(), key=lambda kv: -kv[1])].index(w.case.diagnosis) + 1
        out.append(f"Reference diagnosis of the source: {w.labels[w.case.diagnosis]} (rank {rank}).")
    out.append("")
    out.append(DISCLAIMER)
    return "\n".join(out)


# --------------------------------------------------------------------------- lessons
@dataclass
class Lesson:
    """One lesson: a title, paragraphs of explanation, tables and a JSON-ready dict."""

    name: str
    title: str
    paragraphs: list[str]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    data: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"lesson": self.name, "title": self.title, "text": self.paragraphs,
                "tables": {k: v.to_dict(orient="records") for k, v in self.tables.items()},
                "data": self.data, "disclaimer": DISCLAIMER}

    def render(self) -> str:
        out = [self.title, "=" * len(self.title), ""]
        for paragraph in self.paragraphs:
            out += [paragraph, ""]
        for name, table in self.tables.items():
            out += [f"{name}:", _format_table(table), ""]
        out.append(DISCLAIMER)
        return "\n".join(out)


def _format_table(table: pd.DataFrame) -> str:
    def cell(column, value):
        if isinstance(value, (float, np.floating)):
            return percent(value) if column.startswith(("p_", "P(")) or column.endswith("_p") else number(value)
        return str(value)

    formatted = table.copy().astype(object)
    for column in table.columns:
        formatted[column] = [cell(str(column), v) for v in table[column]]
    return formatted.to_string(index=False)


def _labels() -> dict[str, str]:
    vocabulary = bundled_model().priors.vocabulary
    return {cid: entry["label"] for cid, entry in vocabulary.conditions.items()}


def _bundle_ratio(inference: Inference, findings: dict[str, str], h: str,
                  base: dict[str, str] | None = None) -> tuple[float, float, float]:
    """(P(H | base), LR of ``findings`` for H given base, P(H | base + findings))."""
    base = {CALCIFICATION: "present", **(base or {})}
    full = {**base, **findings}
    pb, pf = inference.evidence_probability(base), inference.evidence_probability(full)
    hb = inference.evidence_probability({**base, LESION_CAUSE: h})
    hf = inference.evidence_probability({**full, LESION_CAUSE: h})
    ratio = (hf / hb) / ((pf - hf) / (pb - hb))
    return hb / pb, ratio, hf / pf


# --------------------------------------------------------------------------- content
def _content(path: Path | None = None) -> dict:
    """``lessons.yaml``: what each lesson and the quiz show, with every node id and state
    checked against the vocabulary (``lesion_cause`` against the causes)."""
    path = Path(path or Path(__file__).with_name("lessons.yaml"))
    content = read_yaml(path, CalcinosisError, "teaching content")
    vocabulary = load_vocabulary()
    nodes = {**vocabulary.nodes, LESION_CAUSE: vocabulary.causes}

    def check(evidence, where):
        return check_states(evidence or {}, nodes, f"{path.name}: {where}")

    check(content["base_rates"]["findings"], "base_rates.findings")
    check(content["explaining_away"]["base"], "explaining_away.base")
    check({c: "present" for c in content["explaining_away"]["conditions"]}, "explaining_away.conditions")
    for i, q in enumerate(content["d_separation"]["questions"]):
        check_node(q["x"], nodes, f"{path.name}: d_separation.questions[{i}].x")
        check_node(q["y"], nodes, f"{path.name}: d_separation.questions[{i}].y")
        check(q["given"], f"d_separation.questions[{i}].given")
    for i, c in enumerate(content["test_value"]["contexts"]):
        check(c["known"], f"test_value.contexts[{i}].known")
    for i, q in enumerate(content["quiz"]):
        check({**q["evidence"], LESION_CAUSE: q["hypothesis"]}, f"quiz[{i}]")
    return content


CONTENT = _content()
AUTOIMMUNE = tuple(CONTENT["explaining_away"]["conditions"])
BASE_RATE_FINDINGS = dict(CONTENT["base_rates"]["findings"])


def lesson_base_rates(findings: dict[str, str] | None = None,
                      hypothesis: str = CONTENT["base_rates"]["hypothesis"],
                      scenarios: Sequence[str] = tuple(CONTENT["base_rates"]["scenarios"])) -> Lesson:
    """Base-rate neglect: the same findings in the general population and in a dialysis unit."""
    findings = dict(findings or BASE_RATE_FINDINGS)
    labels = _labels()
    rows, leaders = [], {}
    for scenario in scenarios:
        inference = engine(scenario)
        prior, ratio, post = _bundle_ratio(inference, findings, hypothesis)
        result = inference.consult(findings)
        leaders[scenario] = result.differential.iloc[0]
        rows.append({"scenario": scenario, "prior_p": prior, "prior_odds": odds(prior), "likelihood_ratio": ratio,
                     "posterior_odds": odds(post), "posterior_p": post,
                     "leading cause": f"{labels[result.leader]} ({percent(float(result.differential.iloc[0]['p_cause']))})"})
    table = pd.DataFrame(rows)
    shown = ", ".join(f"{k} = {v}" for k, v in findings.items())
    a, b = rows[0], rows[-1]
    paragraphs = [
        f"Two patients have the same calcification ({shown}). One is seen in the general adult population "
        f"({a['scenario']}), the other in a dialysis unit ({b['scenario']}). The hypothesis H is "
        f"\"{labels[hypothesis]} produced the calcification\".",
        f"The findings carry a likelihood ratio for H of {number(a['likelihood_ratio'])} in the first population "
        f"and {number(b['likelihood_ratio'])} in the second. P(findings | H) is the same in both (the lesion's signs "
        f"depend only on what produced it); P(findings | not H) differs because the other causes are mixed differently.",
        f"What differs is the base rate. Before these findings, P(H) is {percent(a['prior_p'])} "
        f"(odds {number(a['prior_odds'])}) in the general population and {percent(b['prior_p'])} "
        f"(odds {number(b['prior_odds'])}) in the dialysis unit. Multiplying by the likelihood ratio gives posterior "
        f"odds of {number(a['prior_odds'])} x {number(a['likelihood_ratio'])} = {number(a['posterior_odds'])} "
        f"(P = {percent(a['posterior_p'])}) against {number(b['prior_odds'])} x {number(b['likelihood_ratio'])} = "
        f"{number(b['posterior_odds'])} (P = {percent(b['posterior_p'])}).",
        f"The prior odds differ by a factor of {number(b['prior_odds'] / a['prior_odds'])}, far more than the likelihood "
        f"ratios do. Base-rate neglect is judging by the findings alone, as if the likelihood ratio were the answer. "
        "The same picture means different things in different clinics.",
    ]
    return Lesson("base-rates", "Lesson: base rates matter", paragraphs, {"same findings, two populations": table},
                  {"findings": findings, "hypothesis": hypothesis, "rows": rows_to_json(table)})


def rows_to_json(table: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
            for row in table.to_dict(orient="records")]


def lesson_explaining_away(base: dict[str, str] | None = None, conditions: Sequence[str] = AUTOIMMUNE,
                           scenario: str = DEFAULT_SCENARIO) -> Lesson:
    """Explaining away: a calcification plus known CKD lowers the autoimmune causes."""
    base = dict(base if base is not None else CONTENT["explaining_away"]["base"])
    inference = engine(scenario)
    labels = _labels()
    with_ckd = {**base, "chronic_kidney_disease": "present"}
    a = inference.consult(base).differential.set_index("id")
    b = inference.consult(with_ckd).differential.set_index("id")
    rows = []
    for cid in conditions:
        rows.append({"condition": labels[cid],
                     "P(present), population": float(inference.posterior(cid, {})[1]),
                     "P(present | CKD), population": float(inference.posterior(cid, {"chronic_kidney_disease": "present"})[1]),
                     "p_present, calcification": float(a.loc[cid, "p_present"]),
                     "p_present, calcification + CKD": float(b.loc[cid, "p_present"]),
                     "p_cause, calcification": float(a.loc[cid, "p_cause"]),
                     "p_cause, calcification + CKD": float(b.loc[cid, "p_cause"])})
    table = pd.DataFrame(rows)
    fell = int((table["p_cause, calcification + CKD"] < table["p_cause, calcification"]).sum())
    shown = ", ".join(f"{k} = {v}" for k, v in base.items()) or "nothing else"
    first = rows[0]
    paragraphs = [
        "Two causes of one effect compete to explain it. A calcification can be produced by an autoimmune disease "
        "(systemic sclerosis, dermatomyositis, lupus...) or by advanced kidney disease. In the population, knowing "
        "that someone has CKD says little about whether they have an autoimmune disease (first two columns).",
        f"Among patients with a calcification ({shown}), the autoimmune diseases become more likely, because they are "
        f"among its causes. Learning that the patient also has advanced CKD provides another explanation, so the "
        f"autoimmune causes lose probability: for {first['condition']}, p_cause goes from "
        f"{percent(first['p_cause, calcification'])} to {percent(first['p_cause, calcification + CKD'])} and "
        f"p_present from {percent(first['p_present, calcification'])} to {percent(first['p_present, calcification + CKD'])}.",
        f"p_cause fell for {fell} of the {len(rows)} autoimmune conditions. Nothing about the autoimmune diseases was "
        f"observed: the change flows through the common effect (the calcification), a collider, which is what "
        f"d-separation predicts (see the lesson d-separation).",
    ]
    return Lesson("explaining-away", "Lesson: explaining away", paragraphs, {"autoimmune causes": table},
                  {"base": base, "rows": rows_to_json(table)})


# -- d-separation ---------------------------------------------------------------
def active_trail(graph: nx.DiGraph, x: str, y: str, given: Sequence[str]) -> list[str] | None:
    """An active trail from ``x`` to ``y`` given the observed nodes, or None when they are
    d-separated (the Bayes-ball rules: a chain or fork is blocked by an observed middle
    node; a collider is open only when it or one of its descendants is observed)."""
    observed = set(given)
    if x in observed or y in observed:
        return None
    opens_collider = set(observed)
    for node in observed:
        opens_collider |= nx.ancestors(graph, node)
    # states: (node, arrived_from_child?) ; "up" = travelling against the arrows
    start = (x, True)
    previous = {start: None}
    queue = [start]
    while queue:
        node, from_child = queue.pop(0)
        if node == y:
            trail, state = [], (node, from_child)
            while state is not None:
                trail.append(state[0])
                state = previous[state]
            return trail[::-1]
        moves = []
        if from_child and node not in observed:
            moves += [(p, True) for p in graph.predecessors(node)]
            moves += [(c, False) for c in graph.successors(node)]
        elif not from_child:
            if node not in observed:
                moves += [(c, False) for c in graph.successors(node)]
            if node in opens_collider:
                moves += [(p, True) for p in graph.predecessors(node)]
        for move in moves:
            if move not in previous:
                previous[move] = (node, from_child)
                queue.append(move)
    return None


DSEPARATION_QUESTIONS = tuple((q["x"], q["y"], dict(q["given"])) for q in CONTENT["d_separation"]["questions"])


def independence_question(x: str, y: str, given: dict[str, str], inference: Inference | None = None) -> dict:
    """Is ``x`` independent of ``y`` given ``given``? The graph's answer (d-separation, with an
    active trail when dependent) and the numbers: P(x | given) against P(x | y, given)."""
    inference = inference or engine()
    network = inference.network
    for node in (x, y):
        check_node(node, network.nodes, "d-separation", ALL_NODES_HINT)
    check_states(given, {n: info.states for n, info in network.nodes.items()}, "d-separation: --given", ALL_NODES_HINT)
    if x == y or x in given or y in given:
        raise EvidenceError(f"ask about two different nodes that are not among the observed ones; got {x}, {y} "
                            f"given {', '.join(given) or 'nothing'}.")
    graph = network.graph
    graph.add_nodes_from(network.nodes)
    trail = active_trail(graph, x, y, list(given))
    y_state = network.nodes[y].states[-1]
    with_y = {**given, y: y_state}
    numbers = None
    if inference.is_possible(with_y) and inference.is_possible(given or {}):
        px = inference.posterior(x, dict(given))
        pxy = inference.posterior(x, with_y)
        x_state = network.nodes[x].states[-1]
        numbers = {"x_state": x_state, "y_state": y_state, "p_x_given": float(px[-1]), "p_x_given_y": float(pxy[-1])}
    return {"x": x, "y": y, "given": dict(given), "independent": trail is None, "active_trail": trail,
            "numbers": numbers}


def _describe_question(q: dict, labels: dict[str, str]) -> str:
    given = ", ".join(f"{k}={v}" for k, v in q["given"].items()) or "nothing"
    if q["independent"]:
        text = f"{q['x']} and {q['y']} given {given}: independent (every trail between them is blocked)."
    else:
        text = (f"{q['x']} and {q['y']} given {given}: dependent; information flows along "
                f"{' - '.join(q['active_trail'])}.")
    n = q["numbers"]
    if n:
        text += (f" Check: P({q['x']}={n['x_state']} | {given}) = {number(n['p_x_given'], 6)}; adding "
                 f"{q['y']}={n['y_state']} gives {number(n['p_x_given_y'], 6)}.")
    return text


def lesson_d_separation(questions: Sequence[tuple[str, str, dict[str, str]]] | None = None,
                        scenario: str = DEFAULT_SCENARIO) -> Lesson:
    """Conditional independence read from the graph (d-separation), checked with numbers."""
    inference = engine(scenario)
    answers = [independence_question(x, y, dict(z), inference) for x, y, z in (questions or DSEPARATION_QUESTIONS)]
    labels = _labels()
    table = pd.DataFrame([{"x": q["x"], "y": q["y"], "given": ", ".join(f"{k}={v}" for k, v in q["given"].items()) or "-",
                           "independent": "yes" if q["independent"] else "no",
                           "P(x | given)": number(q["numbers"]["p_x_given"], 6) if q["numbers"] else "-",
                           "P(x | y, given)": number(q["numbers"]["p_x_given_y"], 6) if q["numbers"] else "-"}
                          for q in answers])
    paragraphs = [
        "Two findings are independent given some evidence when learning one cannot change the probability of the "
        "other. The graph answers this without any number (d-separation): a trail between them is blocked by an "
        "observed node in a chain (A -> B -> C) or a fork (A <- B -> C), and a collider (A -> B <- C) blocks it "
        "unless the collider or one of its descendants is observed. They are independent when every trail is blocked.",
        "Each answer below is read from the graph, then checked with numbers: when the nodes are d-separated, "
        "P(x | given) and P(x | y, given) are equal. When they are d-connected the graph allows a dependence; "
        "its size depends on the numbers and can be tiny (six significant digits are shown).",
        *[_describe_question(q, labels) for q in answers],
        "Note the pairs that change: family history and serum ACE become dependent once a calcification is observed "
        "(a collider opened); two signs of the lesion are dependent until the cause of the lesion is known (a fork "
        "closed). Knowing one common cause is not enough when others remain unobserved.",
    ]
    return Lesson("d-separation", "Lesson: conditional independence and d-separation", paragraphs,
                  {"questions": table}, {"questions": answers})


ORDER_CASE = CONTENT["order"]["case"]


def lesson_order(case_stem: str = ORDER_CASE, order: Sequence[str] | None = None) -> Lesson:
    """Order-independence: two orders, different intermediate steps, the same final posterior."""
    case = bundled_case(case_stem)
    first = walkthrough(case.evidence, scenario=case.scenario, case=case, top=1)
    h = first.hypotheses[0]
    reverse = list(order) if order else list(reversed(first.order))
    second = walkthrough(case.evidence, scenario=case.scenario, case=case, hypotheses=[h], order=reverse)
    rows = []
    for label, w in (("file order", first), ("other order", second)):
        for step in w.steps[1:]:
            u = step.updates[0]
            rows.append({"order": label, "step": step.index, "finding": f"{step.finding}={step.state}",
                         "likelihood_ratio": u.likelihood_ratio, "p_cause": u.posterior})
    table = pd.DataFrame(rows)
    product = {label: float(np.prod(table.loc[table["order"] == label, "likelihood_ratio"])) for label in
               ("file order", "other order")}
    start_odds = odds(first.steps[0].posterior[h])
    labels = first.labels
    paragraphs = [
        f"Case: {case.title}. H = \"{labels[h]} produced the calcification\". The same findings are added in two "
        f"orders: {', '.join(first.order)}; then {', '.join(second.order)}.",
        "The likelihood ratio of a finding depends on what is already known (each is P(f | H, earlier findings) / "
        "P(f | not H, earlier findings)), so the same finding can weigh differently at a different step, and the "
        "intermediate probabilities differ.",
        f"But the product of the likelihood ratios is the same: {number(product['file order'], 4)} in the first order "
        f"and {number(product['other order'], 4)} in the second, and so the final answer is the same: prior odds "
        f"{number(start_odds)} x {number(product['file order'], 4)} gives P(H) = {percent(first.final[h])} "
        f"in the first order and {percent(second.final[h])} in the second. Bayesian updating does not depend on the "
        f"order in which evidence arrives, as long as every finding is counted once.",
    ]
    return Lesson("order", "Lesson: the order of the evidence does not change the answer", paragraphs,
                  {"two orders": table}, {"case": case.id, "hypothesis": h, "orders": [first.order, second.order],
                                          "lr_product": product, "final": {"file order": first.final[h],
                                                                           "other order": second.final[h]}})


def value_of_test(test: str, context: dict[str, str], hypothesis: str, inference: Inference | None = None) -> dict:
    """What a test would tell about the cause of the lesion, given ``context``: the probability
    of each result, its likelihood ratio for H, P(H) after it, and the expected information
    about ``lesion_cause`` (mutual information, in bits)."""
    inference = inference or engine()
    network = inference.network
    check_node(test, network.nodes, "test", ALL_NODES_HINT)
    base = {CALCIFICATION: "present", **context}
    if test in base:
        raise EvidenceError(f"'{test}' is already part of the evidence; choose a test that has not been done.")
    inference.check_possible(base)
    causes = list(network.nodes[LESION_CAUSE].states)
    before = inference.posterior(LESION_CAUSE, base)
    distribution = inference.posterior(test, base)
    results, p_results, afters = [], [], []
    for state, p in zip(network.nodes[test].states, distribution):
        if p <= 0:
            continue
        p_results.append(float(p))
        afters.append(inference.posterior(LESION_CAUSE, {**base, test: state}))
        prior, ratio, post = _bundle_ratio(inference, {test: state}, hypothesis, context)
        results.append({"result": state, "p_result": float(p), "likelihood_ratio": ratio, "p_cause_after": post})
    return {"test": test, "context": dict(context), "hypothesis": hypothesis,
            "p_cause_before": float(before[causes.index(hypothesis)]),
            "information_bits": information_gain(before, np.array(p_results), np.array(afters).T),
            "results": results}


TEST_VALUE_CONTEXTS = tuple((c["name"], dict(c["known"])) for c in CONTENT["test_value"]["contexts"])


def lesson_test_value(test: str = CONTENT["test_value"]["test"], hypothesis: str = CONTENT["test_value"]["hypothesis"],
                      contexts: Sequence[tuple[str, dict[str, str]]] = TEST_VALUE_CONTEXTS,
                      scenario: str = DEFAULT_SCENARIO) -> Lesson:
    """The value of a test depends on what is already known."""
    inference = engine(scenario)
    labels = _labels()
    rows, answers = [], []
    for name, context in contexts:
        answer = value_of_test(test, context, hypothesis, inference)
        answers.append({"context_name": name, **answer})
        row = {"what is known": name, "p_cause before": answer["p_cause_before"],
               "information (bits)": answer["information_bits"]}
        for r in answer["results"]:
            row[f"P({r['result']})"] = r["p_result"]
            row[f"LR if {r['result']}"] = r["likelihood_ratio"]
            row[f"p_cause if {r['result']}"] = r["p_cause_after"]
        rows.append(row)
    table = pd.DataFrame(rows)
    best = max(answers, key=lambda a: a["information_bits"])
    paragraphs = [
        f"The test is {test}; H = \"{labels[hypothesis]} produced the calcification\". For each state of knowledge "
        f"the table gives the chance of each result, its likelihood ratio for H, P(H) after the result, and the "
        f"expected information the test gives about the cause of the lesion (how much, on average, it narrows "
        f"the differential, in bits).",
        "The same result has a different likelihood ratio in different contexts, because P(result | not H) depends on "
        "which other causes remain. A test is most useful when the answer is uncertain and the competing causes "
        "would give different results; once the question it answers is settled, it adds little.",
        f"Here the test is worth most with \"{best['context_name']}\" ({number(best['information_bits'])} bits); "
        + "; ".join(f"{a['context_name']}: {number(a['information_bits'])} bits" for a in answers) + ".",
    ]
    return Lesson("test-value", "Lesson: the value of a test depends on what is already known", paragraphs,
                  {"one test, three states of knowledge": table}, {"answers": answers})


PRESENT_CAUSE_CASE = CONTENT["present_vs_cause"]["case"]


def lesson_present_vs_cause(case_stem: str = PRESENT_CAUSE_CASE, extra: dict[str, str] | None = None,
                            top: int = 6) -> Lesson:
    """P(present) versus P(cause): a dialysis patient certainly has CKD, yet CKD need not
    have produced the calcification."""
    case = bundled_case(case_stem)
    extra = dict(extra if extra is not None else {"chronic_kidney_disease": "present"})
    evidence = {**case.evidence, **extra}
    result = engine(case.scenario).consult(evidence)
    table = result.differential.head(top)[["label", "p_present", "p_cause"]].rename(columns={"label": "condition"})
    d = result.differential.set_index("id")
    known = next(iter(extra), None)
    paragraphs = [
        f"Case: {case.title}, with {', '.join(f'{k} = {v}' for k, v in extra.items())} added.",
        "p_present is the probability that the patient has the condition at all; p_cause is the probability that it "
        "produced this calcification. A patient can have several conditions, but one lesion has one cause.",
        (f"Here {known} is known, so its p_present is {percent(float(d.loc[known, 'p_present']))}; its p_cause is "
         f"{percent(float(d.loc[known, 'p_cause']))}, because the lesion's site and appearance point elsewhere: "
         f"{result.differential.iloc[0]['label']} has p_cause {percent(float(result.differential.iloc[0]['p_cause']))}."
         if known in d.index else "Compare the two columns."),
        "Ranking by p_present would answer \"what does the patient have?\"; ranking by p_cause answers \"what made "
        "this calcification?\", which is the question of the differential.",
    ]
    return Lesson("present-vs-cause", "Lesson: P(present) is not P(cause)", paragraphs,
                  {"differential": table}, {"case": case.id, "extra": extra, "rows": rows_to_json(table)})


LESSONS = {
    "base-rates": lesson_base_rates,
    "explaining-away": lesson_explaining_away,
    "d-separation": lesson_d_separation,
    "order": lesson_order,
    "test-value": lesson_test_value,
    "present-vs-cause": lesson_present_vs_cause,
}
assert tuple(LESSONS) == LESSON_NAMES  # the command line lists the lessons without importing this module


def lesson(name: str, **options) -> Lesson:
    """A lesson by name (see :data:`LESSONS`)."""
    if name not in LESSONS:
        raise CalcinosisError(f"there is no lesson '{name}'. Allowed: {allowed(LESSONS)}.{suggestion(name, LESSONS)}")
    return LESSONS[name](**options)


# --------------------------------------------------------------------------- quiz
@dataclass(frozen=True)
class QuizQuestion:
    """Estimate P(``hypothesis`` produced the calcification | evidence) before it is revealed."""

    prompt: str
    evidence: dict[str, str]
    hypothesis: str
    scenario: str = DEFAULT_SCENARIO
    hint: str = ""


def quiz_questions() -> list[QuizQuestion]:
    """The self-check questions of the quiz notebook (``lessons.yaml``: quiz)."""
    return [QuizQuestion(q["prompt"], dict(q["evidence"]), q["hypothesis"], q.get("scenario", DEFAULT_SCENARIO),
                         q.get("hint", "")) for q in CONTENT["quiz"]]


def quiz_answer(question: QuizQuestion) -> float:
    cid = question.hypothesis
    differential = engine(question.scenario).consult(question.evidence).differential.set_index("id")
    return float(differential.loc[cid, "p_cause"])


def reveal(question: QuizQuestion, estimate: float | None = None) -> str:
    """The answer to a quiz question, compared with the student's estimate (a probability
    between 0 and 1, or a percentage above 1), with the reasoning that leads to it."""
    inference = engine(question.scenario)
    labels = _labels()
    answer = quiz_answer(question)
    prior, ratio, post = _bundle_ratio(inference, question.evidence, question.hypothesis) if question.evidence \
        else (answer, 1.0, answer)
    lines = [f"P({labels[question.hypothesis]} produced the calcification) = {percent(answer)}."]
    if question.evidence:
        lines.append(f"Reasoning: prior odds {number(odds(prior))} (P = {percent(prior)}) x likelihood ratio of the "
                     f"findings {number(ratio)} = posterior odds {number(odds(post))} (P = {percent(post)}).")
    if question.hint:
        lines.append(f"Hint: {question.hint}")
    if estimate is not None:
        if not isinstance(estimate, (int, float)) or estimate < 0 or estimate > 100:
            raise EvidenceError(f"an estimate is a probability between 0 and 1 (or a percentage up to 100); "
                                f"got {estimate!r}.")
        p = estimate / 100 if estimate > 1 else float(estimate)
        if 0 < p < 1 and 0 < answer < 1:
            factor = math.exp(abs(math.log(odds(p)) - math.log(odds(answer))))
            verdict = (f"your estimate {percent(p)} is off by a factor of {number(factor)} in odds "
                       f"({'too high' if p > answer else 'too low'}).")
        else:
            verdict = f"your estimate {percent(p)}; the answer {percent(answer)}."
        lines.append("Check: " + verdict)
    else:
        lines.append("Write your estimate first (my_estimate = ...) to compare it with the answer.")
    return "\n".join(lines)
