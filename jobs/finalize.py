"""One load landed exactly: its rows and aggregates, computed from exactly the Kafka records the producer wrote
for it and bulk-written to every replica (jobs.bulk); and, when it reloads a month, the deletion of whatever
the month held that the load does not have."""

from __future__ import annotations

import json
import logging
import math
from functools import partial

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from contract import topics
from contract.records import ROWS_PER_RECORD
from contract.settings import Settings
from contract.schema import (ANALYTICS_TOP, ARTICLE_BUCKETS, MAX_PATH_STEPS, MOVERS_LIMIT, PAGERANK_LIMIT,
                             SEARCH_TOP, TOP_ARTICLES_LIMIT)
from contract.schema import primary_key
from jobs import analytics, bulk, monthly, sinks, transforms
from jobs.ingestion import PendingLoad

log = logging.getLogger("clickstream.finalize")

EARLIEST = -2

#: A load's batch work (finalize, analytics) shuffles into one partition per this many rows, and never into
#: fewer than MIN_SHUFFLE_PARTITIONS: an English month (35M rows) in 8 would spill most of every aggregation to
#: disk on the workers' 768 MiB executors.
ROWS_PER_SHUFFLE_PARTITION = 500_000
MIN_SHUFFLE_PARTITIONS = 8
#: A load of at most SMALL_LOAD_ROWS shuffles into SMALL_SHUFFLE_PARTITIONS, the dev stack's executor cores, and
#: so does the stream (its micro-batches' shuffles hold a few rows per RAW record). Every task costs ~0.1 s of
#: scheduling and start-up on this machine whatever its size, and adaptive execution did not merge 8-way
#: shuffles of a few rows: the sample's finalize ran 230 tasks, and 92 with 2-way ones.
SMALL_LOAD_ROWS = 100_000
SMALL_SHUFFLE_PARTITIONS = 2


def sized_session(spark: SparkSession, load: PendingLoad) -> SparkSession:
    """A session of its own for one load's batch work (sharing the stream's SparkContext and cached data), its
    shuffles sized to the load; the stream's session keeps its own small setting."""
    rows = load.rows_processed or ROWS_PER_RECORD * sum(
        end - max(load.start_offsets.get(p, 0), 0) for p, end in load.end_offsets.items())
    own = spark.newSession()
    own.conf.set("spark.sql.shuffle.partitions", str(shuffle_partitions(rows)))
    return own


def shuffle_partitions(rows: int) -> int:
    if rows <= SMALL_LOAD_ROWS:
        return SMALL_SHUFFLE_PARTITIONS
    return max(MIN_SHUFFLE_PARTITIONS, math.ceil(rows / ROWS_PER_SHUFFLE_PARTITION))


def load_rows(spark: SparkSession, settings: Settings, load: PendingLoad) -> DataFrame:
    """The valid, de-duplicated rows of one load: its offset range of RAW, filtered to its wiki and month."""
    start = {str(p): load.start_offsets.get(p, EARLIEST) for p in load.end_offsets}
    end = {str(p): o for p, o in load.end_offsets.items()}
    kafka = (
        spark.read.format("kafka")
        .options(**settings.kafka_spark_options())
        .option("subscribe", topics.RAW)
        .option("startingOffsets", json.dumps({topics.RAW: start}))
        .option("endingOffsets", json.dumps({topics.RAW: end}))
        .load()
    )
    rows = transforms.valid_rows(transforms.parse_values(kafka))
    return transforms.deduplicated(rows.where((F.col("lang") == load.lang) & (F.col("month") == load.month)))


def finalize(spark: SparkSession, settings: Settings, load: PendingLoad, session) -> int:
    """Store the edges, article and month tables of `load` and the movers it changes, then delete what an
    earlier load of the month stored and this one does not have; returns the number of distinct rows.

    `session` is the driver's cassandra-driver session, for trimming the top-N tables and deleting.
    The per-row tables are bulk-written (jobs.bulk), all at one write timestamp: a retried finalize
    writes the same cells again.
    """
    spark = sized_session(spark, load)
    rows = load_rows(spark, settings, load).persist()
    # Every month table derives from the article stats: one aggregation, persisted, feeds them all.
    stats = transforms.article_stats(rows).persist()
    # Both search tables read the folded titles; the fold is a Python UDF, run once per title.
    folded = monthly.folded_titles(stats).persist()
    search_top = monthly.search_top(folded, SEARCH_TOP).persist()
    try:
        # Asked before this load stores its titles: with none stored, no earlier load of the month was
        # finalized, so a first load skips the read-back (its limit: docs/design.md).
        reloaded = month_stored(session, settings, load.lang, load.month)
        count, articles, timestamp = rows.count(), monthly.month_articles(stats), sinks.write_timestamp()
        # A big load counts its per-title frames, which computes them before any loader starts: the order its
        # 35M-row runs were measured in (docs/benchmarks.md). A small one leaves each table to its own write,
        # which takes it whole in one Spark job when it is small.
        titles, folded_rows, top_rows = ((stats.count(), folded.count(), search_top.count())
                                         if count > bulk.BULK_MIN_ROWS else (None, None, None))
        # Every table side by side, the small ones too: on a small load each is a few short Spark jobs and
        # the driver's writes, which would otherwise wait for one another.
        writes = [("edges_in", transforms.edges_in(rows), count), ("edges_out", transforms.edges_out(rows), count),
                  ("month_articles", articles, titles), ("article_trend", monthly.article_trend(stats), titles),
                  ("search_titles", monthly.search_titles(folded), folded_rows),
                  ("search_top", search_top, top_rows)]
        top = monthly.top_articles(stats, TOP_ARTICLES_LIMIT)
        bulk.side_by_side({
            **{table: partial(bulk.bulk_write, df, settings, session, table, n, timestamp) for table, df, n in writes},
            "month_stats": partial(sinks.upsert, transforms.month_stats(rows), settings, session, "month_stats"),
            "top_articles": partial(sinks.replace_ranked, top, settings, session, "top_articles", load.lang,
                                    load.month),
            "movers": partial(update_movers, spark, settings, session, load.lang, load.month, articles),
        })
        if reloaded:
            remove_stale(spark, settings, session, load, rows, stats, search_top)
        return count
    finally:
        search_top.unpersist()
        folded.unpersist()
        stats.unpersist()
        rows.unpersist()


def remove_stale(spark: SparkSession, settings: Settings, session, load: PendingLoad, rows: DataFrame,
                 stats: DataFrame, search_top: DataFrame) -> None:
    """Delete what earlier loads of the month stored and this one (`rows`, their `stats` and `search_top`)
    does not have.

    Called once every row and aggregate of this load is written, so that a reader meanwhile sees
    at worst an old row too many, never a new one missing (as with `sinks.replace_ranked`).
    """
    titles = stats.select("lang", "month", "title")
    # n is a clustering column: a pair whose n changed has its old row beside the new one. Read the
    # edges of every title of this load back and delete the rows it does not have.
    edges_in = delete_stale(spark, settings, session, "edges_in", transforms.edges_in(rows),
                            titles.withColumnRenamed("title", "curr"))
    edges_out = delete_stale(spark, settings, session, "edges_out", transforms.edges_out(rows),
                             transforms.edges_out_partitions(titles))
    log.info("reload of %s %s: %d edges_in and %d edges_out rows deleted", load.lang, load.month,
             edges_in, edges_out)
    # A title only earlier loads had loses, unread, every partition and row filed under it. Read after
    # this load stored its titles, month_articles holds the earlier titles and these.
    gone = transforms.stale(read_month_articles(spark, settings, load.lang, load.month), stats,
                            ["lang", "month", "title"]).persist()
    try:
        keys = gone.select("lang", "month", "title")
        # A search prefix keeps its ranks unless a title under it is gone: then it may have fewer ranks now
        # (or none), and the stored ranks past them go. The others were overwritten by this load's ranks.
        gone_folded = monthly.folded_titles(gone)
        stale_ranks = delete_stale(spark, settings, session, "search_top", search_top,
                                   monthly.search_top_partitions(gone_folded))
        deletes = [
            ("related", keys), ("likely_paths", keys),
            ("edges_in", keys.withColumnRenamed("title", "curr")),
            ("edges_out", transforms.edges_out_partitions(keys)),
            ("search_titles", monthly.search_titles(gone_folded).select(*primary_key("search_titles"))),
            ("article_trend", gone.select(*primary_key("article_trend"))),
            # Last: the titles are found here, so a finalize interrupted before this finds them again.
            ("month_articles", gone.select(*primary_key("month_articles"))),
        ]
        deleted = {table: sinks.delete_keys(df, settings, session, table) for table, df in deletes}
        deleted["search_top"] = stale_ranks
    finally:
        gone.unpersist()
    log.info("reload of %s %s: titles no longer in the month deleted from %s", load.lang, load.month,
             ", ".join(f"{table} ({n})" for table, n in deleted.items()))


def delete_stale(spark: SparkSession, settings: Settings, session, table: str, fresh: DataFrame,
                 partitions: DataFrame) -> int:
    """Delete the stored rows of `table` in `partitions` that `fresh` has no row of; returns how many."""
    key = primary_key(table)
    stored = sinks.read_partitions(spark, settings, table, partitions)
    return sinks.delete_keys(transforms.stale(stored, fresh, key).select(*key), settings, session, table)


def read_month_articles(spark: SparkSession, settings: Settings, lang: str, month: str) -> DataFrame:
    """The stored `month_articles` of one (lang, month), read as ARTICLE_BUCKETS partition reads."""
    return sinks.read_table(spark, settings, "month_articles", lang=lang, month=month, bucket=range(ARTICLE_BUCKETS))


def month_stored(session, settings: Settings, lang: str, month: str) -> bool:
    """Whether any load of (lang, month) stored its articles: one query, not a Spark read of every bucket."""
    return sinks.any_stored(session, settings, "month_articles", lang=lang, month=month, bucket=range(ARTICLE_BUCKETS))


def update_movers(spark: SparkSession, settings: Settings, session, lang: str, month: str, articles: DataFrame) -> None:
    """Movers of `month` (its `articles` against the stored month before) and, if the month after is
    stored, of that month against `articles`: whichever of two months loads last, their movers are right."""
    before = monthly.previous_month(month)
    # A month with nothing stored before it is compared with no articles, without a Spark read of 64 buckets.
    previous = (read_month_articles(spark, settings, lang, before) if month_stored(session, settings, lang, before)
                else articles.limit(0))
    sinks.replace_ranked(monthly.movers(articles, previous, MOVERS_LIMIT), settings, session, "movers", lang, month)
    later = monthly.next_month(month)
    if month_stored(session, settings, lang, later):
        following = read_month_articles(spark, settings, lang, later)
        sinks.replace_ranked(monthly.movers(following, articles, MOVERS_LIMIT), settings, session, "movers",
                             lang, later)


def run_analytics(spark: SparkSession, settings: Settings, load: PendingLoad, session) -> None:
    """PageRank, related articles and likely paths of a complete load, replacing an earlier run's of the month.

    Positions are clustering keys, so an earlier run's positions past this run's last would stay:
    PageRank is trimmed as a top-N table, and related and likely paths are read back and trimmed
    per title (a title only earlier loads had was cleared by `remove_stale`).
    """
    spark = sized_session(spark, load)
    rows = load_rows(spark, settings, load).persist()
    try:
        # Asked before this run writes: with no PageRank stored, no earlier run wrote the month's analytics.
        rerun = sinks.any_stored(session, settings, "pagerank", lang=load.lang, month=load.month)
        ranks = analytics.pagerank(rows)
        sinks.replace_ranked(analytics.pagerank_top(ranks, PAGERANK_LIMIT), settings, session, "pagerank",
                             load.lang, load.month)
        titles = read_month_articles(spark, settings, load.lang, load.month).select("lang", "month", "title")
        for table, df in (("related", analytics.related(rows, top=ANALYTICS_TOP)),
                          ("likely_paths", analytics.likely_paths(rows, k=MAX_PATH_STEPS, top=ANALYTICS_TOP))):
            df = df.persist()
            try:
                bulk.bulk_write(df, settings, session, table, df.count())
                if rerun:
                    deleted = delete_stale(spark, settings, session, table, df, titles)
                    log.info("analytics of %s %s: %d stale %s rows deleted", load.lang, load.month, deleted, table)
            finally:
                df.unpersist()
    finally:
        rows.unpersist()
