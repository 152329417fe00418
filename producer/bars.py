"""Rich progress bars for the CLI, wrapped as the plain callbacks the worker modules take."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeRemainingColumn, TransferSpeedColumn)

console = Console(stderr=True)


@contextmanager
def transfer(description: str) -> Iterator:
    """A bytes bar with rate; yields `progress(done, total)`. A resumed transfer starts the clock anew."""
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(description, total=None)
        started = False

        def progress(done: int, total: int | None) -> None:
            nonlocal started
            if not started:
                bar.reset(task, total=total, completed=done)
                started = True
            bar.update(task, completed=done, total=total)

        yield progress


@contextmanager
def loading(description: str, size: int) -> Iterator[tuple]:
    """Two bars: the whole-file check, then the load; yields `(check(done), load(position, rows))`."""
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
               TextColumn("{task.fields[rows]}"), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        check_task = bar.add_task(f"check {description}", total=size, rows="")
        load_task = bar.add_task(f"load {description}", total=size, rows="", start=False)

        def check(done: int) -> None:
            bar.update(check_task, completed=done)

        def load(position: int, rows: int) -> None:
            if not bar.tasks[load_task].started:
                bar.update(check_task, completed=size)
                bar.start_task(load_task)
            elapsed = bar.tasks[load_task].elapsed or 0.0
            # A rate over a few milliseconds is noise (a small file reports once, at its end).
            rate = f"  {rows / elapsed:,.0f} rows/s" if elapsed >= 1.0 else ""
            bar.update(load_task, completed=position, rows=f"{rows:,} rows{rate}")

        yield check, load


@contextmanager
def rows(description: str, total: int) -> Iterator:
    """A row-count bar with rate; yields `progress(rows_done)`."""
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(description, total=total, rate="")

        def progress(done: int) -> None:
            elapsed = bar.tasks[task].elapsed or 1e-9
            bar.update(task, completed=done, rate=f"{done / elapsed:,.0f} rows/s")

        yield progress
