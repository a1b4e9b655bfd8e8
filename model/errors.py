"""The exceptions of the package and the one template their messages follow.

Every error a user can cause (a bad case file, a bad ``--set``, a corrupted priors
file, evidence the model deems impossible) is one of these classes. They all
subclass :class:`CalcinosisError`, itself a ``ValueError``, so that the command line
can turn any of them into a one-paragraph message and exit status 2, and generic
handlers still work. Messages name the file, the key, the bad value, what was
expected and, where it helps, the closest valid id.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CalcinosisError(ValueError):
    """Base class of every error caused by the user's input or data."""


class PriorsError(CalcinosisError):
    """A file under ``priors/`` breaks the schema or the rules of the network."""


class EvidenceError(CalcinosisError):
    """Evidence names an unknown node or state, or a case file is malformed."""


class ScenarioError(CalcinosisError):
    """A scenario name, scenario file or ``--set`` override is invalid."""


class ImpossibleEvidenceError(CalcinosisError):
    """The evidence has probability zero under the model.

    Attributes
    ----------
    conflict : dict
        A smallest set of the observed findings (id -> state) that cannot occur
        together under the model; removing any one of them makes the rest possible.
    """

    def __init__(self, message: str, conflict: dict[str, str]):
        super().__init__(message)
        self.conflict = conflict


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to ``word``, or None when nothing is close."""
    matches = difflib.get_close_matches(str(word), list(candidates), n=1)  # difflib's default similarity cutoff
    return matches[0] if matches else None


def suggestion(word: str, candidates: Iterable[str]) -> str:
    """A " Did you mean 'x'?" suffix, or an empty string."""
    match = closest(word, candidates)
    return f" Did you mean '{match}'?" if match else ""


def allowed(values: Iterable[str], limit: int = 12) -> str:
    """Format a list of allowed values, shortened when it is long."""
    values = [str(v) for v in values]
    shown = ", ".join(f"'{v}'" for v in values[:limit])
    if len(values) > limit:
        shown += f", ... ({len(values)} in all)"
    return shown
