"""Settings read from the environment, and the secret files they name (contract.settings)."""

from __future__ import annotations

import pytest

from contract.settings import ENV, Settings, spark_auth_properties


def test_the_spark_secret_file_becomes_the_drivers_auth_properties(tmp_path):
    path = tmp_path / "spark-auth.conf"
    path.write_text("# the cluster's\n\n" + spark_auth_properties("s3cr3t+/="), encoding="utf-8")
    settings = Settings.from_env({ENV["spark_auth_file"]: str(path)})
    assert settings.spark_auth_conf() == {"spark.authenticate": "true", "spark.authenticate.secret": "s3cr3t+/="}


def test_no_spark_secret_file_means_no_rpc_authentication():
    assert Settings.from_env({}).spark_auth_conf() == {}


def test_a_role_without_its_password_file_is_a_clear_error():
    settings = Settings.from_env({ENV["cassandra_user"]: "clickstream_writer"})
    with pytest.raises(ValueError, match=ENV["cassandra_password_file"]):
        settings.cassandra_credentials()
