"""Writing to Kafka: rows, dead letters and load events, with durable settings."""

from __future__ import annotations

import logging
from typing import Protocol

from contract import topics

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """What the loader needs from Kafka; tests pass an in-memory fake."""

    def send(self, topic: str, value: bytes, key: bytes | None = None, partition: int | None = None) -> None: ...
    def flush(self) -> None: ...
    def end_offsets(self, topic: str) -> dict[int, int]: ...
    def close(self) -> None: ...


#: Preferred compression codecs, best first; gzip needs no extra library and is the fallback.
CODECS = ("lz4", "zstd", "gzip")


def compression() -> str:
    """The best codec whose Python library is installed (kafka-python compresses in-process)."""
    from kafka import codec

    available = {"lz4": codec.has_lz4(), "zstd": codec.has_zstd(), "gzip": True}
    chosen = next(c for c in CODECS if available[c])
    if chosen == "gzip":
        log.warning("Kafka compression: gzip, as neither lz4 nor zstandard is installed (lz4 is faster)")
    return chosen


def producer_config(connection: dict, client_id: str) -> dict:
    """KafkaProducer settings for bulk loads that lose nothing and write nothing twice.

    Idempotence (a producer id and per-partition sequence numbers) lets the broker drop a batch
    that a retry sends again, so retries never duplicate or reorder records; it needs acks=all and
    at most 5 requests in flight. acks=all with the topics' min.insync.replicas=2 means a write
    survives one broker loss; when too few replicas are in sync, sends are retried until the
    delivery timeout instead of being dropped. Records go in batches of up to 1 MiB, compressed.
    `connection`: the servers and the login (`Settings.kafka_client_config`).
    """
    return connection | dict(
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        max_in_flight_requests_per_connection=5,
        linger_ms=50,
        batch_size=1024 * 1024,
        compression_type=compression(),
        max_request_size=2 * 1024 * 1024,
        delivery_timeout_ms=10 * 60 * 1000,
    )


class KafkaPublisher:
    """kafka-python producer tuned for bulk loads (see `producer_config`), plus an offsets reader."""

    def __init__(self, connection: dict, client_id: str = "clickstream-producer", overrides: dict | None = None):
        """`connection`: the servers and the login (`Settings.kafka_client_config`); `overrides` replace producer
        settings, and only the reliability anti-test weakens them."""
        from kafka import KafkaConsumer, KafkaProducer

        self._producer = KafkaProducer(**producer_config(connection, client_id) | (overrides or {}))
        try:
            self._consumer = KafkaConsumer(**connection, client_id=f"{client_id}-offsets")
        except Exception:
            self._producer.close()
            raise
        self._failures: list[Exception] = []

    def send(self, topic: str, value: bytes, key: bytes | None = None, partition: int | None = None) -> None:
        self._producer.send(topic, value=value, key=key, partition=partition).add_errback(self._failures.append)

    def flush(self) -> None:
        self._producer.flush()
        if self._failures:
            raise RuntimeError(f"{len(self._failures)} records were not acknowledged: {self._failures[0]!r}")

    def end_offsets(self, topic: str) -> dict[int, int]:
        from kafka import TopicPartition

        partitions = self._consumer.partitions_for_topic(topic) or set()
        offsets = self._consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return {tp.partition: offset for tp, offset in offsets.items()}

    def close(self) -> None:
        self._producer.close()
        self._consumer.close()


def publish_event(publisher: Publisher, event: topics.LoadEvent) -> None:
    """Send a load event and wait for it: the ingestion view must never miss a step."""
    publisher.send(topics.LOADS, event.to_json(), key=event.load_id.encode())
    publisher.flush()
