"""The one way an id becomes a file name.

A case id comes from a file or an upload; it may be an absolute path, contain ``..``,
separators, unicode look-alikes of ``/`` or a reserved device name. :func:`file_stem`
turns any text into a plain name of ASCII letters, digits, ``_`` and ``-`` (at most 80
characters) and :func:`inside` returns a path under a folder, refusing anything else, so
that no command writes outside the folder it was given.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ..errors import EvidenceError

MAX_STEM = 80
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def file_stem(text: str, fallback: str = "case") -> str:
    """A safe file name for ``text``: look-alikes folded (NFKC), anything but ASCII letters,
    digits, ``_`` and ``-`` replaced by ``_``, runs collapsed, leading and trailing ``_``
    and ``-`` removed, at most 80 characters; ``fallback`` when nothing is left."""
    folded = unicodedata.normalize("NFKC", str(text))
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", folded).strip("_-")[:MAX_STEM].strip("_-")
    if not stem:
        return fallback
    if stem.lower() in _RESERVED:
        stem = f"{stem}_"
    return stem


def inside(folder: Path | str, name: str) -> Path:
    """``folder / file_stem(name)``, checked to lie inside ``folder``."""
    root = Path(folder).resolve()
    path = (root / file_stem(name)).resolve()
    if root not in path.parents:
        raise EvidenceError(f"{name!r}: would be written outside {root}.")
    return path
