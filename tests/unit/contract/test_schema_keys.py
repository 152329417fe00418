"""contract.schema's keys and the DELETE statements built from them."""

import pytest

from contract import schema


def test_keys_come_from_the_create_statements():
    assert schema.partition_key("edges_in") == ["lang", "month", "curr"]
    assert schema.primary_key("edges_in") == ["lang", "month", "curr", "n", "prev"]
    assert schema.primary_key("edges_out") == ["lang", "month", "prev", "bucket", "n", "curr"]
    assert schema.partition_key("article_trend") == ["lang", "title"]
    assert schema.primary_key("month_stats") == schema.partition_key("month_stats") == ["lang", "month"]
    assert schema.primary_key("likely_paths") == ["lang", "month", "title", "steps", "rank"]
    with pytest.raises(ValueError, match="stream_progress"):
        schema.primary_key("stream_progress")


def test_a_delete_names_a_whole_partition_or_a_whole_row():
    assert schema.delete("ks", "edges_in", ["lang", "month", "curr"]) == (
        "DELETE FROM ks.edges_in WHERE lang=? AND month=? AND curr=?")
    assert schema.delete("ks", "article_trend", ["lang", "title", "month"]) == (
        "DELETE FROM ks.article_trend WHERE lang=? AND title=? AND month=?")
    for columns in (["lang", "month"], ["lang", "month", "curr", "n"], ["lang", "month", "curr", "curr"]):
        with pytest.raises(ValueError, match="partition key"):
            schema.delete("ks", "edges_in", columns)
