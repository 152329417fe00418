"""The full fault suite: `make test-faults` (CLICKSTREAM_FAULTS=full). `make test` runs the reduced
set in test_faults.py and skips this module.

Each scenario loads its own synthetic month, injects its fault mid-load, and hands the result to
the same checker (tests/integration/faults.py): every article's stored rows, clicks and totals
against ground truth from the file. The anti-test weakens the producer and the topic on purpose
and requires the checker to report loss, which proves the checker can fail.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

from contract import kafka_auth, topics
from contract.settings import KAFKA_TOOLS_CONFIG
from contract.status import ACTIVE, LoadStatus
from producer.files import name_of
from producer.loader import load_file
from producer.publish import KafkaPublisher
from devstack import stack as stack_tool
from devstack.progress import wait_for_progress
from tests.integration import faults
from tests.integration.helpers import end_offsets, synthetic

pytestmark = [
    pytest.mark.stack,
    pytest.mark.skipif(os.environ.get("CLICKSTREAM_FAULTS") != "full", reason="the full fault suite: make test-faults"),
]
ROWS = 120_000


def produce(outputs, path, run: str) -> subprocess.Popen:
    """The producer CLI on `path`, its output in a file beside it (a pipe nobody reads could block it)."""
    log = path.with_suffix(".log").open("w")
    env = {**os.environ, **stack_tool.kafka_env_in(path.parent, outputs)}
    return subprocess.Popen([sys.executable, "-m", "producer", "load", str(path), "--run-id", run],
                            stdout=log, stderr=subprocess.STDOUT, env=env)


def sending_started(outputs, before: int) -> None:
    """Until RAW holds more records than `before`: the producer (or the test's sender) is mid-file."""
    wait_for_progress(lambda: raw_records(outputs), lambda records: (records or 0) > before,
                      "sending to RAW", interval=0.1, describe=lambda records: f"{records} records in RAW")


def wait_started(outputs, lang: str, month: str) -> None:
    faults.wait_status(outputs, lang, month, (*ACTIVE, LoadStatus.COMPLETE), interval=0.3)


def producer_done(outputs, producer: subprocess.Popen) -> int:
    """The producer's exit code once it exits; Stalled once it neither exits nor sends for the stall time."""
    exit_code, _ = wait_for_progress(lambda: (producer.poll(), raw_records(outputs)),
                                     lambda state: state[0] is not None, "the producer to finish",
                                     describe=lambda state: f"exit {state[0]}, {state[1]} records in RAW")
    return exit_code


def exact(outputs, scenario: str, injected: str, lang: str, month: str, path) -> faults.Verdict:
    with faults.reader(outputs) as session:
        return faults.check_exact(session, scenario, injected, lang, month, path)


def raw_end_offsets(outputs) -> dict[int, int]:
    return end_offsets(stack_tool.kafka(outputs), topics.RAW)


def raw_records(outputs) -> int | None:
    """Records in RAW over every partition; None while Kafka does not answer (a fault is on)."""
    try:
        return sum(raw_end_offsets(outputs).values())
    except Exception:  # noqa: BLE001 - brokers down mid-fault: no reading is no progress
        return None


class Throttled:
    """A publisher that sends one record every 40 ms, so a load lasts long enough to fault it mid-send."""

    def __init__(self, publisher: KafkaPublisher):
        self._publisher = publisher

    def send(self, *args, **kwargs) -> None:
        time.sleep(0.04)
        self._publisher.send(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._publisher, name)


def fault_during_load(outputs, tmp_path, month: str, seed: int, scenario: str, inject) -> faults.Verdict:
    """Load a synthetic month, call `inject()` once the load has started (it returns what it did),
    wait for the load to complete, and check the month."""
    path = synthetic(tmp_path, "en", month, ROWS, seed=seed)
    load = faults.BackgroundLoad(path)
    wait_started(outputs, "en", month)
    injected = inject()
    load.join()
    return exact(outputs, scenario, injected, "en", month, path)


def test_broker_clean_stop_of_the_busiest_leader(outputs, tmp_path):
    def inject() -> str:
        broker = faults.busiest_leader(outputs)
        faults.clean_stop(broker)
        time.sleep(20)
        faults.start(broker)
        faults.wait_healthy(broker)
        return f"SIGTERM of {broker} (busiest leader) mid-load, restart 20 s later"

    verdict = fault_during_load(outputs, tmp_path, "2023-01", 31, "broker clean stop", inject)
    assert verdict.passed, verdict


def test_leader_bounced_five_times_in_a_row(outputs, tmp_path):
    def inject() -> str:
        bounced = []
        for _ in range(5):
            bounced.append(faults.busiest_leader(outputs))
            faults.docker("restart", "--time", "30", faults.container(bounced[-1]))
            faults.wait_healthy(bounced[-1])
        return f"restart of the current leader 5 times: {', '.join(bounced)}"

    verdict = fault_during_load(outputs, tmp_path, "2023-02", 32, "leader bounce x5", inject)
    assert verdict.passed, verdict


def test_spark_worker_hard_kill(outputs, tmp_path):
    def inject() -> str:
        faults.wait_processing(outputs, "en", "2023-03")
        time.sleep(15)
        faults.hard_kill("spark-worker-0")
        time.sleep(20)
        faults.start("spark-worker-0")
        faults.wait_healthy("spark-worker-0")
        return "SIGKILL of spark-worker-0 mid-stream, restart 20 s later"

    verdict = fault_during_load(outputs, tmp_path, "2023-03", 33, "Spark worker kill", inject)
    assert verdict.passed, verdict


def test_producer_killed_mid_file_then_loaded_again(outputs, tmp_path):
    lang, month = "en", "2023-04"
    path = synthetic(tmp_path, lang, month, 150_000, seed=34)
    before = sum(raw_end_offsets(outputs).values())
    producer = produce(outputs, path, uuid.uuid4().hex)
    sending_started(outputs, before)
    producer.send_signal(signal.SIGKILL)
    producer.wait(timeout=30)
    assert producer.returncode == -signal.SIGKILL
    stack_tool.load(faults.STACK, path, None, None, wait=True)
    verdict = exact(outputs, "producer kill + reload", "SIGKILL of the producer mid-file, then the file loaded again",
                    lang, month, path)
    assert verdict.passed, verdict


def test_two_brokers_down_make_the_producer_wait_and_the_load_finishes_when_one_returns(outputs, tmp_path):
    lang, month = "en", "2023-05"
    path = synthetic(tmp_path, lang, month, 250_000, seed=35)
    before = sum(raw_end_offsets(outputs).values())
    run = uuid.uuid4().hex
    producer = produce(outputs, path, run)
    down = ["kafka-1", "kafka-2"]
    try:
        sending_started(outputs, before)
        for broker in down:
            faults.hard_kill(broker)
        time.sleep(45)
        # Too few replicas: the producer neither finished nor gave up; it waits and retries.
        assert producer.poll() is None, f"the producer exited: {path.with_suffix('.log').read_text()[-2000:]}"
        faults.start(down[0])
        faults.wait_healthy(down[0])
        assert producer_done(outputs, producer) == 0, path.with_suffix(".log").read_text()[-2000:]
    finally:
        for broker in down:
            faults.start(broker)
    faults.wait_healthy(down[1])
    stack_tool.wait_for_load(faults.STACK, outputs, lang, month, run)
    verdict = exact(outputs, "two brokers down", "SIGKILL of 2 of 3 brokers mid-file for 45 s, one restarted",
                    lang, month, path)
    assert verdict.passed, verdict


def test_anti_test_unsafe_settings_lose_rows_and_the_checker_says_so(outputs, tmp_path):
    """acks=1, min.insync.replicas=1 and unclean leader election on RAW. While the sends go on, the
    leader of most partitions is left alone (its followers paused), then killed, and a follower takes
    over without the records the leader had acknowledged. The checker must report the loss."""
    lang, month = "en", "2023-07"
    path = synthetic(tmp_path, lang, month, 150_000, seed=37)
    leader = faults.busiest_leader(outputs)
    followers = [f"kafka-{i}" for i in range(3) if f"kafka-{i}" != leader]
    alter = ["docker", "exec", faults.container(followers[0]), "kafka-configs", "--bootstrap-server",
             "localhost:9092", "--command-config", KAFKA_TOOLS_CONFIG, "--alter", "--entity-type", "topics",
             "--entity-name", topics.RAW]
    subprocess.run([*alter, "--add-config", "unclean.leader.election.enable=true,min.insync.replicas=1"],
                   check=True, capture_output=True)
    run = uuid.uuid4().hex
    try:
        publisher = Throttled(KafkaPublisher(stack_tool.kafka(outputs, kafka_auth.PRODUCER), client_id="anti-test",
                                             overrides={"acks": 1, "enable_idempotence": False}))
        sender = threading.Thread(target=load_file, args=(path, name_of(path, None, None), publisher),
                                  kwargs={"run": run}, daemon=True)
        before = sum(raw_end_offsets(outputs).values())
        sender.start()
        sending_started(outputs, before)
        for follower in followers:
            faults.docker("pause", faults.container(follower))
        time.sleep(8)  # the leader acknowledges records that no follower copies
        faults.hard_kill(leader)
        for follower in followers:
            faults.docker("unpause", faults.container(follower))
        time.sleep(10)  # a follower is elected without them
        faults.start(leader)  # and the old leader, rejoining, truncates them away
        wait_for_progress(lambda: (sender.is_alive(), raw_records(outputs)),
                          lambda state: not state[0], "the anti-test's sender to finish",
                          describe=lambda state: f"{state[1]} records in RAW")
        publisher.close()
    finally:
        for follower in followers:
            subprocess.run(["docker", "unpause", faults.container(follower)], capture_output=True)
        faults.start(leader)
        faults.wait_healthy(leader)
        subprocess.run([*alter, "--delete-config", "unclean.leader.election.enable,min.insync.replicas"],
                       check=True, capture_output=True)
    # The load may never be marked complete (its end offsets can name records the cluster lost), so
    # a stalled wait here is no failure: the check below reads whatever the stream landed.
    try:
        stack_tool.wait_for_load(faults.STACK, outputs, lang, month, run)
    except SystemExit:
        pass
    with faults.reader(outputs) as session:
        verdict = faults.check_exact(session, "anti-test: acks=1, unclean election",
                                     f"followers paused 8 s, then SIGKILL of leader {leader}", lang, month, path,
                                     totals=False)
    assert not verdict.passed, f"the checker found no loss under unsafe settings: {verdict}"
