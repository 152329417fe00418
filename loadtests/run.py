"""Run one load-test scenario headless, check its thresholds and plot it; exit 1 if any threshold is missed.

    python -m loadtests.run api                    # against $CLICKSTREAM_WEB_URL, else http://127.0.0.1:8050
    python -m loadtests.run ci --stack dev         # the stack's published URLs (its Pulumi outputs)
    python -m loadtests.run api --taskset 0        # Locust pinned to CPU 0: the stack keeps the other core
    python -m loadtests.run api --from-csv DIR     # check and plot an earlier run again; no traffic

Scenarios and thresholds: loadtests/thresholds.toml. Results go to --out, by default
$CLICKSTREAM_CACHE/loadtests/<UTC time>-<scenario>/ (~/.cache/clickstream/...): Locust's CSVs
(locust_stats.csv, locust_stats_history.csv, locust_failures.csv, locust_exceptions.csv), report.html,
locust.log, verdicts.txt, throughput.png and latency.png. Only loopback targets are accepted.
Exit status: 0 every threshold met, 1 one missed, 2 the run could not be made or read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from contract.settings import cache_root
from loadtests import plots, target
from loadtests.thresholds import Scenario, Verdict, check, count_exceptions, load_scenarios, read_history
from loadtests.thresholds import read_stats, render, run_seconds

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Path(__file__).with_name("thresholds.toml")
PREFIX = "locust"
DEFAULT_WEB, DEFAULT_KAFKA = "http://127.0.0.1:8050", "127.0.0.1:19092"
STOP_TIMEOUT_S = 10  # users finish their task (a typed search, a watched page) before the summary
GRACE_S = 120  # past the run time: Locust's start, the users' stop timeout and the reports


def targets(args) -> tuple[str, str, dict]:
    """(web URL, Kafka bootstrap, the stack's outputs or {}): the flags, else the stack's outputs, else the
    environment, else 127.0.0.1."""
    outputs = {}
    if args.stack and not (args.host and args.kafka):
        from devstack.stack import outputs as stack_outputs

        outputs = stack_outputs(args.stack)
    web = args.host or outputs.get("webUrl") or os.environ.get("CLICKSTREAM_WEB_URL") or DEFAULT_WEB
    kafka = (args.kafka or outputs.get("kafkaBootstrap") or os.environ.get("CLICKSTREAM_KAFKA_BOOTSTRAP")
             or DEFAULT_KAFKA)
    return web, kafka, outputs


@contextmanager
def kafka_login(outputs: dict) -> Iterator[dict[str, str]]:
    """The Kafka users' login as the stack's admin (their scratch topic is no project principal's), as
    environment variables; none without a stack (the environment's own, if any)."""
    if "kafkaBootstrap" not in outputs:
        yield {}
        return
    from contract import kafka_auth
    from devstack.stack import kafka_env

    with kafka_env(outputs, kafka_auth.ADMIN) as env:
        yield env


def command(scenario: Scenario, host: str, out: Path, taskset: str | None) -> list[str]:
    """The headless Locust command line; user classes come first, as -T/-E take every word after them."""
    cmd = [sys.executable, "-m", "locust", *scenario.user_classes, "-f", scenario.locustfile, "--headless",
           "-u", str(scenario.users), "-r", str(scenario.spawn_rate), "-t", scenario.run_time, "--host", host,
           "--csv", str(out / PREFIX), "--csv-full-history", "--html", str(out / "report.html"),
           "--only-summary", "--stop-timeout", str(STOP_TIMEOUT_S), "--exit-code-on-error", "1"]
    if scenario.tags:
        cmd += ["-T", *scenario.tags]
    if scenario.exclude_tags:
        cmd += ["-E", *scenario.exclude_tags]
    return (["taskset", "-c", taskset] if taskset else []) + cmd


def _kill(pid: int) -> None:
    """End Locust's own process group (start_new_session made it), if it is still there."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_locust(cmd: list[str], env: dict, log: Path, timeout: float) -> int:
    """Run Locust, echoing its output to the terminal and to `log`; killed past `timeout` seconds.

    A SIGTERM to this process ends the run early: Locust gets it too, stops its users and writes its
    results, which are then checked as usual. A caller that runs load alongside other work of unknown
    length (tests/integration/test_scale_under_load.py) stops it that way.
    """
    with log.open("w", encoding="utf-8") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        timer = threading.Timer(timeout, _kill, (proc.pid,))
        timer.start()
        previous = signal.signal(signal.SIGTERM, lambda *_: proc.send_signal(signal.SIGTERM))
        try:
            for line in proc.stdout:
                sys.stdout.write(line)
                sink.write(line)
            return proc.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)
            timer.cancel()


def verdicts_of(scenario: Scenario, out: Path, returncode: int | None) -> tuple[str, bool]:
    """The table and whether every threshold was met, from the CSVs in `out`."""
    rows = read_stats(out / f"{PREFIX}_stats.csv")
    verdicts = check(scenario, rows, count_exceptions(out / f"{PREFIX}_exceptions.csv"))
    if returncode is not None:  # 1 only says some request failed, which the failure ratio judges
        verdicts.append(Verdict("total", "locust exit code <= 1", str(returncode), returncode in (0, 1)))
    return render(rows, verdicts), all(v.ok for v in verdicts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario")
    parser.add_argument("--host", help="web UI URL (loopback only)")
    parser.add_argument("--kafka", help="Kafka bootstrap host:port[,host:port] (loopback only)")
    parser.add_argument("--stack", help="read the URLs from this stack's Pulumi outputs")
    parser.add_argument("--out", type=Path, help="results folder")
    parser.add_argument("--taskset", metavar="CPUS", help="pin Locust to these CPUs (taskset -c), e.g. 0")
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--from-csv", type=Path, metavar="DIR", help="check an earlier run's results; no traffic")
    args = parser.parse_args(argv)

    scenarios = load_scenarios(args.config)
    if args.scenario not in scenarios:
        parser.error(f"unknown scenario {args.scenario!r}; {args.config.name} has: {', '.join(scenarios)}")
    scenario = scenarios[args.scenario]
    returncode = None
    if args.from_csv:
        out = args.from_csv
    else:
        web, kafka, outputs = targets(args)
        refused = target.check([web, *kafka.split(",")])
        if refused:
            print(f"refusing {', '.join(refused)}: load tests send traffic to 127.0.0.1/localhost only",
                  file=sys.stderr)
            return 2
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        out = args.out or cache_root() / "loadtests" / f"{stamp}-{scenario.name}"
        out.mkdir(parents=True, exist_ok=True)
        cmd = command(scenario, web, out, args.taskset)
        print(f"scenario {scenario.name}: {scenario.description}\n$ {' '.join(cmd)}\nresults: {out}", flush=True)
        with kafka_login(outputs) as login:
            env = {**os.environ, **scenario.env, **login, "CLICKSTREAM_WEB_URL": web,
                   "CLICKSTREAM_KAFKA_BOOTSTRAP": kafka}
            returncode = run_locust(cmd, env, out / "locust.log", run_seconds(scenario.run_time) + GRACE_S)
    if not (out / f"{PREFIX}_stats.csv").exists():
        print(f"no {PREFIX}_stats.csv in {out}: Locust did not finish (see {out / 'locust.log'})", file=sys.stderr)
        return 2
    table, ok = verdicts_of(scenario, out, returncode)
    (out / "verdicts.txt").write_text(table + "\n", encoding="utf-8")
    try:
        pngs = plots.plot(read_history(out / f"{PREFIX}_stats_history.csv"), out, scenario.name)
    except ImportError as err:  # the verdicts stand without pictures
        pngs = []
        print(f"no plots ({err}): `make setup` installs matplotlib from requirements.lock", file=sys.stderr)
    print(f"\n{table}\n\nresults: {out}" + "".join(f"\n  {p.name}" for p in pngs))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
