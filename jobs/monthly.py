"""Month-level tables derived from `article_stats`: pure DataFrame -> DataFrame functions.

Input `stats` has the columns of `transforms.article_stats` (lang, month, title, incoming_total,
outgoing_total, ...); each function named after a table returns exactly its columns in contract/schema.py.
Every step keys on (lang, month), so a frame holding several loads gives each its own answer.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from contract import records
from contract.records import check_month
from contract.schema import ARTICLE_BUCKETS, SEARCH_PREFIX_CHARS

GROUP = ["lang", "month"]


def previous_month(month: str) -> str:
    """The month before `month`: previous_month("2024-01") == "2023-12"."""
    return _shift(month, -1)


def next_month(month: str) -> str:
    """The month after `month`: next_month("2023-12") == "2024-01"."""
    return _shift(month, 1)


def _shift(month: str, by: int) -> str:
    year, number = map(int, check_month(month).split("-"))
    index = year * 12 + number - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _month_after(month: Column) -> Column:
    """Spark's `next_month`."""
    return F.date_format(F.add_months(F.to_date(F.concat(month, F.lit("-01"))), 1), "yyyy-MM")


def _check_limit(limit) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be an integer >= 1, got {limit!r}")
    return limit


def top_articles(stats: DataFrame, limit: int) -> DataFrame:
    """Rows of `top_articles`: the `limit` most-clicked-into articles per (lang, month), rank 1..limit."""
    _check_limit(limit)
    order = Window.partitionBy(*GROUP).orderBy(F.col("incoming_total").desc(), F.col("title").asc())
    return (
        stats.where(F.col("incoming_total") > 0)
        .withColumn("rank", F.row_number().over(order))
        .where(F.col("rank") <= limit)
        .select(*GROUP, "rank", "title", "incoming_total")
    )


def month_articles(stats: DataFrame) -> DataFrame:
    """Rows of `month_articles`: every article's totals, spread over ARTICLE_BUCKETS partitions by title hash."""
    bucket = F.pmod(F.xxhash64("title"), F.lit(ARTICLE_BUCKETS)).cast("int")
    return stats.select(*GROUP, bucket.alias("bucket"), "title", "incoming_total", "outgoing_total")


def article_trend(stats: DataFrame) -> DataFrame:
    """Rows of `article_trend`: the month's totals, source mix and distinct sources and destinations, filed under
    the article so its history is one partition."""
    return stats.select("lang", "title", "month", "incoming_total", "outgoing_total", "sources", "source_count",
                        "destination_count")


def folded_titles(stats: DataFrame) -> DataFrame:
    """(lang, month, title, incoming_total, folded): every title with its search fold, exactly as
    `contract.records.fold` folds it, so the index folds as the web UI folds a query. A title that folds to
    nothing (only combining marks) is left out: no query can find it.

    An ASCII title folds to its lower case with spaces for underscores (no compatibility form, accent or
    special casing is ASCII), which Spark computes itself. Only the others go to `records.fold` in a plain
    Python UDF (the lock has no pyarrow for a pandas_udf), about 1.5 us each plus the pickling: on a whole
    English month's ~6M titles that was 94 s. They are a separate frame because Spark evaluates a Python
    UDF for every row of its input, even under a CASE that does not need it. Persist the result: both
    search tables read it.
    """
    titles = stats.select(*GROUP, "title", "incoming_total")
    ascii_title = F.octet_length("title") == F.length("title")
    plain = titles.where(ascii_title).withColumn("folded", F.translate(F.lower("title"), "_", " "))
    other = titles.where(~ascii_title).withColumn("folded", F.udf(shipped_fold(), "string")("title"))
    return plain.unionByName(other).where(F.length("folded") > 0)


def shipped_fold():
    """`contract.records.fold`, pickled by value from now on: executors run the Spark image, which has no
    `contract` package (only the driver's image does), so the function travels with the task as code."""
    from pyspark import cloudpickle

    cloudpickle.register_pickle_by_value(records)
    return records.fold


def search_titles(folded: DataFrame) -> DataFrame:
    """Rows of `search_titles`: every title of `folded_titles` under the first SEARCH_PREFIX_CHARS characters
    of its fold (substring counts code points, as Python's slice does)."""
    prefix = F.substring("folded", 1, SEARCH_PREFIX_CHARS)
    return folded.select(*GROUP, prefix.alias("prefix"), "folded", "title", "incoming_total")


def search_top_partitions(folded: DataFrame) -> DataFrame:
    """(lang, month, prefix): the `search_top` partitions the titles of `folded_titles` are filed under."""
    return _under_prefixes(folded).select(*GROUP, "prefix").distinct()


def search_top(folded: DataFrame, limit: int) -> DataFrame:
    """Rows of `search_top`: per (lang, month) and folded prefix of 1..SEARCH_PREFIX_CHARS characters, the
    `limit` titles of `folded_titles` with most incoming clicks, then by title, rank 1..limit."""
    _check_limit(limit)
    order = Window.partitionBy(*GROUP, "prefix").orderBy(F.col("incoming_total").desc(), F.col("title").asc())
    return (
        _under_prefixes(folded)
        .withColumn("rank", F.row_number().over(order))
        .where(F.col("rank") <= limit)
        .select(*GROUP, "prefix", "rank", "title", "incoming_total")
    )


def _under_prefixes(folded: DataFrame) -> DataFrame:
    """`folded` with a row per distinct prefix of 1..SEARCH_PREFIX_CHARS characters of its fold."""
    prefixes = F.array_distinct(F.array(*[F.substring("folded", 1, n) for n in range(1, SEARCH_PREFIX_CHARS + 1)]))
    return folded.withColumn("prefix", F.explode(prefixes))


def movers(current: DataFrame, previous: DataFrame, limit: int) -> DataFrame:
    """Rows of `movers`: per (lang, month) of `current`, the `limit` articles whose incoming clicks changed
    most against the month before, by |change| then title. Inputs are `month_articles`-shaped; either may be
    empty, and an article missing from one month counts 0 there (rows with no change are left out)."""
    _check_limit(limit)
    now = current.select(*GROUP, "title", "incoming_total")
    # File each previous row under the month it is compared with, so one equi-join pairs them; an
    # empty `current` still yields the month after `previous` (everything fell to 0).
    before = previous.select(
        "lang", _month_after(F.col("month")).alias("month"), "title", F.col("incoming_total").alias("previous_total")
    )
    joined = now.join(before, [*GROUP, "title"], "full_outer").select(
        *GROUP, "title",
        F.coalesce("incoming_total", F.lit(0)).alias("incoming_total"),
        F.coalesce("previous_total", F.lit(0)).alias("previous_total"),
    )
    order = Window.partitionBy(*GROUP).orderBy(F.abs("change").desc(), F.col("title").asc())
    return (
        joined.withColumn("change", F.col("incoming_total") - F.col("previous_total"))
        .where(F.col("change") != 0)
        .withColumn("rank", F.row_number().over(order))
        .where(F.col("rank") <= limit)
        .select(*GROUP, "rank", "title", "incoming_total", "previous_total", "change")
    )
