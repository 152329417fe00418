"""Pure DataFrame -> DataFrame transformations of the clickstream; batch and streaming alike.

Validation rules come from `contract.records`, so Spark accepts exactly the rows the producer
accepts (tests/spark/test_transforms.py, test_parity_with_the_producer_on_bad_values, checks this
line by line).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from contract.records import (BLANK_TITLE_PATTERN, MAX_N_DIGITS, MAX_TITLE_BYTES, OTHER_SOURCES, ROW_SEPARATOR, TYPES,
                              VALUE_FIELDS, Reason)
from contract.schema import SOURCE_BUCKETS

KEY_COLUMNS = ["lang", "month", "prev", "curr"]


#: The Kafka columns that say which RAW record a row came from.
RECORD_COLUMNS = ["partition", "offset"]


def parse_values(kafka: DataFrame, keep=()) -> DataFrame:
    """Unpack RAW records into rows (records.pack) and split each into the record fields plus
    `reason` (null when the row is valid); `keep` names Kafka columns (RECORD_COLUMNS) carried along."""
    keep = list(keep)
    rows = kafka.select(*keep, F.explode(F.split(F.col("value").cast("string"), ROW_SEPARATOR.decode(), -1))
                        .alias("row"))
    parts = F.split(F.col("row"), "\t", -1)
    fields = [parts.getItem(i).alias(name) for i, name in enumerate(VALUE_FIELDS)]
    parsed = rows.select(*keep, F.size(parts).alias("_columns"), *fields)
    return parsed.withColumn("reason", _rejection_reason()).select(
        *keep, *[c for c in VALUE_FIELDS if c != "n"],
        F.when(F.col("reason").isNull(), F.col("n").cast("long")).alias("n"),
        "reason",
    )


def _rejection_reason() -> Column:
    blank = lambda c: F.col(c).rlike(BLANK_TITLE_PATTERN)  # noqa: E731
    too_long = lambda c: F.octet_length(F.col(c)) > MAX_TITLE_BYTES  # noqa: E731
    is_other = F.col("prev").isin(*OTHER_SOURCES)
    return (
        F.when(F.col("_columns") != len(VALUE_FIELDS), Reason.COLUMN_COUNT.value)
        .when(blank("prev") | blank("curr"), Reason.BLANK_TITLE.value)
        .when(too_long("prev") | too_long("curr"), Reason.TITLE_TOO_LONG.value)
        .when(~F.col("n").rlike(f"^[0-9]{{1,{MAX_N_DIGITS}}}$"), Reason.N_NOT_INTEGER.value)
        .when(F.col("n").cast("long") < 1, Reason.N_BELOW_ONE.value)
        .when(~F.col("type").isin(*TYPES), Reason.UNKNOWN_TYPE.value)
        .when((F.col("type") == "external") != is_other, Reason.TYPE_PREV_MISMATCH.value)
    )


def valid_rows(parsed: DataFrame) -> DataFrame:
    """Only the rows that passed every rule, without the `reason` column."""
    return parsed.where(F.col("reason").isNull()).drop("reason")


def rejected_rows(parsed: DataFrame) -> DataFrame:
    """Rows that broke a rule, with their reason."""
    return parsed.where(F.col("reason").isNotNull())


def record_tally(parsed: DataFrame) -> DataFrame:
    """Rows per RAW record and verdict: (partition, offset, lang, month, valid, rows), from rows parsed
    with `keep=RECORD_COLUMNS`. A few rows per record, small enough to collect for a whole micro-batch."""
    return (parsed.groupBy(*RECORD_COLUMNS, "lang", "month", F.col("reason").isNull().alias("valid"))
            .agg(F.count("*").alias("rows")))


def deduplicated(rows: DataFrame) -> DataFrame:
    """One row per (lang, month, prev, curr): a reloaded or retried record counts once."""
    return rows.dropDuplicates(KEY_COLUMNS)


def source_key() -> Column:
    """The source-mix bucket of a row (see `contract.records.source_key`)."""
    return F.when(F.col("prev").isin(*OTHER_SOURCES), F.col("prev")).otherwise(F.col("type"))


def edges_in(rows: DataFrame) -> DataFrame:
    """Rows of the `edges_in` table: partitioned by the article clicked into."""
    return rows.select("lang", "month", "curr", "n", "prev", "type")


def edges_out(rows: DataFrame) -> DataFrame:
    """Rows of the `edges_out` table; other-* sources spread over SOURCE_BUCKETS partitions."""
    bucket = F.when(F.col("prev").isin(*OTHER_SOURCES), F.pmod(F.xxhash64("curr"), F.lit(SOURCE_BUCKETS)))
    return rows.select("lang", "month", "prev", bucket.otherwise(0).cast("int").alias("bucket"), "n", "curr", "type")


def edges_out_partitions(titles: DataFrame) -> DataFrame:
    """The `edges_out` partitions (lang, month, prev, bucket) of each (lang, month, title): every bucket of
    an other-* source, bucket 0 of an article."""
    buckets = F.when(F.col("title").isin(*OTHER_SOURCES), F.sequence(F.lit(0), F.lit(SOURCE_BUCKETS - 1)))
    return titles.select("lang", "month", F.col("title").alias("prev"),
                         F.explode(buckets.otherwise(F.array(F.lit(0)))).alias("bucket"))


def stale(stored: DataFrame, fresh: DataFrame, key_columns: list[str]) -> DataFrame:
    """The rows of `stored` whose key (`key_columns`, a table's primary key) no row of `fresh` has: what
    a load of `fresh` must delete so that a table holds exactly its rows."""
    return stored.join(fresh.select(*key_columns), key_columns, "left_anti")


def article_stats(rows: DataFrame) -> DataFrame:
    """Per (lang, month, title): incoming and outgoing totals, the incoming source mix, and how many distinct
    titles link in (`source_count`) and out (`destination_count`). `rows` are de-duplicated (`deduplicated`),
    so each of them is one distinct source of its curr and one distinct destination of its prev."""
    by_source = rows.groupBy("lang", "month", "curr", source_key().alias("source")).agg(
        F.sum("n").alias("n"), F.count(F.lit(1)).alias("rows"))
    incoming = by_source.groupBy("lang", "month", F.col("curr").alias("title")).agg(
        F.sum("n").alias("incoming_total"),
        F.map_from_entries(F.collect_list(F.struct("source", "n"))).alias("sources"),
        F.sum("rows").alias("source_count"),
    )
    outgoing = rows.groupBy("lang", "month", F.col("prev").alias("title")).agg(
        F.sum("n").alias("outgoing_total"), F.count(F.lit(1)).alias("destination_count"))
    return incoming.join(outgoing, ["lang", "month", "title"], "full_outer").select(
        "lang", "month", "title",
        F.coalesce("incoming_total", F.lit(0)).alias("incoming_total"),
        F.coalesce("outgoing_total", F.lit(0)).alias("outgoing_total"),
        F.coalesce("sources", F.create_map().cast("map<string,bigint>")).alias("sources"),
        F.coalesce("source_count", F.lit(0)).alias("source_count"),
        F.coalesce("destination_count", F.lit(0)).alias("destination_count"),
    )


def month_stats(rows: DataFrame) -> DataFrame:
    """Per (lang, month): row count, total clicks and the source mix of the whole month."""
    by_source = rows.groupBy("lang", "month", source_key().alias("source")).agg(
        F.count("*").alias("rows"), F.sum("n").alias("n")
    )
    return by_source.groupBy("lang", "month").agg(
        F.sum("rows").alias("rows"),
        F.sum("n").alias("total_clicks"),
        F.map_from_entries(F.collect_list(F.struct("source", "n"))).alias("sources"),
    )
