"""The Kafka producer settings: idempotent, acks=all, batched, compressed with the best codec installed."""

from __future__ import annotations

import hashlib
import logging

import pytest
from kafka import KafkaProducer, codec

from contract import kafka_auth
from producer import publish


def test_settings_are_idempotent_and_durable():
    login = ("producer", "secret")
    config = publish.producer_config(kafka_auth.python_client_config("k1:9092,k2:9092", login), "loader")
    assert set(config) <= set(KafkaProducer.DEFAULT_CONFIG)  # every key is one kafka-python knows
    assert config["bootstrap_servers"] == ["k1:9092", "k2:9092"]
    assert config["sasl_mechanism"] == "SCRAM-SHA-512" and config["sasl_plain_username"] == "producer"
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
    connection = kafka_auth.python_client_config("127.0.0.1:1", ("p", "s"))
    config = publish.producer_config(connection, "test") | {"api_version": (4, 0), "max_block_ms": 100}
    producer = KafkaProducer(**config)
    try:
        assert producer.config["enable_idempotence"] is True and producer.config["acks"] == -1
        assert producer._transaction_manager is not None  # the idempotent producer's sequence numbers
    finally:
        producer.close(timeout=1)


def test_the_topics_step_grants_one_kafka_acl_per_principal_resource_and_operation():
    from kafka.admin import ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourceType

    from producer import topics as topics_step

    acls = topics_step.acls()
    assert len(acls) == sum(len(g.operations) for g in kafka_auth.GRANTS)
    assert all(a.permission_type == ACLPermissionType.ALLOW and a.host == "*" for a in acls)
    groups = [a for a in acls if a.resource_pattern.resource_type == ResourceType.GROUP]
    assert [(a.principal, a.operation, a.resource_pattern.pattern_type) for a in groups] == [
        ("User:streaming", ACLOperation.READ, ACLResourcePatternType.PREFIXED)]


def test_the_topics_step_sets_each_app_principals_scram_credential_and_fails_naming_a_refusal():
    from producer import topics as topics_step

    class Admin:
        def __init__(self, errors):
            self.errors, self.sent = errors, []

        def alter_user_scram_credentials(self, alterations):
            self.sent = alterations
            return {a.user: self.errors.get(a.user) for a in alterations}

    admin = Admin({})
    topics_step.set_app_logins(admin, {"streaming": "s3cret", "producer": "p4ss"})
    assert [(a.user, a.mechanism.name, a.iterations) for a in admin.sent] == [
        ("producer", "SCRAM_SHA_512", 4096), ("streaming", "SCRAM_SHA_512", 4096)]
    # Salted here: the password itself never goes to the brokers.
    for alteration, password in zip(admin.sent, ("p4ss", "s3cret")):
        assert alteration.salted_password == hashlib.pbkdf2_hmac("sha512", password.encode(), alteration.salt, 4096)
    with pytest.raises(SystemExit, match="producer: not allowed"):
        topics_step.set_app_logins(Admin({"producer": "not allowed"}), {"producer": "p4ss"})
