"""Helpers of the stack suite: which stack, and reading its JSON API."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

STACK = "dev"


def api(outputs, path: str, **params) -> tuple[int, dict]:
    """GET /api/v1/<path> on the stack's web UI: (status, JSON body), for errors too."""
    url = f"{outputs['webUrl']}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def synthetic(folder, lang: str, month: str, rows: int, seed: int):
    """A synthetic month file named as a dump is (producer.generate)."""
    from producer import generate

    path = folder / f"clickstream-{lang}wiki-{month}.tsv"
    generate.write(path, rows, seed, lang, month)
    return path


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    """Partition -> end offset of `topic`, read with a throwaway consumer."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","))
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        return {tp.partition: o for tp, o in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()
