"""jobs.finalize without Kafka or Cassandra: its reads, writes, trims and deletes go to an in-memory table store."""

import re
from collections import defaultdict

import pytest

from contract import schema
from contract.schema import ARTICLE_BUCKETS
from contract.settings import Settings
from jobs import finalize as job
from jobs import bulk, sinks
from jobs.ingestion import PendingLoad
from tests.fakes import Done

pytestmark = pytest.mark.spark

ROWS = "lang string, month string, prev string, curr string, type string, n long"
#: Tables read before anything is written to them; the others are read with the schema they were written with.
EMPTY = {
    "month_articles": "lang string, month string, bucket int, title string, incoming_total long, outgoing_total long",
    "pagerank": "lang string, month string, rank int, title string, score double",
}


class FakeCassandra:
    """Tables as {primary key: row}, keyed as contract.schema declares; the `sinks` functions stand in for the
    connector, `prepare`/`execute` for a session. `reads` and `deleted` count read-backs and deletes per table."""

    def __init__(self, spark):
        self.spark, self.tables, self.schemas = spark, defaultdict(dict), dict(EMPTY)
        self.reads, self.deleted = defaultdict(int), defaultdict(int)

    def upsert(self, df, settings, session, table, timestamp=None):
        self.schemas[table] = df.schema
        rows = df.collect()
        for row in rows:
            row = row.asDict()
            self.tables[table][tuple(row[k] for k in schema.primary_key(table))] = row
        return len(rows)

    def bulk_write(self, df, settings, session, table, rows=None, timestamp=None):
        assert rows is None or df.count() == rows
        return self.upsert(df, settings, session, table, timestamp)

    def any_stored(self, session, settings, table, **where):
        return bool(self.matching(table, where))

    def matching(self, table, where):
        def matches(row):
            return all(row[c] in v if isinstance(v, (list, tuple, range)) else row[c] == v for c, v in where.items())
        return [r for r in self.tables[table].values() if matches(r)]

    def read_table(self, spark, settings, table, **where):
        return spark.createDataFrame(self.matching(table, where), self.schemas[table])

    def read_partitions(self, spark, settings, table, keys):
        assert sorted(keys.columns) == sorted(schema.partition_key(table))
        wanted = {tuple(k) for k in keys.collect()}
        self.reads[table] += 1
        return spark.createDataFrame([r for r in self.tables[table].values()
                                      if tuple(r[c] for c in keys.columns) in wanted], self.schemas[table])

    def delete_keys(self, keys, settings, session, table):
        schema.delete(settings.keyspace, table, keys.columns)  # raises unless they are a partition or primary key
        gone = {tuple(k) for k in keys.collect()}
        self.tables[table] = {k: r for k, r in self.tables[table].items()
                              if tuple(r[c] for c in keys.columns) not in gone}
        self.deleted[table] += len(gone)
        return len(gone)

    def prepare(self, cql):
        return cql

    def execute_async(self, cql, params, **kwargs):
        self.execute(cql, params)
        return Done()

    def execute(self, cql, params):
        table = re.fullmatch(r"DELETE FROM \w+\.(\w+) WHERE lang=\? AND month=\? AND rank>\?", cql).group(1)
        lang, month, above = params
        self.tables[table] = {k: r for k, r in self.tables[table].items()
                              if not (r["lang"] == lang and r["month"] == month and r["rank"] > above)}

    def ranked(self, table, month):
        return sorted(tuple(r.values())[2:] for r in self.tables[table].values() if r["month"] == month)

    def titles(self, table):
        """Every title a table holds, under whichever column names it."""
        column = {"edges_in": "curr", "edges_out": "prev"}.get(table, "title")
        return {r[column] for r in self.tables[table].values()}


@pytest.fixture
def connect(spark, monkeypatch):
    """A function returning a new FakeCassandra that `sinks` reads and writes from then on."""
    def new_store():
        store = FakeCassandra(spark)
        for name in ("upsert", "any_stored", "read_table", "read_partitions", "delete_keys"):
            monkeypatch.setattr(sinks, name, getattr(store, name))
        monkeypatch.setattr(bulk, "bulk_write", store.bulk_write)  # finalize calls it from threads
        return store
    return new_store


@pytest.fixture
def land(spark, monkeypatch):
    """A function doing what the driver does with one load: finalize it into `store` and, with `analyze`,
    run its analytics; it returns finalize's count."""
    def run(store, month, clicks, analyze=False):
        load = PendingLoad("en", month, {}, {})
        rows = spark.createDataFrame([(load.lang, load.month, *row) for row in clicks], ROWS)
        monkeypatch.setattr(job, "load_rows", lambda spark, settings, load: rows)
        count = job.finalize(spark, Settings(), load, store)
        if analyze:
            job.run_analytics(spark, Settings(), load, store)
        return count
    return run


# A big load counts its per-title tables before writing them; a small one lets each write take its table whole.
@pytest.mark.parametrize("bulk_min_rows", [bulk.BULK_MIN_ROWS, 0], ids=["small load", "big load"])
def test_movers_are_right_whichever_month_loads_first(spark, connect, monkeypatch, bulk_min_rows):
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", bulk_min_rows)
    clicks = {
        "2024-10": [("other-search", "A", "external", 100), ("other-search", "B", "external", 40),
                    ("A", "B", "link", 10)],
        "2024-11": [("other-search", "A", "external", 60), ("other-search", "B", "external", 40),
                    ("A", "B", "link", 10), ("other-search", "C", "external", 30)],
    }
    store = connect()
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
    assert {(r["title"], r["prefix"], r["folded"]) for r in store.tables["search_titles"].values()
            if r["month"] == "2024-11"} == {("A", "a", "a"), ("B", "b", "b"), ("C", "c", "c"),
                                            ("other-search", "oth", "other-search")}
    ranks = sorted((r["prefix"], r["rank"], r["title"]) for r in store.tables["search_top"].values()
                   if r["month"] == "2024-11" and r["prefix"] in ("a", "ot"))
    assert ranks == [("a", 1, "A"), ("ot", 1, "other-search")]


# "Gone" and "E" are only in the old file, and so is the pair B -> C; A -> B changes n; D is new.
OLD = [("other-search", "A", "external", 100), ("other-search", "B", "external", 40), ("A", "B", "link", 10),
       ("A", "Gone", "link", 5), ("Gone", "C", "link", 3), ("B", "C", "link", 7), ("other-search", "C", "external", 30),
       ("other-external", "Gone", "external", 9), ("other-search", "E", "external", 2)]
NEW = [("other-search", "A", "external", 100), ("other-search", "B", "external", 40), ("A", "B", "link", 12),
       ("other-search", "C", "external", 30), ("A", "C", "link", 6), ("C", "D", "link", 4)]
PER_TITLE = ("month_articles", "search_titles", "search_top", "article_trend", "related",
             "likely_paths", "edges_in", "edges_out")


def test_a_first_load_deletes_nothing_and_a_reload_leaves_exactly_the_new_load(connect, land):
    store = connect()
    assert land(store, "2024-11", OLD, analyze=True) == len(OLD)
    assert not store.reads and not store.deleted
    assert "Gone" in store.titles("related") and "Gone" in store.titles("likely_paths")
    assert land(store, "2024-11", NEW, analyze=True) == len(NEW)
    edges_in = {(r["curr"], r["prev"], r["n"]) for r in store.tables["edges_in"].values()}
    edges_out = {(r["prev"], r["curr"], r["n"]) for r in store.tables["edges_out"].values()}
    # (a) the pair whose n changed keeps only its new row, in both edges tables.
    assert ("B", "A", 12) in edges_in and ("B", "A", 10) not in edges_in
    assert ("A", "B", 12) in edges_out and ("A", "B", 10) not in edges_out
    # (b) a pair only the old file had is gone, though both its titles stay.
    assert ("C", "B", 7) not in edges_in and ("B", "C", 7) not in edges_out
    # (c) a title only the old file had is in no per-title table, nor in any edge.
    for table in PER_TITLE:
        assert "Gone" not in store.titles(table), table
    assert not [e for e in edges_in | edges_out if "Gone" in e]
    # PageRank had 5 articles and now has 4: the old rank 5 is trimmed.
    assert [rank for rank, *_ in store.ranked("pagerank", "2024-11")] == [1, 2, 3, 4]
    assert {table for table, n in store.deleted.items() if n} >= {"edges_in", "edges_out", *PER_TITLE}
    # (d) every table holds what a first load of the new file alone stores, nothing more or less.
    fresh = connect()
    land(fresh, "2024-11", NEW, analyze=True)
    assert {t for t, rows in store.tables.items() if rows} == {t for t, rows in fresh.tables.items() if rows}
    for table, rows in fresh.tables.items():
        assert store.tables[table] == rows, table


def test_a_load_shuffles_into_partitions_sized_to_it_in_a_session_of_its_own(spark):
    before = spark.conf.get("spark.sql.shuffle.partitions")
    month = job.sized_session(spark, PendingLoad("en", "2024-11", {}, {0: 10}, rows_processed=35_000_000))
    assert month.conf.get("spark.sql.shuffle.partitions") == "70"
    assert spark.conf.get("spark.sql.shuffle.partitions") == before  # the stream's session keeps its own
    sample = job.sized_session(spark, PendingLoad("en", "2024-11", {}, {0: 5}, rows_processed=1_039))
    assert sample.conf.get("spark.sql.shuffle.partitions") == str(job.SMALL_SHUFFLE_PARTITIONS)
    million = job.sized_session(spark, PendingLoad("en", "2024-11", {}, {0: 5}, rows_processed=1_000_000))
    assert million.conf.get("spark.sql.shuffle.partitions") == str(job.MIN_SHUFFLE_PARTITIONS)
    # Before the stream has counted any row, the load's records say how big it is at most.
    counted = job.sized_session(spark, PendingLoad("en", "2024-11", {0: 1_000}, {0: 101_000}))
    assert counted.conf.get("spark.sql.shuffle.partitions") == "52"  # 100,000 records of 256 rows
