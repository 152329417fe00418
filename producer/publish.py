"""Writing to Kafka: rows, dead letters and load events, with durable settings."""

from __future__ import annotations

from typing import Protocol

from contract import topics


class Publisher(Protocol):
    """What the loader needs from Kafka; tests pass an in-memory fake."""

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> None: ...
    def flush(self) -> None: ...
    def end_offsets(self, topic: str) -> dict[int, int]: ...
    def close(self) -> None: ...


class KafkaPublisher:
    """kafka-python producer tuned for bulk loads that lose nothing.

    acks=all with the topics' min.insync.replicas=2 means a write survives one broker loss;
    when too few replicas are in sync, sends fail and are retried instead of being dropped.
    """

    def __init__(self, bootstrap: str, client_id: str = "clickstream-producer"):
        from kafka import KafkaConsumer, KafkaProducer

        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap.split(","),
            client_id=client_id,
            acks="all",
            retries=2**31 - 1,
            max_in_flight_requests_per_connection=1,
            linger_ms=20,
            batch_size=512 * 1024,
            compression_type="gzip",
            max_request_size=2 * 1024 * 1024,
            delivery_timeout_ms=10 * 60 * 1000,
        )
        self._consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), client_id=f"{client_id}-offsets")
        self._failures: list[Exception] = []

    def send(self, topic: str, value: bytes, key: bytes | None = None) -> None:
        self._producer.send(topic, value=value, key=key).add_errback(self._failures.append)

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
