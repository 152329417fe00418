"""Writing DataFrames to Cassandra through the Spark Cassandra Connector."""

from __future__ import annotations

from pyspark.sql import DataFrame

from contract.settings import Settings

CASSANDRA_FORMAT = "org.apache.spark.sql.cassandra"


def write_table(df: DataFrame, settings: Settings, table: str) -> None:
    """Upsert every row of `df` into `table`; same key, same row, so replays are harmless."""
    df.write.format(CASSANDRA_FORMAT).options(keyspace=settings.keyspace, table=table).mode("append").save()


def spark_conf(settings: Settings) -> dict[str, str]:
    """Connector settings: where Cassandra is, and QUORUM both ways."""
    return {
        "spark.cassandra.connection.host": settings.cassandra_hosts,
        "spark.cassandra.connection.port": str(settings.cassandra_port),
        "spark.cassandra.connection.localDC": settings.cassandra_datacenter,
        "spark.cassandra.output.consistency.level": "LOCAL_QUORUM",
        "spark.cassandra.input.consistency.level": "LOCAL_QUORUM",
        "spark.sql.extensions": "com.datastax.spark.connector.CassandraSparkExtensions",
    }
