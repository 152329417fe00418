"""`python -m producer`: load clickstream dumps into Kafka."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from contract.settings import Settings
from producer.files import DumpError, name_of
from producer.loader import LoadSummary, load_file
from producer.publish import KafkaPublisher

app = typer.Typer(help="Download, validate and stream Wikipedia clickstream dumps into Kafka.", no_args_is_help=True)
console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """Keep subcommands explicit (`load`, ...) even while there is only one."""


@app.command()
def load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A .tsv or .tsv.gz dump file.")],
    lang: Annotated[Optional[str], typer.Option(help="Wiki language code; default: from the file name.")] = None,
    month: Annotated[Optional[str], typer.Option(help="YYYY-MM; default: from the file name.")] = None,
    bootstrap: Annotated[Optional[str], typer.Option(help="Kafka bootstrap servers; default: $CLICKSTREAM_KAFKA_BOOTSTRAP.")] = None,
    run_id: Annotated[Optional[str], typer.Option(help="Id of this run, shown by /api/v1/ingestion; default: random.")] = None,
) -> None:
    """Validate FILE line by line and stream it into Kafka; bad lines go to the dead-letter topic."""
    try:
        name = name_of(file, lang, month)
    except DumpError as err:
        console.print(f"[red]error:[/] {err}")
        raise typer.Exit(2)
    publisher = KafkaPublisher(bootstrap or Settings.from_env().kafka_bootstrap)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
               TextColumn("{task.fields[rows]:,} rows  {task.fields[rate]:,.0f} rows/s"), TimeRemainingColumn())
    try:
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task(f"{name.lang} {name.month}", total=file.stat().st_size, rows=0, rate=0.0)

            def progress(position: int, rows: int) -> None:
                elapsed = bar.tasks[task].elapsed or 1e-9
                bar.update(task, completed=position, rows=rows, rate=rows / elapsed)

            summary = load_file(file, name, publisher, progress, run=run_id)
    finally:
        publisher.close()
    _print_summary(summary)
    if summary.error:
        raise typer.Exit(1)


def _print_summary(summary: LoadSummary) -> None:
    table = Table(title=f"{summary.file} → {summary.lang} {summary.month}", show_header=False)
    table.add_row("accepted", f"{summary.accepted:,}")
    for reason, count in sorted(summary.rejected.items()):
        table.add_row(f"rejected: {reason}", f"{count:,}")
    table.add_row("seconds", f"{summary.seconds:.1f}")
    table.add_row("rows/s", f"{summary.rows_per_second:,.0f}")
    console.print(table)
    if summary.error:
        console.print(f"[red]load failed:[/] {summary.error}")


def main() -> None:
    app()
