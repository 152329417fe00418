"""jobs.finalize without Kafka or Cassandra: its reads, writes and trims go to an in-memory table store."""

import re
from collections import defaultdict

import pytest

from contract.schema import ARTICLE_BUCKETS
from contract.settings import Settings
from jobs import finalize as job
from jobs import sinks
from jobs.ingestion import PendingLoad

pytestmark = pytest.mark.spark

ROWS = "lang string, month string, prev string, curr string, type string, n long"
ARTICLES = "lang string, month string, bucket int, title string, incoming_total long, outgoing_total long"
#: Primary keys, so that a write upserts as Cassandra does; the other tables are keyed by title.
KEYS = {"top_articles": ("lang", "month", "rank"), "movers": ("lang", "month", "rank"),
        "month_articles": ("lang", "month", "bucket", "title"), "month_stats": ("lang", "month")}


class FakeCassandra:
    """Tables as {primary key: row}; `write_table`/`read_table` stand in for the connector, the rest for a session."""

    def __init__(self, spark):
        self.spark, self.tables = spark, defaultdict(dict)

    def write_table(self, df, settings, table):
        for row in df.collect():
            row = row.asDict()
            self.tables[table][tuple(row[k] for k in KEYS.get(table, ("lang", "month", "title")))] = row

    def read_table(self, spark, settings, table, **where):
        def matches(row):
            return all(row[c] in v if isinstance(v, range) else row[c] == v for c, v in where.items())
        return spark.createDataFrame([r for r in self.tables[table].values() if matches(r)], ARTICLES)

    def prepare(self, cql):
        return cql

    def execute(self, cql, params):
        table = re.fullmatch(r"DELETE FROM \w+\.(\w+) WHERE lang=\? AND month=\? AND rank>\?", cql).group(1)
        lang, month, above = params
        self.tables[table] = {k: r for k, r in self.tables[table].items()
                              if not (r["lang"] == lang and r["month"] == month and r["rank"] > above)}

    def ranked(self, table, month):
        return sorted(tuple(r.values())[2:] for r in self.tables[table].values() if r["month"] == month)


def test_movers_are_right_whichever_month_loads_first(spark, monkeypatch):
    clicks = {
        "2024-10": [("other-search", "A", "external", 100), ("other-search", "B", "external", 40), ("A", "B", "link", 10)],
        "2024-11": [("other-search", "A", "external", 60), ("other-search", "B", "external", 40), ("A", "B", "link", 10),
                    ("other-search", "C", "external", 30)],
    }
    store = FakeCassandra(spark)
    monkeypatch.setattr(sinks, "write_table", store.write_table)
    monkeypatch.setattr(sinks, "read_table", store.read_table)
    monkeypatch.setattr(job, "load_rows", lambda spark, settings, load: spark.createDataFrame(
        [(load.lang, load.month, *row) for row in clicks[load.month]], ROWS))

    def load(month):
        return job.finalize(spark, Settings(), PendingLoad("en", month, {}, {}), store)

    # November first: nothing to compare with, so every article "rose" from 0.
    assert load("2024-11") == 4
    assert store.ranked("movers", "2024-11") == [(1, "A", 60, 0, 60), (2, "B", 50, 0, 50), (3, "C", 30, 0, 30)]
    assert store.ranked("top_articles", "2024-11") == [(1, "A", 60), (2, "B", 50), (3, "C", 30)]
    # October then redoes November's movers: B did not move, and the stale rank 3 is trimmed.
    assert load("2024-10") == 3
    assert store.ranked("movers", "2024-11") == [(1, "A", 60, 100, -40), (2, "C", 30, 0, 30)]
    assert store.ranked("movers", "2024-10") == [(1, "A", 100, 0, 100), (2, "B", 50, 0, 50)]
    # The month tables: every title of the month, other-search included (it has outgoing clicks).
    assert {(r["month"], r["title"]) for r in store.tables["month_articles"].values()} == {
        ("2024-10", t) for t in ("A", "B", "other-search")} | {("2024-11", t) for t in ("A", "B", "C", "other-search")}
    assert all(0 <= r["bucket"] < ARTICLE_BUCKETS for r in store.tables["month_articles"].values())
    assert {(r["title"], r["month"], r["incoming_total"]) for r in store.tables["article_trend"].values()
            if r["title"] == "A"} == {("A", "2024-10", 100), ("A", "2024-11", 60)}
    assert {(r["prefix"], r["title"]) for r in store.tables["titles"].values() if r["month"] == "2024-11"} == {
        ("a", "A"), ("b", "B"), ("c", "C"), ("o", "other-search")}
