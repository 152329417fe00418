"""The watch loop: loads new months once, survives an unreachable index and failing loads."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from producer.watch import Watcher, WatchState
from tests.fakes import FakeDumps, closed_port_url, sample_gz


class Recorder:
    """An injected loader that records calls and answers from a script."""

    def __init__(self, results: dict | None = None):
        self.calls: list[tuple[str, str]] = []
        self.results = results or {}

    def __call__(self, lang: str, month: str) -> bool:
        self.calls.append((lang, month))
        result = self.results.get((lang, month), True)
        if isinstance(result, Exception):
            raise result
        return result


def watcher(base: str, tmp_path: Path, load, langs=("en",), since=None, sleeps=None) -> Watcher:
    return Watcher(base, list(langs), WatchState.read(tmp_path / "state.json"), load, since=since,
                   interval=3600, min_backoff=30, sleep=(sleeps if sleeps is not None else []).append)


def test_an_unreachable_index_is_waited_for_with_backoff_and_never_crashes(tmp_path: Path, caplog):
    sleeps: list[float] = []
    load = Recorder()
    with caplog.at_level(logging.WARNING, logger="producer.watch"):
        watcher(closed_port_url(), tmp_path, load, sleeps=sleeps).run(cycles=6)
    assert sleeps == [30, 60, 120, 240, 480, 960]
    assert load.calls == []
    assert sum("unreachable" in r.getMessage() and "waiting" in r.getMessage() for r in caplog.records) == 6


def test_first_start_loads_the_newest_month_then_only_new_ones(site: FakeDumps, tmp_path: Path):
    load = Recorder()
    sleeps: list[float] = []
    w = watcher(site.base, tmp_path, load, langs=("en", "de"), sleeps=sleeps)
    w.run(cycles=2)
    assert load.calls == [("en", "2024-11")]  # de has no 2024-11 dump
    assert sleeps == [3600, 3600]
    site.tree["2024-12"] = {"clickstream-enwiki-2024-12.tsv.gz": sample_gz(), "clickstream-dewiki-2024-12.tsv.gz": b"x"}
    watcher(site.base, tmp_path, load, langs=("en", "de")).run(cycles=1)  # a restart keeps the state
    assert load.calls == [("en", "2024-11"), ("en", "2024-12"), ("de", "2024-12")]
    state = json.loads((tmp_path / "state.json").read_text())
    assert state == {"since": "2024-11", "loaded": {"de": ["2024-12"], "en": ["2024-11", "2024-12"]}}


def test_since_reaches_back_and_failed_loads_are_retried_sooner(site: FakeDumps, tmp_path: Path):
    load = Recorder({("en", "2024-10"): False, ("de", "2024-10"): ConnectionError("kafka down")})
    sleeps: list[float] = []
    w = watcher(site.base, tmp_path, load, langs=("en", "de"), since="2024-10", sleeps=sleeps)
    w.run(cycles=2)
    assert load.calls == ([("en", "2024-10"), ("de", "2024-10"), ("en", "2024-11")]
                          + [("en", "2024-10"), ("de", "2024-10")])
    assert sleeps == [30, 60]
    load.results.clear()
    w.run(cycles=1)
    assert w.state.loaded == {"en": ["2024-10", "2024-11"], "de": ["2024-10"]}
    assert sleeps[-1] == 3600


def test_an_index_that_comes_back_resets_the_backoff(site: FakeDumps, tmp_path: Path):
    sleeps: list[float] = []
    w = watcher(closed_port_url(), tmp_path, Recorder(), sleeps=sleeps)
    w.run(cycles=2)
    w.base = site.base
    w.run(cycles=1)
    w.base = closed_port_url()
    w.run(cycles=1)
    assert sleeps == [30, 60, 3600, 30]


def test_a_garbled_state_file_starts_afresh(tmp_path: Path):
    (tmp_path / "state.json").write_text("{not json")
    assert WatchState.read(tmp_path / "state.json").loaded == {}


def test_watch_command_downloads_and_loads_through_the_real_wiring(site: FakeDumps, tmp_path: Path, monkeypatch):
    import signal

    from typer.testing import CliRunner

    from producer import cli
    from tests.fakes import FakePublisher

    pub = FakePublisher()
    monkeypatch.setattr(cli, "KafkaPublisher", lambda bootstrap: pub)
    monkeypatch.setattr(Watcher, "run", lambda self: Watcher.poll(self))
    monkeypatch.setenv("CLICKSTREAM_WATCH_LANGS", "en,de")
    previous = signal.getsignal(signal.SIGTERM)
    try:
        result = CliRunner().invoke(cli.app, ["watch", "--since", "2024-10", "--base-url", site.base,
                                              "--dest", str(tmp_path / "dumps"), "--state", str(tmp_path / "s.json")])
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert result.exit_code == 0, result.output
    # en loads twice; de 2024-10 is a broken file: its load fails and the watch goes on.
    assert [(e.month, e.status) for e in pub.events() if e.lang == "en"] == [
        ("2024-10", "loading"), ("2024-10", "produced"), ("2024-11", "loading"), ("2024-11", "produced")]
    assert len(pub.rows()) == 2 * 1039
    assert json.loads((tmp_path / "s.json").read_text())["loaded"] == {"en": ["2024-10", "2024-11"]}
