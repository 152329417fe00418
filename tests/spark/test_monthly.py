"""jobs.monthly against small hand-made article stats whose answers are worked out here."""

import pytest
from pyspark.sql import functions as F

from contract import records
from contract.schema import ARTICLE_BUCKETS, SEARCH_PREFIX_CHARS
from jobs import monthly
from tests.conftest import TRICKY_TITLES, read_sample

pytestmark = pytest.mark.spark

STATS = "lang string, month string, title string, incoming_total long, outgoing_total long"
ARTICLES = "lang string, month string, bucket int, title string, incoming_total long, outgoing_total long"


def test_month_arithmetic():
    assert monthly.previous_month("2024-01") == "2023-12" and monthly.next_month("2023-12") == "2024-01"
    assert monthly.previous_month("2024-11") == "2024-10" and monthly.next_month("2024-10") == "2024-11"
    with pytest.raises(ValueError, match="impossible month"):
        monthly.next_month("2024-13")


def test_top_articles_month_articles_and_trend(spark):
    # D only ever clicks out (incoming 0); B and C tie at 30; A is in two months.
    stats = spark.createDataFrame([
        ("en", "2024-11", "A", 50, 10), ("en", "2024-11", "B", 30, 0), ("en", "2024-11", "C", 30, 5),
        ("en", "2024-11", "D", 0, 40), ("en", "2024-11", "Éclair", 7, 1), ("en", "2024-11", "e", 5, 0),
        ("en", "2024-10", "A", 20, 2), ("de", "2024-11", "A", 3, 0),
    ], STATS).cache()
    top = monthly.top_articles(stats, 3)
    assert top.columns == ["lang", "month", "rank", "title", "incoming_total"]
    assert sorted(tuple(r) for r in top.collect()) == [
        ("de", "2024-11", 1, "A", 3), ("en", "2024-10", 1, "A", 20),
        ("en", "2024-11", 1, "A", 50), ("en", "2024-11", 2, "B", 30), ("en", "2024-11", 3, "C", 30),
    ]
    everyone = monthly.top_articles(stats, 10).where("lang = 'en' AND month = '2024-11'").orderBy("rank")
    everyone = [r.title for r in everyone.collect()]
    assert everyone == ["A", "B", "C", "Éclair", "e"]  # D has no incoming clicks

    articles = monthly.month_articles(stats)
    assert articles.columns == ["lang", "month", "bucket", "title", "incoming_total", "outgoing_total"]
    assert dict(articles.dtypes)["bucket"] == "int"
    rows = articles.collect()
    assert sorted((r.lang, r.month, r.title, r.incoming_total, r.outgoing_total) for r in rows) == sorted(
        tuple(r) for r in stats.collect()
    )
    assert all(0 <= r.bucket < ARTICLE_BUCKETS for r in rows)
    assert len({r.bucket for r in rows if r.title == "A"}) == 1  # the title alone picks the bucket

    trend = monthly.article_trend(stats.withColumn("sources", F.create_map(F.lit("link"), "incoming_total"))
                                  .withColumn("source_count", F.lit(3)).withColumn("destination_count", F.lit(4)))
    assert trend.columns == ["lang", "title", "month", "incoming_total", "outgoing_total", "sources", "source_count",
                             "destination_count"]
    assert sorted(tuple(r) for r in trend.where("lang = 'en' AND title = 'A'").collect()) == [
        ("en", "A", "2024-10", 20, 2, {"link": 20}, 3, 4), ("en", "A", "2024-11", 50, 10, {"link": 50}, 3, 4)
    ]

    stats.unpersist()


def test_search_top_keeps_the_most_read_titles_of_every_folded_prefix_ties_by_title(spark):
    stats = spark.createDataFrame([
        ("en", "2024-11", "Zürich", 90, 0), ("en", "2024-11", "Zurich_Airport", 40, 0),
        ("en", "2024-11", "ZURICH_(band)", 40, 0), ("en", "2024-11", "Zug", 70, 1), ("en", "2024-11", "Z", 0, 3),
        ("en", "2024-11", "東京", 50, 0), ("en", "2024-11", "東京都", 60, 0), ("en", "2024-11", "\u0301", 9, 0),
        ("de", "2024-11", "Zug", 1, 0),
    ], STATS)
    folded = monthly.folded_titles(stats).cache()
    top = monthly.search_top(folded, 3)
    assert top.columns == ["lang", "month", "prefix", "rank", "title", "incoming_total"]
    got = {}
    for r in top.where("lang = 'en'").collect():
        got.setdefault(r.prefix, []).append((r.rank, r.title))
    ranked = {prefix: [title for _, title in sorted(rows)] for prefix, rows in got.items()}
    assert ranked == {
        # Ties (40) by title; only the 3 best of "z"; a title shorter than the prefix length is under its own fold.
        "z": ["Zürich", "Zug", "ZURICH_(band)"], "zu": ["Zürich", "Zug", "ZURICH_(band)"],
        "zur": ["Zürich", "ZURICH_(band)", "Zurich_Airport"], "zug": ["Zug"],
        "東": ["東京都", "東京"], "東京": ["東京都", "東京"], "東京都": ["東京都"],
    }  # the title folding to nothing is in no partition
    assert [tuple(r) for r in top.where("lang = 'de'").collect()] == [
        ("de", "2024-11", p, 1, "Zug", 1) for p in ("z", "zu", "zug")]
    assert sorted(tuple(r) for r in monthly.search_top_partitions(folded).where("lang = 'de'").collect()) == [
        ("de", "2024-11", "z"), ("de", "2024-11", "zu"), ("de", "2024-11", "zug")]

    index = monthly.search_titles(folded)
    assert index.columns == ["lang", "month", "prefix", "folded", "title", "incoming_total"]
    assert sorted((r.prefix, r.folded, r.title) for r in index.where("lang = 'en'").collect()) == sorted([
        ("zur", "zurich", "Zürich"), ("zur", "zurich airport", "Zurich_Airport"),
        ("zur", "zurich (band)", "ZURICH_(band)"), ("zug", "zug", "Zug"), ("z", "z", "Z"),
        ("東京", "東京", "東京"), ("東京都", "東京都", "東京都")])
    folded.unpersist()


def test_spark_folds_every_title_exactly_as_the_contract_does(spark):
    """The index is folded by `contract.records.fold` itself: the sample's titles and tricky ones agree."""
    ascii_edges = ["I", "İ", "ǅ", "_A_b_", "Ⅷ", "ﬁ", "K", "\x7f~", "MiXeD_CaSe_(1999)", "ß", "a\u0301"]
    names = sorted({t for p, c, _, _ in read_sample() for t in (p, c)} | set(TRICKY_TITLES) | set(ascii_edges))
    stats = spark.createDataFrame([("en", "2024-11", t, 1, 0) for t in names], STATS)
    index = monthly.search_titles(monthly.folded_titles(stats)).collect()
    assert {r.title: (r.folded, r.prefix) for r in index} == {
        t: (records.fold(t), records.fold(t)[:SEARCH_PREFIX_CHARS]) for t in names if records.fold(t)}
    top = monthly.search_top(monthly.folded_titles(stats), 1000).collect()
    assert {(r.title, r.prefix) for r in top} == {
        (t, records.fold(t)[:n]) for t in names for n in range(1, SEARCH_PREFIX_CHARS + 1) if records.fold(t)}


def test_movers_by_hand(spark):
    # en: A -40, E +30 (new), G -7 (gone), B +5, D -5 (gone), F +5 (new), C 0 (left out).
    # de has only a December: everything fell to 0 in January. fr has only a January.
    current = spark.createDataFrame([
        ("en", "2024-11", 0, "A", 60, 1), ("en", "2024-11", 0, "B", 45, 0), ("en", "2024-11", 0, "C", 10, 0),
        ("en", "2024-11", 0, "E", 30, 0), ("en", "2024-11", 0, "F", 5, 0), ("fr", "2024-01", 0, "Y", 2, 0),
    ], ARTICLES)
    previous = spark.createDataFrame([
        ("en", "2024-10", 0, "A", 100, 0), ("en", "2024-10", 0, "B", 40, 0), ("en", "2024-10", 0, "C", 10, 0),
        ("en", "2024-10", 0, "D", 5, 0), ("en", "2024-10", 0, "G", 7, 0), ("de", "2023-12", 0, "X", 4, 0),
    ], ARTICLES)
    moved = monthly.movers(current, previous, 5)
    assert moved.columns == ["lang", "month", "rank", "title", "incoming_total", "previous_total", "change"]
    assert sorted(tuple(r) for r in moved.collect()) == [
        ("de", "2024-01", 1, "X", 0, 4, -4),
        ("en", "2024-11", 1, "A", 60, 100, -40), ("en", "2024-11", 2, "E", 30, 0, 30),
        ("en", "2024-11", 3, "G", 0, 7, -7), ("en", "2024-11", 4, "B", 45, 40, 5),
        ("en", "2024-11", 5, "D", 0, 5, -5),
        ("fr", "2024-01", 1, "Y", 2, 0, 2),
    ]
    empty = spark.createDataFrame([], ARTICLES)
    assert [tuple(r) for r in monthly.movers(empty, empty, 5).collect()] == []
    with pytest.raises(ValueError, match="limit must be an integer >= 1"):
        monthly.movers(current, previous, 0)
