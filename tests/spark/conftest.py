import pytest


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]").appName("clickstream-tests")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1")
        .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    yield session
    session.stop()


def kafka_frame(spark, values: list[bytes]):
    """A DataFrame shaped like the Kafka source's (value as binary), without Kafka."""
    return spark.createDataFrame([(bytearray(v),) for v in values], "value binary")
