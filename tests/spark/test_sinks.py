"""jobs.sinks' deletes, against a session that completes every request at once."""

import re

import pytest

from contract.settings import Settings
from jobs import sinks
from tests.fakes import Done

pytestmark = pytest.mark.spark


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


class Formatting(FakeSession):
    """Prepares a statement as a query with %s markers, which a batch fills in as the driver does for text."""

    def prepare(self, cql):
        return super().prepare(cql).replace("?", "%s")


def test_rows_of_one_partition_go_as_unlogged_batches_of_batch_rows_and_a_lone_row_as_itself(monkeypatch):
    from cassandra.query import BatchStatement, BatchType

    monkeypatch.setattr(sinks, "BATCH_ROWS", 2)
    rows = [{"lang": "en", "month": "2024-11", "bucket": 7, "title": f"T{i}", "incoming_total": i,
             "outgoing_total": 0} for i in range(5)] + [
            {"lang": "en", "month": "2024-11", "bucket": 8, "title": "U", "incoming_total": 1, "outgoing_total": 0}]
    session = Formatting()
    assert sinks.upsert_rows(rows, Settings(keyspace="ks"), session, "month_articles", timestamp=42) == 6
    requests = []
    for statement, params in session.sent:
        if isinstance(statement, BatchStatement):
            assert statement.batch_type == BatchType.UNLOGGED and params is None
            queries = " ".join(query for _, query, _ in statement._statements_and_parameters)
            requests.append(sorted(re.findall(r"'(T\d)'", queries)))
        else:
            requests.append(params[3])
    assert sorted(map(str, requests)) == sorted(map(str, [["T0", "T1"], ["T2", "T3"], "T4", "U"]))


def test_a_small_table_is_taken_whole_and_a_big_one_is_not(spark, monkeypatch):
    stats = spark.createDataFrame([("en", "2024-11", 3, 7), ("de", "2024-11", 4, 9)],
                                  "lang string, month string, rows long, total_clicks long")
    assert sorted(r["lang"] for r in sinks.small_table(stats, "month_stats")) == ["de", "en"]
    monkeypatch.setattr(sinks, "UPSERT_MAX_ROWS", 1)
    assert sinks.small_table(stats, "month_stats") is None


class Answers(FakeSession):
    """Answers each query with one row or none."""

    def __init__(self, row):
        super().__init__()
        self.row = row

    def execute_async(self, statement, params, **kwargs):
        self.sent.append((statement, params))
        return Done([self.row] if self.row else [])


def test_any_stored_asks_for_one_row_of_the_partitions_named():
    session = Answers(row=("en",))  # a row as the driver's tuple factory gives it
    assert sinks.any_stored(session, Settings(keyspace="ks"), "month_articles", lang="en", month="2024-11",
                            bucket=range(3))
    assert session.prepared == ["SELECT lang FROM ks.month_articles WHERE lang=? AND month=? AND bucket IN ? LIMIT 1"]
    assert session.sent[0][1] == ["en", "2024-11", [0, 1, 2]]
    assert not sinks.any_stored(Answers(row=None), Settings(keyspace="ks"), "pagerank", lang="en", month="2024-11")


class Flaky(FakeSession):
    """Fails each statement's first `failures` sends, as a Cassandra node that is restarting does."""

    def __init__(self, failures):
        super().__init__()
        self.failures, self.tries = failures, {}

    def execute_async(self, statement, params, **kwargs):
        self.tries[params] = self.tries.get(params, 0) + 1
        if self.tries[params] <= self.failures:
            return Failed(TimeoutError(f"{params}: received only 1 responses"))
        return super().execute_async(statement, params)


class Failed(Done):
    def __init__(self, error):
        super().__init__()
        self.error = error

    def add_callbacks(self, callback, callback_args, errback, errback_args):
        errback(self.error, *errback_args)


def test_what_fails_is_sent_again_until_it_lands_or_the_rounds_run_out(monkeypatch):
    monkeypatch.setattr(sinks, "RETRY_SECONDS", 0)
    session = Flaky(failures=2)
    assert len(sinks.execute_all(session, "stmt", [(1,), (2,)])) == 2
    assert session.tries == {(1,): 3, (2,): 3} and sorted(session.sent) == [("stmt", (1,)), ("stmt", (2,))]
    monkeypatch.setattr(sinks, "ATTEMPTS", 2)
    with pytest.raises(TimeoutError, match="received only 1 responses"):
        sinks.execute_all(Flaky(failures=2), "stmt", [(1,)])
