"""Exact inference on the network: posteriors of causes and conditions for any evidence.

Two engines give the same exact answers: the compiled junction tree of ``engine.py``
(the default) and pgmpy's ``VariableElimination`` (the reference, ``--engine pgmpy``).
Two posteriors are reported per condition:

* ``p_cause``: P(lesion_cause = condition | evidence), the probability that this
  condition produced the index calcification; the differential is ranked by it;
* ``p_present``: P(condition = present | evidence).

``prior_cause`` is the same attribution before any evidence other than the presence
of a calcification: the scenario's case mix. Group posteriors are sums over their
conditions. A consultation assumes ``soft_tissue_calcification: present`` unless the
evidence says otherwise. Evidence of probability zero is reported with a smallest set
of findings that conflict.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from opt_einsum import contract

from ..foundation.defaults import ENGINE_NAMES
from .engine import CompiledEngine
from ..errors import EvidenceError, ImpossibleEvidenceError
from ..network.assembly import CALCIFICATION, LESION_CAUSE, Network
from ..network.pgmpy_adapter import variable_elimination
from ..data.priors import OTHER_CAUSES


@dataclass
class Consultation:
    """The answer to one consultation.

    Attributes
    ----------
    evidence : dict
        The evidence used (id -> state), including the assumed calcification.
    differential : DataFrame
        One row per condition: id, label, group, p_cause, p_present, prior_cause;
        sorted by p_cause, descending.
    groups : DataFrame
        One row per group: id, label, p_cause, prior_cause.
    other_causes : dict
        p_cause and prior_cause of causes outside the model.
    """

    scenario: str
    evidence: dict[str, str]
    differential: pd.DataFrame
    groups: pd.DataFrame
    other_causes: dict[str, float]
    case_id: str | None = None
    assumed: tuple[str, ...] = field(default_factory=tuple)

    @property
    def leader(self) -> str:
        return str(self.differential.iloc[0]["id"])

    def rank_of(self, condition: str) -> int:
        """1-based rank of a condition in the differential."""
        return int(np.flatnonzero(self.differential["id"].to_numpy() == condition)[0]) + 1


class Inference:
    """Posteriors for any evidence; the consultation logic shared by the engines.

    Subclasses provide :meth:`marginals` and :meth:`evidence_probability`.
    """

    name = "base"

    def __init__(self, network: Network):
        self.network = network

    def marginals(self, evidence: dict[str, str], targets: list[str]) -> dict[str, np.ndarray]:
        """P(target | evidence) for each target, in the network's state order (NaN when P(evidence) = 0)."""
        raise NotImplementedError

    def evidence_probability(self, evidence: dict[str, str]) -> float:
        """P(evidence), exactly."""
        raise NotImplementedError

    def posterior(self, variable: str, evidence: dict[str, str]) -> np.ndarray:
        """P(variable | evidence) in the network's state order; NaN when P(evidence) = 0."""
        return self.marginals(evidence, [variable])[variable]

    def is_possible(self, evidence: dict[str, str]) -> bool:
        return self.evidence_probability(evidence) > 0

    def check_possible(self, evidence: dict[str, str]) -> None:
        """Raise :class:`ImpossibleEvidenceError` with a smallest conflicting set."""
        if self.is_possible(evidence):
            return
        conflict = dict(evidence)
        for key in list(evidence):
            trial = {k: v for k, v in conflict.items() if k != key}
            if not self.is_possible(trial):
                conflict = trial
        described = ", ".join(f"{k}={v}" for k, v in conflict.items())
        scenario = self.network.scenario.id
        raise ImpossibleEvidenceError(
            f"the evidence is impossible under the model in scenario '{scenario}': these findings "
            f"cannot occur together: {described}. Remove or correct one of them"
            + (" (or choose a scenario whose population allows them, e.g. --scenario paediatric for a child)."
               if any(k in self.network.priors.vocabulary.categories["context"] for k in conflict) else "."),
            conflict,
        )

    @cached_property
    def prior_cause(self) -> np.ndarray:
        return self.posterior(LESION_CAUSE, {CALCIFICATION: "present"})

    def consult(self, evidence: dict[str, str], *, case_id: str | None = None,
                assumed: tuple[str, ...] = ()) -> Consultation:
        """Posteriors of every condition for this evidence (see the module docstring)."""
        evidence = require_calcification(self.network.priors.vocabulary.check_evidence(evidence))
        self.check_possible(evidence)
        network = self.network
        vocabulary = network.priors.vocabulary
        states = list(network.nodes[LESION_CAUSE].states)
        posteriors = self.marginals(evidence, [*vocabulary.conditions, LESION_CAUSE])
        cause = posteriors[LESION_CAUSE]
        prior = self.prior_cause
        rows = []
        for cid, entry in vocabulary.conditions.items():
            i = states.index(cid)
            rows.append({"id": cid, "label": entry["label"], "group": entry["group"],
                         "p_cause": float(cause[i]), "p_present": float(posteriors[cid][1]),
                         "prior_cause": float(prior[i])})
        differential = (pd.DataFrame(rows).sort_values("p_cause", ascending=False, kind="stable")
                        .reset_index(drop=True))
        groups = (differential.groupby("group", sort=False)[["p_cause", "prior_cause"]].sum()
                  .reindex(list(vocabulary.groups)).reset_index().rename(columns={"group": "id"}))
        groups.insert(1, "label", [vocabulary.groups[g] for g in groups["id"]])
        other = states.index(OTHER_CAUSES)
        return Consultation(
            scenario=network.scenario.id, evidence=evidence, differential=differential, groups=groups,
            other_causes={"p_cause": float(cause[other]), "prior_cause": float(prior[other])},
            case_id=case_id, assumed=tuple(assumed),
        )


class ExactInference(Inference):
    """The reference engine: pgmpy's variable elimination, one query per target."""

    name = "pgmpy"

    def __init__(self, network: Network):
        super().__init__(network)
        self._ve = variable_elimination(network.model)
        self._tables = {cpd.variable: (list(cpd.variables), np.asarray(cpd.values, dtype=float))
                        for cpd in network.model.get_cpds()}

    def marginals(self, evidence: dict[str, str], targets: list[str]) -> dict[str, np.ndarray]:
        return {target: self._posterior(target, evidence) for target in targets}

    def _posterior(self, variable: str, evidence: dict[str, str]) -> np.ndarray:
        states = self.network.nodes[variable].states
        if variable in evidence:
            return np.array([float(s == evidence[variable]) for s in states])
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore")
            try:
                factor = self._ve.query([variable], evidence=evidence, show_progress=False)
            except (ValueError, MemoryError):
                # pgmpy's default single-einsum plan can ask for an intermediate larger than
                # memory on some evidence patterns; its classic min-fill elimination cannot.
                factor = self._ve.query([variable], evidence=evidence, elimination_order="MinFill",
                                        show_progress=False)
        order = [factor.state_names[variable].index(s) for s in states]
        return np.asarray(factor.values, dtype=float)[order]

    def evidence_probability(self, evidence: dict[str, str]) -> float:
        """P(evidence), exactly: the product of the tables of the evidence's ancestors,
        reduced to the evidence and summed out (pgmpy's posteriors are normalised and
        drop factors that involve only evidence, so they cannot tell this number)."""
        import networkx as nx  # only the reference engine needs it

        if not evidence:
            return 1.0
        relevant = set(evidence)
        for node in evidence:
            relevant |= nx.ancestors(self.network.graph, node)
        index = {node: i for i, node in enumerate(sorted(relevant))}
        operands = []
        for node in sorted(relevant):
            variables, values = self._tables[node]
            selector = tuple(
                self.network.nodes[v].states.index(evidence[v]) if v in evidence else slice(None) for v in variables)
            operands += [values[selector], [index[v] for v in variables if v not in evidence]]
        return float(contract(*operands, []))


class CompiledInference(Inference):
    """The default engine: the compiled junction tree of ``engine.py`` (same answers, faster)."""

    name = "compiled"

    def __init__(self, network: Network):
        super().__init__(network)
        self.engine = CompiledEngine(network.tables)

    def marginals(self, evidence: dict[str, str], targets: list[str]) -> dict[str, np.ndarray]:
        result = self.engine.query([evidence], list(targets))
        return {target: values[0, 0] for target, values in result.marginals.items()}

    def evidence_probability(self, evidence: dict[str, str]) -> float:
        if not evidence:
            return 1.0
        return float(self.engine.query([evidence], []).probability[0, 0])


ENGINES = {"compiled": CompiledInference, "pgmpy": ExactInference}
assert tuple(ENGINES) == ENGINE_NAMES


def require_calcification(evidence: dict[str, str]) -> dict[str, str]:
    """The evidence of a consultation, with the calcification present (assumed when unstated).

    Raises
    ------
    EvidenceError
        When the evidence says there is no calcification: a consultation ranks what
        produced one, so without one there is nothing to rank.
    """
    evidence = dict(evidence)
    if evidence.setdefault(CALCIFICATION, "present") != "present":
        raise EvidenceError(
            f"{CALCIFICATION}: '{evidence[CALCIFICATION]}': a consultation ranks what produced a soft-tissue "
            "calcification, so it needs one (present, assumed when left out). Without a calcification, the "
            "population figures of each condition are in `calcinosis whatif`.")
    return evidence


def engine_for(network: Network, engine: str = "compiled") -> Inference:
    """The inference engine called ``engine`` ('compiled', the default, or 'pgmpy')."""
    if engine not in ENGINES:
        raise ValueError(f"engine '{engine}' does not exist. Allowed: {', '.join(ENGINES)}.")
    return ENGINES[engine](network)
