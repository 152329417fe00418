"""Threshold checks over small Locust CSVs (the column names Locust 2.47 writes), and the scenario file."""

import math
import re
from pathlib import Path

import pytest

from loadtests import thresholds
from loadtests.thresholds import Rule, Scenario

ROOT = Path(__file__).resolve().parents[3]
STATS_HEADER = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
                "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
                "99.99%,100%")
HISTORY_HEADER = ("Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,"
                  "100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,"
                  "Total Min Response Time,Total Max Response Time,Total Average Content Size")


def stats_line(method, name, requests, failures, rps, p50, p95, p99):
    # Median, Average, Min, Max, Average Content Size, Requests/s, Failures/s, then 50% .. 100%.
    percentiles = [p50] * 4 + [p95, p95] + [p99] * 5
    return ",".join(map(str, [method, name, requests, failures, p50, p50 + 0.5, 1.0, p99, 100.0, rps, 0.0,
                              *percentiles]))


@pytest.fixture
def stats(tmp_path):
    path = tmp_path / "locust_stats.csv"
    path.write_text("\n".join([
        STATS_HEADER,
        stats_line("GET", "/api/v1/article", 60000, 0, 520.5, 8, 30, 45),
        stats_line("GET", "/api/v1/search", 30000, 3, 260.0, 10, 60, 120),
        stats_line("POST", "/_dash-update-component [page /]", 10, 0, 0.1, 40, 90, 90),
        stats_line("", "Aggregated", 90010, 3, 780.6, 9, 50, 100),
    ]) + "\n")
    return thresholds.read_stats(path)


def scenario(**overrides):
    base = dict(name="t", locustfile="loadtests/locustfile.py", user_classes=("ApiReader",), users=1, spawn_rate=1,
                run_time="10s", max_failure_ratio=0.0, min_total_rps=0)
    return Scenario(**{**base, **overrides})


def failed(verdicts):
    return [(v.subject, v.what) for v in verdicts if not v.ok]


def test_stats_rows_are_read_with_their_percentiles(stats):
    article = stats[0]
    assert (article.method, article.name, article.requests, article.rps) == ("GET", "/api/v1/article", 60000, 520.5)
    assert (article.p50, article.p95, article.p99) == (8, 30, 45)
    assert stats[-1].name == thresholds.AGGREGATED and stats[-1].failure_ratio == pytest.approx(3 / 90010)


def test_met_thresholds_pass(stats):
    rules = (Rule("/api/v1/article", p95_ms=30, p99_ms=50, min_rps=500), Rule("/api/v1/*", p99_ms=200))
    verdicts = thresholds.check(scenario(max_failure_ratio=0.001, min_total_rps=700, endpoints=rules), stats)
    assert failed(verdicts) == []
    assert [v.subject for v in verdicts if v.subject != "total"] == ["/api/v1/article"] * 3 + ["/api/v1/search"]


def test_each_missed_threshold_is_named(stats):
    rules = (Rule("/api/v1/article", p95_ms=25, p99_ms=40, min_rps=600),)
    verdicts = thresholds.check(scenario(min_total_rps=1000, endpoints=rules), stats)
    assert failed(verdicts) == [("total", "failure ratio <= 0"), ("total", "req/s >= 1000"),
                                ("/api/v1/article", "p95 <= 25 ms"), ("/api/v1/article", "p99 <= 40 ms"),
                                ("/api/v1/article", "req/s >= 600")]


def test_first_matching_rule_wins_so_a_default_does_not_override_a_specific_limit(stats):
    rules = (Rule("/api/v1/search", p99_ms=150), Rule("*", p99_ms=50))
    verdicts = thresholds.check(scenario(max_failure_ratio=1, endpoints=rules), stats)
    assert failed(verdicts) == [("/_dash-update-component [page /]", "p99 <= 50 ms")]


def test_brackets_in_names_are_literal_and_only_star_and_question_mark_are_wild(stats):
    assert thresholds.matches("/_dash-update-component [page /]", "/_dash-update-component [page *]")
    assert not thresholds.matches("/_dash-update-component p", "/_dash-update-component [page]")
    assert thresholds.matches("/api/v1/article", "/api/v1/artic?e")


def test_a_rule_that_matches_no_request_fails(stats):
    verdicts = thresholds.check(scenario(max_failure_ratio=1, endpoints=(Rule("/api/v1/trend", p99_ms=100),)), stats)
    assert failed(verdicts) == [("/api/v1/trend", "has requests")]


def test_no_requests_at_all_fails(tmp_path):
    path = tmp_path / "locust_stats.csv"
    path.write_text(STATS_HEADER + "\n,Aggregated,0,0,0,0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\n")
    rows = thresholds.read_stats(path)
    assert math.isnan(rows[0].p99)
    assert failed(thresholds.check(scenario(), rows)) == [("total", "requests > 0")]


def test_exceptions_in_user_code_fail_the_run(stats, tmp_path):
    path = tmp_path / "locust_exceptions.csv"
    path.write_text('Count,Message,Traceback,Nodes\n2,KeyError(\'x\'),"Traceback ...\n  line",local\n')
    assert thresholds.count_exceptions(path) == 2
    assert thresholds.count_exceptions(tmp_path / "absent.csv") == 0
    verdicts = thresholds.check(scenario(max_failure_ratio=1), stats, exceptions=2)
    assert failed(verdicts) == [("total", "exceptions in user code == 0")]


def test_render_has_a_line_per_endpoint_and_says_what_was_missed(stats):
    rules = (Rule("/api/v1/article", p99_ms=40), Rule("/api/v1/gone", p99_ms=40))
    table = thresholds.render(stats, thresholds.check(scenario(max_failure_ratio=1, endpoints=rules), stats))
    lines = table.splitlines()
    assert lines[0].split()[:7] == ["endpoint", "reqs", "req/s", "p50", "p95", "p99", "fails"]
    assert re.search(r"GET /api/v1/article +60000 +520\.5 +8 +30 +45 +0 +FAIL p99 <= 40 ms \(45 ms\)", table)
    assert any(line.startswith("TOTAL") and "ok failure ratio <= 1" in line for line in lines)
    assert any(line.startswith("/api/v1/gone") and "FAIL has requests (none)" in line for line in lines)
    assert lines[-1].startswith("3 of 5 thresholds met; MISSED: /api/v1/article p99 <= 40 ms, /api/v1/gone has")


def test_history_gives_exact_throughput_from_the_cumulative_counts(tmp_path):
    path = tmp_path / "locust_stats_history.csv"
    rows = [
        "100,0,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0.0,0,0,0",
        "101,2,GET,/a,0.000000,0.000000,3,3,4,4,15,40,96,96,96,96,96,10,0,3,9.4,1.9,95.5,335.0",
        "101,2,,Aggregated,0.000000,0.000000,3,3,4,4,15,40,96,96,96,96,96,10,0,3,9.4,1.9,95.5,335.0",
        "103,2,GET,/a,7.000000,0.000000,3,4,7,7,15,52,96,96,96,96,96,50,0,3,8.9,1.7,95.5,335.0",
        "103,2,,Aggregated,7.000000,0.000000,3,4,7,7,15,52,96,96,96,96,96,50,0,3,8.9,1.7,95.5,335.0",
    ]
    path.write_text(HISTORY_HEADER + "\n" + "\n".join(rows) + "\n")
    series = thresholds.read_history(path)
    assert series["/a"].seconds == [1.0, 3.0] and series["/a"].rps == [0.0, 20.0]
    assert series["Aggregated"].rps == [0.0, 10.0, 20.0] and series["Aggregated"].users == [0, 2, 2]
    assert math.isnan(series["Aggregated"].p99[0]) and series["/a"].p95 == [40, 52]


@pytest.mark.parametrize("text, seconds", [("60", 60), ("60s", 60), ("3m", 180), ("1h30m", 5400), ("2m5s", 125)])
def test_run_time_is_read_as_locust_reads_it(text, seconds):
    assert thresholds.run_seconds(text) == seconds


def test_bad_run_time_is_refused():
    with pytest.raises(ValueError, match="bad run time"):
        thresholds.run_seconds("3 minutes")


def test_the_scenarios_file_has_the_documented_scenarios_with_existing_user_classes():
    scenarios = thresholds.load_scenarios(ROOT / "loadtests" / "thresholds.toml")
    assert {"api", "dashboard", "kafka", "ci"} <= set(scenarios)
    for s in scenarios.values():
        source = (ROOT / s.locustfile).read_text()
        assert all(re.search(rf"^class {name}\(", source, re.M) for name in s.user_classes), s.name
        assert s.users > 0 and s.spawn_rate > 0 and thresholds.run_seconds(s.run_time) > 0
    api, ci = scenarios["api"], scenarios["ci"]
    assert api.users == 100 and api.max_failure_ratio == 0
    assert api.endpoints[0] == Rule("/api/v1/article", p95_ms=25, p99_ms=50, min_rps=500)
    assert 45 <= thresholds.run_seconds(ci.run_time) <= 90 and ci.max_failure_ratio == 0
    assert ci.min_total_rps >= 20 and all(r.p99_ms <= 2000 for r in ci.endpoints)


def test_an_unknown_key_names_the_scenario(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[x]\nlocustfile = "f.py"\nuser_classes = ["U"]\nusers = 1\nspawn_rate = 1\nrun_time = "1s"\n'
                    'max_failure_ratio = 0\nmin_total_rps = 0\nspeed = 3\n')
    with pytest.raises(ValueError, match="scenario 'x'.*speed"):
        thresholds.load_scenarios(path)
