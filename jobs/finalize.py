"""Exact aggregates of one load, computed from exactly the Kafka records the producer wrote for it."""

from __future__ import annotations

import json

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from contract import topics
from contract.settings import Settings
from contract.schema import ANALYTICS_TOP, PAGERANK_LIMIT
from jobs import analytics, transforms
from jobs.ingestion import PendingLoad
from jobs.sinks import write_table

EARLIEST = -2


def load_rows(spark: SparkSession, settings: Settings, load: PendingLoad) -> DataFrame:
    """The valid, de-duplicated rows of one load: its offset range of RAW, filtered to its wiki and month."""
    start = {str(p): load.start_offsets.get(p, EARLIEST) for p in load.end_offsets}
    end = {str(p): o for p, o in load.end_offsets.items()}
    kafka = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap)
        .option("subscribe", topics.RAW)
        .option("startingOffsets", json.dumps({topics.RAW: start}))
        .option("endingOffsets", json.dumps({topics.RAW: end}))
        .load()
    )
    rows = transforms.valid_rows(transforms.parse_values(kafka))
    return transforms.deduplicated(rows.where((F.col("lang") == load.lang) & (F.col("month") == load.month)))


def finalize(spark: SparkSession, settings: Settings, load: PendingLoad) -> int:
    """Store the article and month aggregates of `load`; returns the number of distinct rows."""
    rows = load_rows(spark, settings, load).persist()
    try:
        write_table(transforms.article_stats(rows), settings, "article_stats")
        write_table(transforms.month_stats(rows), settings, "month_stats")
        return rows.count()
    finally:
        rows.unpersist()


def run_analytics(spark: SparkSession, settings: Settings, load: PendingLoad) -> None:
    """PageRank, related articles and likely paths of a complete load, each overwriting its rows."""
    rows = load_rows(spark, settings, load).persist()
    try:
        ranks = analytics.pagerank(rows)
        write_table(analytics.pagerank_top(ranks, PAGERANK_LIMIT), settings, "pagerank")
        write_table(analytics.related(rows, top=ANALYTICS_TOP), settings, "related")
        write_table(analytics.likely_paths(rows, top=ANALYTICS_TOP), settings, "paths")
    finally:
        rows.unpersist()
