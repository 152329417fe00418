"""The Kafka producer settings: idempotent, acks=all, batched, compressed with the best codec installed."""

from __future__ import annotations

import logging

import pytest
from kafka import KafkaProducer, codec

from producer import publish


def test_settings_are_idempotent_and_durable():
    config = publish.producer_config("k1:9092,k2:9092", "loader")
    assert set(config) <= set(KafkaProducer.DEFAULT_CONFIG)  # every key is one kafka-python knows
    assert config["bootstrap_servers"] == ["k1:9092", "k2:9092"]
    assert config["enable_idempotence"] is True and config["acks"] == "all"
    assert 1 <= config["max_in_flight_requests_per_connection"] <= 5  # idempotence's limit
    assert "retries" not in config  # kafka-python's default (infinite) is what idempotence wants
    assert config["batch_size"] >= 256 * 1024 and config["linger_ms"] > 0
    assert config["delivery_timeout_ms"] >= config["linger_ms"] + KafkaProducer.DEFAULT_CONFIG["request_timeout_ms"]


@pytest.mark.parametrize("lz4, zstd, chosen", [(True, True, "lz4"), (False, True, "zstd"), (False, False, "gzip")])
def test_compression_prefers_lz4_then_zstd_then_gzip(monkeypatch, caplog, lz4, zstd, chosen):
    monkeypatch.setattr(codec, "has_lz4", lambda: lz4)
    monkeypatch.setattr(codec, "has_zstd", lambda: zstd)
    with caplog.at_level(logging.INFO, logger="producer.publish"):
        assert publish.compression() == chosen
    assert ("gzip" in caplog.text) == (chosen == "gzip")


def test_kafka_python_accepts_the_settings_and_keeps_idempotence_on():
    """A real KafkaProducer validates the settings; nothing listens on 127.0.0.1:1, and nothing is sent."""
    config = publish.producer_config("127.0.0.1:1", "test") | {"api_version": (4, 0), "max_block_ms": 100}
    producer = KafkaProducer(**config)
    try:
        assert producer.config["enable_idempotence"] is True and producer.config["acks"] == -1
        assert producer._transaction_manager is not None  # the idempotent producer's sequence numbers
    finally:
        producer.close(timeout=1)
