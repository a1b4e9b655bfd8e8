"""The on-disk cache of validated priors and compiled inference plans.

Reading and validating the YAML files, then planning the junction trees of a
consultation's evidence patterns, is most of a cold consultation's start-up. The
validated :class:`~calcinosis.data.priors.Priors` is pickled under the cache folder, keyed
by the sha256 of every priors file together with the code that reads them; the keys of
the bibliography (which a case file's ``reference`` must name) by its bytes; the tables of
a population's network by the priors and the scenario, and those of a consultation's
parameter draws also by the number of draws and the seed; an engine's plan (:class:`~calcinosis.inference.engine.Plan`) by the network's structure, the observed nodes,
the targets and the engine's code. A changed file, structure or reader simply misses the
cache and the object is built afresh. The cache only ever holds what this package wrote
after a successful build; an unreadable entry is ignored and rewritten.

The folder is ``CALCINOSIS_CACHE`` if set (``off`` disables the cache), else
``$XDG_CACHE_HOME/calcinosis`` or ``~/.cache/calcinosis``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any, Callable

CACHE_VARIABLE = "CALCINOSIS_CACHE"
# The modules whose code decides what a loaded Priors holds.
_READERS = ("data/priors.py", "data/vocabulary.py", "foundation/yamlio.py", "foundation/cache.py")
# Entries of one kind kept; older ones (earlier versions of the files, patterns not used lately) are
# removed. A consultation plans about ten evidence patterns; a plan is a few tens of kilobytes,
# a network's tables about 1 MB, the parameter draws of one population about 11 MB.
KEEP = {"priors": 8, "plan": 400, "draws": 4, "network": 16}


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is off."""
    setting = os.environ.get(CACHE_VARIABLE, "")
    if setting.lower() == "off":
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "calcinosis"


def key(files: list[Path], *extra: str, readers: tuple[str, ...] = _READERS) -> str:
    """sha256 of the files' names and bytes, the code of the ``readers`` modules and ``extra``."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parents[1]  # the package root; readers are paths below it
    for path in [*files, *(here / name for name in readers)]:
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


def fetch(name: str, kind: type, build: Callable[[], Any]) -> Any:
    """The cached object ``name`` if it is a ``kind``; else ``build()``, stored under ``name``."""
    value = load(name)
    if not isinstance(value, kind):
        value = build()
        store(name, value)
    return value


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
        for old in entries[KEEP.get(kind, 8):]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
