"""`python -m producer`: discover, download, generate and load clickstream dumps into Kafka."""

from __future__ import annotations

import logging
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.cells import cell_len
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from contract import crashlog
from contract.records import check_lang, check_month
from contract.settings import Settings
from producer import bars, config, dumps
from producer import generate as synthetic
from producer.bars import console
from producer.download import DownloadError, download as fetch_dump
from producer.files import DumpError, DumpName, name_of
from producer.loader import LoadInterrupted, LoadSummary, load_file
from producer.publish import KafkaPublisher
from producer.watch import Watcher, WatchState

app = typer.Typer(help="Download, validate and stream Wikipedia clickstream dumps into Kafka.", no_args_is_help=True)
log = logging.getLogger("producer")

LangOpt = Annotated[Optional[str], typer.Option(help="Wiki language code, e.g. en or de.")]
MonthOpt = Annotated[Optional[str], typer.Option(help="Month as YYYY-MM.")]
BaseUrlOpt = Annotated[Optional[str], typer.Option(
    "--base-url", help=f"Dumps base URL; default: ${config.DUMPS_URL_ENV}, else {config.DEFAULT_DUMPS_URL}")]
DestOpt = Annotated[Optional[Path], typer.Option(
    help=f"Dump cache directory; default: ${config.DUMPS_DIR_ENV}, else ~/.cache/clickstream/dumps.")]
BootstrapOpt = Annotated[Optional[str], typer.Option(
    help="Kafka bootstrap servers; default: $CLICKSTREAM_KAFKA_BOOTSTRAP.")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    _error(message)
    return typer.Exit(code)


def _error(message: str) -> None:
    # One line however narrow the terminal, and a message's brackets are not taken for rich markup.
    console.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)


def _titled(title: str, **options) -> Table:
    """A table whose title wraps between words, never inside one, at any terminal width."""
    width = min(cell_len(title), console.width)
    return Table(title=Text(title, overflow="ellipsis"), min_width=width, **options)


def _checked(lang: str, month: str) -> tuple[str, str]:
    try:
        return check_lang(lang), check_month(month)
    except ValueError as err:
        raise _fail(str(err), 2) from None


@app.command()
def months(
    lang: LangOpt = None,
    base_url: BaseUrlOpt = None,
    recent: Annotated[int, typer.Option(help="Only the newest N months (0: all).")] = 0,
) -> None:
    """List the published months and their languages, read from the dumps index."""
    base = config.dumps_url(base_url)
    try:
        found = dumps.list_months(base)
        found = found[-recent:] if recent else found
        listings = []
        with bars.rows("reading month folders", len(found)) as progress:
            for i, month in enumerate(found, 1):
                listings.append(dumps.list_month(base, month))
                progress(i)
    except dumps.NETWORK_ERRORS as err:
        raise _fail(f"the dumps index at {base} cannot be read: {err}") from None
    table = _titled(f"clickstream dumps at {base}")
    table.add_column("month")
    table.add_column("languages", justify="right")
    table.add_column("file" if lang else "codes")
    table.add_column("md5sums")
    for listing in listings:
        if lang and lang not in listing.dumps:
            continue
        table.add_row(listing.month, str(len(listing.dumps)),
                      listing.dumps[lang] if lang else " ".join(listing.langs),
                      ", ".join(listing.md5_files) or "[red]none[/]")
    console.print(table)
    if lang and not any(lang in listing.dumps for listing in listings):
        raise _fail(f"no month has a {lang} dump")


def _download(lang: str, month: str, dest: Path | None, base_url: str | None) -> Path:
    base = config.dumps_url(base_url)
    try:
        with bars.transfer(dumps.dump_name(lang, month)) as progress:
            return fetch_dump(lang, month, config.dumps_dir(dest), base, progress)
    except (DownloadError, DumpError) as err:
        raise _fail(str(err)) from None
    except dumps.NETWORK_ERRORS as err:
        raise _fail(f"{base} cannot be reached: {err}") from None


@app.command()
def download(
    lang: Annotated[str, typer.Option(help="Wiki language code, e.g. en or de.")],
    month: Annotated[str, typer.Option(help="Month as YYYY-MM.")],
    dest: DestOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Download one month's dump into the cache (resuming a broken transfer) and verify its md5."""
    lang, month = _checked(lang, month)
    path = _download(lang, month, dest, base_url)
    console.print(f"[green]ok:[/] {path} (md5 verified)")


@app.command()
def load(
    file: Annotated[Optional[Path], typer.Argument(
        exists=True, dir_okay=False, help="A .tsv or .tsv.gz dump file; or give --lang and --month.")] = None,
    lang: Annotated[Optional[str], typer.Option(help="Wiki language code; default: from the file name.")] = None,
    month: Annotated[Optional[str], typer.Option(help="YYYY-MM; default: from the file name.")] = None,
    bootstrap: BootstrapOpt = None,
    run_id: Annotated[Optional[str], typer.Option(
        help="Id of this run, shown by /api/v1/ingestion; default: random.")] = None,
    dest: DestOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Validate a dump line by line and stream it into Kafka; bad lines go to the dead-letter topic.

    Without FILE, `--lang` and `--month` name a published dump, downloaded first if it is not cached.
    """
    if file is None:
        if not (lang and month):
            raise _fail("give a FILE, or --lang and --month", 2)
        lang, month = _checked(lang, month)
        file = config.dumps_dir(dest) / dumps.dump_name(lang, month)
        if not file.exists():
            file = _download(lang, month, dest, base_url)
    try:
        name = name_of(file, lang, month)
    except DumpError as err:
        raise _fail(str(err), 2) from None
    publisher = _connect(_kafka(bootstrap))
    try:
        with bars.loading(f"{name.lang} {name.month}", file.stat().st_size) as (check, progress):
            summary = load_file(file, name, publisher, progress, run=run_id, check_progress=check)
    except LoadInterrupted as stop:
        _print_summary(stop.summary)
        raise _fail("interrupted: the rows sent were flushed and the load is marked failed", 130) from None
    finally:
        publisher.close()
    _print_summary(summary)
    if summary.error:
        raise _fail(f"load failed: {summary.error}")


def _kafka(bootstrap: str | None) -> Settings:
    """The environment's Kafka settings (servers, login), with `--bootstrap` for the servers when it is given."""
    settings = Settings.from_env()
    return replace(settings, kafka_bootstrap=bootstrap) if bootstrap else settings


def _connect(kafka: Settings) -> KafkaPublisher:
    from kafka.errors import KafkaError

    try:
        return KafkaPublisher(kafka.kafka_client_config())
    except KafkaError as err:
        raise _fail(f"Kafka at {kafka.kafka_bootstrap} cannot be reached: {err!r}") from None


def _print_summary(summary: LoadSummary) -> None:
    table = _titled(f"{summary.file} → {summary.lang} {summary.month}", show_header=False)
    table.add_row("accepted", f"{summary.accepted:,}")
    for reason, count in sorted(summary.rejected.items()):
        table.add_row(f"rejected: {reason}", f"{count:,}")
    table.add_row("seconds", f"{summary.seconds:.1f}")
    table.add_row("rows/s", f"{summary.rows_per_second:,.0f}")
    console.print(table)


@app.command()
def generate(
    rows: Annotated[int, typer.Option(min=1, help="Number of rows (an English month has about 35M).")],
    month: Annotated[str, typer.Option(help="YYYY-MM the file is named for (use one no real load uses).")],
    lang: Annotated[str, typer.Option(help="Wiki language code; also picks the titles' main script.")] = "en",
    seed: Annotated[int, typer.Option(help="Same seed, same file.")] = 0,
    out: Annotated[Optional[Path], typer.Option(
        help="Output file, gzip if it ends in .gz, '-' for stdout; default: the standard name, gzip.")] = None,
) -> None:
    """Write a synthetic month with the real one's shape (popularity, click mix, n >= 10, odd titles)."""
    lang, month = _checked(lang, month)
    path = None if str(out) == "-" else out or Path(dumps.dump_name(lang, month))
    started = time.monotonic()
    with bars.rows(f"generate {lang} {month}", rows) as progress:
        written = synthetic.write(path, rows, seed, lang, month, progress)
    seconds = time.monotonic() - started
    console.print(f"[green]ok:[/] {written:,} rows in {seconds:.1f} s ({written / seconds:,.0f} rows/s)"
                  + (f" → {path}" if path else ""))


@app.command()
def watch(
    interval: Annotated[float, typer.Option(help="Seconds between polls of the dumps index.")] = 3600.0,
    langs: Annotated[Optional[str], typer.Option(
        help=f"Comma-separated languages to load; default: ${config.WATCH_LANGS_ENV}, else en.")] = None,
    since: Annotated[Optional[str], typer.Option(
        help=f"First month to load; default: ${config.WATCH_SINCE_ENV}, "
             "else the newest published at first start.")] = None,
    state: Annotated[Optional[Path], typer.Option(
        help=f"State file of loaded months; default: ${config.WATCH_STATE_ENV}, "
             "else ~/.cache/clickstream/watch-state.json.")] = None,
    bootstrap: BootstrapOpt = None,
    dest: DestOpt = None,
    base_url: BaseUrlOpt = None,
) -> None:
    """Run forever: poll the dumps index and load each new month of the configured languages."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGTERM, _interrupt)  # `docker stop` ends a load the way Ctrl-C does
    base, directory = config.dumps_url(base_url), config.dumps_dir(dest)
    kafka = _kafka(bootstrap).kafka_client_config()
    since = config.watch_since(since)
    if since:
        try:
            check_month(since)
        except ValueError as err:
            raise _fail(str(err), 2) from None

    def load_month(lang: str, month: str) -> bool:
        path = fetch_dump(lang, month, directory, base)
        publisher = KafkaPublisher(kafka)
        try:
            summary = load_file(path, DumpName(lang, month), publisher)
        finally:
            publisher.close()
        log.info("%s %s: %s rows accepted, %s rejected, %.0f rows/s%s", lang, month, f"{summary.accepted:,}",
                 f"{sum(summary.rejected.values()):,}", summary.rows_per_second,
                 f"; error: {summary.error}" if summary.error else "")
        return not summary.error

    watcher = Watcher(base, [check_lang(x) for x in config.watch_langs(langs)],
                      WatchState.read(config.watch_state(state)), load_month, since=since, interval=interval)
    log.info("watching %s every %.0f s for %s (state: %s)", base, interval, ", ".join(watcher.langs),
             watcher.state.path)
    try:
        watcher.run()
    except KeyboardInterrupt:
        log.info("watch stopped")
        raise typer.Exit(130) from None


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """`python -m producer`: run the CLI and exit with its code."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; every failure ends in one `error:` line and an exit code (2: usage), never a traceback."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:  # what `no_args_is_help` shows, with its usage-error code
        app(args=["--help"], prog_name="producer", standalone_mode=False)
        return 2
    try:
        code = app(args=args, prog_name="producer", standalone_mode=False)
    except typer.Abort:
        _error("aborted")
        return 1
    except Exception as err:  # noqa: BLE001 - the last resort: a trace file, not a traceback
        if _said_by_typer(err):
            _error(err.format_message() + (" (see --help)" if err.exit_code == 2 else ""))
            return err.exit_code
        _error(crashlog.describe(err, "producer"))
        return 1
    return code if isinstance(code, int) else 0


def _said_by_typer(err: Exception) -> bool:
    # Typer raises its own copy of click's errors (usage, bad parameter, missing file), not public
    # names; each carries the sentence to show and its exit code.
    return callable(getattr(err, "format_message", None)) and isinstance(getattr(err, "exit_code", None), int)
