"""The one public entry point: :class:`Model`, everything built from the priors.

A ``Model`` holds the validated priors and, per population (scenario), the assembled
network and its compiled engine, built on first use and kept in a bounded cache. The
command line, the report and the web page consult through it; so can a notebook:

>>> import calcinosis
>>> model = calcinosis.Model.load(scenario="dialysis_unit")
>>> c = model.consult({"lesion_site": "periarticular_large_joint", "calcification_pattern": "multilobular_cystic"},
...                   draws=50, seed=1)
>>> c.differential.iloc[0]["id"]
'chronic_kidney_disease'
>>> sorted(c.to_dict())[:3]
['assumed', 'case', 'differential']
>>> import pandas as pd
>>> frame = pd.DataFrame({"lesion_site": ["tendon_or_bursa", None]}, index=["a", "b"])
>>> model.posteriors(frame).loc["a"].idxmax()
'calcific_tendinitis'
>>> model.consult({"serum_phosphat": "high"})
Traceback (most recent call last):
...
calcinosis.errors.EvidenceError: evidence: unknown node 'serum_phosphat'. Did you mean 'serum_phosphate'? ...

Decision support and teaching only: the answers are not a diagnosis.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .consultation import DEFAULT_DRAWS, DEFAULT_SEED, FullConsultation, run_consultation
from ..errors import EvidenceError, ImpossibleEvidenceError, ScenarioError
from ..inference.posteriors import Inference, engine_for, require_calcification
from ..network.assembly import DEFAULT_SCENARIO, LESION_CAUSE, Network, build_network
from ..data.priors import Priors, load_priors
from ..network.scenarios import Scenario, WhatIf, resolve_scenario

NETWORKS_KEPT = 8  # scenarios whose network and engines stay built; older ones are rebuilt on demand
BATCH_ROWS = 512  # patients evaluated together by `posteriors`: bounds the engine's working memory


class Model:
    """The network of the priors for one population, with its engines.

    Parameters
    ----------
    priors : Priors
        Validated priors (:func:`calcinosis.load_priors`).
    scenario : str, Path, Scenario or WhatIf, optional
        The population: a preset name (default ``general_population``), a scenario file,
        a :class:`Scenario`, or a :class:`WhatIf` without interventions.
    """

    def __init__(self, priors: Priors, scenario: str | Path | Scenario | WhatIf | None = None):
        self.priors = priors
        self._built: OrderedDict[tuple[str, str], tuple[Network, dict[str, Inference]]] = OrderedDict()
        self.scenario = self._resolve(scenario)

    @classmethod
    def load(cls, scenario: str | Path | Scenario | WhatIf | None = None,
             priors: Priors | str | Path | None = None) -> "Model":
        """A model of the bundled priors (or of a priors folder) for a population."""
        if not isinstance(priors, Priors):
            priors = load_priors(priors)
        return cls(priors, scenario)

    def _resolve(self, scenario) -> Scenario:
        if isinstance(scenario, WhatIf):
            if scenario.do:
                raise ScenarioError(
                    f"what-if '{scenario.id}': interventions (do) answer a population question; a consultation "
                    "takes a population without them (`calcinosis whatif --do` answers the other).")
            return scenario.scenario
        return resolve_scenario(self.priors, scenario or DEFAULT_SCENARIO)

    def for_scenario(self, scenario: str | Path | Scenario | WhatIf | None) -> "Model":
        """The same priors in another population; networks already built are shared."""
        other = Model.__new__(Model)
        other.priors, other._built = self.priors, self._built
        other.scenario = self._resolve(scenario) if scenario is not None else self.scenario
        return other

    # -- what is built from the priors ---------------------------------------------------
    def _entry(self) -> tuple[Network, dict[str, Inference]]:
        key = (self.scenario.id, repr(self.scenario))
        if key in self._built:
            self._built.move_to_end(key)
        else:
            self._built[key] = (build_network(self.priors, self.scenario), {})
            while len(self._built) > NETWORKS_KEPT:
                self._built.popitem(last=False)
        return self._built[key]

    @property
    def network(self) -> Network:
        """The assembled network of this population."""
        return self._entry()[0]

    def inference(self, engine: str = "compiled") -> Inference:
        """The exact engine ('compiled', or the 'pgmpy' reference) of this population."""
        network, engines = self._entry()
        if engine not in engines:
            engines[engine] = engine_for(network, engine)
        return engines[engine]

    def to_pgmpy(self):
        """The network as a pgmpy ``DiscreteBayesianNetwork`` (its ``TabularCPD``s are the priors)."""
        return self.network.model

    # -- questions ----------------------------------------------------------------------
    def consult(self, evidence: Mapping[str, str], *, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
                engine: str = "compiled", sensitivity: bool = False, case_id: str | None = None,
                assumed: tuple[str, ...] = (), progress: Callable[[str], None] | None = None) -> FullConsultation:
        """The full consultation: differential with intervals, groups, evidence impact, next tests.

        Raises
        ------
        EvidenceError
            An unknown id (with the closest id) or state (with the allowed ones).
        ImpossibleEvidenceError
            Evidence of probability zero, with the findings that conflict.
        """
        evidence = self.priors.vocabulary.check_evidence(evidence)
        return run_consultation(self.inference(engine), evidence, case_id=case_id, assumed=assumed,
                                draws=draws, seed=seed, sensitivity=sensitivity, progress=progress)

    def posteriors(self, frame: pd.DataFrame) -> pd.DataFrame:
        """P(cause | each row's findings): one row per patient, one column per cause.

        ``frame`` has one column per finding id; a missing value (None, NaN) is unknown and
        the calcification is assumed present. The result keeps ``frame``'s index, with the
        conditions and ``other_causes`` as columns (exact, point estimate).
        """
        if not isinstance(frame, pd.DataFrame):
            raise EvidenceError(f"posteriors: expected a pandas DataFrame (one row per patient); "
                                f"got {type(frame).__name__}.")
        rows = [self._row(label, values) for label, values in zip(frame.index, frame.to_dict("records"))]
        engine = self.inference().engine
        causes = self.network.causes
        states = list(self.network.nodes[LESION_CAUSE].states)
        columns = [states.index(c) for c in causes]
        out = np.empty((len(rows), len(causes)))
        for start in range(0, len(rows), BATCH_ROWS):
            chunk = rows[start:start + BATCH_ROWS]
            result = engine.query(chunk, [LESION_CAUSE])
            probability = result.probability[:, 0]
            if not np.all(probability > 0):
                bad = start + int(np.flatnonzero(~(probability > 0))[0])
                self._impossible(frame.index[bad], rows[bad])
            out[start:start + len(chunk)] = result.marginals[LESION_CAUSE][:, 0, columns]
        return pd.DataFrame(out, index=frame.index, columns=causes)

    def _row(self, label, values: dict) -> dict[str, str]:
        known = {k: v for k, v in values.items() if not (v is None or (isinstance(v, float) and np.isnan(v)))}
        return require_calcification(self.priors.vocabulary.check_evidence(known, f"posteriors: row {label!r}"))

    def _impossible(self, label, evidence: dict[str, str]) -> None:
        try:
            self.inference().check_possible(evidence)
        except ImpossibleEvidenceError as error:
            raise ImpossibleEvidenceError(f"posteriors: row {label!r}: {error}", error.conflict) from None

    def __repr__(self) -> str:
        return f"Model(scenario={self.scenario.id!r}, priors_sha256={self.priors.checksum[:12]!r})"


@lru_cache(maxsize=1)
def bundled_model() -> Model:
    """The model of the bundled priors shared in one process (the web page, lessons, notebooks):
    its networks and engines are built once and reused by every view."""
    return Model.load()
