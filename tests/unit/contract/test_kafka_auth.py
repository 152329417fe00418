"""Kafka's principals, their grants, and the client settings that log in as one."""

from __future__ import annotations

from contract import kafka_auth, topics
from contract.settings import ENV, Settings


def test_a_settings_login_reaches_kafka_python_and_spark_with_scram(tmp_path):
    secret = tmp_path / "kafka-producer"
    secret.write_text("s3cret\n")
    settings = Settings.from_env({ENV["kafka_bootstrap"]: "k0:9092,k1:9092", ENV["kafka_user"]: "producer",
                                  ENV["kafka_password_file"]: str(secret)})
    assert settings.kafka_login() == ("producer", "s3cret")
    assert settings.kafka_client_config() == {
        "bootstrap_servers": ["k0:9092", "k1:9092"], "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "producer", "sasl_plain_password": "s3cret"}
    spark = settings.kafka_spark_options()
    assert spark["kafka.bootstrap.servers"] == "k0:9092,k1:9092"
    assert spark["kafka.security.protocol"] == "SASL_PLAINTEXT" and spark["kafka.sasl.mechanism"] == "SCRAM-SHA-512"
    assert spark["kafka.sasl.jaas.config"] == (
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="producer" password="s3cret";')


def test_without_a_user_kafka_is_reached_without_a_login():
    settings = Settings(kafka_bootstrap="127.0.0.1:9092")
    assert settings.kafka_login() is None
    assert settings.kafka_client_config() == {"bootstrap_servers": ["127.0.0.1:9092"]}
    assert settings.kafka_spark_options() == {"kafka.bootstrap.servers": "127.0.0.1:9092"}


def test_a_user_without_a_password_file_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="CLICKSTREAM_KAFKA_PASSWORD_FILE"):
        Settings(kafka_user="producer").kafka_client_config()


def test_each_app_principal_gets_only_what_its_work_needs():
    granted = {(g.principal, g.name, op) for g in kafka_auth.GRANTS for op in g.operations}
    # The producer writes every project topic and reads none.
    assert {(n, op) for p, n, op in granted if p == kafka_auth.PRODUCER} == {
        (t, op) for t in topics.ALL for op in ("WRITE", "DESCRIBE")}
    # The streaming job reads rows and load events, and writes only dead letters.
    streaming = {(n, op) for p, n, op in granted if p == kafka_auth.STREAMING}
    assert (topics.RAW, "READ") in streaming and (topics.LOADS, "READ") in streaming
    assert (topics.RAW, "WRITE") not in streaming and (topics.DEAD_LETTER, "WRITE") in streaming
    assert not any(op in ("DELETE", "ALTER", "CREATE", "ALTER_CONFIGS") for _, _, op in granted)
    # Only the brokers, controllers and admin are super users; no app principal is.
    assert not {kafka_auth.PRODUCER, kafka_auth.STREAMING} & set(kafka_auth.SUPER_USERS)


def test_a_plain_server_login_lists_the_accounts_it_accepts():
    line = kafka_auth.jaas("plain.PlainLoginModule", "controller", "pw", controller="pw")
    assert line == ('org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" '
                    'password="pw" user_controller="pw";')
