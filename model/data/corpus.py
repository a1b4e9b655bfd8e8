"""The corpus of published cases: loading, checking and describing it.

``evidence_examples/published/<diagnosis>/<publication>_<n>.yaml`` holds one real patient
per file, coded from a case report, a case series with per-patient data or a radiology
teaching file, in the case-file format (:mod:`calcinosis.data.evidence`) with the corpus keys
required: ``publication``, ``citation``, ``extraction``, ``diagnosis`` and
``confirmation``. The same loader validates every case file; this module adds what only a
corpus has: the file-name conventions, the duplicate checks and the coverage tables of
``calcinosis corpus``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from ..errors import EvidenceError, allowed
from ..foundation.resources import corpus_dir
from .evidence import CORPUS_KEYS, Case, case_from_mapping
from .vocabulary import OTHER_GROUP, Vocabulary, load_vocabulary
from ..foundation.yamlio import read_yaml

SCENARIOS_OF_ORIGIN = ("paediatric", "dialysis_unit")  # the populations a published patient may come from


@dataclass
class Corpus:
    """The published cases, validated; ``cases`` sorted by file path."""

    cases: list[Case]
    folder: Path
    vocabulary: Vocabulary

    def __len__(self) -> int:
        return len(self.cases)

    @cached_property
    def publications(self) -> dict[str, list[Case]]:
        out: dict[str, list[Case]] = {}
        for case in self.cases:
            out.setdefault(case.publication, []).append(case)
        return out

    def publication_of(self, case: Case) -> str | None:
        """The publication of this corpus that a case (from here or elsewhere) comes from,
        matched by key, DOI, PMID or URL; ``None`` when the corpus does not hold it."""
        if case.publication is None:
            return None
        if case.publication in self.publications:
            return case.publication
        wanted = locators(case)
        return next((key for key, members in self.publications.items() if wanted & locators(members[0])), None)

    # -- coverage ---------------------------------------------------------------
    def per_condition(self) -> pd.DataFrame:
        """One row per cause: id, group, patients, publications (every condition listed, then
        ``other_causes``)."""
        rows = []
        for cid in self.vocabulary.causes:
            cases = [c for c in self.cases if c.diagnosis == cid]
            rows.append({"id": cid, "group": self.vocabulary.group_of(cid), "patients": len(cases),
                         "publications": len({c.publication for c in cases})})
        return pd.DataFrame(rows)

    def per_group(self) -> pd.DataFrame:
        table = self.per_condition()
        rows = []
        for group in [*self.vocabulary.groups, OTHER_GROUP]:
            cases = [c for c in self.cases if self.vocabulary.group_of(c.diagnosis) == group]
            rows.append({"id": group, "patients": len(cases), "publications": len({c.publication for c in cases}),
                         "conditions": int((table[table["group"] == group]["patients"] > 0).sum())})
        return pd.DataFrame(rows)

    def per_finding(self) -> pd.DataFrame:
        """How often each finding is stated, overall and per diagnosis (columns: the causes)."""
        conditions = list(self.vocabulary.causes)
        rows = []
        for finding in self.vocabulary.nodes:
            counts = Counter(c.diagnosis for c in self.cases if finding in c.evidence)
            if not counts:
                continue
            rows.append({"finding": finding, "stated": sum(counts.values()), **{cid: counts.get(cid, 0)
                                                                                  for cid in conditions}})
        return pd.DataFrame(rows).sort_values("stated", ascending=False, kind="stable").reset_index(drop=True)

    def per_confirmation(self) -> dict[str, int]:
        return dict(Counter(c.confirmation_method for c in self.cases).most_common())

    def publication_table(self) -> pd.DataFrame:
        rows = []
        for key, cases in sorted(self.publications.items()):
            citation = cases[0].citation or {}
            rows.append({"publication": key, "patients": len(cases),
                         "diagnoses": ", ".join(sorted({c.diagnosis for c in cases})),
                         "citation": f"{citation.get('authors')} ({citation.get('year')}). {citation.get('title')}. "
                                     f"{citation.get('journal')}.",
                         "locator": _locator(citation)})
        return pd.DataFrame(rows)

    def possible_duplicates(self) -> list[tuple[str, str]]:
        """Pairs of patients from different publications with the same diagnosis and the
        same evidence: the same patient reported twice, or two patients who look alike
        (listed for a reader to check; :func:`load_corpus` refuses the certain cases)."""
        seen: dict[tuple, str] = {}
        pairs = []
        for case in self.cases:
            key = (case.diagnosis, tuple(sorted(case.evidence.items())))
            if len(case.evidence) >= 3 and key in seen:
                pairs.append((seen[key], case.id))
            seen.setdefault(key, case.id)
        return pairs


def _locator(citation: dict) -> str:
    if citation.get("doi"):
        return f"doi:{citation['doi']}"
    if citation.get("pmid"):
        return f"PMID {citation['pmid']}"
    return str(citation.get("url", ""))


def locators(case: Case) -> set[str]:
    """The case's DOI, PMID and URL as comparable keys (``doi:10.x/...``, lower case, no trailing slash)."""
    citation = case.citation or {}
    return {f"{k}:{str(citation[k]).strip().lower().rstrip('/')}" for k in ("doi", "pmid", "url") if citation.get(k)}


def _normalised(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def load_corpus(folder: Path | str | None = None, vocabulary: Vocabulary | None = None) -> Corpus:
    """Read and check every case file under ``folder`` (default: the bundled corpus).

    Raises
    ------
    EvidenceError
        Naming the file and the key: a case-file error, a missing corpus key, an id
        that is not the file name, a scenario other than those a patient can come
        from, one publication under two keys, or the same patient twice.
    """
    vocabulary = vocabulary or load_vocabulary()
    folder = Path(folder) if folder else corpus_dir()
    if not folder.is_dir():
        raise EvidenceError(f"{folder}: the corpus folder does not exist.")
    paths = sorted(folder.rglob("*.yaml"))
    if not paths:
        raise EvidenceError(f"{folder}: no case files (*.yaml) in the corpus folder.")
    cases = []
    for path in paths:
        data = read_yaml(path, EvidenceError, "case file")
        if isinstance(data, dict):
            for key in CORPUS_KEYS:
                if data.get(key) in (None, "", {}):
                    raise EvidenceError(f"{path}: the key '{key}' is missing. A published case needs "
                                        f"{allowed(CORPUS_KEYS)} besides the keys of every case file.")
        case = case_from_mapping(data, vocabulary, str(path), path)
        if case.id != path.stem:
            raise EvidenceError(f"{path}: id: must equal the file name; got '{case.id}', expected '{path.stem}'.")
        if case.scenario is not None and case.scenario not in SCENARIOS_OF_ORIGIN:
            raise EvidenceError(f"{path}: scenario: a published patient names the population it comes from, one "
                                f"of {allowed(SCENARIOS_OF_ORIGIN)}; got '{case.scenario}'.")
        missing = [k for k in [*case.evidence, "diagnosis"] if k not in case.extraction]
        if missing:
            raise EvidenceError(f"{path}: extraction: no line for {allowed(missing)}; every finding and the "
                                "diagnosis say where in the source they are stated.")
        cases.append(case)
    _check_duplicates(cases)
    return Corpus(cases=cases, folder=folder, vocabulary=vocabulary)


def _check_duplicates(cases: list[Case]) -> None:
    ids: dict[str, Case] = {}
    by_locator: dict[str, str] = {}
    by_description: dict[tuple, Case] = {}
    for case in cases:
        if case.id in ids:
            raise EvidenceError(f"{case.path}: id: '{case.id}' is also the id of {ids[case.id].path}.")
        ids[case.id] = case
        for key in sorted(locators(case)):
            if by_locator.setdefault(key, case.publication) != case.publication:
                field, value = key.split(":", 1)
                raise EvidenceError(f"{case.path}: publication: '{case.publication}' has the {field} {value} of "
                                    f"publication '{by_locator[key]}'; one publication has one key.")
        description = (case.publication, _normalised(case.title), tuple(sorted(case.evidence.items())))
        if description in by_description:
            raise EvidenceError(f"{case.path}: the same patient as {by_description[description].path} "
                                "(same publication, title and evidence); a patient is counted once.")
        by_description[description] = case
