"""The Spark settings every job session starts with (jobs.sinks.spark_conf)."""

from dataclasses import replace

from contract.settings import Settings
from jobs import sinks


def test_the_connector_logs_in_and_spark_never_logs_a_jobs_properties(tmp_path):
    secret = tmp_path / "cassandra-writer"
    secret.write_text("s3cret\n")
    settings = replace(Settings(), cassandra_user="clickstream_writer", cassandra_password_file=str(secret))
    conf = sinks.spark_conf(settings)
    assert conf["spark.cassandra.auth.username"] == "clickstream_writer"
    assert conf["spark.cassandra.auth.password"] == "s3cret"
    # A slow listener's event is logged whole, and a job's start holds every property, the password too.
    assert conf["spark.scheduler.listenerbus.logSlowEvent"] == "false"
