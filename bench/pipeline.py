"""Benchmark: the whole pipeline on a running stack, phase by phase, and the bulk sink against the ring's best.

    python -m bench.pipeline [--rows 300000] [--ring-rows 200000] [--stack dev] [--legacy-stress]

1. End to end: a synthetic month (`producer generate`) goes from file to `complete`, then to analysed.
   Phases: producing (the CLI), the stream catching up (every RAW offset of the load validated),
   finalizing (one batch over the load's offsets: aggregates, and every per-row table bulk-written to
   every replica, jobs/bulk.py), analytics. Peak memory of the stack's containers is sampled with
   `docker stats` meanwhile; the disk Kafka and Cassandra use is read from their data volumes after.
2. The ring's best write shape by mutations (bench/ring_best.py: bucketed single-partition batches),
   right after, against the sink's edge writes: 2 rows (edges_in, edges_out) per source row over the
   finalize phase. A lower bound for the sink: finalize also aggregates and writes the per-article tables.
3. With --legacy-stress, also Apache's single-row cassandra-stress and bench/CassandraStress.java, the
   anchors of the old write path (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from cassandra import OperationTimedOut, ReadTimeout, Unavailable
from cassandra.cluster import NoHostAvailable

from contract.schema import INGESTION_SCOPE, READER, ROWS_QUERY, WRITER
from contract.settings import Settings
from contract.status import LoadStatus
from jobs.ingestion import PendingLoad, caught_up
from bench import cassandra_stress, ring_best
from devstack import progress
from devstack import stack as stack_tool
from bench.producer import CACHE, bench_file

LANG, MONTH = "en", "2001-03"
#: The generated month's seed: every size of it is made once and cached (bench.producer.bench_file).
SEED = 7
ROOT = Path(__file__).resolve().parent.parent
STRESS = ROOT / "bench" / "CassandraStress.java"


class MemorySampler(threading.Thread):
    """Peak of the summed memory of the stack's containers, from `docker stats` every few seconds."""

    UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}

    def __init__(self, stack: str):
        super().__init__(daemon=True)
        self.prefix, self.peak, self.peak_by_container, self._stop = f"clickstream-{stack}-", 0, {}, threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            out = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}"],
                                 capture_output=True, text=True).stdout
            sizes = {}
            for line in out.splitlines():
                name, usage = line.split(" ", 1)
                if name.startswith(self.prefix):
                    number, unit = re.match(r"([\d.]+)(\w+)", usage.split("/")[0].strip()).groups()
                    sizes[name] = float(number) * self.UNITS[unit]
            if sum(sizes.values()) > self.peak:
                self.peak, self.peak_by_container = sum(sizes.values()), sizes
            self._stop.wait(5)

    def stop(self) -> None:
        self._stop.set()


def load_row(session, month: str, run: str):
    """The ingestion row of the load `run` of `month`, or None while the stream has not recorded it."""
    load = session.execute("SELECT run, status, error, end_offsets, analyzed_at FROM ingestion "
                           "WHERE scope=%s AND lang=%s AND month=%s", (INGESTION_SCOPE, LANG, month)).one()
    return load if load and load.run == run else None


def stream_passed(session, month: str, load) -> bool:
    """True once the rows query has processed every RAW offset of `load` (the driver's own test)."""
    progress = session.execute("SELECT end_offsets FROM stream_progress WHERE query=%s", (ROWS_QUERY,)).one()
    if not load.end_offsets or not progress:
        return False
    return caught_up(PendingLoad(LANG, month, {}, dict(load.end_offsets)), dict(progress.end_offsets or {}))


def disk_used(stack: str) -> dict[str, int]:
    """Bytes in the Kafka and Cassandra data volumes, by container."""
    used = {}
    for name, path in (("kafka", "/var/lib/kafka/data"), ("cassandra", "/var/lib/cassandra")):
        names = subprocess.run(["docker", "ps", "--format", "{{.Names}}",
                                "--filter", f"name=clickstream-{stack}-{name}-"],
                               capture_output=True, text=True).stdout.split()
        for container in names:
            out = subprocess.run(["docker", "exec", container, "du", "-sb", path],
                                 capture_output=True, text=True).stdout
            used[container] = int(out.split()[0]) if out else 0
    return used


def end_to_end(stack: str, path: Path, rows: int, month: str, analytics: bool = True) -> dict:
    out = stack_tool.outputs(stack)
    run = uuid.uuid4().hex
    sampler = MemorySampler(stack)
    sampler.start()
    started = time.monotonic()
    with stack_tool.kafka_env(out) as login:
        subprocess.run([sys.executable, "-m", "producer", "load", str(path), "--run-id", run], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL, env={**os.environ, **login})
    produced = time.monotonic()
    times: dict[str, float] = {}
    session = stack_tool.cassandra(out, READER, Settings().keyspace)

    def probe() -> tuple:
        try:
            now, load = time.monotonic(), load_row(session, month, run)
        except (OperationTimedOut, ReadTimeout, Unavailable, NoHostAvailable):
            # A ring busy importing a month's SSTables may miss one poll; the next one asks again.
            return tuple(sorted(times))
        if load is None:
            return tuple(sorted(times))
        if load.status == LoadStatus.FAILED:
            raise SystemExit(f"load failed: {load.error}")
        if "caught_up" not in times and (load.status == LoadStatus.COMPLETE or stream_passed(session, month, load)):
            times["caught_up"] = now
        if load.status == LoadStatus.COMPLETE:
            times.setdefault("complete", now)
        if load.analyzed_at:
            times.setdefault("analyzed", now)
        return tuple(sorted(times))

    # Finalize and analytics of a big month run for many minutes with nothing to see from here.
    last = "analyzed" if analytics else "complete"
    progress.wait_for_progress(probe, lambda state: last in state, f"bench load of {rows:,} rows",
                               stall_seconds=progress.CAP_SECONDS, interval=1)
    sampler.stop()
    finalize_s = times["complete"] - times["caught_up"]
    return {
        "rows": rows, "produce_s": produced - started, "catch_up_s": times["caught_up"] - started,
        "finalize_s": finalize_s, "complete_s": times["complete"] - started,
        "analytics_s": times["analyzed"] - times["complete"] if analytics else None,
        "complete_rows_per_s": rows / (times["complete"] - started),
        "sink_edge_writes_per_s": 2 * rows / finalize_s, "peak_memory_gib": sampler.peak / (1 << 30),
        "peak_by_container_mib": {k: round(v / (1 << 20)) for k, v in sorted(sampler.peak_by_container.items())},
        "disk_mib": {k: round(v / (1 << 20)) for k, v in sorted(disk_used(stack).items())},
    }


def storage_tier(stack: str, path: Path, rows: int, in_flight: int) -> dict:
    settings = stack_tool.config(stack)
    jars = CACHE / "artifacts" / (f"spark-connectors-{settings['sparkVersion']}"
                                  f"-scc{settings['sparkCassandraConnectorVersion']}")
    import pyspark  # its jars hold the SLF4J API the driver logs through

    classpath = f"{jars}/jars/*:{Path(pyspark.__file__).parent / 'jars'}/*"
    out = stack_tool.outputs(stack)
    writer = out["cassandraCredentials"][WRITER]
    done = subprocess.run(["java", "-Xmx512m", "-cp", classpath, str(STRESS), out["cassandraAdmin"],
                           settings["cassandra"]["datacenter"], Settings().keyspace,
                           str(path), str(rows), str(in_flight)],
                          env=os.environ | {"CASSANDRA_USER": writer["user"], "CASSANDRA_PASSWORD": writer["password"]},
                          capture_output=True, text=True, check=True)
    line = done.stdout.strip().splitlines()[-1]
    return {k: float(v) for k, v in (pair.split("=") for pair in line.split())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--ring-rows", type=int, default=200_000)
    parser.add_argument("--stress-rows", type=int, default=100_000)
    parser.add_argument("--in-flight", type=int, default=128)
    parser.add_argument("--stress-threads", type=int, default=64)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--month", default=MONTH, help="the month the generated file is named for; another than "
                        "the last run's makes a first load of its month, not a reload")
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--skip-analytics", action="store_true", help="stop timing at complete")
    parser.add_argument("--legacy-stress", action="store_true", help="also the old write path's anchors")
    args = parser.parse_args()
    path = bench_file(args.rows, LANG, args.month, seed=SEED)
    if not args.skip_pipeline:
        pipeline = end_to_end(args.stack, path, args.rows, args.month, analytics=not args.skip_analytics)
        print(json.dumps(pipeline, indent=2), flush=True)
    settings = stack_tool.config(args.stack)
    ring = ring_best.run(args.stack, args.ring_rows, settings["cassandra"]["datacenter"],
                         settings["cassandra"]["replicationFactor"])
    print(json.dumps({"ring_best": ring}, indent=2), flush=True)
    if not args.skip_pipeline:
        sink = pipeline["sink_edge_writes_per_s"]
        print(f"\nsink {sink:,.0f} edge writes/s"
              f" (2 x {args.rows:,} rows over the {pipeline['finalize_s']:.0f} s finalize)"
              f" / ring's best {ring['rows_per_second']:,} rows/s"
              f" = {sink / ring['rows_per_second']:.2f}   (goal >= 0.70)")
    if args.legacy_stress:
        stress = cassandra_stress.run(args.stack, 2 * args.stress_rows, args.stress_threads)
        print(json.dumps({"cassandra_stress": stress}, indent=2), flush=True)
        driver = storage_tier(args.stack, path, args.stress_rows, args.in_flight)
        print(json.dumps({"driver_alone": driver}, indent=2))


if __name__ == "__main__":
    main()
