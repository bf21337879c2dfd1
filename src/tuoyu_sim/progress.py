"""Progress on long work: a rich progress bar on stderr."""

from __future__ import annotations

from typing import Any


def console(stderr: bool = False) -> Any:
    """A rich console (stdout, or stderr) that does not colour numbers on its own."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def progress_bar(quiet: bool = False) -> Any:
    """A rich progress bar on stderr (silent when not a terminal or quiet).

    It has no refresh thread (``auto_refresh=False``): callers redraw it with
    ``update(..., refresh=True)`` as work finishes. Worker processes are forked
    while it is shown, and forking a process that runs other threads can
    deadlock the child (Python 3.12 warns about it).
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    err = console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
        transient=False,
        auto_refresh=False,
    )
