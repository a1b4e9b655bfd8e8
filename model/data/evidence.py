"""Case files: reading, validating and describing the evidence about one patient.

A case file (``evidence_examples/*.yaml``) holds ``id``, ``title``, ``source``,
optional ``reference`` (a key of ``priors/references.yaml``), optional ``scenario``,
``evidence`` (vocabulary id -> state), optional ``assumed`` (the evidence keys the
source does not state), optional ``diagnosis`` (the reference cause: a condition id, or ``other_causes`` with
``named_cause`` saying which cause outside the conditions) and an optional ``note``.
Cases of the published corpus (``evidence_examples/published/``) also carry
``publication`` (a key shared by the patients of one publication), ``citation``
(authors, year, title, journal and a DOI, PMID or URL), ``extraction`` (where in the
source each finding and the diagnosis are stated), ``confirmation`` (how the diagnosis
was established) and ``comorbid`` (other conditions that did not produce the lesion);
:func:`calcinosis.data.corpus.load_corpus` requires them. Anything else is an error, with
the closest key suggested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import EvidenceError, allowed, suggestion
from ..foundation import cache
from ..foundation.resources import cases_dir, priors_dir
from .vocabulary import OTHER_CAUSES, Vocabulary, load_vocabulary, split_assignment
from ..foundation.yamlio import read_yaml

SCENARIO_SETTINGS = ("prevalence", "occurrence", "population")  # prefixes of a population's --set keys
CASE_KEYS = ("id", "title", "source", "reference", "scenario", "evidence", "assumed", "diagnosis", "named_cause",
             "expected", "known_miss", "note", "publication", "citation", "extraction", "confirmation", "comorbid")
REQUIRED_KEYS = ("id", "title", "source", "evidence")
CORPUS_KEYS = ("publication", "citation", "extraction", "diagnosis", "confirmation")
CITATION_KEYS = ("authors", "year", "title", "journal", "doi", "pmid", "url")
CITATION_REQUIRED = ("authors", "year", "title", "journal")
LOCATORS = ("doi", "pmid", "url")
# How a source establishes the cause of a lesion, from the firmest to the softest.
CONFIRMATION_METHODS = ("histology", "genetics", "crystal_analysis", "laboratory", "imaging", "clinical_course",
                        "clinical")


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
    named_cause: str | None = None
    expected_rank: int | None = None
    known_miss: str | None = None
    reference: str | None = None
    note: str | None = None
    publication: str | None = None
    citation: dict[str, str] | None = None
    extraction: dict[str, str] = field(default_factory=dict)
    confirmation: str | None = None
    comorbid: tuple[str, ...] = ()
    path: Path | None = field(default=None, compare=False)

    @property
    def confirmation_method(self) -> str | None:
        """The first word of ``confirmation`` (histology, genetics, ...)."""
        return self.confirmation.split(":")[0].strip() if self.confirmation else None


def load_case(path: Path | str, vocabulary: Vocabulary | None = None) -> Case:
    """Read and validate a case file.

    Raises
    ------
    EvidenceError
        Naming the file, the key, the bad value and the allowed values.
    """
    vocabulary = vocabulary or load_vocabulary()
    path = Path(path)
    if not path.exists() and path.parent == Path(".") and (cases_dir() / f"{path.stem}.yaml").is_file():
        path = cases_dir() / f"{path.stem}.yaml"  # a bundled case named by its file name, from anywhere
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
    for key in ("id", "title", "source", "reference", "scenario", "diagnosis", "named_cause", "known_miss", "note",
                "publication", "confirmation"):
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
    reference = data.get("reference")
    if reference is not None and reference not in (keys := reference_keys()):
        raise EvidenceError(f"{name}: reference: '{reference}' is not a key of priors/references.yaml."
                            f"{suggestion(reference, keys)} Give the source in 'source' (and 'citation') "
                            "when it is not one of the priors' references.")
    diagnosis = data.get("diagnosis")
    if diagnosis is not None and diagnosis not in vocabulary.causes:
        raise EvidenceError(f"{name}: diagnosis: '{diagnosis}' is not a condition id or '{OTHER_CAUSES}'. Allowed: "
                            f"{allowed(vocabulary.causes)}.{suggestion(diagnosis, vocabulary.causes)}")
    named_cause = data.get("named_cause")
    if (diagnosis == OTHER_CAUSES) != bool(named_cause):
        raise EvidenceError(f"{name}: named_cause: a case whose diagnosis is '{OTHER_CAUSES}' names its cause "
                            f"(e.g. 'calcified chronic haematoma'), and only such a case; got diagnosis "
                            f"{diagnosis!r} and named_cause {named_cause!r}.")
    expected_rank = _expected_rank(data.get("expected"), diagnosis, name)
    citation = _citation(data.get("citation"), name)
    extraction = _extraction(data.get("extraction"), evidence, name)
    confirmation = data.get("confirmation")
    if confirmation is not None and confirmation.split(":")[0].strip() not in CONFIRMATION_METHODS:
        raise EvidenceError(f"{name}: confirmation: must start with one of {allowed(CONFIRMATION_METHODS)} "
                            f"(e.g. 'histology: excision'); got {confirmation!r}."
                            f"{suggestion(confirmation.split(':')[0].strip(), CONFIRMATION_METHODS)}")
    comorbid = data.get("comorbid") or []
    if not isinstance(comorbid, list) or not all(isinstance(c, str) for c in comorbid):
        raise EvidenceError(f"{name}: 'comorbid' must be a list of condition ids; got {comorbid!r}.")
    for cid in comorbid:
        if cid not in vocabulary.conditions:
            raise EvidenceError(f"{name}: comorbid: '{cid}' is not a condition id. Allowed: "
                                f"{allowed(vocabulary.conditions)}.{suggestion(cid, vocabulary.conditions)}")
        if cid == diagnosis:
            raise EvidenceError(f"{name}: comorbid: '{cid}' is the diagnosis; list only the conditions that did "
                                "not produce the lesion.")
    return Case(
        id=data["id"], title=data["title"], source=data["source"], evidence=evidence,
        assumed=tuple(assumed), scenario=data.get("scenario"), diagnosis=diagnosis, named_cause=named_cause,
        expected_rank=expected_rank, known_miss=data.get("known_miss"),
        reference=reference, note=data.get("note"), publication=data.get("publication"),
        citation=citation, extraction=extraction, confirmation=confirmation, comorbid=tuple(comorbid), path=path,
    )


def _expected_rank(value: Any, diagnosis: str | None, name: str) -> int | None:
    """``expected: {rank_at_most: N}``: the rank the case's diagnosis should reach."""
    if value is None:
        return None
    rank = value.get("rank_at_most") if isinstance(value, dict) and set(value) == {"rank_at_most"} else None
    if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
        raise EvidenceError(f"{name}: expected: must be {{rank_at_most: N}} with N a whole number >= 1; got {value!r}.")
    if diagnosis is None:
        raise EvidenceError(f"{name}: expected: a case with an expected rank needs a 'diagnosis'.")
    return rank


def _citation(value: Any, name: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise EvidenceError(f"{name}: citation: must be a mapping with {allowed(CITATION_REQUIRED)} and one of "
                            f"{allowed(LOCATORS)}; got {type(value).__name__}.")
    for key in value:
        if key not in CITATION_KEYS:
            raise EvidenceError(f"{name}: citation: unknown key {key!r}. Allowed: {allowed(CITATION_KEYS)}."
                                f"{suggestion(str(key), CITATION_KEYS)}")
    for key in CITATION_REQUIRED:
        if value.get(key) in (None, ""):
            raise EvidenceError(f"{name}: citation: the key '{key}' is missing. A citation needs "
                                f"{allowed(CITATION_REQUIRED)} and one of {allowed(LOCATORS)}.")
    if not any(value.get(key) for key in LOCATORS):
        raise EvidenceError(f"{name}: citation: needs a DOI, a PMID or a stable URL (one of {allowed(LOCATORS)}).")
    return {key: str(v) for key, v in value.items()}


def _extraction(value: Any, evidence: dict[str, str], name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise EvidenceError(f"{name}: extraction: must map each evidence id (and 'diagnosis') to a line of text "
                            f"saying where the source states it; got {value!r:.80}.")
    keys = [*evidence, "diagnosis"]
    for key in value:
        if key not in keys:
            raise EvidenceError(f"{name}: extraction: '{key}' is not a key of the evidence (or 'diagnosis'). "
                                f"Allowed: {allowed(keys)}.{suggestion(str(key), keys)}")
    return dict(value)


def reference_keys() -> tuple[str, ...]:
    """The keys of the priors' references, which a case file's ``reference`` must name."""
    return _reference_keys(priors_dir() / "references.yaml")


@lru_cache(maxsize=4)
def _reference_keys(path: Path) -> tuple[str, ...]:
    # Parsing the whole bibliography takes a third of a second: the keys are kept in the disk
    # cache, keyed by the file's bytes.
    def build() -> tuple[str, ...]:
        data = read_yaml(path, EvidenceError, "references")
        return tuple(data) if isinstance(data, dict) else ()

    return cache.fetch("references-" + cache.key([path], readers=("data/evidence.py", "foundation/yamlio.py")),
                       tuple, build)


def parse_assignments(items: list[str] | None, vocabulary: Vocabulary, where: str = "--set") -> dict[str, str]:
    """Parse ``id=state`` strings (from the command line) into checked evidence."""
    evidence: dict[str, str] = {}
    for item in items or []:
        key, state = split_assignment(item, where)
        if "." in key and key.split(".")[0] in SCENARIO_SETTINGS:
            raise EvidenceError(
                f"{where} {item!r}: '{key.split('.')[0]}.' changes the population, which is a what-if question: "
                f"`calcinosis whatif`, `sweep` and `simulate` take it with --set; here --set takes evidence "
                "(id=state, e.g. serum_phosphate=high), and --scenario takes a population (a preset or a YAML file).")
        evidence.update(vocabulary.check_evidence({key: state}, f"{where} {item!r}"))
    return evidence


def bundled_cases(folder: Path | str | None = None) -> list[Path]:
    """The case files shipped in ``evidence_examples/``."""
    folder = Path(folder) if folder else cases_dir()
    return sorted(folder.glob("*.yaml"))
