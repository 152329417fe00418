"""`python -m loadtests.run` end to end with real Locust against a tiny server on 127.0.0.1 (a few seconds),
so a change in Locust's CSV columns or command line fails here rather than in a load test."""

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from loadtests import run, thresholds

ROOT = Path(__file__).resolve().parents[3]
LOCUSTFILE = '''
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser


class Tiny(FastHttpUser):
    wait_time = constant(0.05)

    @task
    def root(self):
        self.client.get("/", name="root")

    @task
    def missing(self):
        with self.client.get("/missing", name="missing", catch_response=True) as r:
            if r.status_code == 404:
                r.success()
'''
SCENARIO = '''
[{name}]
locustfile = "{{locustfile}}"
user_classes = ["Tiny"]
users = 2
spawn_rate = 2
run_time = "8s"  # a starved machine can take seconds to start Locust's users; 3 s once made no request
max_failure_ratio = 0.0
min_total_rps = {min_total_rps}
'''
# "greedy" asks for a rate no run makes, to see a missed threshold.
SCENARIOS = SCENARIO.format(name="tiny", min_total_rps=1) + '''
[[tiny.endpoints]]
name = "root"
p99_ms = 2000

[[tiny.endpoints]]
name = "*"
p99_ms = 2000
''' + SCENARIO.format(name="greedy", min_total_rps=1000000)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/" else 404)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def config(tmp_path):
    locustfile = tmp_path / "tiny_locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    path = tmp_path / "scenarios.toml"
    path.write_text(SCENARIOS.format(locustfile=locustfile))
    return path


def test_a_scenario_runs_headless_and_its_csvs_are_checked(server, config, tmp_path, capsys):
    out = tmp_path / "results"
    assert run.main(["tiny", "--host", server, "--out", str(out), "--config", str(config)]) == 0
    for name in ("locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv", "locust_exceptions.csv",
                 "report.html", "locust.log", "verdicts.txt"):
        assert (out / name).exists(), name
    rows = {r.name: r for r in thresholds.read_stats(out / "locust_stats.csv")}
    assert set(rows) == {"root", "missing", thresholds.AGGREGATED}
    assert rows["root"].method == "GET" and rows["root"].requests > 0 and rows["missing"].failures == 0
    history = thresholds.read_history(out / "locust_stats_history.csv")
    assert {"root", thresholds.AGGREGATED} <= set(history) and max(history[thresholds.AGGREGATED].users) == 2
    printed = capsys.readouterr().out
    assert "thresholds met" in printed and "MISSED" not in printed

    # The same CSVs against a threshold they miss: exit 1, and the table says which.
    assert run.main(["greedy", "--from-csv", str(out), "--config", str(config)]) == 1
    assert "MISSED: total req/s >= 1e+06" in capsys.readouterr().out
    try:
        import matplotlib  # noqa: F401 - plots are made only where the locked venv has it
    except ImportError:
        return
    assert (out / "throughput.png").stat().st_size > 0 and (out / "latency.png").stat().st_size > 0


@pytest.mark.parametrize("flags", [["--host", "http://10.0.0.1:8050"], ["--kafka", "192.168.0.9:9092"],
                                   ["--host", "http://example.com"]])
def test_a_target_off_this_machine_is_refused_before_anything_runs(flags, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run, "run_locust", lambda *a: pytest.fail("Locust was started"))
    assert run.main(["ci", *flags, "--out", str(tmp_path / "never")]) == 2
    assert "refusing" in capsys.readouterr().err and not (tmp_path / "never").exists()


def test_the_command_line_puts_classes_before_tag_lists_and_can_pin_a_cpu():
    scenario = thresholds.Scenario(name="s", locustfile="f.py", user_classes=("A", "B"), users=5, spawn_rate=2.5,
                                   run_time="1m", max_failure_ratio=0, min_total_rps=0, tags=("article",))
    cmd = run.command(scenario, "http://127.0.0.1:8050", Path("/tmp/out"), "0")
    assert cmd[:3] == ["taskset", "-c", "0"] and cmd[4:8] == ["-m", "locust", "A", "B"]
    assert cmd[-2:] == ["-T", "article"]
    assert ["-u", "5", "-r", "2.5", "-t", "1m"] == cmd[cmd.index("-u"):cmd.index("-u") + 6]
    assert "--csv-full-history" in cmd and "--only-summary" in cmd and "taskset" not in run.command(
        scenario, "http://127.0.0.1:8050", Path("/tmp/out"), None)


@pytest.mark.parametrize("locustfile", ["loadtests/locustfile.py", "loadtests/kafka_locustfile.py"])
def test_locust_loads_each_locustfile_with_the_classes_the_scenarios_name(locustfile):
    listed = subprocess.run([sys.executable, "-m", "locust", "-f", locustfile, "--list"], cwd=ROOT, text=True,
                            capture_output=True, timeout=60, check=True).stdout.split()
    scenarios = thresholds.load_scenarios(ROOT / "loadtests" / "thresholds.toml").values()
    named = {c for s in scenarios if s.locustfile == locustfile for c in s.user_classes}
    assert named and named <= set(listed)
