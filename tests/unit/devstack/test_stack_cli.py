"""`python -m devstack.stack` ends every failure in one `error:` line and an exit code, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devstack import stack

ROOT = Path(__file__).resolve().parents[3]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("args, says", [
    ([], "required: command"),
    (["bogus"], "invalid choice: 'bogus'"),
    (["load"], "load needs --file"),
    (["load", "--file", "x.tsv"], "not a standard dump name"),
    (["load", "--file", "x.tsv", "--lang", "en", "--month", "2024-13"], "impossible month"),
])
def test_a_usage_error_is_one_line_and_exit_2(args, says, tmp_path):
    # No pulumi on PATH: a usage error must be found before any stack is asked anything.
    done = subprocess.run([sys.executable, "-m", "devstack.stack", *args], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": str(tmp_path), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert error_lines(done.stderr) == done.stderr.splitlines()
    (line,) = error_lines(done.stderr)
    assert says in line


def test_a_missing_pulumi_is_one_clear_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "devstack.stack", "url", "--stack", "nosuch"], cwd=ROOT,
                          capture_output=True, text=True,
                          env={"PATH": str(tmp_path), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)})
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["error: pulumi is not installed here: run `make setup`, "
                                        "or `. toolchain/env.sh`"]


def test_a_command_output_comes_before_the_error_line(monkeypatch, capsys):
    def failing(stack_name):
        raise SystemExit("`pulumi stack output` failed with exit 255\nerror: no stack named 'nosuch' found\n")

    monkeypatch.setattr(stack, "outputs", failing)
    assert stack.run(["url", "--stack", "nosuch"]) == 1
    assert capsys.readouterr().err.splitlines() == ["error: no stack named 'nosuch' found",
                                                    "error: `pulumi stack output` failed with exit 255"]


def test_a_failed_producer_keeps_its_own_line_and_exit_code(monkeypatch, capfd):
    monkeypatch.setattr(stack, "outputs", lambda stack_name: {"kafkaBootstrap": "127.0.0.1:1"})
    missing = "clickstream-enwiki-2024-11-absent.tsv"
    assert stack.run(["load", "--file", missing, "--lang", "en", "--month", "2024-11"]) == 2
    stderr = capfd.readouterr().err
    assert "Traceback" not in stderr
    (line,) = error_lines(stderr)
    assert "does not exist" in line and stderr.rstrip().endswith(line)


def test_a_failed_load_says_why_in_one_line(monkeypatch, capfd):
    monkeypatch.setattr(stack, "outputs", lambda stack_name: {"kafkaBootstrap": "127.0.0.1:1"})
    monkeypatch.setattr(stack, "produce", lambda cmd, env=None: 0)
    monkeypatch.setattr(stack, "wait_for_load", lambda *a: {"status": "failed", "rows_accepted": 10,
                                                            "error": "Kafka did not acknowledge 3 records"})
    code = stack.run(["load", "--file", "clickstream-enwiki-2024-11.tsv", "--wait"])
    assert code == 1
    stderr = capfd.readouterr().err
    assert stderr.splitlines()[-1] == "error: load failed: Kafka did not acknowledge 3 records"


def test_an_unexpected_error_is_one_line_naming_the_trace_file(tmp_path, monkeypatch, capsys):
    def crash(stack_name):
        raise KeyError("webUrl")

    monkeypatch.setenv("CLICKSTREAM_CACHE", str(tmp_path))
    monkeypatch.setattr(stack, "outputs", crash)
    assert stack.run(["url"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    (log,) = (tmp_path / "logs").glob("stack-*.log")
    assert line == f"error: unexpected KeyError: 'webUrl' (full trace in {log})"
    assert "Traceback" in log.read_text() and "crash" in log.read_text()
