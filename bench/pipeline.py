"""Benchmark: the whole pipeline on a running stack, and the streaming sink against the storage tier.

    python -m scripts.bench_pipeline [--rows 300000] [--stress-rows 100000] [--stack dev]

1. End to end: a synthetic month (`producer generate`) goes from file to `complete`. Phases:
   producing (the CLI), the stream catching up (lag back to 0), finalizing (aggregates), analytics.
   The sink's sustained rate is rows / (start -> caught up). Peak memory of the stack's containers
   is sampled with `docker stats` meanwhile.
2. Storage tier, two ways, right after:
   - Apache's `cassandra-stress` (scripts/cassandra_stress.py) writes rows of the same size to a
     copy of `edges_in`, same cluster, RF and consistency. The sink writes two rows per source row
     (`edges_in` and `edges_out`), so the printed ratio is the sink's writes/s (2 x rows/s) over
     cassandra-stress's writes/s.
   - scripts/bench/CassandraStress.java writes the file's own rows to the same two tables the way
     the sink does, with the connector's Java driver: the sink's write shape without Spark.
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
import urllib.request
import uuid
from pathlib import Path

from contract.schema import INGESTION_SCOPE, READER, WRITER
from contract.settings import Settings
from contract.status import LoadStatus
from jobs.ingestion import PendingLoad, caught_up
from bench import cassandra_stress
from devstack import stack as stack_tool
from bench.producer import CACHE, bench_file

LANG, MONTH = "en", "2001-03"
ROOT = Path(__file__).resolve().parent.parent
STRESS = ROOT / "bench" / "CassandraStress.java"


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


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


def stream_passed(session, run: str) -> bool:
    """True once the rows query has processed every RAW offset of the load `run` (the driver's own test)."""
    load = session.execute("SELECT run, end_offsets FROM ingestion WHERE scope=%s AND lang=%s AND month=%s",
                           (INGESTION_SCOPE, LANG, MONTH)).one()
    progress = session.execute("SELECT end_offsets FROM stream_progress WHERE query='rows'").one()
    if not load or load.run != run or not load.end_offsets or not progress:
        return False
    return caught_up(PendingLoad(LANG, MONTH, {}, dict(load.end_offsets)), dict(progress.end_offsets or {}))


def end_to_end(stack: str, path: Path, rows: int) -> dict:
    out = stack_tool.outputs(stack)
    web = out["webUrl"]
    run = uuid.uuid4().hex
    sampler = MemorySampler(stack)
    sampler.start()
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "producer", "load", str(path), "--bootstrap", out["kafkaBootstrap"],
                    "--run-id", run], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    produced = time.monotonic()
    caught_up = complete = analyzed = None
    session = stack_tool.cassandra(out, READER, Settings().keyspace)
    deadline = produced + 6 * 3600
    while time.monotonic() < deadline:
        time.sleep(1)
        now = time.monotonic()
        if caught_up is None and stream_passed(session, run):
            caught_up = now
        if complete is None:
            loads = get(f"{web}/api/v1/ingestion")["loads"]
            mine = [x for x in loads if (x["lang"], x["month"], x["run"]) == (LANG, MONTH, run)]
            if mine and mine[0]["status"] == LoadStatus.FAILED:
                raise SystemExit(f"load failed: {mine[0]['error']}")
            if mine and mine[0]["status"] == LoadStatus.COMPLETE:
                complete, caught_up = now, caught_up or now
        elif analyzed is None:
            ranks = get(f"{web}/api/v1/pagerank?lang={LANG}&month={MONTH}&limit=1")
            if ranks.get("articles"):
                analyzed = now
                break
    sampler.stop()
    return {
        "rows": rows, "produce_s": produced - started, "catch_up_s": caught_up - started,
        "finalize_s": complete - caught_up, "complete_s": complete - started,
        "analytics_s": (analyzed - complete) if analyzed else None,
        "sink_rows_per_s": rows / (caught_up - started), "peak_memory_gib": sampler.peak / (1 << 30),
        "peak_by_container_mib": {k: round(v / (1 << 20)) for k, v in sorted(sampler.peak_by_container.items())},
    }


def storage_tier(stack: str, path: Path, rows: int, in_flight: int) -> dict:
    settings = stack_tool.config(stack)
    jars = CACHE / "artifacts" / f"spark-connectors-{settings['sparkVersion']}-scc{settings['sparkCassandraConnectorVersion']}"
    import pyspark  # its jars hold the SLF4J API the driver logs through

    classpath = f"{jars}/jars/*:{Path(pyspark.__file__).parent / 'jars'}/*"
    out = stack_tool.outputs(stack)
    writer = out["cassandraCredentials"][WRITER]
    done = subprocess.run(["java", "-Xmx512m", "-cp", classpath, str(STRESS), out["cassandraAdmin"],
                           settings["cassandra"]["datacenter"], Settings().keyspace, str(path), str(rows), str(in_flight)],
                          env=os.environ | {"CASSANDRA_USER": writer["user"], "CASSANDRA_PASSWORD": writer["password"]},
                          capture_output=True, text=True, check=True)
    line = done.stdout.strip().splitlines()[-1]
    return {k: float(v) for k, v in (pair.split("=") for pair in line.split())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--stress-rows", type=int, default=100_000)
    parser.add_argument("--in-flight", type=int, default=128)
    parser.add_argument("--stress-threads", type=int, default=64)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--skip-pipeline", action="store_true")
    args = parser.parse_args()
    path = bench_file(args.rows, LANG, MONTH, seed=7)
    if not args.skip_pipeline:
        pipeline = end_to_end(args.stack, path, args.rows)
        print(json.dumps(pipeline, indent=2), flush=True)
    stress = cassandra_stress.run(args.stack, 2 * args.stress_rows, args.stress_threads)
    print(json.dumps({"cassandra_stress": stress}, indent=2), flush=True)
    driver = storage_tier(args.stack, path, args.stress_rows, args.in_flight)
    print(json.dumps({"driver_alone": driver}, indent=2))
    if not args.skip_pipeline:
        sink_writes = 2 * pipeline["sink_rows_per_s"]
        print(f"\nsink {sink_writes:,.0f} writes/s ({pipeline['sink_rows_per_s']:,.0f} rows/s x 2 tables)"
              f" / cassandra-stress {stress['writes_per_second']:,.0f} writes/s"
              f" = {sink_writes / stress['writes_per_second']:.2f}   (goal >= 0.50)")
        print(f"sink {pipeline['sink_rows_per_s']:,.0f} rows/s / driver alone {driver['rows_per_second']:,.0f} rows/s"
              f" = {pipeline['sink_rows_per_s'] / driver['rows_per_second']:.2f}")


if __name__ == "__main__":
    main()
