"""jobs.bulk in local Spark: the lines a loader gets, and the pipe to it, with a stand-in loader script.

The real loader (jobs/bulkload/BulkLoad.java) writes SSTables to a ring: the stack tests cover it.
"""

import json
import stat

import pytest

from contract.settings import Settings
from jobs import bulk, monthly, sinks, transforms

pytestmark = pytest.mark.spark

ROWS = "lang string, month string, prev string, curr string, type string, n long"
CLICKS = [("en", "2024-11", "other-search", "A", "external", 100), ("en", "2024-11", "A", "B\r", "link", 12),
          ("en", "2024-11", "other-empty", "B\r", "external", 7)]


def test_tables_go_as_tsv_in_column_order_and_those_with_a_list_as_json(spark):
    rows = spark.createDataFrame(CLICKS, ROWS)
    lines = [r.value for r in bulk.as_lines(transforms.edges_out(rows), "edges_out").collect()]
    assert bulk.line_format("edges_out") == "tsv" and bulk.line_format("likely_paths") == "json"
    assert "en\t2024-11\tA\t0\t12\tB\r\tlink" in lines  # a \r in a title stays inside its field
    # A source mix goes as key:value pairs, and an empty one as an empty field.
    trend = monthly.article_trend(transforms.article_stats(rows))
    assert bulk.line_format("article_trend") == "tsv"
    lines = {r.value for r in bulk.as_lines(trend, "article_trend").collect()}
    # Then the distinct sources and destinations: B\r has two sources, other-search one destination.
    assert lines & {"en\tB\r\t2024-11\t19\t0\tlink:12,other-empty:7\t2\t0",
                    "en\tB\r\t2024-11\t19\t0\tother-empty:7,link:12\t2\t0"}
    assert "en\tother-search\t2024-11\t0\t100\t\t0\t1" in lines
    paths = spark.createDataFrame([("en", "2024-11", "A", 2, 1, ["A", "B,C"], 0.5)],
                                  "lang string, month string, title string, steps int, rank int, path array<string>, "
                                  "probability double")
    assert [json.loads(r.value) for r in bulk.as_lines(paths, "likely_paths").collect()] == [
        {"lang": "en", "month": "2024-11", "title": "A", "steps": 2, "rank": 1, "path": ["A", "B,C"],
         "probability": 0.5}]


def _loader(tmp_path, body: str):
    script = tmp_path / "loader"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_each_task_pipes_its_lines_through_the_loader_and_the_counts_must_add_up(spark, tmp_path, monkeypatch):
    seen = tmp_path / "seen"
    # Counts its lines as the real loader reports them, and keeps what it was given to look at.
    monkeypatch.setattr(bulk, "BULKLOAD", _loader(tmp_path, (
        f'tee -a {seen} | wc -l | awk \'{{print "{{\\"rows\\": " $1 ", \\"sstables\\": 1, \\"attempts\\": 1}}"}}\'; '
        f'echo "$BULKLOAD_TABLE $BULKLOAD_FORMAT" >> {seen}.env')))
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 1)
    rows = spark.createDataFrame(CLICKS, ROWS).repartition(3)
    assert bulk.bulk_write(transforms.edges_in(rows), Settings(), None, "edges_in", 3) == 3
    assert sorted(seen.read_bytes().decode().split("\n")[:-1]) == sorted(
        r.value for r in bulk.as_lines(transforms.edges_in(rows), "edges_in").collect())
    assert set(open(f"{seen}.env").read().split("\n")[:-1]) == {"edges_in tsv"}
    with pytest.raises(bulk.BulkLoadError, match="wrote 3 rows of 4"):
        bulk.bulk_write(transforms.edges_in(rows), Settings(), None, "edges_in", 4)


def test_a_loader_that_fails_fails_the_write(spark, tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "BULKLOAD", _loader(tmp_path, "cat > /dev/null; exit 3"))
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 1)
    # local[1] runs a task once: the failure reaches the driver at once (a cluster retries it first).
    with pytest.raises(Exception, match="exited with status 3"):
        bulk.bulk_write(transforms.edges_in(spark.createDataFrame(CLICKS, ROWS)), Settings(), None, "edges_in", 3)


def test_a_small_table_is_upserted_from_the_driver_at_the_timestamp_given(spark, monkeypatch):
    written = []

    def upsert(df, settings, session, table, timestamp):
        written.append((session, table, df.count(), timestamp))
        return df.count()

    monkeypatch.setattr(sinks, "upsert", upsert)
    monkeypatch.setattr(bulk, "BULKLOAD", "/nonexistent")
    edges = transforms.edges_in(spark.createDataFrame(CLICKS, ROWS))
    assert bulk.bulk_write(edges, Settings(), "session", "edges_in", 3, timestamp=42) == 3
    assert written == [("session", "edges_in", 3, 42)]


def test_a_table_of_unknown_size_is_taken_whole_when_small_and_counted_when_not(spark, tmp_path, monkeypatch):
    upserted = []
    monkeypatch.setattr(sinks, "upsert_rows", lambda rows, settings, session, table, timestamp: upserted.append(
        (table, len(rows), timestamp)) or len(rows))
    monkeypatch.setattr(bulk, "BULKLOAD", _loader(tmp_path, (
        'wc -l | awk \'{print "{\\"rows\\": " $1 ", \\"sstables\\": 1, \\"attempts\\": 1}"}\'')))
    edges = transforms.edges_in(spark.createDataFrame(CLICKS, ROWS))
    assert bulk.bulk_write(edges, Settings(), "session", "edges_in", timestamp=42) == 3
    assert upserted == [("edges_in", 3, 42)]
    monkeypatch.setattr(sinks, "UPSERT_MAX_ROWS", 2)
    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 2)
    assert bulk.bulk_write(edges, Settings(), "session", "edges_in", timestamp=42) == 3
    assert len(upserted) == 1  # the loader took them


def test_side_by_side_returns_every_result_by_name_and_raises_a_failure_once_all_have_ended():
    import threading
    import time

    ended = threading.Event()

    def slow():
        time.sleep(0.2)
        ended.set()
        return "slow"

    def fails():
        raise RuntimeError("boom")

    assert bulk.side_by_side({"a": lambda: 1, "b": slow}) == {"a": 1, "b": "slow"}
    ended.clear()
    with pytest.raises(RuntimeError, match="boom"):
        bulk.side_by_side({"fails": fails, "slow": slow})
    assert ended.is_set()
