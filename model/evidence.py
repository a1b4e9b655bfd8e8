"""Case files: reading, validating and describing the evidence about one patient.

A case file (``evidence_examples/*.yaml``) holds ``id``, ``title``, ``source``,
optional ``reference`` (a key of ``priors/references.yaml``), optional ``scenario``,
``evidence`` (vocabulary id -> state), optional ``assumed`` (the evidence keys the
source does not state), optional ``diagnosis`` (the reference cause) and an optional
``note``. Anything else is an error, with the closest key suggested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import EvidenceError, allowed, suggestion
from .vocabulary import Vocabulary, load_vocabulary
from .yamlio import read_yaml

CASE_KEYS = ("id", "title", "source", "reference", "scenario", "evidence", "assumed", "diagnosis", "note")
REQUIRED_KEYS = ("id", "title", "source", "evidence")


@dataclass(frozen=True)
class Case:
    """One patient's evidence, as read from a case file."""

    id: str
    title: str
    source: str
    evidence: dict[str, str]
    assumed: tuple[str, ...] = ()
    scenario: str | None = None
    diagnosis: str | None = None
    reference: str | None = None
    note: str | None = None
    path: Path | None = field(default=None, compare=False)


def load_case(path: Path | str, vocabulary: Vocabulary | None = None) -> Case:
    """Read and validate a case file.

    Raises
    ------
    EvidenceError
        Naming the file, the key, the bad value and the allowed values.
    """
    vocabulary = vocabulary or load_vocabulary()
    path = Path(path)
    data = read_yaml(path, EvidenceError, "case file")
    return case_from_mapping(data, vocabulary, str(path), path)


def case_from_mapping(data: Any, vocabulary: Vocabulary, name: str, path: Path | None = None) -> Case:
    """Validate a case given as a mapping (what a case file or an upload parses to)."""
    if not isinstance(data, dict):
        raise EvidenceError(f"{name}: a case file must be a mapping with keys {allowed(REQUIRED_KEYS)}; "
                            f"got {type(data).__name__}.")
    for key in data:
        if key not in CASE_KEYS:
            raise EvidenceError(f"{name}: unknown key {key!r}. Allowed: {allowed(CASE_KEYS)}."
                                f"{suggestion(str(key), CASE_KEYS)}")
    for key in REQUIRED_KEYS:
        if key not in data:
            raise EvidenceError(f"{name}: the key '{key}' is missing. A case needs {allowed(REQUIRED_KEYS)}.")
    for key in ("id", "title", "source", "reference", "scenario", "diagnosis", "note"):
        if key in data and data[key] is not None and not isinstance(data[key], str):
            raise EvidenceError(f"{name}: '{key}' must be text; got {type(data[key]).__name__} {data[key]!r}.")
    evidence = vocabulary.check_evidence(data["evidence"], f"{name}: evidence")
    assumed = data.get("assumed") or []
    if not isinstance(assumed, list) or not all(isinstance(a, str) for a in assumed):
        raise EvidenceError(f"{name}: 'assumed' must be a list of evidence ids; got {assumed!r}.")
    for key in assumed:
        if key not in evidence:
            raise EvidenceError(f"{name}: assumed: '{key}' is not a key of the evidence. Allowed: "
                                f"{allowed(evidence)}.{suggestion(key, evidence)}")
    diagnosis = data.get("diagnosis")
    if diagnosis is not None and diagnosis not in vocabulary.conditions:
        raise EvidenceError(f"{name}: diagnosis: '{diagnosis}' is not a condition id. Allowed: "
                            f"{allowed(vocabulary.conditions)}.{suggestion(diagnosis, vocabulary.conditions)}")
    return Case(
        id=data["id"], title=data["title"], source=data["source"], evidence=evidence,
        assumed=tuple(assumed), scenario=data.get("scenario"), diagnosis=diagnosis,
        reference=data.get("reference"), note=data.get("note"), path=path,
    )


def parse_assignments(items: list[str] | None, vocabulary: Vocabulary, where: str = "--set") -> dict[str, str]:
    """Parse ``id=state`` strings (from the command line) into checked evidence."""
    evidence: dict[str, str] = {}
    for item in items or []:
        if not isinstance(item, str) or item.count("=") != 1:
            raise EvidenceError(f"{where}: expected 'id=state' (e.g. serum_phosphate=high); got {item!r}.")
        key, state = (part.strip() for part in item.split("="))
        evidence.update(vocabulary.check_evidence({key: state}, f"{where} {item!r}"))
    return evidence


def bundled_cases(folder: Path | str | None = None) -> list[Path]:
    """The case files shipped in ``evidence_examples/``."""
    folder = Path(folder) if folder else Path(__file__).resolve().parent.parent / "evidence_examples"
    return sorted(folder.glob("*.yaml"))
