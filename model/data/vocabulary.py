"""The public evidence vocabulary: condition and finding ids, their states, groups and labels.

This module owns ``priors/vocabulary.yaml``, a copy of the project's contract
(``shared/spec/vocabulary.yaml``) plus additions that never rename anything. Every
other module asks it which ids and states exist, and evidence is checked here,
before pgmpy sees it, so that a typo gets a message with the allowed values and
the closest id instead of a bare ``KeyError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from ..errors import EvidenceError, allowed, suggestion
from ..foundation.resources import priors_dir

CONDITION_STATES = ("absent", "present")
# The leak: a calcification from a cause outside the conditions. A published patient of such a
# cause has it as diagnosis, its group is OTHER_GROUP.
OTHER_CAUSES = "other_causes"
OTHER_GROUP = "other"


@dataclass(frozen=True)
class Vocabulary:
    """Ids, states and labels of the public nodes.

    Attributes
    ----------
    groups : dict
        Group id -> label (the six pathogenetic groups of the source review's Table I).
    conditions : dict
        Condition id -> {"group": group id, "label": label}; every condition is binary.
    findings : dict
        Finding id -> tuple of states, in the order of the contract.
    categories : dict
        Category (context, clinical, laboratory, imaging) -> finding ids.
    """

    groups: dict[str, str]
    conditions: dict[str, dict[str, str]]
    findings: dict[str, tuple[str, ...]]
    categories: dict[str, tuple[str, ...]]

    @property
    def nodes(self) -> dict[str, tuple[str, ...]]:
        """Every public node (conditions first) with its states."""
        states = {c: CONDITION_STATES for c in self.conditions}
        states.update(self.findings)
        return states

    def category_of(self, finding: str) -> str:
        for category, ids in self.categories.items():
            if finding in ids:
                return category
        return "condition" if finding in self.conditions else "unknown"

    @property
    def causes(self) -> tuple[str, ...]:
        """What can have produced a calcification: the conditions, then ``other_causes``."""
        return (*self.conditions, OTHER_CAUSES)

    def group_of(self, cause: str) -> str:
        """The pathogenetic group of a condition; ``other`` for ``other_causes``."""
        return OTHER_GROUP if cause == OTHER_CAUSES else self.conditions[cause]["group"]

    def label(self, node: str) -> str:
        if node in self.conditions:
            return self.conditions[node]["label"]
        return node.replace("_", " ")

    def check_evidence(self, evidence: Any, where: str = "evidence") -> dict[str, str]:
        """Validate evidence (node id -> state) and return it as plain strings.

        Raises
        ------
        EvidenceError
            Naming ``where``, the bad key or state, the allowed values and the
            closest valid id.
        """
        if evidence is None:
            return {}
        if not isinstance(evidence, Mapping):
            raise EvidenceError(
                f"{where}: must be a mapping of node id to state (e.g. 'serum_phosphate: high'); "
                f"got {type(evidence).__name__} {_short(evidence)}."
            )
        return check_states(evidence, self.nodes, where)


NODES_HINT = "Nodes are the condition and finding ids of the vocabulary (`calcinosis nodes` lists them)."
ALL_NODES_HINT = "(`calcinosis nodes --all` lists every node, latent ones included.)"


def check_states(evidence: Mapping, nodes: Mapping[str, Sequence[str]], where: str, hint: str = NODES_HINT
                 ) -> dict[str, str]:
    """The one check of ``id -> state`` pairs against a catalogue of nodes (the vocabulary's, or
    the network's with its latent nodes): an unknown id or state is refused with the allowed
    values and the closest one."""
    checked: dict[str, str] = {}
    for key, state in evidence.items():
        check_node(key, nodes, where, hint)
        states = nodes[key]
        if not isinstance(state, str) or state not in states:
            yaml_hint = ""
            if isinstance(state, bool):
                yaml_hint = " (YAML reads yes/no/true/false as booleans: write the state name)"
            raise EvidenceError(
                f"{where}: state {_short(state)} is not valid for node '{key}'{yaml_hint}. "
                f"Allowed: {allowed(states)}.{suggestion(str(state), states)}"
            )
        checked[key] = state
    return checked


def check_node(node: Any, nodes: Mapping, where: str, hint: str = NODES_HINT) -> str:
    """The one check that an id names a node of ``nodes``, with the closest id suggested."""
    if not isinstance(node, str) or node not in nodes:
        raise EvidenceError(f"{where}: unknown node {_short(node)}.{suggestion(str(node), nodes)} {hint}")
    return node


def split_assignment(item: Any, where: str, example: str = "serum_phosphate=high",
                     error: type[Exception] = EvidenceError) -> tuple[str, str]:
    """The one parser of ``id=state`` (or ``key=value``) items from the command line."""
    if not isinstance(item, str) or item.count("=") != 1:
        raise error(f"{where}: expected 'id=state' (e.g. {example}); got {_short(item)}.")
    key, value = (part.strip() for part in item.split("="))
    return key, value


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@lru_cache(maxsize=4)
def _load(path: Path) -> Vocabulary:
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    conditions = {cid: dict(entry) for cid, entry in raw["conditions"].items()}
    findings = {fid: tuple(states) for fid, states in raw["findings"].items()}
    categories = {name: tuple(ids) for name, ids in raw.get("categories", {}).items()}
    return Vocabulary(dict(raw["groups"]), conditions, findings, categories)


def load_vocabulary(path: Path | None = None) -> Vocabulary:
    """Load the vocabulary (cached); by default ``priors/vocabulary.yaml``."""
    return _load(Path(path) if path else priors_dir() / "vocabulary.yaml")
