"""The uncertainty-aware consultation: differential, intervals, why, and what next.

One function, :func:`run_consultation`, answers a clinician's three questions for one
patient and returns plain data (pandas DataFrames in a dataclass); ``calcinosis.Model``
calls it for the command line, the report and the web page alike:

* how likely is each cause, and how sure are we: exact posteriors with the median and a
  central credible interval over parameter draws (``uncertainty.posterior_intervals``);
* what drove it: the evidence impact (``explain.evidence_impact``);
* what would settle it: the next best tests (``explain.next_tests``);
* and, for the report, what the answer hinges on: one-way sensitivity (``sensitivity``).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from .. import __version__
from .explain import evidence_impact, next_tests
from ..inference.posteriors import Consultation, Inference, require_calcification
from .sensitivity import one_way
from .uncertainty import posterior_intervals

from ..foundation.defaults import DEFAULT_DRAWS, DEFAULT_SEED, DISCLAIMER  # noqa: F401 (re-exported)


@dataclass
class FullConsultation:
    """Everything a consultation shows; every part is plain data."""

    result: Consultation
    intervals: pd.DataFrame
    evidence_impact: pd.DataFrame
    next_tests: pd.DataFrame
    sensitivity: pd.DataFrame | None
    draws: int
    seed: int
    engine: str
    priors_sha256: str

    @cached_property
    def differential(self) -> pd.DataFrame:
        """The differential with intervals: id, label, group, p_cause, low, high, median,
        p_present, p_present_low, p_present_high, prior_cause."""
        table = self.result.differential.copy()
        cause = self.intervals[self.intervals["measure"] == "p_cause"].set_index("id")
        present = self.intervals[self.intervals["measure"] == "p_present"].set_index("id")
        table["low"] = table["id"].map(cause["low"])
        table["high"] = table["id"].map(cause["high"])
        table["median"] = table["id"].map(cause["median"])
        table["p_present_low"] = table["id"].map(present["low"])
        table["p_present_high"] = table["id"].map(present["high"])
        return table

    @cached_property
    def groups(self) -> pd.DataFrame:
        """The pathogenetic groups: id, label, p_cause, prior_cause, low, high."""
        table = self.result.groups.copy()
        cause = self.intervals[self.intervals["measure"] == "p_cause"].set_index("id")
        table["low"] = table["id"].map(cause["low"])
        table["high"] = table["id"].map(cause["high"])
        return table

    def other_interval(self) -> tuple[float, float]:
        row = self.intervals[(self.intervals["id"] == "other_causes")].iloc[0]
        return float(row["low"]), float(row["high"])

    def to_dict(self, case: dict | None = None) -> dict:
        """The ``--json`` form: the consultation plus intervals, evidence impact and next tests."""
        differential = [
            {"id": r.id, "label": r.label, "group": r.group, "p_cause": r.p_cause, "p_present": r.p_present,
             "prior_cause": r.prior_cause, "interval": [r.low, r.high], "median": r.median,
             "p_present_interval": [r.p_present_low, r.p_present_high]}
            for r in self.differential.itertuples()
        ]
        groups = [{"id": r.id, "label": r.label, "p_cause": r.p_cause, "prior_cause": r.prior_cause,
                   "interval": [r.low, r.high]} for r in self.groups.itertuples()]
        payload = {
            "case": case if case is not None else self.result.case_id,
            "scenario": self.result.scenario,
            "evidence": self.result.evidence,
            "assumed": list(self.result.assumed),
            "differential": differential,
            "groups": groups,
            "other_causes": {**self.result.other_causes, "interval": list(self.other_interval())},
            "evidence_impact": self.evidence_impact.to_dict(orient="records"),
            "next_tests": self.next_tests.to_dict(orient="records"),
            "draws": self.draws, "seed": self.seed, "engine": self.engine,
            "version": __version__, "priors_sha256": self.priors_sha256,
        }
        if self.sensitivity is not None:
            payload["sensitivity"] = self.sensitivity.head(10).to_dict(orient="records")
        return payload


def run_consultation(inference: Inference, evidence: dict[str, str], *, case_id: str | None = None,
                     assumed: tuple[str, ...] = (), draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
                     sensitivity: bool = False, progress: Callable[[str], None] | None = None) -> FullConsultation:
    """Run every part of a consultation (see the module docstring) with an engine of one network.

    The engine ('compiled' or the 'pgmpy' reference) gives the exact posteriors, the impact
    and the next tests; the parameter draws always go through the compiled engine, which
    evaluates them all at once. Use ``calcinosis.Model.consult``, which owns the engines.
    """
    step = progress or (lambda _: None)
    evidence = require_calcification(evidence)
    network = inference.network
    priors = network.priors
    step("exact posteriors")
    result = inference.consult(evidence, case_id=case_id, assumed=assumed)
    # The draws and the next tests are independent and spend their time in numpy, which
    # releases the interpreter lock: run them side by side.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(posterior_intervals, priors, network.scenario, evidence, draws, seed)
        step("evidence impact")
        impact = evidence_impact(inference, evidence)
        step("next best tests")
        tests = next_tests(inference, evidence)
        step(f"intervals over {draws} parameter draws")
        intervals = pending.result()
    table = None
    if sensitivity:
        step("one-way sensitivity")
        table = one_way(priors, network.scenario, evidence)
    return FullConsultation(result, intervals, impact, tests, table, draws, seed, inference.name, priors.checksum)
