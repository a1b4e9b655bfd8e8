"""One-way sensitivity: how much the leading p_cause hinges on each parameter.

Each parameter is moved, alone, to the low and then the high end of its range (the
stated interval, or the central 95% of its Beta marginal for a Dirichlet row); the rest
of its row is rescaled so that the row still sums as before. All these one-at-a-time
parameter sets are evaluated as draws of one batched table build, in chunks. The
result says, for instance, that an answer hinges on a judgement.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..inference.engine import CompiledEngine
from ..network.assembly import CALCIFICATION, DEFAULT_SCENARIO, LESION_CAUSE, build_tables, get_scenario
from ..data.priors import Parameter, Priors, Ratio, Row, iter_parameters

SUM_TOLERANCE = 1e-9


class OneAtATime:
    """A parameter source in which draw d moves exactly one parameter to a given value."""

    strict = False  # a moved relative risk may push a risk above one: capped, as for draws

    def __init__(self, changes: list[tuple[Parameter, float]]):
        self.draws = len(changes)
        self._changes: dict[int, list[tuple[int, str | None, float]]] = {}
        for d, (parameter, value) in enumerate(changes):
            self._changes.setdefault(id(parameter.holder), []).append((d, parameter.state, value))

    def probabilities(self, row: Row) -> dict[str, np.ndarray]:
        out = {s: np.full(self.draws, v) for s, v in row.probabilities.items()}
        listed_total = sum(row.probabilities.values())
        for d, state, value in self._changes.get(id(row), []):
            old = row.probabilities[state]
            out[state][d] = value
            others = [s for s in row.probabilities if s != state]
            rest_before = listed_total - old
            full_row = len(others) > 0 and abs(listed_total - 1.0) < SUM_TOLERANCE
            if others and rest_before > 0 and (full_row or listed_total - old + value > 1.0):
                scale = (min(1.0, listed_total) - value) / rest_before
                for s in others:
                    out[s][d] = row.probabilities[s] * max(scale, 0.0)
        return out

    def ratio(self, ratio: Ratio) -> np.ndarray:
        out = np.full(self.draws, ratio.value)
        for d, _, value in self._changes.get(id(ratio), []):
            out[d] = value
        return out


def _complement(parameter: Parameter) -> bool:
    """The first state of a binary row that lists both states: moving it is moving the other."""
    row = parameter.holder
    if not isinstance(row, Row) or len(row.probabilities) != 2:
        return False
    first, second = row.probabilities
    return parameter.state == first and abs(sum(row.probabilities.values()) - 1.0) < SUM_TOLERANCE


def one_way(priors: Priors, scenario, evidence: dict[str, str], cause: str | None = None,
            chunk: int = 256, progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Swing of p_cause of ``cause`` (default: the leader) over each parameter's range.

    Returns
    -------
    DataFrame
        One row per parameter, sorted by swing (largest first): parameter, kind, source,
        locator, value, low, high, p_at_low, p_at_high, swing (|p_at_high - p_at_low|),
        and ``cause`` and ``p_cause`` (the point value) as columns.
    """
    scenario = get_scenario(priors, scenario) if not hasattr(scenario, "population") else scenario
    evidence = dict(evidence)
    evidence.setdefault(CALCIFICATION, "present")
    engine = CompiledEngine(build_tables(priors, scenario))
    point = engine.query([evidence], [LESION_CAUSE]).marginals[LESION_CAUSE][0, 0]
    causes = engine.tables.states[LESION_CAUSE]
    index = int(np.nanargmax(point)) if cause is None else causes.index(cause)
    cause = causes[index]
    # Only numbers of the tables the query depends on can move it (the rest are barren or
    # d-separated: their swing is exactly zero); context rows also enter every calibration.
    kept = engine.plan(sorted(evidence), [LESION_CAUSE]).nodes
    context = set(priors.vocabulary.categories["context"])
    parameters = [p for p in iter_parameters(priors, scenario) if p.low != p.high and not _complement(p)]
    relevant = [p for p in parameters if p.node in kept or p.node in context]
    moved = {id(p.holder) for p in relevant}
    changes = [(p, end) for p in relevant for end in (p.low, p.high)]
    values = np.empty(len(changes))
    for start in range(0, len(changes), chunk):
        part = changes[start:start + chunk]
        tables = build_tables(priors, scenario, OneAtATime(part))
        values[start:start + len(part)] = CompiledEngine(tables).query([evidence], [LESION_CAUSE]).marginals[LESION_CAUSE][0, :, index]
        if progress:
            progress(min(start + chunk, len(changes)), len(changes))
    records = []
    for i, parameter in enumerate(relevant):
        low_value, high_value = values[2 * i], values[2 * i + 1]
        records.append({**parameter.record(), "p_at_low": float(low_value), "p_at_high": float(high_value),
                        "swing": float(abs(high_value - low_value))})
    unmoved = float(point[index])
    records += [{**p.record(), "p_at_low": unmoved, "p_at_high": unmoved, "swing": 0.0}
                for p in parameters if id(p.holder) not in moved or p.node not in kept and p.node not in context]
    table = pd.DataFrame(records).sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    table["cause"] = cause
    table["p_cause"] = float(point[index])
    return table


TRUSTED_KINDS = ("literature", "derived")
TOP = 10  # a parameter is "sensitive" for a case when among its ten largest swings


def top_parameters(priors: Priors, cases: list, top: int = TOP,
                   progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """The ``top`` parameters of largest swing for each case, each case in its own scenario.

    ``cases`` are :class:`calcinosis.data.evidence.Case` objects (``scenario`` None means the
    default population). Returns one row per case and parameter: the columns of
    :func:`one_way` and ``case``. Parameters with no swing are left out.
    """
    frames = []
    for case in cases:
        table = one_way(priors, case.scenario or DEFAULT_SCENARIO, case.evidence)
        table = table[table["swing"] > 0].head(top).copy()
        table["case"] = case.id
        frames.append(table)
        if progress:
            progress(case.id)
    return pd.concat(frames, ignore_index=True)


def trusted_share(parameters: pd.DataFrame) -> tuple[int, int]:
    """(literature or derived, all) among the distinct parameters of ``parameters``."""
    distinct = parameters.drop_duplicates("parameter")
    return int(distinct["kind"].isin(TRUSTED_KINDS).sum()), len(distinct)
