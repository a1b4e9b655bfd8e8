"""Loading and validation of ``priors/``: every number of the network, with its source.

The schema is closed (an unknown or misspelt key is an error) and strict: probabilities
in [0, 1], values inside their intervals, distributions summing to one within the
tolerance of ``priors/settings.yaml``, every source key resolvable in
``references.yaml``, derived numbers with their arithmetic, judgements with wide
ranges, and every node of the vocabulary covered. Errors name the file, the key
path, the bad value and what was expected. ``docs/priors-format.md`` describes the
files for their authors; this module is its enforcement.

Nothing here builds the network: ``network.py`` turns a validated :class:`Priors`
into pgmpy tables.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..foundation import cache
from ..errors import PriorsError, allowed, suggestion
from ..foundation.yamlio import read_yaml
from ..foundation.resources import priors_dir
from .vocabulary import CONDITION_STATES, OTHER_CAUSES, Vocabulary, load_vocabulary

Kind = Literal["literature", "derived", "judgement"]
FINDING_FILES = ("physiology.yaml", "findings_metabolic.yaml", "findings_clinical.yaml")


# --------------------------------------------------------------------------- schema
class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(_Closed):
    source: str
    locator: str = Field(min_length=3)
    kind: Kind
    derivation: str | None = None
    note: str | None = None


class SeriesCount(_Closed):
    """The patients of one published series, by the state of a lesion sign they showed."""

    source: str
    locator: str = Field(min_length=3)
    counts: dict[str, float]
    note: str | None = None


class Row(Provenance):
    """Probabilities of some states of one node in one situation, with their uncertainty.

    A judgement row of the lesion tables may carry ``series``: counts from published
    series, added to the judgement taken as a Dirichlet prior worth ``concentration``
    patients (see :func:`learned_row`)."""

    probabilities: dict[str, float]
    interval: dict[str, tuple[float, float]] | None = None
    concentration: float | None = Field(default=None, gt=0)
    series: tuple[SeriesCount, ...] = ()


class GivenRow(Row):
    """A row that applies in a stratum of the node's parents (``given``: parent -> state)."""

    given: dict[str, str] = Field(default_factory=dict)


class Ratio(Provenance):
    """A relative risk of one parent state against the parent's reference state."""

    value: float = Field(gt=0)
    interval: tuple[float, float]


class ConditionPriors(_Closed):
    occurrence: GivenRow
    relative_risk: dict[str, dict[str, Ratio]] = Field(default_factory=dict)
    calcification: list[GivenRow] = Field(min_length=1)


class OtherCauses(_Closed):
    occurrence: Row


class ConditionsFile(_Closed):
    conditions: dict[str, ConditionPriors]
    other_causes: OtherCauses


class NoisyMax(_Closed):
    """A canonical noisy-MAX model: causes push the node to dominant states."""

    label: str | None = None
    states: list[str] | None = None
    dominance: list[str] = Field(min_length=2)
    leak: Row
    causes: dict[str, Row | dict[str, Row]] = Field(default_factory=dict)

    def cause_rows(self) -> dict[tuple[str, str], Row]:
        """(parent id, parent state) -> push row; a bare row means state 'present'."""
        return _cause_rows(self.causes)


def _cause_rows(causes: dict[str, Row | dict[str, Row]]) -> dict[tuple[str, str], Row]:
    rows: dict[tuple[str, str], Row] = {}
    for parent, entry in causes.items():
        if isinstance(entry, Row):
            rows[(parent, "present")] = entry
        else:
            for state, row in entry.items():
                rows[(parent, state)] = row
    return rows


class LesionFile(_Closed):
    """Per sign, per cause: one row, or rows given the states of a condition or context node."""

    signs: dict[str, dict[str, Row | list[GivenRow]]]


class NoisyMaxOverride(_Closed):
    """A scenario's replacement for some rows of a noisy-MAX node (its leak, some causes)."""

    leak: Row | None = None
    causes: dict[str, Row | dict[str, Row]] = Field(default_factory=dict)

    def cause_rows(self) -> dict[tuple[str, str], Row]:
        return _cause_rows(self.causes)


class Scenario(_Closed):
    id: str
    label: str
    description: str
    population: dict[str, Row] = Field(default_factory=dict)
    occurrence: dict[str, GivenRow] = Field(default_factory=dict)
    noisy_max: dict[str, NoisyMaxOverride] = Field(default_factory=dict)
    lesion: dict[str, dict[str, Row]] = Field(default_factory=dict)


class Reference(_Closed):
    citation: str = Field(min_length=10)
    doi: str | None = None
    url: str | None = None
    seen: str | None = None
    note: str | None = None


class LearningSettings(_Closed):
    """How counts from the corpus of published cases update the judgement rows of the
    lesion tables (``priors/learning.yaml``)."""

    source: str
    max_cases_per_publication: int = Field(ge=1)
    max_count_weight: float = Field(gt=0)
    learned_kinds: list[Kind]
    # Causes whose rows are never learned from case reports (with the reason in learning.yaml).
    unlearned_causes: list[str] = []


class LearnedRow(_Closed):
    """One row of ``priors/corpus_counts.yaml``: the judgement it started from (its
    probabilities and its concentration, the judgement's stated equivalent sample size),
    the counts of the corpus, and the resulting probabilities, so the arithmetic can be
    checked: probabilities = (prior_weight x prior + series + counts) / (prior_weight + n), where
    series are the counts of published series that ``lesion.yaml`` adds to the row."""

    prior: dict[str, float]
    prior_weight: float = Field(gt=0)
    counts: dict[str, float]
    cases: list[str]
    publications: int = Field(ge=1)
    probabilities: dict[str, float]


class CountsFile(_Closed):
    corpus_cases: int = Field(ge=0)
    corpus_publications: int = Field(ge=0)
    rows: dict[str, dict[str, LearnedRow]] = Field(default_factory=dict)


class Settings(_Closed):
    sum_tolerance: float
    judgement_min_odds_ratio: float
    judgement_max_concentration: float
    interval_mass: float = Field(gt=0, lt=1)
    credible_mass: float = Field(gt=0, lt=1)
    attribution_order: tuple[str, ...] = ()

    @property
    def credible_percent(self) -> str:
        """The credible mass as labels print it ("90%")."""
        return f"{self.credible_mass:.0%}"


# --------------------------------------------------------------------------- result
@dataclass
class Priors:
    """Every validated parameter of the network.

    Attributes
    ----------
    population : dict
        Context node -> full row (default population).
    conditions : dict
        Condition id -> :class:`ConditionPriors`.
    other_causes : Row
        Occurrence of calcification from causes outside the modelled conditions.
    noisy_max : dict
        Latent or finding node -> :class:`NoisyMax` (physiology and findings files).
    latent : list
        Ids of the latent physiological nodes (those of ``physiology.yaml``).
    lesion_signs : dict
        Lesion sign -> cause (condition id or ``other_causes``) -> full row, or a list
        of rows given the states of other parents; rows learned from the corpus of
        published cases are ``derived`` (see ``learning``).
    scenarios : dict
        Scenario id -> :class:`Scenario`.
    references : dict
        Source key -> :class:`Reference`.
    origin : dict
        Top-level key -> file name it came from (for messages and listings).
    checksum : str
        sha256 of the YAML files, for reports and reproducibility.
    learning, counts : optional
        ``learning.yaml`` and ``corpus_counts.yaml``: how and with which counts the
        corpus updated the lesion tables (``None`` when the folder has no such files).
    judgement_lesion_signs : dict
        The lesion tables of ``lesion.yaml`` before the counts were added.
    """

    vocabulary: Vocabulary
    settings: Settings
    population: dict[str, Row]
    conditions: dict[str, ConditionPriors]
    other_causes: Row
    noisy_max: dict[str, NoisyMax]
    latent: list[str]
    lesion_signs: dict[str, dict[str, Row | list[GivenRow]]]
    scenarios: dict[str, Scenario]
    references: dict[str, Reference]
    origin: dict[str, str] = field(default_factory=dict)
    checksum: str = ""
    learning: LearningSettings | None = None
    counts: CountsFile | None = None
    judgement_lesion_signs: dict[str, dict[str, Row | list[GivenRow]]] = field(default_factory=dict)

    @property
    def attribution_chain(self) -> list[str]:
        """Conditions in the order the attribution chain links them: ``attribution_order``
        of settings.yaml first, then any other condition in vocabulary order."""
        listed = list(self.settings.attribution_order)  # validated: conditions, each once
        return listed + [c for c in self.vocabulary.conditions if c not in listed]

    def states(self, node: str) -> tuple[str, ...]:
        """States of any node the priors define (public or latent)."""
        if node in self.vocabulary.nodes:
            return self.vocabulary.nodes[node]
        if node in self.noisy_max and self.noisy_max[node].states:
            return tuple(self.noisy_max[node].states)
        raise KeyError(node)

    def parameter_table(self) -> pd.DataFrame:
        """One row per number: parameter (path), value, low, high, kind, source, locator, file."""
        return pd.DataFrame([p.record() for p in iter_parameters(self)])


# --------------------------------------------------------------------------- loading
def _read_yaml(path: Path) -> Any:
    return read_yaml(path, PriorsError, "priors file")


def _parse(model: type[BaseModel], data: Any, path: Path) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # An unknown key explains the "field required" that usually comes with it: report it first.
        first = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
        key = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-"))
        bad = first.get("input")
        detail = first["msg"]
        if first["type"] == "extra_forbidden":
            name = key.split(".")[-1]
            if name in _all_field_names():
                detail = f"the key '{name}' is not accepted in this entry (see docs/priors-format.md)"
            else:
                detail = (f"unknown key '{name}' (see docs/priors-format.md)"
                          f"{suggestion(name, _all_field_names())}")
        raise PriorsError(
            f"{path.name}: {key or '(top level)'}: {detail}; got {_short(bad)}."
            + (f" ({len(exc.errors())} problems in all; this is the first.)" if len(exc.errors()) > 1 else "")
        ) from None


def _all_field_names() -> set[str]:
    names: set[str] = set()
    for cls in (Row, GivenRow, Ratio, ConditionPriors, NoisyMax, Scenario, Reference):
        names.update(cls.model_fields)
    return names


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_priors(folder: Path | str | None = None, *, counts: bool = True) -> Priors:
    """Load and validate every file of the priors folder.

    Parameters
    ----------
    folder : path, optional
        The priors folder; default ``priors/`` of the project (or ``CALCINOSIS_PRIORS``).
    counts : bool
        Apply ``corpus_counts.yaml`` (default); ``False`` gives the judgement tables, from
        which ``calcinosis learn`` recounts even when the file is stale.

    Returns
    -------
    Priors

    Raises
    ------
    PriorsError
        Naming the file, the key, the bad value and what was expected.
    """
    folder = Path(folder) if folder else priors_dir()
    files = _priors_files(folder, counts)
    entry = f"priors-{cache.key(files, str(counts))}"
    cached = cache.load(entry)
    if isinstance(cached, Priors):
        return cached
    priors = _read_priors(folder, counts)
    cache.store(entry, priors)
    return priors


def _required_files() -> list[str]:
    return ["settings.yaml", "references.yaml", "population.yaml", "conditions.yaml", *FINDING_FILES,
            "lesion.yaml", "vocabulary.yaml"]


def _optional_files(folder: Path, counts: bool) -> list[str]:
    """The learning files present in ``folder`` (only ``learning.yaml`` without the counts)."""
    return [n for n in ("learning.yaml", "corpus_counts.yaml")[: 2 if counts else 1] if (folder / n).is_file()]


def _priors_files(folder: Path, counts: bool) -> list[Path]:
    """Every file that ``load_priors`` reads that exists, in a fixed order (a missing
    required file is left out of the cache key; reading the folder then reports it)."""
    names = [*_required_files(), *_optional_files(folder, counts)]
    return [folder / n for n in names if (folder / n).is_file()] + sorted((folder / "scenarios").glob("*.yaml"))


def _read_priors(folder: Path, counts: bool) -> Priors:
    """Read and validate the priors folder (``load_priors`` without the cache)."""
    vocabulary = load_vocabulary(folder / "vocabulary.yaml")
    digest = hashlib.sha256()
    raw: dict[str, Any] = {}
    for name in [*_required_files(), *_optional_files(folder, counts)]:
        raw[name] = _read_yaml(folder / name)
        digest.update((folder / name).read_bytes())
    scenario_paths = sorted((folder / "scenarios").glob("*.yaml"))
    for path in scenario_paths:
        digest.update(path.read_bytes())

    settings = _parse(Settings, raw["settings.yaml"], folder / "settings.yaml")
    references = {
        key: _parse(Reference, value, folder / "references.yaml")
        for key, value in _mapping(raw["references.yaml"], folder / "references.yaml").items()
    }
    population = {
        key: _parse(Row, value, folder / "population.yaml")
        for key, value in _mapping(raw["population.yaml"], folder / "population.yaml").items()
    }
    conditions_file = _parse(ConditionsFile, raw["conditions.yaml"], folder / "conditions.yaml")
    noisy_max: dict[str, NoisyMax] = {}
    origin: dict[str, str] = {key: "population.yaml" for key in population}
    origin.update({key: "conditions.yaml" for key in conditions_file.conditions})
    latent: list[str] = []
    for name in FINDING_FILES:
        for key, value in _mapping(raw[name], folder / name).items():
            if key in noisy_max:
                raise PriorsError(f"{name}: {key}: defined twice (also in {origin[key]}).")
            noisy_max[key] = _parse(NoisyMax, value, folder / name)
            origin[key] = name
            if name == "physiology.yaml":
                latent.append(key)
    lesion = _parse(LesionFile, raw["lesion.yaml"], folder / "lesion.yaml")
    origin.update({key: "lesion.yaml" for key in lesion.signs})
    scenarios = {}
    for path in scenario_paths:
        scenario = _parse(Scenario, _read_yaml(path), path)
        if scenario.id != path.stem:
            raise PriorsError(f"scenarios/{path.name}: id: must equal the file name; got '{scenario.id}', expected '{path.stem}'.")
        scenarios[scenario.id] = scenario

    priors = Priors(
        vocabulary=vocabulary, settings=settings, population=population,
        conditions=dict(conditions_file.conditions), other_causes=conditions_file.other_causes.occurrence,
        noisy_max=noisy_max, latent=latent, lesion_signs=lesion.signs, scenarios=scenarios,
        references=references, origin=origin, checksum=digest.hexdigest(),
        judgement_lesion_signs=lesion.signs,
    )
    _Checker(priors).check_all()
    priors = dataclasses.replace(priors, lesion_signs=with_series(lesion.signs))
    if "learning.yaml" in raw:
        learning = _parse(LearningSettings, raw["learning.yaml"], folder / "learning.yaml")
        counts = _parse(CountsFile, raw.get("corpus_counts.yaml") or {"corpus_cases": 0, "corpus_publications": 0},
                        folder / "corpus_counts.yaml")
        priors = with_counts(priors, counts, learning)
    return priors


def series_counts(judgement: Row) -> dict[str, float]:
    """The patients of the row's published series, summed by state."""
    total: dict[str, float] = {}
    for series in judgement.series:
        for state, count in series.counts.items():
            total[state] = total.get(state, 0.0) + count
    return total


def learned_row(judgement: Row, counts: dict[str, float]) -> dict[str, float]:
    """The probabilities of a judgement row updated by counts: the judgement is a
    Dirichlet prior worth as many patients as its stated concentration (at most
    ``judgement_max_concentration``), and the counts of its published series and of the
    corpus (``counts``) are added to it, so that the row's interval only narrows as
    patients are counted."""
    added = series_counts(judgement)
    for state, count in counts.items():
        added[state] = added.get(state, 0.0) + count
    total = sum(added.values())
    weight = judgement.concentration
    return {state: (weight * value + added.get(state, 0.0)) / (weight + total)
            for state, value in judgement.probabilities.items()}


def derived_row(judgement: Row, corpus: dict[str, float] | None = None, *, source: str | None = None,
                locator: str | None = None) -> Row:
    """The ``derived`` row of a judgement row: the judgement plus the counts of its published
    series and, when given, of the corpus (``corpus``), with the arithmetic as its derivation.
    ``source`` and ``locator`` default to the first series."""
    corpus = corpus or {}
    weight = judgement.concentration
    n = sum(series_counts(judgement).values()) + sum(corpus.values())
    added = "".join(f" + {{{_counted(s.counts)}}} of {s.source} ({s.locator})" for s in judgement.series)
    if corpus:
        added += f" + {{{_counted(corpus)}}} of the corpus"
    return Row(
        probabilities=learned_row(judgement, corpus), concentration=weight + n,
        source=source or judgement.series[0].source, kind="derived",
        locator=locator or f"{n:g} patients of published series",
        derivation=f"(prior_weight x judgement + counts) / (prior_weight + n) = ({weight:g} x judgement of "
                   f"lesion.yaml [{judgement.source}: {judgement.locator}]{added}) / ({weight:g} + {n:g}); "
                   "prior_weight is the judgement's concentration",
        note=judgement.note)


def _counted(counts: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in counts.items() if v)


def with_counts(priors: Priors, counts: CountsFile, settings: LearningSettings) -> Priors:
    """``priors`` with every judgement row of the lesion tables that has counts replaced
    by its learned, ``derived`` row; the other rows are kept as they are.

    Raises
    ------
    PriorsError
        When ``corpus_counts.yaml`` names a row that does not exist or is not learned,
        starts from a judgement other than the one in ``lesion.yaml`` (regenerate it with
        ``calcinosis learn``), or states probabilities its arithmetic does not give.
    """
    where = "corpus_counts.yaml: rows"
    if settings.source not in priors.references:
        raise PriorsError(f"learning.yaml: source: '{settings.source}' is not a key of references.yaml."
                          f"{suggestion(settings.source, priors.references)}")
    causes = priors.vocabulary.causes
    for cause in settings.unlearned_causes:
        if cause not in causes:
            raise PriorsError(f"learning.yaml: unlearned_causes: '{cause}' is not a cause. Allowed: "
                              f"{allowed(causes)}.{suggestion(cause, causes)}")
    signs = with_series(priors.judgement_lesion_signs)
    tol = priors.settings.sum_tolerance
    for sign, rows in counts.rows.items():
        if sign not in signs:
            raise PriorsError(f"{where}.{sign}: not a sign of lesion.yaml.{suggestion(sign, signs)}")
        for cause, learned in rows.items():
            judgement = priors.judgement_lesion_signs[sign].get(cause)
            if not isinstance(judgement, Row) or judgement.kind not in settings.learned_kinds:
                raise PriorsError(f"{where}.{sign}.{cause}: not a learned row of lesion.yaml (a single row of kind "
                                  f"{allowed(settings.learned_kinds)}).{suggestion(cause, signs[sign])}")
            if cause in settings.unlearned_causes:
                raise PriorsError(f"{where}.{sign}.{cause}: learning.yaml lists '{cause}' in unlearned_causes; "
                                  "regenerate the counts with 'calcinosis learn'.")
            if (any(abs(learned.prior.get(k, -1) - v) > tol for k, v in judgement.probabilities.items())
                    or learned.prior_weight != judgement.concentration):
                raise PriorsError(f"{where}.{sign}.{cause}.prior: differs from the row of lesion.yaml; the counts "
                                  "are stale: regenerate them with 'calcinosis learn'.")
            for state in learned.counts:
                if state not in judgement.probabilities:
                    raise PriorsError(f"{where}.{sign}.{cause}.counts.{state}: not a state of the row. Allowed: "
                                      f"{allowed(judgement.probabilities)}.{suggestion(state, judgement.probabilities)}")
            expected = learned_row(judgement, learned.counts)
            for state, value in expected.items():
                if abs(learned.probabilities.get(state, -1) - value) > 1e-6:
                    raise PriorsError(f"{where}.{sign}.{cause}.probabilities.{state}: the arithmetic gives "
                                      f"{value:.6f}, the file states {learned.probabilities.get(state)!r}; if "
                                      "the row's series changed, regenerate the counts with 'calcinosis learn'.")
            signs[sign][cause] = derived_row(
                judgement, learned.counts, source=settings.source,
                locator=f"corpus_counts.yaml: {sign}.{cause} ({sum(learned.counts.values()):g} patients from "
                        f"{learned.publications} publications; case ids listed there)")
    return dataclasses.replace(priors, lesion_signs=signs, learning=settings, counts=counts)


def with_series(signs: dict[str, dict[str, Row | list[GivenRow]]]) -> dict[str, dict[str, Row | list[GivenRow]]]:
    """The lesion tables with every judgement row that has published series replaced by
    its ``derived`` row (the judgement plus the series' counts)."""
    return {sign: {cause: derived_row(row) if isinstance(row, Row) and row.series else row
                   for cause, row in rows.items()} for sign, rows in signs.items()}


def _mapping(data: Any, path: Path) -> dict:
    if not isinstance(data, dict):
        raise PriorsError(f"{path.name}: (top level): must be a mapping; got {type(data).__name__}.")
    return data


# --------------------------------------------------------------------------- rules
class _Checker:
    """The semantic rules that the schema alone cannot express."""

    def __init__(self, priors: Priors):
        self.p = priors
        self.v = priors.vocabulary
        self.tol = priors.settings.sum_tolerance

    def fail(self, where: str, message: str) -> None:
        raise PriorsError(f"{where}: {message}")

    # -- generic leaves ---------------------------------------------------------
    def provenance(self, where: str, entry: Provenance) -> None:
        if entry.source not in self.p.references:
            self.fail(where, f"source '{entry.source}' is not a key of references.yaml."
                      f"{suggestion(entry.source, self.p.references)}")
        if entry.kind == "derived" and not entry.derivation:
            self.fail(where, "kind 'derived' needs a 'derivation' stating the computation.")

    def row(self, where: str, row: Row, states: tuple[str, ...], *, full: bool, exclude: str | None = None,
            series: bool = False) -> None:
        self.provenance(where, row)
        if row.series and not series:
            self.fail(f"{where}.series", "only a single row of the lesion tables may add counts of published series.")
        usable = [s for s in states if s != exclude]
        for state, value in row.probabilities.items():
            if state not in usable:
                self.fail(f"{where}.probabilities", f"state '{state}' is not a state this row may set. "
                          f"Allowed: {allowed(usable)}.{suggestion(state, usable)}")
            if not (0 <= value <= 1) or math.isnan(value):
                self.fail(f"{where}.probabilities.{state}", f"a probability must lie in [0, 1]; got {value!r}.")
        if row.interval is None and row.concentration is None:
            self.fail(where, "needs its uncertainty: 'interval' (per state) or 'concentration'.")
        if row.interval is not None:
            binary_complement = len(states) == 2 and len(row.interval) == 1 and set(row.interval) <= set(row.probabilities)
            if set(row.interval) != set(row.probabilities) and not binary_complement:
                self.fail(f"{where}.interval", f"must give one [low, high] for each listed state "
                          f"{sorted(row.probabilities)}; got {sorted(row.interval)}.")
            for state, (low, high) in row.interval.items():
                value = row.probabilities[state]
                if not (0 <= low <= value <= high <= 1):
                    self.fail(f"{where}.interval.{state}", f"must satisfy 0 <= low <= value <= high <= 1; "
                              f"got value {value!r} with interval [{low!r}, {high!r}].")
        total = sum(row.probabilities.values())
        binary_shorthand = full and len(states) == 2 and len(row.probabilities) == 1
        if full and not binary_shorthand and abs(total - 1.0) > self.tol:
            self.fail(f"{where}.probabilities", f"must sum to 1 (within {self.tol:g}) over all states "
                      f"{allowed(states)}; they sum to {total!r}.")
        if total > 1.0 + self.tol:
            self.fail(f"{where}.probabilities", f"must sum to at most 1; they sum to {total!r}.")
        if row.kind == "judgement":
            self.judgement_width(where, row)

    def judgement_width(self, where: str, row: Row) -> None:
        settings = self.p.settings
        if row.concentration is not None and row.concentration <= settings.judgement_max_concentration:
            return
        if row.interval is not None:
            for state, (low, high) in row.interval.items():
                if _odds_ratio(low, high) < settings.judgement_min_odds_ratio - self.tol:
                    self.fail(f"{where}.interval.{state}", f"a judgement needs a wide range: the interval must "
                              f"span at least a factor {settings.judgement_min_odds_ratio:g} in odds; "
                              f"[{low!r}, {high!r}] spans {_odds_ratio(low, high):.2f}.")
            return
        self.fail(where, f"a judgement needs a wide range: concentration at most "
                  f"{settings.judgement_max_concentration:g}; got {row.concentration!r}.")

    def ratio(self, where: str, ratio: Ratio) -> None:
        self.provenance(where, ratio)
        low, high = ratio.interval
        if not (0 < low <= ratio.value <= high):
            self.fail(f"{where}.interval", f"must satisfy 0 < low <= value <= high; got value "
                      f"{ratio.value!r} with interval [{low!r}, {high!r}].")
        if ratio.kind == "judgement" and high / low < self.p.settings.judgement_min_odds_ratio - self.tol:
            self.fail(f"{where}.interval", f"a judgement needs a wide range: high/low at least "
                      f"{self.p.settings.judgement_min_odds_ratio:g}; got {high / low:.2f}.")

    def node_state(self, where: str, node: str, state: str, candidates: dict[str, tuple[str, ...]]) -> None:
        if node not in candidates:
            self.fail(where, f"'{node}' cannot be used here. Allowed: {allowed(candidates)}.{suggestion(node, candidates)}")
        if state not in candidates[node]:
            self.fail(where, f"state '{state}' is not valid for '{node}'. Allowed: "
                      f"{allowed(candidates[node])}.{suggestion(state, candidates[node])}")

    # -- files ------------------------------------------------------------------
    def check_all(self) -> None:
        self.check_settings()
        self.check_references()
        self.check_population()
        self.check_conditions()
        self.check_noisy_max()
        self.check_lesion()
        self.check_coverage()
        for scenario in self.p.scenarios.values():
            check_scenario(self.p, scenario, f"scenarios/{scenario.id}.yaml")

    def check_settings(self) -> None:
        seen: set[str] = set()
        for cid in self.p.settings.attribution_order:
            if cid not in self.v.conditions:
                self.fail("settings.yaml: attribution_order", f"'{cid}' is not a condition. Allowed: "
                          f"{allowed(self.v.conditions)}.{suggestion(cid, self.v.conditions)}")
            if cid in seen:
                self.fail("settings.yaml: attribution_order", f"'{cid}' is listed twice; list each condition once.")
            seen.add(cid)

    def check_references(self) -> None:
        if next(iter(self.p.references), None) != "paparo2011":
            self.fail("references.yaml", "the source review (key 'paparo2011') must be the first reference.")

    def context_states(self) -> dict[str, tuple[str, ...]]:
        return {node: self.v.findings[node] for node in self.v.categories["context"]}

    def check_population(self) -> None:
        context = self.context_states()
        for node, row in self.p.population.items():
            if node not in context:
                self.fail(f"population.yaml: {node}", f"not a context node. Allowed: {allowed(context)}."
                          f"{suggestion(node, context)}")
            self.row(f"population.yaml: {node}", row, context[node], full=True)

    def parent_candidates(self) -> dict[str, tuple[str, ...]]:
        candidates = dict(self.context_states())
        candidates.update({c: CONDITION_STATES for c in self.v.conditions})
        return candidates

    def check_conditions(self) -> None:
        where_file = "conditions.yaml"
        for cid in self.p.conditions:
            if cid not in self.v.conditions:
                self.fail(f"{where_file}: conditions.{cid}", f"not a condition of the vocabulary."
                          f"{suggestion(cid, self.v.conditions)}")
        candidates = self.parent_candidates()
        for cid, entry in self.p.conditions.items():
            base = f"{where_file}: conditions.{cid}"
            for parent, states in entry.relative_risk.items():
                if parent == cid:
                    self.fail(f"{base}.relative_risk.{parent}", "a condition cannot be its own parent.")
                for state, ratio in states.items():
                    self.node_state(f"{base}.relative_risk.{parent}.{state}", parent, state, candidates)
                    self.ratio(f"{base}.relative_risk.{parent}.{state}", ratio)
            self.given_row(f"{base}.occurrence", entry.occurrence, set(entry.relative_risk), candidates)
            self.given_rows(f"{base}.calcification", entry.calcification, CONDITION_STATES,
                            {**candidates, **self.mineral_candidates()}, exclude=cid)
        self.row(f"{where_file}: other_causes.occurrence", self.p.other_causes, CONDITION_STATES, full=True)
        _check_cycles(self.p, "conditions.yaml: relative_risk", include_latent=False)

    def given_rows(self, where: str, rows: list[GivenRow], states: tuple[str, ...], candidates, exclude: str) -> None:
        """Full rows, one for each combination of the states of their 'given' parents."""
        given_keys = {tuple(sorted(row.given)) for row in rows}
        if len(given_keys) != 1:
            self.fail(where, f"every row must name the same 'given' parents; got {sorted(given_keys)}.")
        keys = list(next(iter(given_keys)))
        for i, row in enumerate(rows):
            for parent, state in row.given.items():
                if parent == exclude:
                    self.fail(f"{where}[{i}].given", f"cannot condition on '{exclude}' itself.")
                self.node_state(f"{where}[{i}].given.{parent}", parent, state, candidates)
            self.row(f"{where}[{i}]", row, states, full=True)
        combos = [tuple(row.given[k] for k in keys) for row in rows]
        expected = list(itertools.product(*(candidates[k] for k in keys)))
        if sorted(combos) != sorted(expected) or len(set(combos)) != len(combos):
            self.fail(where, f"rows must cover each combination of {keys} exactly once; got {combos}, expected {expected}.")

    def given_row(self, where: str, row: GivenRow, parents: set[str], candidates) -> None:
        for parent, state in row.given.items():
            if parent not in parents:
                self.fail(f"{where}.given.{parent}", f"'given' may only name parents listed under relative_risk "
                          f"({allowed(sorted(parents)) or 'none'}).")
            self.node_state(f"{where}.given.{parent}", parent, state, candidates)
        self.row(where, row, CONDITION_STATES, full=True)

    def mineral_candidates(self) -> dict[str, tuple[str, ...]]:
        """Laboratory findings of the noisy-MAX files, which a condition's production of a
        calcification may depend on (the mineral state: a high phosphate drives uraemic
        calcinosis); they are built before the production nodes."""
        return {node: self.v.findings[node] for node in self.p.noisy_max
                if node in self.v.categories["laboratory"]}

    def check_noisy_max(self) -> None:
        candidates = self.parent_candidates()
        for node in self.p.latent:
            entry = self.p.noisy_max[node]
            if node in self.v.nodes:
                self.fail(f"physiology.yaml: {node}", "a latent node must not reuse a vocabulary id.")
            if not entry.states or not entry.label:
                self.fail(f"physiology.yaml: {node}", "a latent node needs 'label' and 'states'.")
            candidates[node] = tuple(entry.states)
        for node, entry in self.p.noisy_max.items():
            where = f"{self.p.origin[node]}: {node}"
            if node not in self.p.latent:
                if node not in self.v.findings:
                    self.fail(where, f"not a finding of the vocabulary.{suggestion(node, self.v.findings)}")
                if entry.states is not None and tuple(entry.states) != self.v.findings[node]:
                    self.fail(f"{where}.states", "must not redefine the states of a vocabulary finding.")
            states = self.p.states(node) if node not in self.p.latent else tuple(entry.states)
            if sorted(entry.dominance) != sorted(states):
                self.fail(f"{where}.dominance", f"must order exactly the states {allowed(states)}; got {entry.dominance}.")
            default = entry.dominance[0]
            self.row(f"{where}.leak", entry.leak, states, full=False, exclude=default)
            for (parent, state), row in entry.cause_rows().items():
                if parent == node:
                    self.fail(f"{where}.causes.{parent}", "a node cannot cause itself.")
                if parent in self.v.findings and parent not in self.v.categories["context"]:
                    self.fail(f"{where}.causes.{parent}", "a finding cannot cause another finding; causes are "
                              "conditions, context nodes or latent nodes.")
                self.node_state(f"{where}.causes.{parent}", parent, state, candidates)
                self.row(f"{where}.causes.{parent}.{state}", row, states, full=False, exclude=default)
        _check_cycles(self.p, "physiology.yaml: causes", include_latent=True)

    def check_lesion(self) -> None:
        causes = [*self.v.conditions, OTHER_CAUSES]
        for sign, rows in self.p.judgement_lesion_signs.items():
            where = f"lesion.yaml: signs.{sign}"
            if sign not in self.v.findings or sign in self.v.categories["context"]:
                self.fail(where, f"not an imaging or clinical finding of the vocabulary.{suggestion(sign, self.v.findings)}")
            missing = [c for c in causes if c not in rows]
            if missing:
                self.fail(where, f"needs one row for every cause; missing {allowed(missing)}.")
            for cause, row in rows.items():
                if cause not in causes:
                    self.fail(f"{where}.{cause}", f"not a cause of the lesion. Allowed: condition ids and "
                              f"'{OTHER_CAUSES}'.{suggestion(cause, causes)}")
                if isinstance(row, list):
                    self.given_rows(f"{where}.{cause}", row, self.v.findings[sign], self.parent_candidates(), exclude=sign)
                else:
                    self.row(f"{where}.{cause}", row, self.v.findings[sign], full=True, series=True)
                    self.series(f"{where}.{cause}", row)

    def series(self, where: str, row: Row) -> None:
        """Published series may only add counts of the row's states to a judgement row."""
        if row.series and (row.kind != "judgement" or row.concentration is None):
            self.fail(f"{where}.series", "counts of published series are added to a judgement row with a "
                      "'concentration' (its prior weight); state a literature row without them.")
        for i, series in enumerate(row.series):
            at = f"{where}.series[{i}]"
            if series.source not in self.p.references:
                self.fail(f"{at}.source", f"'{series.source}' is not a key of references.yaml."
                          f"{suggestion(series.source, self.p.references)}")
            for state, count in series.counts.items():
                if state not in row.probabilities:
                    self.fail(f"{at}.counts.{state}", f"not a state of the row. Allowed: "
                              f"{allowed(row.probabilities)}.{suggestion(state, row.probabilities)}")
                if not (math.isfinite(count) and count >= 0):
                    self.fail(f"{at}.counts.{state}", f"a count must be a number of patients (0 or more); got {count!r}.")

    def check_coverage(self) -> None:
        missing_conditions = [c for c in self.v.conditions if c not in self.p.conditions]
        if missing_conditions:
            self.fail("conditions.yaml: conditions", f"every condition needs its priors; missing {allowed(missing_conditions)}.")
        missing_context = [n for n in self.v.categories["context"] if n not in self.p.population]
        if missing_context:
            self.fail("population.yaml", f"every context node needs its distribution; missing {allowed(missing_context)}.")
        defined = set(self.p.population) | set(self.p.noisy_max) | set(self.p.lesion_signs)
        for sign in self.p.lesion_signs:
            if sign in self.p.noisy_max:
                self.fail(f"lesion.yaml: signs.{sign}", f"also defined in {self.p.origin[sign]}; define it once.")
        structural = {"soft_tissue_calcification"}
        missing = [f for f in self.v.findings if f not in defined and f not in structural]
        if missing:
            self.fail("priors", f"every finding of the vocabulary needs a model; missing {allowed(missing)}.")


def check_scenario(priors: Priors, scenario: Scenario, where: str) -> None:
    """Validate a scenario's overrides against the priors (used for files and ``--set``)."""
    checker = _Checker(priors)
    context = checker.context_states()
    for node, row in scenario.population.items():
        if node not in context:
            checker.fail(f"{where}: population.{node}", f"not a context node. Allowed: {allowed(context)}."
                         f"{suggestion(node, context)}")
        checker.row(f"{where}: population.{node}", row, context[node], full=True)
    candidates = checker.parent_candidates()
    for cid, row in scenario.occurrence.items():
        if cid not in priors.conditions:
            checker.fail(f"{where}: occurrence.{cid}", f"not a condition.{suggestion(cid, priors.conditions)}")
        checker.given_row(f"{where}: occurrence.{cid}", row, set(priors.conditions[cid].relative_risk), candidates)
    for node, override in scenario.noisy_max.items():
        base = f"{where}: noisy_max.{node}"
        if node not in priors.noisy_max:
            checker.fail(base, f"not a node of the findings or physiology files.{suggestion(node, priors.noisy_max)}")
        entry = priors.noisy_max[node]
        states, default = priors.states(node) if node not in priors.latent else tuple(entry.states), entry.dominance[0]
        if override.leak is not None:
            checker.row(f"{base}.leak", override.leak, states, full=False, exclude=default)
        existing = entry.cause_rows()
        for (parent, state), row in override.cause_rows().items():
            if (parent, state) not in existing:
                named = sorted({p for p, _ in existing})
                checker.fail(f"{base}.causes.{parent}", f"a scenario replaces existing rows only; '{parent}' "
                             f"(state '{state}') is not a cause of {node}. Allowed: {allowed(named)}."
                             f"{suggestion(parent, named)}")
            checker.row(f"{base}.causes.{parent}.{state}", row, states, full=False, exclude=default)
    for sign, rows in scenario.lesion.items():
        if sign not in priors.lesion_signs:
            checker.fail(f"{where}: lesion.{sign}", f"not a sign of lesion.yaml.{suggestion(sign, priors.lesion_signs)}")
        for cause, row in rows.items():
            if not isinstance(priors.lesion_signs[sign].get(cause), Row):
                checker.fail(f"{where}: lesion.{sign}.{cause}", f"not a single row of lesion.yaml."
                             f"{suggestion(cause, priors.lesion_signs[sign])}")
            checker.row(f"{where}: lesion.{sign}.{cause}", row, priors.vocabulary.findings[sign], full=True)


def scenario_priors(priors: Priors, scenario: Scenario) -> Priors:
    """``priors`` with the rows a scenario replaces (noisy-MAX leaks and causes, lesion rows);
    ``priors`` itself when the scenario replaces none."""
    if not scenario.noisy_max and not scenario.lesion:
        return priors
    noisy_max = dict(priors.noisy_max)
    for node, override in scenario.noisy_max.items():
        entry = noisy_max[node]
        causes = {k: (dict(v) if isinstance(v, dict) else v) for k, v in entry.causes.items()}
        for parent, value in override.causes.items():
            if isinstance(value, dict) and isinstance(causes.get(parent), dict):
                causes[parent].update(value)
            else:
                causes[parent] = value
        noisy_max[node] = entry.model_copy(update={"leak": override.leak or entry.leak, "causes": causes})
    signs = {sign: dict(rows) for sign, rows in priors.lesion_signs.items()}
    for sign, rows in scenario.lesion.items():
        signs[sign].update(rows)
    return dataclasses.replace(priors, noisy_max=noisy_max, lesion_signs=signs)


def _odds_ratio(low: float, high: float) -> float:
    def odds(p: float) -> float:
        return math.inf if p >= 1 else p / (1 - p)
    if low <= 0:
        return math.inf
    return odds(high) / odds(low)


def _check_cycles(priors: Priors, file: str, include_latent: bool) -> None:
    """Conditions (through their relative risks) and latent nodes (through their causes)
    must form a directed acyclic graph: arrows go from causes to effects."""
    import networkx as nx

    graph = nx.DiGraph()
    for cid, entry in priors.conditions.items():
        graph.add_edges_from((parent, cid) for parent in entry.relative_risk)
    if include_latent:
        for node in priors.latent:
            graph.add_edges_from((parent, node) for parent, _ in priors.noisy_max[node].cause_rows())
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    path = " -> ".join([edge[0] for edge in cycle] + [cycle[0][0]])
    raise PriorsError(f"{file}: the nodes form a cycle ({path}); arrows must go from causes to effects.")


# --------------------------------------------------------------------------- listing
@dataclass(frozen=True)
class Parameter:
    """One number of the priors, with the row or ratio that holds it."""

    path: str
    file: str
    node: str  # the node whose table the number enters (context nodes also enter every calibration)
    holder: Row | Ratio
    state: str | None  # None for a relative risk
    value: float
    low: float
    high: float

    def record(self) -> dict:
        return {"parameter": self.path, "node": self.node, "value": self.value, "low": self.low, "high": self.high,
                "kind": self.holder.kind, "source": self.holder.source, "locator": self.holder.locator,
                "file": self.file}


def row_interval(row: Row, state: str, settings: Settings) -> tuple[float, float]:
    """The plausible range of one probability: the stated interval (for the complement
    state of a binary row, one minus the other's), or the central ``interval_mass`` of
    its Beta marginal when the row gives a Dirichlet concentration."""
    if row.interval is not None:
        if state in row.interval:
            return tuple(row.interval[state])
        (low, high), = row.interval.values()
        return (1 - high, 1 - low)
    from scipy.stats import beta

    value = row.probabilities[state]
    if value <= 0 or value >= 1:
        return (value, value)
    a, b = row.concentration * value, row.concentration * (1 - value)
    tail = (1 - settings.interval_mass) / 2
    return (float(beta.ppf(tail, a, b)), float(beta.ppf(1 - tail, a, b)))


def _row_parameters(path: str, file: str, node: str, row: Row, settings: Settings):
    for state, value in row.probabilities.items():
        low, high = row_interval(row, state, settings)
        yield Parameter(f"{path}.{state}", file, node, row, state, value, low, high)


def _given_suffix(row) -> str:
    given = ",".join(f"{k}={v}" for k, v in getattr(row, "given", {}).items())
    return f"[{given}]" if given else ""


def iter_parameters(priors: Priors, scenario: Scenario | None = None):
    """Every number of the priors (and of a scenario's overrides), as :class:`Parameter`."""
    s = priors.settings
    for node, row in priors.population.items():
        yield from _row_parameters(f"population.{node}", "population.yaml", node, row, s)
    for cid, entry in priors.conditions.items():
        yield from _row_parameters(f"conditions.{cid}.occurrence" + _given_suffix(entry.occurrence),
                                   "conditions.yaml", cid, entry.occurrence, s)
        for parent, states in entry.relative_risk.items():
            for state, ratio in states.items():
                yield Parameter(f"conditions.{cid}.relative_risk.{parent}.{state}", "conditions.yaml", cid, ratio,
                                None, ratio.value, *ratio.interval)
        for row in entry.calcification:
            yield from _row_parameters(f"conditions.{cid}.calcification" + _given_suffix(row), "conditions.yaml",
                                       f"produces__{cid}", row, s)
    yield from _row_parameters("conditions.other_causes.occurrence", "conditions.yaml", f"produces__{OTHER_CAUSES}",
                               priors.other_causes, s)
    for node, entry in priors.noisy_max.items():
        file = priors.origin[node]
        yield from _row_parameters(f"{node}.leak", file, node, entry.leak, s)
        for (parent, state), row in entry.cause_rows().items():
            yield from _row_parameters(f"{node}.causes.{parent}={state}", file, node, row, s)
    for sign, rows in priors.lesion_signs.items():
        for cause, entry in rows.items():
            for row in entry if isinstance(entry, list) else [entry]:
                yield from _row_parameters(f"lesion.{sign}.{cause}" + _given_suffix(row), "lesion.yaml", sign, row, s)
    if scenario is not None:
        file = f"scenarios/{scenario.id}.yaml"
        for node, row in scenario.population.items():
            yield from _row_parameters(f"scenario.{scenario.id}.population.{node}", file, node, row, s)
        for cid, row in scenario.occurrence.items():
            yield from _row_parameters(f"scenario.{scenario.id}.occurrence.{cid}" + _given_suffix(row), file, cid, row, s)
        for node, override in scenario.noisy_max.items():
            if override.leak is not None:
                yield from _row_parameters(f"scenario.{scenario.id}.{node}.leak", file, node, override.leak, s)
            for (parent, state), row in override.cause_rows().items():
                yield from _row_parameters(f"scenario.{scenario.id}.{node}.causes.{parent}={state}", file, node, row, s)
        for sign, rows in scenario.lesion.items():
            for cause, row in rows.items():
                yield from _row_parameters(f"scenario.{scenario.id}.lesion.{sign}.{cause}", file, sign, row, s)
