"""The on-disk cache of validated priors.

Reading and validating the YAML files is most of a cold consultation's start-up. The
validated :class:`~calcinosis.priors.Priors` is pickled under the cache folder, keyed
by the sha256 of every priors file together with the code that reads them, so a
changed file or a changed reader simply misses the cache and the priors are read and
validated afresh. The cache only ever holds what this package wrote after a
successful validation; an unreadable entry is ignored and rewritten.

The folder is ``CALCINOSIS_CACHE`` if set (``off`` disables the cache), else
``$XDG_CACHE_HOME/calcinosis`` or ``~/.cache/calcinosis``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

CACHE_VARIABLE = "CALCINOSIS_CACHE"
# The modules whose code decides what a loaded Priors holds.
_READERS = ("priors.py", "vocabulary.py", "yamlio.py", "cache.py")
KEEP = 8  # entries of one kind kept; older ones (from earlier versions of the files) are removed


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is off."""
    setting = os.environ.get(CACHE_VARIABLE, "")
    if setting.lower() == "off":
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "calcinosis"


def key(files: list[Path], *extra: str) -> str:
    """sha256 of the files' names and bytes, the readers' code and ``extra``."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for path in [*files, *(here / name for name in _READERS)]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()


def load(name: str) -> Any | None:
    """The cached object ``name``, or None (no cache, no entry, or an unreadable one)."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        with open(folder / f"{name}.pickle", "rb") as handle:
            return pickle.load(handle)
    except Exception:  # a missing, partial or foreign entry is a miss, never an error
        return None


def store(name: str, value: Any) -> None:
    """Write ``value`` under ``name`` atomically; a cache that cannot be written is skipped."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".tmp") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, folder / f"{name}.pickle")
        kind = name.split("-")[0]
        entries = sorted(folder.glob(f"{kind}-*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
