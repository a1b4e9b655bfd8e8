"""Parameter uncertainty: random draws of every number of the priors.

Every parameter carries an uncertainty; this module turns it into a distribution and
draws from it, seeded and reproducible:

* a row with a ``concentration`` kappa is a Dirichlet with parameters kappa x (the listed
  probabilities, and the remainder "no push" or the complement when they sum to less
  than one); states of probability zero stay zero;
* a row with ``interval``s: each listed probability is logit-normal with its value as the
  median and the interval as its central ``interval_mass`` (95%, ``priors/settings.yaml``);
  a binary row is exactly that, a row of several states is then renormalised to sum to
  one (or to at most one for a push row);
* a relative risk is log-normal with its value as the median and its interval as the
  central 95%; in a draw where baseline x relative risks exceeds one, the risk is capped
  at one.

:class:`ParameterDraws` is the one parameter source of draws for ``network.build_tables``
(the consultation's intervals, the what-if commands and the web page all use it): tables
then carry a leading axis of draws, which the compiled engine evaluates all at once. Each
parameter's draws are seeded by the master seed and the parameter itself, so the same
question gets the same interval by any route, two scenarios share the draws of every
parameter they have in common, and a window ``[start, stop)`` of the draws is the same
whether computed alone or with the others.
"""

from __future__ import annotations

import hashlib
import math
from statistics import NormalDist

import numpy as np

from ..data.priors import Priors, Ratio, Row


class ParameterDraws:
    """Draws of every parameter (one array of ``draws`` values per number).

    Parameters
    ----------
    priors : Priors
    draws : int
        Number of parameter sets.
    seed : int
        Seed of the random generator; the same seed gives the same draws.
    narrow : float, optional
        Scale applied to every uncertainty (1 = as stated; 1/2 = half as wide on the
        logit / log scale, with concentrations multiplied by 4). Used to show how
        intervals shrink when the priors' ranges are narrowed.
    start, stop : int, optional
        The window of the ``draws`` that this source gives (all by default): chunks of the
        draws computed apart equal the same draws computed at once.
    """

    strict = False  # a draw whose relative risks push a risk above one is capped at one

    def __init__(self, priors: Priors, draws: int, seed: int, narrow: float = 1.0, start: int = 0,
                 stop: int | None = None):
        if draws < 1:
            raise ValueError(f"draws must be at least 1; got {draws}.")
        self.seed = int(seed)
        self.total = int(draws)
        self.window = slice(start, self.total if stop is None else stop)
        self.draws = self.window.stop - self.window.start
        self.z = NormalDist().inv_cdf(1 - (1 - priors.settings.interval_mass) / 2)
        self.tol = priors.settings.sum_tolerance
        self.narrow = float(narrow)
        self._cache: dict[int, object] = {}

    # -- the parameter-source interface of network.build_tables ---------------
    def probabilities(self, row: Row) -> dict[str, np.ndarray]:
        key = id(row)
        if key not in self._cache:  # keep row alive in the cache: ids stay unique
            drawn = self._draw_row(row, self._generator(row))
            self._cache[key] = (row, {s: v[self.window] for s, v in drawn.items()})
        return self._cache[key][1]

    def ratio(self, ratio: Ratio) -> np.ndarray:
        key = id(ratio)
        if key not in self._cache:
            low, high = ratio.interval
            sigma = (math.log(high) - math.log(low)) / (2 * self.z) * self.narrow
            drawn = ratio.value * np.exp(sigma * self._generator(ratio).standard_normal(self.total))
            self._cache[key] = (ratio, drawn[self.window])
        return self._cache[key][1]

    def _generator(self, holder) -> np.random.Generator:
        """The random generator of one parameter: the master seed and the parameter's own
        content (values, range, provenance), never the order in which it is asked for.
        (Two parameters identical in every field share their draws.)"""
        digest = int.from_bytes(hashlib.sha256(holder.model_dump_json().encode()).digest()[:8], "little")
        return np.random.default_rng([self.seed, digest])

    # -- rows -------------------------------------------------------------------
    def _draw_row(self, row: Row, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """All ``total`` draws of a row (the window is taken by the caller)."""
        states = list(row.probabilities)
        values = np.array([row.probabilities[s] for s in states])
        if row.concentration is not None:
            return self._dirichlet(states, values, row.concentration / self.narrow ** 2, rng)
        if len(row.interval) < len(states):  # a binary row whose second state is the complement
            (state, (low, high)), = row.interval.items()
            drawn = self._logit_normal_of(row.probabilities[state], low, high, rng)
            other = next(s for s in states if s != state)
            return {state: drawn, other: 1.0 - drawn}
        drawn = np.column_stack([self._logit_normal_of(row.probabilities[s], *row.interval[s], rng) for s in states])
        if len(states) > 1:
            total = drawn.sum(axis=1, keepdims=True)
            full_row = abs(values.sum() - 1.0) <= self.tol
            scale = total if full_row else np.maximum(total, 1.0)
            drawn = drawn / np.where(scale > 0, scale, 1.0)
        return {s: drawn[:, i] for i, s in enumerate(states)}

    def _dirichlet(self, states, values, concentration, rng) -> dict[str, np.ndarray]:
        remainder = max(0.0, 1.0 - values.sum())
        alpha = np.append(values, remainder) * concentration
        positive = alpha > 0
        drawn = np.zeros((self.total, len(alpha)))
        drawn[:, positive] = rng.dirichlet(alpha[positive], size=self.total)
        return {s: drawn[:, i] for i, s in enumerate(states)}

    def _logit_normal_of(self, value: float, low: float, high: float, rng) -> np.ndarray:
        if value <= 0 or value >= 1:
            return np.full(self.total, value)
        centre = _logit(value)
        sides = [centre - _logit(low) if low > 0 else math.inf, _logit(high) - centre if high < 1 else math.inf]
        finite = [w for w in sides if math.isfinite(w)]
        if not finite:
            return np.full(self.total, value)
        # The interval's two ends give the spread; with one end at 0 or 1, the other end alone.
        sigma = (sum(finite) / len(finite)) / self.z * self.narrow
        return _expit(centre + sigma * rng.standard_normal(self.total))


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


_ENGINES: dict[tuple, tuple] = {}


def _draws_engine(priors: Priors, scenario, draws: int, seed: int, narrow: float):
    """The compiled engine over the parameter draws, built once per (priors, scenario,
    draws, seed, narrow): the same seed gives the same draws, so they can be reused, in
    this process and, through the disk cache, by the next one (drawing them is most of
    a cold consultation; the tables of 1000 draws are about 11 MB in single precision)."""
    from ..inference.engine import CompiledEngine
    from ..network.assembly import TABLE_READERS, Tables, build_network, build_tables

    from ..foundation import cache
    from ..foundation.limits import check_draws_memory

    key = (id(priors), getattr(scenario, "id", scenario), draws, seed, narrow)
    if key not in _ENGINES or _ENGINES[key][0] is not priors:
        name = "draws-" + cache.key([], priors.checksum, repr(scenario), f"{draws}/{seed}/{narrow!r}",
                                    readers=("analyses/uncertainty.py", *TABLE_READERS))

        def build() -> Tables:
            # The point tables, usually already in the disk cache, give the size to check.
            entries = sum(a.size for a in build_network(priors, scenario).tables.arrays.values())
            check_draws_memory(draws, entries)
            tables = build_tables(priors, scenario, ParameterDraws(priors, draws, seed, narrow))
            # The engine evaluates draws in single precision: keep them so, at half the size
            # (one table at a time, so the double-precision copy never exists whole twice).
            for node in list(tables.arrays):
                tables.arrays[node] = tables.arrays[node].astype(np.float32)
            return tables

        tables = cache.fetch(name, Tables, build)
        if len(_ENGINES) >= 4:
            _ENGINES.pop(next(iter(_ENGINES)))
        _ENGINES[key] = (priors, CompiledEngine(tables))
    return _ENGINES[key][1]


def posterior_intervals(priors: Priors, scenario, evidence: dict[str, str], draws: int, seed: int,
                        narrow: float = 1.0):
    """Median and central ``credible_mass`` interval of p_cause and p_present over
    parameter draws, for every condition and group (and other causes).

    Returns
    -------
    DataFrame
        One row per id (conditions, ``other_causes``, then groups): id, kind
        ('condition', 'other', 'group'), measure ('p_cause' or 'p_present'), median, low, high.
    """
    import pandas as pd

    from ..network.assembly import CALCIFICATION, LESION_CAUSE
    from ..data.priors import OTHER_CAUSES

    evidence = dict(evidence)
    evidence.setdefault(CALCIFICATION, "present")
    engine = _draws_engine(priors, scenario, draws, seed, narrow)
    tables = engine.tables
    conditions = list(priors.vocabulary.conditions)
    result = engine.query([evidence], [*conditions, LESION_CAUSE]).marginals
    causes = tables.states[LESION_CAUSE]
    cause = result[LESION_CAUSE][0]                                  # (draws, causes)
    tail = (1 - priors.settings.credible_mass) / 2
    records = []

    def add(identifier, kind, measure, values):
        low, high = np.nanquantile(values, [tail, 1 - tail])
        median = np.nanmedian(values)
        records.append({"id": identifier, "kind": kind, "measure": measure,
                        "median": float(median), "low": float(low), "high": float(high)})

    for cid in conditions:
        add(cid, "condition", "p_cause", cause[:, causes.index(cid)])
        add(cid, "condition", "p_present", result[cid][0][:, 1])
    add(OTHER_CAUSES, "other", "p_cause", cause[:, causes.index(OTHER_CAUSES)])
    for group in priors.vocabulary.groups:
        members = [causes.index(c) for c, e in priors.vocabulary.conditions.items() if e["group"] == group]
        add(group, "group", "p_cause", cause[:, members].sum(axis=1))
    return pd.DataFrame(records)
