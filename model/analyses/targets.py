"""Literature targets: published figures the assembled network must reproduce.

``priors/targets.yaml`` lists published population figures (a value, a range, or both,
with source and locator), each with the quantity the network implies for it, written
as an exact query P(query | given) in a scenario. This module reads and checks that
file (closed schema, safe YAML, known ids and states, resolvable sources), computes
every implied figure exactly with the compiled engine, and its central interval over
parameter draws (``uncertainty._draws_engine``; the credible mass of ``settings.yaml``),
and marks each target pass or fail.

Pass rule: the implied interval overlaps the published range (a single published value is
the range [value, value]).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..inference.engine import CompiledEngine
from ..errors import PriorsError, allowed, suggestion
from ..network.assembly import build_tables, get_scenario
from ..data.priors import Priors, Settings
from .uncertainty import _draws_engine
from ..foundation.defaults import DEFAULT_DRAWS, DEFAULT_SEED
from ..foundation.resources import priors_dir
from ..foundation.yamlio import read_yaml

TARGETS_FILE = "targets.yaml"


def pass_rule(settings: Settings) -> str:
    """The rule a target passes by, in words, for the credible mass of ``settings.yaml``."""
    return (f"a target passes when the implied central {settings.credible_percent} interval over parameter draws "
            "overlaps the published range (a single published value counts as the range [value, value])")


class Target(BaseModel):
    """One published figure and the query that the network implies for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=3)
    value: float | None = Field(default=None, ge=0, le=1)
    range: tuple[float, float] | None = None
    source: str
    locator: str = Field(min_length=3)
    scenario: str
    query: dict[str, str] = Field(min_length=1)
    given: dict[str, str] = Field(default_factory=dict)
    direct: bool = False
    known_failure: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _published(self):
        if self.value is None and self.range is None:
            raise ValueError("a target needs 'value', 'range' or both")
        if self.range is not None:
            low, high = self.range
            if not (0 <= low <= high <= 1):
                raise ValueError(f"range must satisfy 0 <= low <= high <= 1; got {list(self.range)}")
            if self.value is not None and not (low <= self.value <= high):
                raise ValueError(f"value {self.value} lies outside its range {list(self.range)}")
        return self

    @property
    def published(self) -> tuple[float, float]:
        return tuple(self.range) if self.range is not None else (self.value, self.value)


class _TargetsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    targets: dict[str, Target] = Field(min_length=1)


def load_targets(priors: Priors, path: Path | str | None = None) -> dict[str, Target]:
    """Read and check ``priors/targets.yaml`` (or ``path``) against the priors.

    Raises
    ------
    PriorsError
        Naming the file, the target, the key and the bad value.
    """
    path = Path(path) if path else priors_dir() / TARGETS_FILE
    data = read_yaml(path, PriorsError, "targets file")
    try:
        targets = _TargetsFile.model_validate(data).targets
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise PriorsError(f"{path.name}: {key or '(top level)'}: {first['msg']}; got {str(first.get('input'))[:80]!r}.") from None
    nodes = _node_states(priors)
    for name, target in targets.items():
        where = f"{path.name}: {name}"
        if target.source not in priors.references:
            raise PriorsError(f"{where}: source '{target.source}' is not a key of references.yaml."
                              f"{suggestion(target.source, priors.references)}")
        if target.scenario not in priors.scenarios:
            raise PriorsError(f"{where}: scenario '{target.scenario}' is unknown. Allowed: "
                              f"{allowed(priors.scenarios)}.{suggestion(target.scenario, priors.scenarios)}")
        for part in ("query", "given"):
            for node, state in getattr(target, part).items():
                if node not in nodes:
                    raise PriorsError(f"{where}: {part}: unknown node '{node}'.{suggestion(node, nodes)}")
                if state not in nodes[node]:
                    raise PriorsError(f"{where}: {part}: {node}: unknown state '{state}'. Allowed: "
                                      f"{allowed(nodes[node])}.{suggestion(state, nodes[node])}")
        clash = {k for k in target.query if k in target.given and target.query[k] != target.given[k]}
        if clash:
            raise PriorsError(f"{where}: query and given disagree on {sorted(clash)}.")
    return targets


def _node_states(priors: Priors) -> dict[str, tuple[str, ...]]:
    """Every node of the assembled network (public and latent) with its states."""
    tables = _point_tables(priors, "general_adult")
    return {n: tuple(s) for n, s in tables.states.items()}


_POINT: dict[tuple, tuple] = {}


def _point_tables(priors: Priors, scenario: str):
    key = (id(priors), scenario)
    if key not in _POINT or _POINT[key][0] is not priors:
        tables = build_tables(priors, get_scenario(priors, scenario))
        _POINT[key] = (priors, tables, CompiledEngine(tables))
    return _POINT[key][1]


def _point_engine(priors: Priors, scenario: str) -> CompiledEngine:
    _point_tables(priors, scenario)
    return _POINT[(id(priors), scenario)][2]


def implied(engine: CompiledEngine, target: Target) -> np.ndarray:
    """P(query | given) for every draw of ``engine`` (exact: a ratio of probabilities of evidence)."""
    joint = {**target.given, **target.query}
    probability = engine.query([joint, dict(target.given)], []).probability  # (2, draws)
    with np.errstate(invalid="ignore", divide="ignore"):
        return probability[0] / probability[1]


def validate_targets(priors: Priors, targets: dict[str, Target] | None = None, *, draws: int = DEFAULT_DRAWS,
                     seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Implied value and central ``credible_mass`` interval of every target, and whether it passes.

    Returns
    -------
    DataFrame
        One row per target: target, label, scenario, query, given, published_low,
        published_high, value (published point or None), implied, low, high, passed,
        direct, known_failure (the stated reason, or None), source, locator, note.
    """
    targets = targets if targets is not None else load_targets(priors)
    tail = (1 - priors.settings.credible_mass) / 2
    rows = []
    for name, target in targets.items():
        point = float(implied(_point_engine(priors, target.scenario), target)[0])
        values = implied(_draws_engine(priors, get_scenario(priors, target.scenario), draws, seed, 1.0), target)
        values = values[np.isfinite(values)]
        if not math.isfinite(point) or values.size == 0:
            raise PriorsError(f"{TARGETS_FILE}: {name}: the 'given' evidence has probability zero in scenario "
                              f"'{target.scenario}'; the target cannot be computed.")
        low, high = (float(x) for x in np.quantile(values, [tail, 1 - tail]))
        pub_low, pub_high = target.published
        rows.append({
            "target": name, "label": target.label, "scenario": target.scenario,
            "query": _describe(target.query), "given": _describe(target.given) or "(nothing)",
            "published_low": pub_low, "published_high": pub_high, "value": target.value,
            "implied": point, "low": low, "high": high,
            "passed": bool(low <= pub_high and pub_low <= high),
            "direct": target.direct, "known_failure": target.known_failure, "source": target.source, "locator": target.locator, "note": target.note,
        })
    return pd.DataFrame(rows)


def _describe(assignment: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in assignment.items())
