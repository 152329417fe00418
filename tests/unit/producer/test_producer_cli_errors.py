"""The producer CLI ends every failure in one `error:` line and an exit code, never a traceback; its
load summary fits any terminal width."""

from __future__ import annotations

import io
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console

from producer import cli
from producer.loader import LoadSummary
from tests.conftest import SAMPLE
from tests.fakes import FakePublisher

ROOT = Path(__file__).resolve().parents[3]


def producer(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "producer", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**(env or {}), "COLUMNS": "40", "PATH": "/usr/bin:/bin",
                               "PYTHONPATH": str(ROOT)})


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("args, says", [
    (["load", "--bogus"], "No such option: --bogus"),
    (["load", "clickstream-enwiki-2024-11-missing.tsv"], "does not exist"),
    (["load"], "give a FILE, or --lang and --month"),
    (["generate", "--rows", "5", "--month", "2031-13"], "impossible month '2031-13'"),
    (["no-such-command"], "No such command"),
])
def test_a_usage_error_is_one_line_and_exit_2(args, says):
    done = producer(*args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    # One line even in a 40-column terminal: the message is never wrapped.
    (line,) = error_lines(done.stderr)
    assert says in line and done.stderr.rstrip().endswith(line)


def test_no_arguments_show_the_help_with_the_usage_code():
    done = producer()
    assert done.returncode == 2 and "load" in done.stdout + done.stderr and "Traceback" not in done.stderr


def test_an_unexpected_error_is_one_line_naming_the_trace_file(tmp_path, monkeypatch, capsys):
    def crash(*args, **kwargs):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setenv("CLICKSTREAM_CACHE", str(tmp_path))
    monkeypatch.setattr(cli, "KafkaPublisher", lambda bootstrap: FakePublisher())
    monkeypatch.setattr(cli, "load_file", crash)
    assert cli.run(["load", str(SAMPLE), "--bootstrap", "127.0.0.1:1"]) == 1
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr
    (line,) = error_lines(stderr)
    assert line.startswith("error: unexpected RuntimeError: disk on fire second line (full trace in ")
    (log,) = (tmp_path / "logs").glob("producer-*.log")
    assert str(log) in line
    assert "Traceback" in log.read_text() and "disk on fire" in log.read_text()


def test_a_failed_load_ends_in_its_error_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "KafkaPublisher", lambda bootstrap: FakePublisher())
    empty = tmp_path / "clickstream-enwiki-2024-11.tsv"
    empty.write_bytes(b"")
    assert cli.run(["load", str(empty)]) == 1
    stderr = capsys.readouterr().err
    (line,) = error_lines(stderr)
    assert line.startswith("error: load failed: ") and "empty" in line
    assert stderr.rstrip().endswith(line)


def test_an_error_message_is_not_read_as_markup(capsys):
    cli._error("bootstrap from ['127.0.0.1:1'] [bold]x[/bold]")
    assert capsys.readouterr().err.strip() == "error: bootstrap from ['127.0.0.1:1'] [bold]x[/bold]"


SUMMARY = LoadSummary(file="clickstream-enwiki-2024-11.tsv.gz", lang="en", month="2024-11", accepted=1_234_567,
                      rejected=Counter(bad_line=3), seconds=12.5)


@pytest.mark.parametrize("width", [40, 80, 200])
def test_the_summary_title_never_wraps_inside_a_word(width, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr(cli, "console", Console(file=out, width=width))
    cli._print_summary(SUMMARY)
    lines = out.getvalue().splitlines()
    assert all(len(line) <= width for line in lines)
    words = {word for line in lines for word in line.split()}
    assert {"clickstream-enwiki-2024-11.tsv.gz", "→", "en", "2024-11", "1,234,567"} <= words
    title_rows = lines[:lines.index(next(line for line in lines if line.startswith("┌")))]
    assert len(title_rows) == (1 if width >= 46 else 2)
