"""Benchmark: our producer against Kafka's own ProducerPerformance, side by side in one run.

    python -m bench.producer [--rows 1000000] [--rounds 3] [--stack dev]

Every contender writes the same synthetic rows to a fresh benchmark topic with RAW's settings
(partitions, replication, min.insync.replicas) on the running stack, so the streaming job never
sees them. Kafka's tool gets the same acks=all, compression, batching and idempotence as ours,
and payloads taken from the same rows, so record sizes match. Rounds alternate the contenders,
and the report gives each one's median rows/s and the ratios of medians.

Contenders:
- `ours`: the producer's load path (parse, validate, encode, partition, pack, send), one process.
- `unpacked`: the same with one row per Kafka record (records.ROWS_PER_RECORD = 1).
- `kafka`: org.apache.kafka.tools.ProducerPerformance from the Kafka jars (Java 17).
- `naive`: the simplest producer: kafka-python defaults, one send per line, no key.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from contract import kafka_auth, records, topics
from contract.settings import cache_root
from producer import generate
from producer.files import DumpName
from producer.loader import load_file
from producer.publish import KafkaPublisher, producer_config
from devstack import stack as stack_tool

CACHE = cache_root()
BENCH_TOPIC = "clickstream.bench"
LANG, MONTH = "en", "2001-01"


class Redirected:
    """A Publisher that writes the loader's topics to benchmark topics instead."""

    def __init__(self, inner: KafkaPublisher, topic: str):
        self._inner = inner
        self._topics = {topics.RAW: topic, topics.DEAD_LETTER: f"{topic}.deadletter", topics.LOADS: f"{topic}.loads"}

    def send(self, topic, value, key=None, partition=None):
        self._inner.send(self._topics[topic], value, key, partition)

    def flush(self):
        self._inner.flush()

    def end_offsets(self, topic):
        return self._inner.end_offsets(self._topics[topic])

    def close(self):
        self._inner.close()


def bench_file(rows: int, lang: str = LANG, month: str = MONTH, seed: int = 1) -> Path:
    """A synthetic month of `rows` rows, made once and cached."""
    path = CACHE / "bench" / f"{lang}-{month}-{rows}-{seed}" / f"clickstream-{lang}wiki-{month}.tsv"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        generate.write(path.with_suffix(".part"), rows, seed, lang, month)
        path.with_suffix(".part").rename(path)
    return path


def recreate_topic(kafka: dict, name: str, partitions: int, replication: int, min_insync: int) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import UnknownTopicOrPartitionError

    admin = KafkaAdminClient(**kafka)
    try:
        names = [n for n in (name, f"{name}.deadletter", f"{name}.loads") if n in set(admin.list_topics())]
        if names:
            try:
                admin.delete_topics(names)
            except UnknownTopicOrPartitionError:
                pass
            _wait(lambda: not set(names) & set(admin.list_topics()))
        config = {"min.insync.replicas": str(min_insync)}
        admin.create_topics([NewTopic(name, partitions, replication, topic_configs=config),
                             NewTopic(f"{name}.deadletter", 1, replication, topic_configs=config),
                             NewTopic(f"{name}.loads", 1, replication, topic_configs=config)])
        _wait(lambda: name in set(admin.list_topics()))
    finally:
        admin.close()


def _wait(done, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError("topic change did not settle")
        time.sleep(0.5)
    time.sleep(1)  # leaders are elected just after the topic is listed


def run_ours(path: Path, kafka: dict, topic: str,
             rows_per_record: int = records.ROWS_PER_RECORD) -> tuple[int, float]:
    """The producer's load path; rows_per_record=1 shows what packing buys."""
    packed = records.ROWS_PER_RECORD
    records.ROWS_PER_RECORD = rows_per_record
    publisher = Redirected(KafkaPublisher(kafka, client_id="clickstream-bench"), topic)
    try:
        started = time.perf_counter()
        summary = load_file(path, DumpName(LANG, MONTH), publisher)
        seconds = time.perf_counter() - started
    finally:
        publisher.close()
        records.ROWS_PER_RECORD = packed
    if summary.error:
        raise RuntimeError(summary.error)
    return summary.accepted, seconds


def run_naive(path: Path, kafka: dict, topic: str) -> tuple[int, float]:
    from kafka import KafkaProducer

    producer = KafkaProducer(**kafka)
    started = time.perf_counter()
    count = 0
    with path.open("rb") as f:
        for line in f:
            producer.send(topic, line.rstrip(b"\n"))
            count += 1
    producer.flush()
    seconds = time.perf_counter() - started
    producer.close()
    return count, seconds


def payload_file(path: Path, limit: int = 200_000) -> Path:
    """Kafka values exactly as our producer encodes them, one per line, for ProducerPerformance."""
    out = path.parent / "payloads.txt"
    if not out.exists():
        values = []
        with path.open("rb") as f:
            for line in f:
                row = records.parse_line(line.rstrip(b"\n"))
                if isinstance(row, records.Row):
                    values.append(records.encode(LANG, MONTH, row)[1])
                if len(values) >= limit:
                    break
        out.write_bytes(b"\n".join(values) + b"\n")
    return out


def run_kafka_tool(payloads: Path, rows: int, kafka: dict, login: tuple[str, str] | None, topic: str,
                   version: str) -> tuple[int, float]:
    config = producer_config(kafka, "kafka-perf")
    props = {
        "bootstrap.servers": ",".join(kafka["bootstrap_servers"]), "acks": "all", "enable.idempotence": "true",
        "compression.type": config["compression_type"], "linger.ms": config["linger_ms"],
        "batch.size": config["batch_size"], "max.in.flight.requests.per.connection": 5,
    } | kafka_auth.java_client_properties(login)
    libs = CACHE / "artifacts" / f"kafka-{version}" / "libs"
    # The settings in a private file, not --producer-props: the login must not be on a command line.
    with tempfile.TemporaryDirectory(prefix="clickstream-perf-") as folder:
        properties = Path(folder) / "producer.properties"
        properties.touch(mode=0o600)
        properties.write_text(kafka_auth.properties_text({k: str(v) for k, v in props.items()}), encoding="utf-8")
        cmd = ["java", "-Xmx512m", "-cp", f"{libs}/*", "org.apache.kafka.tools.ProducerPerformance",
               "--topic", topic, "--num-records", str(rows), "--throughput", "-1",
               "--payload-file", str(payloads), "--producer.config", str(properties)]
        started = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - started
    # Its own figure excludes JVM start-up; we quote both, and rate it on its own figure.
    last = done.stdout.strip().splitlines()[-1]
    match = re.search(r"([\d.]+) records/sec", last)
    own = rows / float(match.group(1)) if match else seconds
    return rows, own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()

    out = stack_tool.outputs(args.stack)
    bootstrap = out["kafkaBootstrap"]
    kafka, login = stack_tool.kafka(out), stack_tool.kafka_login(out, kafka_auth.ADMIN)
    settings = stack_tool.config(args.stack)
    config = settings["kafka"]
    path = bench_file(args.rows)
    payloads = payload_file(path)
    rows = sum(1 for _ in path.open("rb"))
    contenders = {
        "ours": lambda topic: run_ours(path, kafka, topic),
        "unpacked": lambda topic: run_ours(path, kafka, topic, rows_per_record=1),
        "kafka": lambda topic: run_kafka_tool(payloads, rows, kafka, login, topic, settings["kafkaVersion"]),
    }
    if not args.skip_naive:
        contenders["naive"] = lambda topic: run_naive(path, kafka, topic)
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    print(f"{rows:,} rows, {path.stat().st_size / rows:.0f} bytes/row in the file, "
          f"{payloads.stat().st_size / sum(1 for _ in payloads.open('rb')):.0f} bytes/value; "
          f"{args.rounds} rounds; bootstrap {bootstrap}", flush=True)
    for round_ in range(1, args.rounds + 1):
        for name, run in contenders.items():
            recreate_topic(kafka, BENCH_TOPIC, config["partitions"], config["replicationFactor"],
                           config["minInsyncReplicas"])
            sent, seconds = run(BENCH_TOPIC)
            rates[name].append(sent / seconds)
            print(f"round {round_} {name:>10}: {sent:,} rows in {seconds:6.1f} s = {sent / seconds:9,.0f} rows/s",
                  flush=True)
    print("\nmedian rows/s (min .. max)")
    medians = {name: statistics.median(r) for name, r in rates.items()}
    for name, r in rates.items():
        print(f"  {name:>10}: {medians[name]:9,.0f}  ({min(r):,.0f} .. {max(r):,.0f})")
    print(f"\nours / kafka = {medians['ours'] / medians['kafka']:.2f}   (goal >= 0.80)")
    print(f"unpacked / kafka = {medians['unpacked'] / medians['kafka']:.2f}   (one row per Kafka record)")
    if "naive" in medians:
        print(f"ours / naive = {medians['ours'] / medians['naive']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
