"""jobs.sinks' deletes, against a session that completes every request at once."""

import pytest

from contract.settings import Settings
from jobs import sinks

pytestmark = pytest.mark.spark


class Done:
    """A cassandra-driver ResponseFuture that has already succeeded."""

    _col_names = _col_types = None

    def add_callbacks(self, callback, callback_args, errback, errback_args):
        callback([], *callback_args)

    def clear_callbacks(self):
        pass


class FakeSession:
    def __init__(self):
        self.prepared, self.sent = [], []

    def prepare(self, cql):
        self.prepared.append(cql)
        return cql

    def execute_async(self, statement, params, **kwargs):
        self.sent.append((statement, params))
        return Done()


def test_delete_keys_sends_one_delete_per_key_in_rounds(spark, monkeypatch):
    monkeypatch.setattr(sinks, "DELETE_ROUND", 2)
    keys = spark.createDataFrame([("en", "2024-11", f"T{i}") for i in range(5)],
                                 "lang string, month string, curr string")
    session = FakeSession()
    assert sinks.delete_keys(keys.repartition(3), Settings(keyspace="ks"), session, "edges_in") == 5
    assert session.prepared == ["DELETE FROM ks.edges_in WHERE lang=? AND month=? AND curr=?"]
    assert sorted(params for _, params in session.sent) == [("en", "2024-11", f"T{i}") for i in range(5)]
    assert sinks.delete_keys(keys.limit(0), Settings(keyspace="ks"), session, "edges_in") == 0


def test_upsert_sends_one_insert_per_row_in_the_tables_column_order_at_one_timestamp(spark, monkeypatch):
    stats = spark.createDataFrame([(7, "en", "2024-11", 3, {"link": 7}), (9, "de", "2024-11", 4, {"other": 9})],
                                  "total_clicks long, lang string, month string, rows long, sources map<string,long>")
    session = FakeSession()
    assert sinks.upsert(stats, Settings(keyspace="ks"), session, "month_stats", timestamp=42) == 2
    assert session.prepared == ["INSERT INTO ks.month_stats (lang, month, rows, total_clicks, sources) "
                                "VALUES (?, ?, ?, ?, ?) USING TIMESTAMP 42"]
    assert sorted(params for _, params in session.sent) == [("de", "2024-11", 4, 9, {"other": 9}),
                                                             ("en", "2024-11", 3, 7, {"link": 7})]
    monkeypatch.setattr(sinks, "UPSERT_MAX_ROWS", 1)
    with pytest.raises(ValueError, match="more than 1 rows"):
        sinks.upsert(stats, Settings(keyspace="ks"), session, "month_stats")


class Answers(FakeSession):
    """Answers each query with one row or none."""

    def __init__(self, row):
        super().__init__()
        self.row = row

    def execute(self, statement, params):
        self.sent.append((statement, params))
        return self

    def one(self):
        return self.row


def test_any_stored_asks_for_one_row_of_the_partitions_named():
    session = Answers(row=("en",))
    assert sinks.any_stored(session, Settings(keyspace="ks"), "month_articles", lang="en", month="2024-11",
                            bucket=range(3))
    assert session.prepared == ["SELECT lang FROM ks.month_articles WHERE lang=? AND month=? AND bucket IN ? LIMIT 1"]
    assert session.sent[0][1] == ["en", "2024-11", [0, 1, 2]]
    assert not sinks.any_stored(Answers(row=None), Settings(keyspace="ks"), "pagerank", lang="en", month="2024-11")
