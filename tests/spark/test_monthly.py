"""jobs.monthly against small hand-made article stats whose answers are worked out here."""

import pytest

from contract import records
from contract.schema import ARTICLE_BUCKETS
from jobs import monthly
from tests.conftest import read_sample

pytestmark = pytest.mark.spark

STATS = "lang string, month string, title string, incoming_total long, outgoing_total long"
ARTICLES = "lang string, month string, bucket int, title string, incoming_total long, outgoing_total long"


def test_month_arithmetic():
    assert monthly.previous_month("2024-01") == "2023-12" and monthly.next_month("2023-12") == "2024-01"
    assert monthly.previous_month("2024-11") == "2024-10" and monthly.next_month("2024-10") == "2024-11"
    with pytest.raises(ValueError, match="impossible month"):
        monthly.next_month("2024-13")


def test_top_articles_month_articles_trend_and_titles(spark):
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

    trend = monthly.article_trend(stats)
    assert trend.columns == ["lang", "title", "month", "incoming_total", "outgoing_total"]
    assert sorted(tuple(r) for r in trend.where("lang = 'en' AND title = 'A'").collect()) == [
        ("en", "A", "2024-10", 20, 2), ("en", "A", "2024-11", 50, 10)
    ]

    found = monthly.titles(stats)
    assert found.columns == ["lang", "month", "prefix", "title", "incoming_total"]
    assert sorted((r.prefix, r.title) for r in found.where("lang = 'en' AND month = '2024-11'").collect()) == [
        ("a", "A"), ("b", "B"), ("c", "C"), ("d", "D"), ("e", "e"), ("é", "Éclair")
    ]
    stats.unpersist()


def test_search_prefix_parity_with_the_contract(spark):
    """Spark files every title under exactly the partition `contract.records.search_prefix` reads."""
    tricky = ["Éclair", "éclair", "ß", "ẞ", "İstanbul", "Σίσυφος", "東京", "Ωmega", "ǅemal", "1984", "3D",
              '"Quoted"', "'Apostrophe'", "_x", "𝔸lpha", "Ǆ", "ﬁsh", "Ⅻ", "Ⓐ", "K", "ΐ"]
    names = sorted({t for p, c, _, _ in read_sample() for t in (p, c)} | set(tricky))
    stats = spark.createDataFrame([("en", "2024-11", t, 1, 0) for t in names], STATS)
    got = {r.title: r.prefix for r in monthly.titles(stats).collect()}
    assert got == {t: records.search_prefix(t) for t in names}


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
