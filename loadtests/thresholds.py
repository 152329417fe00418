"""Scenarios and their thresholds (loadtests/thresholds.toml), Locust's CSV output, and the verdicts.

Pure functions: read the TOML and the CSVs that `locust --csv PREFIX --csv-full-history` writes
(PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_exceptions.csv; Locust 2.x column names), check
every threshold and render the table that `python -m loadtests.run` prints.
"""

from __future__ import annotations

import csv
import fnmatch
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

AGGREGATED = "Aggregated"  # the Name of Locust's total row


@dataclass(frozen=True)
class Rule:
    """Limits for the requests whose Locust name matches `name` (a glob: * and ? allowed)."""

    name: str
    p95_ms: float | None = None
    p99_ms: float | None = None
    min_rps: float | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    locustfile: str
    user_classes: tuple[str, ...]
    users: int
    spawn_rate: float
    run_time: str
    max_failure_ratio: float
    min_total_rps: float
    endpoints: tuple[Rule, ...] = ()
    tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    description: str = ""


def load_scenarios(path: Path) -> dict[str, Scenario]:
    """Every scenario of a thresholds file, by name; a missing or unknown key is an error that names it."""
    scenarios = {}
    for name, raw in tomllib.loads(path.read_text(encoding="utf-8")).items():
        raw = dict(raw)
        rules = tuple(Rule(**rule) for rule in raw.pop("endpoints", []))
        try:
            scenarios[name] = Scenario(
                name=name, endpoints=rules, user_classes=tuple(raw.pop("user_classes")),
                tags=tuple(raw.pop("tags", ())), exclude_tags=tuple(raw.pop("exclude_tags", ())),
                env={k: str(v) for k, v in raw.pop("env", {}).items()}, **raw)
        except (KeyError, TypeError) as err:
            raise ValueError(f"{path}: scenario {name!r}: {err}") from None
    return scenarios


def run_seconds(run_time: str) -> int:
    """Locust's run-time syntax (90, 90s, 3m, 1h30m) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    total, number = 0, ""
    for char in run_time.strip():
        if char.isdigit():
            number += char
        elif char in units and number:
            total, number = total + int(number) * units[char], ""
        else:
            raise ValueError(f"bad run time {run_time!r}: use e.g. 60s, 3m or 1h30m")
    return total + int(number or 0)


@dataclass(frozen=True)
class Row:
    """One line of PREFIX_stats.csv: an endpoint (Type, Name) or the Aggregated total. Times in ms."""

    method: str
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float

    @property
    def failure_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


def _ms(text: str) -> float:
    return math.nan if text in ("", "N/A") else float(text)


def read_stats(path: Path) -> list[Row]:
    """The rows of PREFIX_stats.csv, endpoints first and the Aggregated row last, as Locust writes them."""
    with path.open(newline="", encoding="utf-8") as f:
        return [Row(method=r["Type"], name=r["Name"], requests=int(r["Request Count"]),
                    failures=int(r["Failure Count"]), rps=float(r["Requests/s"]), p50=_ms(r["50%"]),
                    p95=_ms(r["95%"]), p99=_ms(r["99%"])) for r in csv.DictReader(f)]


def count_exceptions(path: Path) -> int:
    """How many exceptions user code raised (PREFIX_exceptions.csv): a broken load test, not a slow server."""
    if not path.exists():
        return 0
    with path.open(newline="", encoding="utf-8") as f:
        return sum(int(r["Count"]) for r in csv.DictReader(f))


@dataclass(frozen=True)
class Verdict:
    subject: str  # an endpoint's name, or "total"
    what: str  # e.g. "p99 <= 50 ms"
    measured: str
    ok: bool


def _limit(subject: str, what: str, value: float, limit: float, at_most: bool, unit: str = "") -> Verdict:
    ok = not math.isnan(value) and (value <= limit if at_most else value >= limit)
    return Verdict(subject, f"{what} {'<=' if at_most else '>='} {limit:g}{unit}",
                   "n/a" if math.isnan(value) else f"{value:g}{unit}", ok)


def matches(name: str, pattern: str) -> bool:
    """Glob match with * and ? only: Locust names hold brackets ("[page /]"), which fnmatch reads as sets."""
    return fnmatch.fnmatchcase(name, pattern.replace("[", "[[]"))


def check(scenario: Scenario, rows: list[Row], exceptions: int = 0) -> list[Verdict]:
    """Every threshold of `scenario` against Locust's stats; each endpoint row is held to its first matching
    rule, and a rule that matches no request fails (a renamed or missing endpoint cannot pass silently)."""
    total = next((r for r in rows if r.name == AGGREGATED), None)
    endpoints = [r for r in rows if r.name != AGGREGATED]
    if total is None or total.requests == 0:
        return [Verdict("total", "requests > 0", "0", False)]
    verdicts = [
        _limit("total", "failure ratio", round(total.failure_ratio, 6), scenario.max_failure_ratio, at_most=True),
        _limit("total", "req/s", round(total.rps, 1), scenario.min_total_rps, at_most=False),
        Verdict("total", "exceptions in user code == 0", str(exceptions), exceptions == 0),
    ]
    matched: dict[str, list[Row]] = {rule.name: [] for rule in scenario.endpoints}
    for row in endpoints:
        rule = next((r for r in scenario.endpoints if matches(row.name, r.name)), None)
        if rule:
            matched[rule.name].append(row)
    for rule in scenario.endpoints:
        if not matched[rule.name]:
            verdicts.append(Verdict(rule.name, "has requests", "none", False))
        for row in matched[rule.name]:
            if rule.p95_ms is not None:
                verdicts.append(_limit(row.name, "p95", row.p95, rule.p95_ms, at_most=True, unit=" ms"))
            if rule.p99_ms is not None:
                verdicts.append(_limit(row.name, "p99", row.p99, rule.p99_ms, at_most=True, unit=" ms"))
            if rule.min_rps is not None:
                verdicts.append(_limit(row.name, "req/s", round(row.rps, 1), rule.min_rps, at_most=False))
    return verdicts


def render(rows: list[Row], verdicts: list[Verdict]) -> str:
    """A plain-text table: one line per endpoint with its numbers and verdicts, then the total and a summary."""
    by_subject: dict[str, list[Verdict]] = {}
    for v in verdicts:
        by_subject.setdefault("total" if v.subject == "total" else v.subject, []).append(v)
    width = max([len(f"{r.method} {r.name}") for r in rows] + [len("endpoint")])
    lines = [f"{'endpoint':<{width}}  {'reqs':>8} {'req/s':>8} {'p50':>6} {'p95':>6} {'p99':>6} {'fails':>6}  verdicts"]

    def ms(value: float) -> str:
        return "-" if math.isnan(value) else f"{value:g}"

    def marks(vs: list[Verdict]) -> str:
        return "; ".join(f"{'ok' if v.ok else 'FAIL'} {v.what} ({v.measured})" for v in vs)

    for r in rows:
        subject = "total" if r.name == AGGREGATED else r.name
        label = "TOTAL" if r.name == AGGREGATED else f"{r.method} {r.name}"
        lines.append(f"{label:<{width}}  {r.requests:>8} {r.rps:>8.1f} {ms(r.p50):>6} {ms(r.p95):>6} {ms(r.p99):>6} "
                     f"{r.failures:>6}  {marks(by_subject.pop(subject, []))}")
    for subject, vs in by_subject.items():  # rules that matched nothing
        lines.append(f"{subject:<{width}}  {'-':>8} {'-':>8} {'-':>6} {'-':>6} {'-':>6} {'-':>6}  {marks(vs)}")
    failed = [v for v in verdicts if not v.ok]
    lines.append(f"{len(verdicts) - len(failed)} of {len(verdicts)} thresholds met" +
                 (f"; MISSED: {', '.join(f'{v.subject} {v.what}' for v in failed)}" if failed else ""))
    return "\n".join(lines)


@dataclass(frozen=True)
class Series:
    """One request name over time, from PREFIX_stats_history.csv (one row a second per name)."""

    seconds: list[float]
    users: list[int]
    requests: list[int]  # cumulative
    rps: list[float]  # from the growth of the cumulative count: exact, unlike Locust's smoothed column
    p50: list[float]
    p95: list[float]
    p99: list[float]  # Locust's current percentiles: over its last 10 s window


def read_history(path: Path) -> dict[str, Series]:
    """Each request name's series (the Aggregated total included), seconds counted from the first row."""
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    start = int(rows[0]["Timestamp"])
    raw: dict[str, list[dict]] = {}
    for r in rows:
        raw.setdefault(r["Name"], []).append(r)
    series = {}
    for name, rs in raw.items():
        t = [int(r["Timestamp"]) - start for r in rs]
        counts = [int(r["Total Request Count"]) for r in rs]
        rps = [0.0] + [(c1 - c0) / max(t1 - t0, 1) for c0, c1, t0, t1 in zip(counts, counts[1:], t, t[1:])]
        series[name] = Series(seconds=[float(x) for x in t], users=[int(r["User Count"]) for r in rs],
                              requests=counts, rps=rps,
                              p50=[_ms(r["50%"]) for r in rs], p95=[_ms(r["95%"]) for r in rs],
                              p99=[_ms(r["99%"]) for r in rs])
    return series
