"""Faults during a load, the reduced set that runs in `make test` (the full set: `make test-faults`).

One synthetic month is loaded while, in turn, the broker leading the most RAW partitions, a
Cassandra node and the streaming driver are hard-killed (SIGKILL) and restarted. Afterwards every
article's stored rows, clicks and totals must equal ground truth from the file, and the killed
Cassandra node, read at ONE once its peers' hints are delivered, must hold the same.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from contract.status import ACTIVE, LoadStatus
from jobs.streaming import CAUGHT_UP
from tests.integration import faults
from tests.integration.helpers import synthetic

pytestmark = pytest.mark.stack
LANG, MONTH = "en", "2024-06"
#: Enough rows for the edges to go through the bulk loader (jobs.bulk.BULK_MIN_ROWS), which then waits for
#: the killed node. Each fault is timed by the load's own progress, not by the clock, so it lands mid-load
#: on any machine.
ROWS = 40_000
NODE = "cassandra-1"


def test_hard_kills_of_a_broker_a_cassandra_node_and_the_driver_lose_and_double_count_nothing(outputs, tmp_path):
    path = synthetic(tmp_path, LANG, MONTH, ROWS, seed=21)
    broker = faults.busiest_leader(outputs)
    since = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    load = faults.BackgroundLoad(path)
    try:
        faults.wait_status(outputs, LANG, MONTH, ACTIVE, interval=0.5)
        faults.hard_kill(broker)  # while the producer sends, or the stream reads, at the latest
        faults.wait_status(outputs, LANG, MONTH, (LoadStatus.PROCESSING,), interval=0.5)
        faults.start(broker)
        faults.wait_healthy(broker)
        faults.wait_for_log(outputs, "streaming", CAUGHT_UP % (LANG, MONTH), since, LANG, MONTH)
        faults.hard_kill(NODE)  # as the load finalizes: its bulk writes retry the node until it is back
        time.sleep(20)
        assert faults.load_status(outputs, LANG, MONTH)["status"] == "processing"
        faults.start(NODE)
        faults.hard_kill("streaming")  # the driver, mid-finalize: its successor must land the load again
        faults.start("streaming")
    finally:
        for name in (broker, NODE, "streaming"):
            faults.docker("start", faults.container(name))  # a no-op for running containers
    load.join()
    faults.wait_healthy(NODE)
    injected = f"SIGKILL + restart: broker {broker} (leading most RAW partitions), {NODE}, streaming driver"
    with faults.reader(outputs) as session:
        verdict = faults.check_exact(session, "kills during a load (QUORUM)", injected, LANG, MONTH, path)
    assert verdict.passed, verdict

    faults.wait_hints_delivered()
    with faults.node_session_at_one(outputs, NODE) as session:
        at_one = faults.check_exact(session, f"{NODE} after hints, read at ONE",
                                    f"SIGKILL + restart of {NODE} mid-load", LANG, MONTH, path)
    assert at_one.passed, at_one


def test_a_driver_killed_while_it_aggregates_a_caught_up_load_completes_it_after_restart(outputs, tmp_path):
    """The window between the last micro-batch and `complete`: every row has landed, and the driver is
    computing the load's totals (jobs.finalize) when it dies. Its successor must redo that, exactly once."""
    month = "2024-07"
    path = synthetic(tmp_path, LANG, month, 20_000, seed=22)
    since = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    load = faults.BackgroundLoad(path)
    try:
        faults.wait_for_log(outputs, "streaming", CAUGHT_UP % (LANG, month), since, LANG, month)
        time.sleep(3)  # into the aggregation's Spark jobs
        faults.hard_kill("streaming")
        assert faults.load_status(outputs, LANG, month)["status"] == "processing"
    finally:
        faults.start("streaming")
    load.join()
    with faults.reader(outputs) as session:
        verdict = faults.check_exact(session, "driver killed while aggregating", "SIGKILL + restart of the "
                                     "streaming driver after the load's last batch, before complete", LANG, month, path)
    assert verdict.passed, verdict
