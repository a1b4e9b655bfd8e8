"""Scenario algebra: start from a preset population and change anything, or intervene.

A *what-if* is a :class:`WhatIf`: a validated :class:`priors.Scenario` (a preset of
``priors/scenarios/``, a custom YAML file, either one modified by ``--set``) plus
interventions (``--do``). This module owns:

* ``--set`` overrides, each validated against the vocabulary and the priors schema
  (``priors.check_scenario``) and marked with their provenance (source
  ``user_override``, locator = the ``--set`` text):

  - ``prevalence.<condition>=P`` (or ``P[LOW,HIGH]``): the condition's occurrence in
    the scenario's own population; 0 or 1 fixes it;
  - ``<condition>=present|absent``: the same as prevalence 1 or 0;
  - ``<context node>=<state>``: the population is fixed to one stratum (e.g.
    ``age_group=older``);
  - ``population.<context node>.<state>=P``: the share of one state, the other states
    rescaled in proportion;

  without an explicit ``[LOW,HIGH]`` a user value keeps the uncertainty of the row it
  replaces (the same width on the logit scale, or the same Dirichlet concentration);
* custom scenario files (a ``Scenario`` YAML; an optional ``base: <preset>`` key starts
  from a preset and adds the file's rows);
* interventions: :func:`intervene` performs graph surgery on :class:`network.Tables`
  (the node loses its parents and its table becomes an indicator of the forced state),
  which is not the same as conditioning on the state as evidence.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from ..errors import PriorsError, ScenarioError, allowed, suggestion
from .assembly import Tables, build_tables, get_scenario
from ..data.priors import GivenRow, Priors, Reference, Row, Scenario, check_scenario, row_interval
from ..data.vocabulary import ALL_NODES_HINT, CONDITION_STATES, check_states, split_assignment
from ..foundation.yamlio import read_yaml

USER_SOURCE = "user_override"
USER_REFERENCE = Reference(citation="Value supplied by the user of the what-if tools (--set or a custom scenario); "
                                    "not a published figure.")
_NUMBER = r"[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
_VALUE = re.compile(rf"^\s*(?P<value>{_NUMBER})\s*(?:\[\s*(?P<low>{_NUMBER})\s*,\s*(?P<high>{_NUMBER})\s*\])?\s*$")


@dataclass(frozen=True)
class WhatIf:
    """A population (scenario) and the interventions applied to it.

    Attributes
    ----------
    scenario : Scenario
        The validated scenario; a modified scenario's id records its changes
        (``general_adult+prevalence.chronic_kidney_disease=0.02``).
    do : tuple of (node, state)
        Interventions, applied by graph surgery after the tables are built.
    changes : tuple of str
        The ``--set`` items, as given, for reports.
    """

    scenario: Scenario
    do: tuple[tuple[str, str], ...] = ()
    changes: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return self.scenario.id + "".join(f"+do({node}={state})" for node, state in self.do)

    def tables(self, priors: Priors, source=None) -> Tables:
        """The tables of this what-if, for the point estimate or a parameter source."""
        tables = build_tables(priors, self.scenario, source)
        return intervene(tables, dict(self.do)) if self.do else tables


# --------------------------------------------------------------------------- scenarios
def with_user_reference(priors: Priors) -> Priors:
    """A shallow copy of ``priors`` whose references include ``user_override`` (for validation only)."""
    if USER_SOURCE in priors.references:
        return priors
    return dataclasses.replace(priors, references={**priors.references, USER_SOURCE: USER_REFERENCE})


def resolve_scenario(priors: Priors, name: str | Path | Scenario | None) -> Scenario:
    """A preset by name, or a custom scenario file (``.yaml``/``.yml``), validated."""
    if isinstance(name, Scenario):
        return name
    text = str(name) if name is not None else None
    if text and (text.endswith((".yaml", ".yml")) or "/" in text):
        return load_scenario_file(priors, Path(text))
    return get_scenario(priors, text)


def load_scenario_file(priors: Priors, path: Path) -> Scenario:
    """Read a custom scenario (the format of ``priors/scenarios/*.yaml``, plus an optional
    ``base: <preset>`` whose rows the file's rows extend).

    Raises
    ------
    ScenarioError
        Naming the file, the key, the bad value and the allowed values.
    """
    data = read_yaml(path, ScenarioError, "scenario file")
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario file must be a mapping with keys 'id', 'label', 'description', "
                            f"'population', 'occurrence' (and optionally 'base'); got {type(data).__name__}.")
    data = dict(data)
    base_name = data.pop("base", None)
    data.setdefault("id", path.stem)
    data.setdefault("label", str(data["id"]))
    data.setdefault("description", f"custom scenario from {path.name}")
    try:
        scenario = Scenario.model_validate(data)
    except Exception as exc:  # pydantic's message, reduced to the first problem
        errors = getattr(exc, "errors", lambda: [{"loc": (), "msg": str(exc)}])()
        first = errors[0]
        key = ".".join(str(p) for p in first["loc"])
        fields = list(Scenario.model_fields) + ["base"]
        hint = suggestion(key.split(".")[-1], fields) if first.get("type") == "extra_forbidden" else ""
        raise ScenarioError(f"{path}: {key or '(top level)'}: {first['msg']}.{hint} "
                            f"(see docs/priors-format.md, section Scenarios)") from None
    if base_name is not None:
        base = get_scenario(priors, str(base_name))
        scenario = scenario.model_copy(update={
            "population": {**base.population, **scenario.population},
            "occurrence": {**base.occurrence, **scenario.occurrence}})
    _check(priors, scenario, str(path))
    return scenario


def _check(priors: Priors, scenario: Scenario, where: str) -> None:
    try:
        check_scenario(with_user_reference(priors), scenario, where)
    except PriorsError as exc:
        raise ScenarioError(str(exc)) from None


def setting_keys(priors: Priors) -> list[str]:
    """Every key ``--set`` accepts (for messages and suggestions)."""
    vocabulary = priors.vocabulary
    context = vocabulary.categories["context"]
    keys = [f"prevalence.{c}" for c in vocabulary.conditions]
    keys += list(vocabulary.conditions) + list(context)
    keys += [f"population.{n}.{s}" for n in context for s in vocabulary.findings[n]]
    return keys


def apply_settings(priors: Priors, scenario: Scenario, items: Iterable[str] | Mapping[str, object] | None) -> Scenario:
    """The scenario with ``--set`` overrides applied, validated, with a new id.

    ``items`` are ``key=value`` strings or a mapping key -> value.

    Raises
    ------
    ScenarioError
        For an unknown key (with the closest one), a bad state, a value outside [0, 1]
        or an override that breaks the priors' rules.
    """
    if isinstance(items, Mapping):
        items = [f"{k}={v}" for k, v in items.items()]
    items = list(items or [])
    if not items:
        return scenario
    population = dict(scenario.population)
    occurrence = dict(scenario.occurrence)
    for item in items:
        key, value = split_assignment(item, "--set", "prevalence.chronic_kidney_disease=0.02 or age_group=older",
                                      ScenarioError)
        where = f"--set {item!r}"
        kind, node, state = _parse_key(priors, key, value, where)
        locator = f"what-if override: --set {item}"
        if kind == "prevalence":
            old = occurrence.get(node) or priors.conditions[node].occurrence
            probability, interval = _parse_value(value, where)
            row = _recentred(priors, old, {"present": probability}, interval, CONDITION_STATES, locator, where)
            occurrence[node] = GivenRow(given={}, **row)
        elif kind == "stratum":
            states = priors.vocabulary.findings[node]
            probabilities = {s: float(s == state) for s in states}
            population[node] = Row(probabilities=probabilities, interval={s: (p, p) for s, p in probabilities.items()},
                                   source=USER_SOURCE, locator=locator, kind="derived",
                                   derivation=f"population fixed to the stratum {node}={state}")
        else:  # share of one state of a context node
            states = priors.vocabulary.findings[node]
            old = population.get(node) or priors.population[node]
            probability, interval = _parse_value(value, where)
            old_values = {s: old.probabilities.get(s, 0.0) for s in states}
            rest = 1.0 - old_values[state]
            if rest <= 0 and probability < 1:
                raise ScenarioError(f"{where}: the other states of '{node}' have probability zero in scenario "
                                    f"'{scenario.id}', so they cannot be rescaled; fix a stratum instead "
                                    f"(--set {node}=<state>).")
            new = {s: (probability if s == state else (old_values[s] * (1 - probability) / rest if rest > 0 else 0.0))
                   for s in states}
            if probability == 0.0 and len(states) > 2:
                interval = None  # the other states keep the uncertainty of the row they come from
            if interval is not None and probability not in (0.0, 1.0):
                if len(states) != 2:
                    raise ScenarioError(f"{where}: a range can be given for a two-state node only; without one "
                                        f"the replaced row's uncertainty is kept.")
                new = {state: probability}
            population[node] = Row(**_recentred(priors, old, new, interval, states, locator, where))
    label = ", ".join(items)
    modified = scenario.model_copy(update={
        "id": f"{scenario.id}+{'+'.join(items)}", "label": f"{scenario.label} ({label})",
        "description": f"{scenario.description} Modified: {label}.",
        "population": population, "occurrence": occurrence})
    _check(priors, modified, "--set")
    return modified


def _parse_key(priors: Priors, key: str, value: str, where: str) -> tuple[str, str, str | None]:
    vocabulary = priors.vocabulary
    context = vocabulary.categories["context"]
    parts = key.split(".")
    if len(parts) == 2 and parts[0] in ("prevalence", "occurrence") and parts[1] in vocabulary.conditions:
        return "prevalence", parts[1], None
    if len(parts) == 3 and parts[0] == "population" and parts[1] in context:
        states = vocabulary.findings[parts[1]]
        if parts[2] not in states:
            raise ScenarioError(f"{where}: '{parts[2]}' is not a state of '{parts[1]}'. Allowed: {allowed(states)}."
                                f"{suggestion(parts[2], states)}")
        return "share", parts[1], parts[2]
    if len(parts) == 1 and key in vocabulary.conditions:
        if value not in CONDITION_STATES:
            raise ScenarioError(f"{where}: a condition is set to 'present' or 'absent' (or use "
                                f"prevalence.{key}=P); got {value!r}.")
        return "prevalence", key, None
    if len(parts) == 1 and key in context:
        states = vocabulary.findings[key]
        if value not in states:
            raise ScenarioError(f"{where}: '{value}' is not a state of '{key}'. Allowed: {allowed(states)}."
                                f"{suggestion(value, states)}")
        return "stratum", key, value
    if len(parts) == 1 and key in vocabulary.findings:
        raise ScenarioError(f"{where}: '{key}' is a finding, not part of a population: condition on it as evidence "
                            f"(e.g. --condition-on {key}={value} or an output's '|{key}={value}') or intervene "
                            f"with --do {key}={value}.")
    raise ScenarioError(f"{where}: unknown key '{key}'. Keys are prevalence.<condition>, <condition>, "
                        f"<context node> and population.<context node>.<state>.{suggestion(key, setting_keys(priors))}")


def _parse_value(value: str, where: str) -> tuple[float, tuple[float, float] | None]:
    if value in CONDITION_STATES:  # <condition>=present|absent
        fixed = float(value == "present")
        return fixed, (fixed, fixed)
    match = _VALUE.match(value)
    if not match:
        raise ScenarioError(f"{where}: expected a probability (e.g. 0.02) or a probability with its range "
                            f"(e.g. 0.02[0.01,0.04]); got {value!r}.")
    probability = float(match["value"])
    interval = (float(match["low"]), float(match["high"])) if match["low"] is not None else None
    for number in (probability, *(interval or ())):
        if not 0 <= number <= 1:
            raise ScenarioError(f"{where}: a probability must lie in [0, 1]; got {number!r}.")
    if interval and not interval[0] <= probability <= interval[1]:
        raise ScenarioError(f"{where}: the range must contain the value: low <= value <= high; "
                            f"got {probability!r} with [{interval[0]!r}, {interval[1]!r}].")
    if probability in (0.0, 1.0):
        interval = (probability, probability)
    return probability, interval


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _recentred(priors: Priors, old: Row, new: dict[str, float], interval, states, locator: str, where: str) -> dict:
    """The fields of a row with the user's probabilities and the uncertainty of ``old``
    (same logit width or same concentration) unless the user gave a range."""
    fields = {"probabilities": new, "source": USER_SOURCE, "locator": locator, "kind": "derived"}
    if interval is not None:  # the user's own range (for one listed state), or a fixed 0/1
        fields["interval"] = {state: interval if len(new) == 1 else (value, value) for state, value in new.items()}
        fields["derivation"] = "value and range supplied by the user"
        return fields
    if old.concentration is not None:
        fields.pop("interval", None)
        fields["concentration"] = old.concentration
        fields["derivation"] = "value supplied by the user; the replaced row's Dirichlet concentration kept"
        return fields
    ranges = {}
    for state, value in new.items():
        if value in (0.0, 1.0):
            ranges[state] = (value, value)
            continue
        before = old.probabilities.get(state)
        if before is None and len(states) == 2:
            before = 1.0 - sum(old.probabilities.values())
        low, high = row_interval(old, state, priors.settings) if before is not None else (None, None)
        if before is None or not (0 < low <= before <= high < 1) or before in (0.0, 1.0):
            raise ScenarioError(f"{where}: the row it replaces has no range to carry over; give one, "
                                f"e.g. {value:g}[{value / 2:g},{min(1.0, value * 2):g}].")
        ranges[state] = (_expit(_logit(value) - (_logit(before) - _logit(low))),
                         _expit(_logit(value) + (_logit(high) - _logit(before))))
    fields["interval"] = ranges
    fields["derivation"] = "value supplied by the user; range: the replaced row's width on the logit scale"
    return fields


# --------------------------------------------------------------------------- interventions
def parse_interventions(priors: Priors, items: Iterable[str] | Mapping[str, str] | None,
                        nodes: Mapping[str, list[str]] | None = None) -> tuple[tuple[str, str], ...]:
    """Validate ``--do id=state`` items against the nodes of the network (public or latent)."""
    if isinstance(items, Mapping):
        items = [f"{k}={v}" for k, v in items.items()]
    nodes = nodes if nodes is not None else build_tables(priors).states
    result = []
    for item in items or []:
        node, state = split_assignment(item, "--do", "high_dose_vitamin_d_intake=present")
        check_states({node: state}, nodes, f"--do {item!r}", ALL_NODES_HINT)
        result.append((node, state))
    return tuple(result)


def intervene(tables: Tables, do: Mapping[str, str]) -> Tables:
    """Graph surgery: each node of ``do`` loses its parents and takes its forced state
    with probability one. Returns new :class:`Tables`; ``tables`` is not modified.

    Conditioning (evidence) asks "among patients in whom X = x"; intervening asks "if X
    were set to x for everybody": the causes of X keep their own distribution, so
    nothing upstream of X (and nothing that shares a cause with X only through that
    cause) changes.
    """
    parents = dict(tables.parents)
    arrays = dict(tables.arrays)
    info = dict(tables.info)
    for node, state in do.items():
        states = tables.states[node]
        indicator = np.zeros((1, len(states)))
        indicator[0, states.index(state)] = 1.0
        parents[node] = []
        arrays[node] = indicator
        info[node] = dataclasses.replace(info[node], parents=())
    return dataclasses.replace(tables, parents=parents, arrays=arrays, info=info)


def build_whatif(priors: Priors, scenario: str | Path | Scenario | None = None,
                 sets: Iterable[str] | Mapping[str, object] | None = None,
                 do: Iterable[str] | Mapping[str, str] | None = None) -> WhatIf:
    """A validated what-if: a preset or custom scenario, ``--set`` overrides and ``--do`` interventions.

    Examples
    --------
    >>> build_whatif(priors, "general_adult", ["prevalence.chronic_kidney_disease=0.011"])  # doctest: +SKIP
    """
    base = resolve_scenario(priors, scenario)
    sets = [f"{k}={v}" for k, v in sets.items()] if isinstance(sets, Mapping) else list(sets or [])
    modified = apply_settings(priors, base, sets)
    return WhatIf(modified, parse_interventions(priors, do), tuple(sets))
