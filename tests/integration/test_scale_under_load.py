"""Scaling by config during loads, under read load: `make test-scaling` (CLICKSTREAM_SCALING=1).

Kafka 3 -> 4 brokers, Cassandra 3 -> 4 nodes and Spark 2 -> 4 workers in one `pulumi up` while a
synthetic month streams in, then back to the stack's own sizes while a second month streams in.
Locust readers (the `scaling` scenario) hit the JSON API all along, so reads at QUORUM run through
every join, rebalance, cleanup and decommission. Afterwards: each month's stored rows, clicks and
per-article totals equal the file's (the fault checker), each cluster has the members asked for,
and not one read failed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from contract import topics
from devstack import stack as stack_tool
from tests.integration import faults
from tests.integration.helpers import STACK, STACK_FILE, stack_file_with, synthetic

pytestmark = [
    pytest.mark.stack,
    pytest.mark.skipif(os.environ.get("CLICKSTREAM_SCALING") != "1", reason="scaling under load: make test-scaling"),
]
LANG = "en"
#: Four to five minutes of streaming at the dev stack's pace: the load outlasts the start of each change.
ROWS = 300_000


def resized(folder: Path, brokers: int, nodes: int, workers: int) -> Path:
    """A copy of the stack's config with new member counts: what a user edits before `pulumi up`."""
    return stack_file_with(folder, f"Pulumi.{STACK}-{brokers}-{nodes}-{workers}.yaml", {
        "clickstream:kafka": {"brokers": brokers}, "clickstream:cassandra": {"nodes": nodes},
        "clickstream:spark": {"workers": workers}})


def brokers_and_replicas(outputs) -> tuple[int, set[int]]:
    """(brokers registered, broker ids holding a replica of the project's topics)."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(**stack_tool.kafka(outputs), request_timeout_ms=15_000)
    try:
        registered = len(admin.describe_cluster()["brokers"])
        described = admin.describe_topics(list(topics.ALL))
    finally:
        admin.close()
    return registered, {r for t in described for p in t["partitions"] for r in p["replica_nodes"]}


def cassandra_up_normal() -> int:
    status = faults.docker("exec", faults.container("cassandra-0"), "nodetool", "status")
    return sum(line.startswith("UN ") for line in status.splitlines())


def spark_workers(outputs) -> tuple[int, list[str]]:
    """(alive workers, running applications) from the master's JSON."""
    with urllib.request.urlopen(f"{outputs['sparkMasterUi']}/json/", timeout=10) as r:
        master = json.load(r)
    return master["aliveworkers"], [a["name"] for a in master["activeapps"]]


class Readers:
    """The `scaling` Locust scenario in the background until stop(), which returns its verdict table."""

    def __init__(self, out: Path):
        out.mkdir(parents=True)
        self.log = out / "run.log"
        with self.log.open("w") as sink:  # a file, not a pipe: nobody reads it until the end
            self.proc = subprocess.Popen([sys.executable, "-m", "loadtests.run", "scaling", "--stack", STACK,
                                          "--out", str(out)], stdout=sink, stderr=subprocess.STDOUT)

    def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGTERM)  # Locust stops its users and writes its results; they are checked
        self.proc.wait(timeout=300)
        return self.proc.returncode, self.log.read_text()[-5000:]


def test_scaling_out_and_back_in_during_loads_loses_nothing_and_fails_no_read(sample_loaded, tmp_path):
    outputs = sample_loaded
    base = yaml.safe_load(STACK_FILE.read_text())["config"]
    sizes = [(4, 4, 4), (base["clickstream:kafka"]["brokers"], base["clickstream:cassandra"]["nodes"],
                         base["clickstream:spark"]["workers"])]
    readers = Readers(tmp_path / "locust")
    verdicts = []
    try:
        for step, (brokers, nodes, workers) in enumerate(sizes):
            month = f"2022-1{step}"
            path = synthetic(tmp_path, LANG, month, ROWS, seed=40 + step)
            # A `pulumi up` that replaces members can hold the stream still for minutes: a longer stall limit.
            load = faults.BackgroundLoad(path, stall_seconds=600)
            faults.wait_processing(outputs, LANG, month)  # the stream has started on it
            assert faults.load_status(outputs, LANG, month)["status"] == "processing"  # the change starts mid-load
            stack_tool.up(STACK, resized(tmp_path, brokers, nodes, workers))
            registered, holding = brokers_and_replicas(outputs)
            assert registered == brokers and max(holding) == brokers, (registered, sorted(holding))
            assert cassandra_up_normal() == nodes
            alive, apps = spark_workers(outputs)
            assert alive == workers and apps, (alive, apps)
            load.join()
            with faults.reader(outputs) as session:
                verdicts.append(faults.check_exact(
                    session, f"scaled to {brokers}/{nodes}/{workers} during a load",
                    f"pulumi up: brokers, nodes, workers -> {brokers}, {nodes}, {workers}", LANG, month, path))
    finally:
        returncode, table = readers.stop()
    assert all(v.passed for v in verdicts), verdicts
    assert returncode == 0, f"reads failed or missed their limits during scaling:\n{table}"
