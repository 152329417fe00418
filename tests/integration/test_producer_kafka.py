"""The producer against the stack's real Kafka: consume every topic back and account for every line.

A file of real rows with one bad line of each class is loaded with the CLI, as users run it; then
RAW must hold each good row exactly once, in the partition of its (lang, curr) key, and DEAD_LETTER
each bad line once, with file, line number and reason. Files the producer must refuse whole leave both topics
untouched.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import uuid
from collections import Counter

import pytest
from kafka import KafkaConsumer, TopicPartition

from contract import records, topics
from devstack import stack as stack_tool
from tests.conftest import SAMPLE, read_sample
from tests.integration import faults
from tests.integration.helpers import STACK, end_offsets

pytestmark = pytest.mark.stack

#: One line per row-level rule, by the reason the dead letter must carry.
BAD_LINES = {
    "wrong_column_count": b"Alpha\tBeta\tlink",
    "n_not_integer": b"Alpha\tBeta\tlink\t12x",
    "n_below_one": b"Alpha\tBeta\tlink\t0",
    "unknown_type": b"Alpha\tBeta\tclick\t10",
    "type_prev_mismatch": b"other-search\tBeta\tlink\t10",
    "not_utf8": b"Alpha\t\xff\xfeBeta\tlink\t10",
    "oversized_line": b"Alpha\t" + b"x" * (1 << 20) + b"\tlink\t10",
    "blank_title": b"__\tBeta\tlink\t10",
}


def consume(kafka: dict, topic: str, start: dict[int, int], end: dict[int, int]) -> list:
    """Every record of `topic` in [start, end) per partition; bounded by a deadline."""
    consumer = KafkaConsumer(**kafka, enable_auto_commit=False,
                             consumer_timeout_ms=20_000, max_partition_fetch_bytes=4 << 20)
    wanted = {p: o for p, o in end.items() if o > start.get(p, 0)}
    if not wanted:
        return []
    consumer.assign([TopicPartition(topic, p) for p in wanted])
    for p in wanted:
        consumer.seek(TopicPartition(topic, p), start.get(p, 0))
    records_, done = [], set()
    for message in consumer:
        if message.offset < wanted[message.partition]:
            records_.append(message)
        if message.offset >= wanted[message.partition] - 1:
            done.add(message.partition)
        if done == set(wanted):
            break
    consumer.close()
    return records_


def driver_state() -> list[str]:
    return faults.docker("inspect", "--format", "{{.State.Running}} {{.State.StartedAt}}",
                         faults.container("streaming")).split()


def load_cli(path, outputs: dict, run: str) -> subprocess.CompletedProcess:
    """The producer CLI as `make load` runs it: logged in as the producer principal."""
    env = {**os.environ, **stack_tool.kafka_env_in(path.parent, outputs)}
    return subprocess.run([sys.executable, "-m", "producer", "load", str(path), "--run-id", run],
                          capture_output=True, text=True, timeout=600, env=env)


def produced_event(kafka: dict, run: str) -> topics.LoadEvent:
    events = [topics.LoadEvent.from_json(m.value)
              for m in consume(kafka, topics.LOADS, {}, end_offsets(kafka, topics.LOADS))]
    (event,) = [e for e in events if e.run == run and e.status == "produced"]
    return event


def test_every_line_is_in_kafka_exactly_once_good_rows_in_raw_bad_ones_dead_lettered(outputs, tmp_path):
    kafka = stack_tool.kafka(outputs)
    good = SAMPLE.read_bytes().splitlines()
    lines = list(good)
    # Spread through the file; after all inserts, bad line i sits at 1-based line 2 + i * 98.
    for i, line in enumerate(BAD_LINES.values()):
        lines.insert(1 + i * 98, line)
    bad_at = {2 + i * 98: reason for i, reason in enumerate(BAD_LINES)}
    path = tmp_path / "clickstream-zzwiki-2019-01.tsv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    letters_before = end_offsets(kafka, topics.DEAD_LETTER)
    run = uuid.uuid4().hex
    driver_before = driver_state()

    done = load_cli(path, outputs, run)
    assert done.returncode == 0, done.stdout + done.stderr

    event = produced_event(kafka, run)
    assert event.rows_accepted == len(good) and event.rows_rejected == len(BAD_LINES)
    assert event.rejected_by_reason == {reason: 1 for reason in BAD_LINES}
    raw = consume(kafka, topics.RAW, event.start_offsets, event.end_offsets)
    partitions = len(end_offsets(kafka, topics.RAW))
    rows = [(m.partition, value) for m in raw for value in records.unpack(m.value)]
    assert all(value.startswith(b"zz\t2019-01\t") for _, value in rows), "a foreign row in this load's range"
    sent = Counter((p, records.decode(value)[2]) for p, value in rows)
    expected = Counter()
    for prev, curr, type_, n in read_sample():
        expected[(records.partition_of(f"zz\t{curr}".encode(), partitions), records.Row(prev, curr, type_, n))] += 1
    assert sent == expected  # every good row once, in its (lang, curr) partition, nothing else

    letters = [json.loads(m.value) for m in consume(kafka, topics.DEAD_LETTER, letters_before,
                                                      end_offsets(kafka, topics.DEAD_LETTER))]
    mine = {(letter["line"], letter["reason"]) for letter in letters if letter["file"] == path.name}
    assert mine == {(number, reason) for number, reason in bad_at.items()}
    assert len([letter for letter in letters if letter["file"] == path.name]) == len(BAD_LINES)

    # End to end: the stream lands the good rows of that same file and stays up; the ingestion
    # view shows the rejects by reason.
    done = stack_tool.wait_for_load(STACK, outputs, "zz", "2019-01", run)
    assert done["status"] == "complete", done
    assert done["rows_accepted"] == len(good) and done["rows_rejected"] == len(BAD_LINES)
    assert done["rejected_by_reason"] == {reason: 1 for reason in BAD_LINES}
    with faults.reader(outputs) as session:
        verdict = faults.check_exact(session, "bad lines among good ones", f"{len(BAD_LINES)} bad lines, one per class",
                                     "zz", "2019-01", SAMPLE)
    assert verdict.passed, verdict
    assert driver_state() == driver_before  # the same driver process ran throughout


def _empty(tmp_path):
    path = tmp_path / "clickstream-zzwiki-2019-02.tsv"
    path.write_bytes(b"")
    return path, "empty"


def _truncated_gzip(tmp_path):
    path = tmp_path / "clickstream-zzwiki-2019-03.tsv.gz"
    whole = gzip.compress(SAMPLE.read_bytes())
    path.write_bytes(whole[: len(whole) - 64])
    return path, "gzip"


def _wrong_md5(tmp_path):
    path = tmp_path / "clickstream-zzwiki-2019-04.tsv"
    path.write_bytes(SAMPLE.read_bytes())
    (tmp_path / (path.name + ".md5")).write_text("0" * 32 + f"  {path.name}\n")
    return path, "md5"


def _impossible_month(tmp_path):
    path = tmp_path / "clickstream-zzwiki-2019-13.tsv"
    path.write_bytes(SAMPLE.read_bytes())
    return path, "month"


def _unknown_language(tmp_path):
    path = tmp_path / "clickstream-Z!wiki-2019-05.tsv"
    path.write_bytes(SAMPLE.read_bytes())
    return path, "language"


@pytest.mark.parametrize("make", [_empty, _truncated_gzip, _wrong_md5, _impossible_month, _unknown_language])
def test_a_file_the_producer_must_refuse_sends_nothing(outputs, tmp_path, make):
    kafka = stack_tool.kafka(outputs)
    path, message = make(tmp_path)
    raw_before, letters_before = end_offsets(kafka, topics.RAW), end_offsets(kafka, topics.DEAD_LETTER)
    done = load_cli(path, outputs, uuid.uuid4().hex)
    assert done.returncode != 0
    assert message in (done.stdout + done.stderr).lower()
    assert end_offsets(kafka, topics.RAW) == raw_before
    # The stream may dead-letter rows of earlier loads meanwhile; none may come from this file.
    letters = consume(kafka, topics.DEAD_LETTER, letters_before, end_offsets(kafka, topics.DEAD_LETTER))
    assert not [m for m in letters if json.loads(m.value).get("file") == path.name]
