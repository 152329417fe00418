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
