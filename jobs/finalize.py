"""Exact aggregates of one load, computed from exactly the Kafka records the producer wrote for it."""

from __future__ import annotations

import json

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from contract import topics
from contract.settings import Settings
from contract.schema import ANALYTICS_TOP, ARTICLE_BUCKETS, MAX_PATH_STEPS, MOVERS_LIMIT, PAGERANK_LIMIT, TOP_ARTICLES_LIMIT
from jobs import analytics, monthly, sinks, transforms
from jobs.ingestion import PendingLoad

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


def finalize(spark: SparkSession, settings: Settings, load: PendingLoad, session) -> int:
    """Store the article and month tables of `load` and the movers it changes; returns the number of distinct rows.

    `session` is the driver's cassandra-driver session, for trimming the top-N tables.
    """
    rows = load_rows(spark, settings, load).persist()
    # Every month table derives from the article stats: one aggregation, persisted, feeds them all.
    stats = transforms.article_stats(rows).persist()
    try:
        sinks.write_table(stats, settings, "article_stats")
        sinks.write_table(transforms.month_stats(rows), settings, "month_stats")
        articles = monthly.month_articles(stats)
        sinks.write_table(articles, settings, "month_articles")
        sinks.write_table(monthly.article_trend(stats), settings, "article_trend")
        sinks.write_table(monthly.titles(stats), settings, "titles")
        top = monthly.top_articles(stats, TOP_ARTICLES_LIMIT)
        sinks.replace_ranked(top, settings, session, "top_articles", load.lang, load.month)
        update_movers(spark, settings, session, load.lang, load.month, articles)
        return rows.count()
    finally:
        stats.unpersist()
        rows.unpersist()


def read_month_articles(spark: SparkSession, settings: Settings, lang: str, month: str) -> DataFrame:
    """The stored `month_articles` of one (lang, month), read as ARTICLE_BUCKETS partition reads."""
    return sinks.read_table(spark, settings, "month_articles", lang=lang, month=month, bucket=range(ARTICLE_BUCKETS))


def update_movers(spark: SparkSession, settings: Settings, session, lang: str, month: str, articles: DataFrame) -> None:
    """Movers of `month` (its `articles` against the stored month before) and, if the month after is
    stored, of that month against `articles`: whichever of two months loads last, their movers are right."""
    previous = read_month_articles(spark, settings, lang, monthly.previous_month(month))
    sinks.replace_ranked(monthly.movers(articles, previous, MOVERS_LIMIT), settings, session, "movers", lang, month)
    later = monthly.next_month(month)
    following = read_month_articles(spark, settings, lang, later)
    if not following.isEmpty():
        sinks.replace_ranked(monthly.movers(following, articles, MOVERS_LIMIT), settings, session, "movers", lang, later)


def run_analytics(spark: SparkSession, settings: Settings, load: PendingLoad) -> None:
    """PageRank, related articles and likely paths of a complete load, each overwriting its rows."""
    rows = load_rows(spark, settings, load).persist()
    try:
        ranks = analytics.pagerank(rows)
        sinks.write_table(analytics.pagerank_top(ranks, PAGERANK_LIMIT), settings, "pagerank")
        sinks.write_table(analytics.related(rows, top=ANALYTICS_TOP), settings, "related")
        sinks.write_table(analytics.likely_paths(rows, k=MAX_PATH_STEPS, top=ANALYTICS_TOP), settings, "likely_paths")
    finally:
        rows.unpersist()
