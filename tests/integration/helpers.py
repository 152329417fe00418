"""Helpers of the stack suite: which stack, and reading its JSON API."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
import urllib.error
import urllib.parse
import urllib.request

from pathlib import Path

import pytest
import yaml

STACK = "dev"
STACK_FILE = Path(__file__).resolve().parents[2] / f"Pulumi.{STACK}.yaml"


def stack_file_with(folder: Path, name: str, changes: dict) -> Path:
    """A copy of the stack's config file, named `name` in `folder`, with `changes` ({config key: value}; a dict
    value is merged into the key's mapping): what a user edits before `pulumi up`."""
    config = yaml.safe_load(STACK_FILE.read_text())
    for key, value in changes.items():
        old = config["config"].get(key)
        config["config"][key] = old | value if isinstance(old, dict) and isinstance(value, dict) else value
    path = folder / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


#: Longer than the web UI's own bound on a request (a few Cassandra queries of 10 s each), so a
#: slow answer arrives as the server's 503 rather than as a client-side timeout.
REQUEST_TIMEOUT = 60


def api(outputs, path: str, *, attempts: int = 1, **params) -> tuple[int, dict]:
    """GET /api/v1/<path> on the stack's web UI: (status, JSON body), for errors too.

    With `attempts` > 1 a 503 (storage down or slow) is asked again after its Retry-After.
    """
    url = f"{outputs['webUrl']}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(url, timeout=REQUEST_TIMEOUT) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as err:
            if err.code != 503 or attempt == attempts:
                return err.code, json.load(err)
            time.sleep(int(err.headers.get("Retry-After", "5")))
    raise AssertionError("unreachable: the last attempt returns")


def synthetic(folder, lang: str, month: str, rows: int, seed: int):
    """A synthetic month file named as a dump is (producer.generate)."""
    from producer import generate

    path = folder / f"clickstream-{lang}wiki-{month}.tsv"
    generate.write(path, rows, seed, lang, month)
    return path


def end_offsets(kafka: dict, topic: str) -> dict[int, int]:
    """Partition -> end offset of `topic`, read with a throwaway consumer (`kafka`: devstack.stack.kafka)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(**kafka)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        return {tp.partition: o for tp, o in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


@contextmanager
def failing_on_exit():
    """The stack tool's SystemExit as a test failure with its sentence: pytest would let SystemExit out of
    a session fixture uncached, and every later test would then error on an internal assertion instead."""
    try:
        yield
    except SystemExit as err:
        pytest.fail(f"the stack tool stopped: {err}", pytrace=False)
