"""Limits on the counts a user can set, and the memory budget of parameter draws.

Every count of the command line (draws, rows shown, sweep steps, cohort size, chunk size)
has a documented range, checked when the option is read (:func:`count`), so that a
typo such as ``--draws 100000000`` ends with a clear message instead of a run that takes
the machine's memory. Work on parameter draws is also checked against a memory budget
before it starts (:func:`check_draws_memory`), for callers of the Python API too; the
budget is ``CALCINOSIS_MEMORY_BUDGET_MB`` megabytes (default 4096).
"""

from __future__ import annotations

import argparse
import os

from ..errors import EvidenceError

# option -> (lowest, highest); the README's command table documents the same ranges.
RANGES = {
    "draws": (1, 10_000),
    "interval_draws": (2, 10_000),
    "top": (1, 100),
    "steps": (2, 101),
    "patients": (1, 10_000_000),
    "chunk": (1_000, 1_000_000),
    "queries": (1, 1_000),
    "batch_patients": (100, 100_000),
    "mixed_patients": (100, 100_000),
}
DEFAULT_BUDGET_MB = 4096
# Memory per table entry and draw: float64 while built, float32 in the engine, and the engine's
# messages and the contiguous copies its batched matrix products make; a consultation's peak traced
# memory is about 17.7 bytes per entry and draw at 500 and 1000 draws, and a few hundred draws also
# carry some 20 MB that does not grow with them, so 24 keeps a margin.
BYTES_PER_ENTRY = 24


def count(kind: str):
    """An argparse ``type`` accepting a whole number within ``RANGES[kind]``."""
    low, high = RANGES[kind]

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number from {low:,} to {high:,}; got {text!r}")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must lie from {low:,} to {high:,}; got {value:,}")
        return value

    parse.__name__ = kind  # argparse names the type in its messages
    return parse


def memory_budget() -> int:
    """The budget in bytes (``CALCINOSIS_MEMORY_BUDGET_MB``, default 4096 MB)."""
    text = os.environ.get("CALCINOSIS_MEMORY_BUDGET_MB", str(DEFAULT_BUDGET_MB))
    try:
        megabytes = float(text)
    except ValueError:
        megabytes = -1
    if megabytes <= 0:
        raise EvidenceError(f"CALCINOSIS_MEMORY_BUDGET_MB: expected a positive number of megabytes; got {text!r}.")
    return int(megabytes * 2**20)


def check_draws_memory(draws: int, table_entries: int, where: str = "draws") -> None:
    """Refuse ``draws`` parameter draws of tables with ``table_entries`` entries in all
    when their tables would exceed the memory budget, saying how many would fit."""
    low, high = RANGES["draws"]
    if not isinstance(draws, int) or isinstance(draws, bool) or not low <= draws <= high:
        raise EvidenceError(f"{where}: must be a whole number from {low:,} to {high:,}; got {draws!r}.")
    budget = memory_budget()
    need = draws * table_entries * BYTES_PER_ENTRY
    if need > budget:
        fits = max(1, budget // (table_entries * BYTES_PER_ENTRY))
        raise EvidenceError(
            f"{where}: {draws:,} parameter draws need about {need / 2**20:,.0f} MB, above the memory budget of "
            f"{budget / 2**20:,.0f} MB; use at most {fits:,} draws, or raise CALCINOSIS_MEMORY_BUDGET_MB.")
