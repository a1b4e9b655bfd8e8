"""Terminal output shared by the commands: the rich console, a transient progress bar and
percentages as the tables print them."""

from __future__ import annotations

import sys
from contextlib import contextmanager


def console(stream=None, width: int = 120):
    """A rich console on ``stream`` (standard output), ``width`` columns, no syntax highlighting."""
    from rich.console import Console

    return Console(file=stream or sys.stdout, width=width, highlight=False)


@contextmanager
def progress_steps(total: int, description: str):
    """A transient rich progress bar on standard error (shown only on a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty())
    with bar:
        task = bar.add_task(description, total=total)

        def advance(label: str) -> None:
            bar.update(task, description=label, advance=1)
        yield advance
