"""Month-level tables derived from `article_stats`: pure DataFrame -> DataFrame functions.

Input `stats` has the columns of `transforms.article_stats` (lang, month, title, incoming_total,
outgoing_total, ...); each function returns exactly the columns of its table in contract/schema.py.
Every step keys on (lang, month), so a frame holding several loads gives each its own answer.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from contract.records import check_month
from contract.schema import ARTICLE_BUCKETS

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
    """Rows of `article_trend`: the month's totals, filed under the article so its history is one partition."""
    return stats.select("lang", "title", "month", "incoming_total", "outgoing_total")


def titles(stats: DataFrame) -> DataFrame:
    """Rows of `titles`: every title under its search prefix (`contract.records.search_prefix`)."""
    # substring counts code points, as Python's title[:1] does; both lower-case by Unicode rules.
    prefix = F.lower(F.substring("title", 1, 1))
    return stats.select(*GROUP, prefix.alias("prefix"), "title", "incoming_total")


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
