import pytest

from contract import records
from contract.schema import SOURCE_BUCKETS
from jobs import transforms
from tests.conftest import ground_truth, read_sample
from tests.spark.conftest import kafka_frame

pytestmark = pytest.mark.spark


def _values(rows, lang="en", month="2024-11"):
    return [records.encode(lang, month, records.Row(*r))[1] for r in rows]


def test_parse_unpacks_and_keeps_every_sample_row_exactly(spark):
    values = _values(read_sample())
    packs = [records.pack(values[i:i + 100]) for i in range(0, len(values), 100)]
    parsed = transforms.parse_values(kafka_frame(spark, packs))
    rows = transforms.valid_rows(parsed).collect()
    assert sorted((r.prev, r.curr, r.type, r.n) for r in rows) == sorted(read_sample())
    assert {(r.lang, r.month) for r in rows} == {("en", "2024-11")}


def test_parity_with_the_producer_on_bad_values(spark):
    """Spark rejects exactly what contract.records.parse_line rejects, for the same reason."""
    bodies = [
        b"a\tb\tlink\t10", b"a\tb\tlink", b"a\tb\tlink\t10\tx", b"a\tb\tlink\tten", b"a\tb\tlink\t-1",
        b"a\tb\tlink\t0", b"a\tb\tlink\t" + b"9" * 19, b"a\tb\tredlink\t10", b"other-search\tb\tlink\t10",
        b"a\tb\texternal\t10", b"\tb\tlink\t10", b"a\t__\tlink\t10", b"a\t" + "é".encode() * 128 + b"\tlink\t10",
        b"other-empty\tNaN\texternal\t12", '"Q"\t東京\tother\t11'.encode(),
    ]
    parsed = transforms.parse_values(kafka_frame(spark, [b"en\t2024-11\t" + b for b in bodies])).collect()
    for body, row in zip(bodies, parsed):
        expected = records.parse_line(body)
        reason = None if isinstance(expected, records.Row) else expected.reason.value
        assert row.reason == reason, body


def test_the_record_tally_counts_each_records_rows_by_verdict(spark):
    """What the stream adds to a running load's rows_processed: every row of each RAW record, valid or not."""
    good = _values([("a", "b", "link", 10), ("c", "b", "link", 5)])
    records_ = [(0, 7, records.pack(good)), (1, 3, records.pack([*good[:1], b"en\t2024-11\ta\tb\tlink\tten"])),
                (1, 4, records.pack(_values([("a", "b", "link", 1)], lang="de")))]
    kafka = spark.createDataFrame([(p, o, bytearray(v)) for p, o, v in records_],
                                  "partition int, offset long, value binary")
    parsed = transforms.parse_values(kafka, keep=transforms.RECORD_COLUMNS)
    assert parsed.columns[:2] == transforms.RECORD_COLUMNS
    tally = {(r.partition, r.offset, r.lang, r.month, r.valid): r.rows
             for r in transforms.record_tally(parsed).collect()}
    assert tally == {(0, 7, "en", "2024-11", True): 2, (1, 3, "en", "2024-11", True): 1,
                     (1, 3, "en", "2024-11", False): 1, (1, 4, "de", "2024-11", True): 1}
    # without `keep`, the rows are what finalize reads: no Kafka columns
    assert "offset" not in transforms.parse_values(kafka).columns


def test_edges_out_buckets_only_other_sources(spark):
    rows = transforms.valid_rows(transforms.parse_values(kafka_frame(spark, _values(read_sample()))))
    out = transforms.edges_out(rows).collect()
    assert all(r.bucket == 0 for r in out if not r.prev.startswith("other-"))
    assert len({r.bucket for r in out if r.prev == "other-empty"}) > 1


def test_article_stats_equal_ground_truth(spark):
    rows = transforms.valid_rows(transforms.parse_values(kafka_frame(spark, _values(read_sample()))))
    truth = ground_truth(read_sample())
    stats = {r.title: r for r in transforms.article_stats(rows).collect()}
    assert set(stats) == set(truth)
    for title, expected in truth.items():
        got = stats[title]
        assert (got.incoming_total, got.outgoing_total) == (expected["incoming_total"], expected["outgoing_total"])
        assert dict(got.sources) == {k: v for k, v in expected["sources"].items()}
        assert (got.source_count, got.destination_count) == (len(expected["incoming"]), len(expected["outgoing"]))


def test_month_stats_and_dedup(spark):
    sample = read_sample()
    doubled = kafka_frame(spark, _values(sample) + _values(sample[:100]) + _values(sample[:5], month="2024-10"))
    rows = transforms.deduplicated(transforms.valid_rows(transforms.parse_values(doubled)))
    months = {r.month: r for r in transforms.month_stats(rows).collect()}
    assert months["2024-11"].rows == len(sample)
    assert months["2024-11"].total_clicks == sum(r[3] for r in sample)
    assert months["2024-10"].rows == 5
    external = sum(r[3] for r in sample if r[2] == "external")
    assert sum(v for k, v in months["2024-11"].sources.items() if k.startswith("other-")) == external


def test_edges_out_partitions_are_every_bucket_of_a_source_and_bucket_0_of_an_article(spark):
    titles = spark.createDataFrame([("en", "2024-11", "A"), ("en", "2024-11", "other-search")],
                                   "lang string, month string, title string")
    partitions = transforms.edges_out_partitions(titles).collect()
    assert {(r.prev, r.bucket) for r in partitions} == {("A", 0)} | {("other-search", b) for b in range(SOURCE_BUCKETS)}
    assert transforms.edges_out_partitions(titles).columns == ["lang", "month", "prev", "bucket"]
    # Every bucket a row of the source can land in is one of these partitions.
    rows = transforms.valid_rows(transforms.parse_values(kafka_frame(spark, _values(read_sample()))))
    landed = {(r.prev, r.bucket) for r in transforms.edges_out(rows).where("prev = 'other-search'").collect()}
    assert landed <= {(r.prev, r.bucket) for r in partitions}


def test_stale_is_the_stored_rows_whose_key_the_fresh_rows_lack(spark):
    schema = "lang string, month string, curr string, n long, prev string, type string"
    stored = spark.createDataFrame([
        ("en", "2024-11", "B", 10, "A", "link"),    # n changed to 12: the old row is stale
        ("en", "2024-11", "B", 40, "S", "other"),   # same key, another type: overwritten, not stale
        ("en", "2024-11", "C", 7, "B", "link"),     # pair only the old file had
        ("de", "2024-11", "C", 7, "B", "link"),     # same pair in another wiki, which the fresh rows also have
    ], schema)
    fresh = spark.createDataFrame([
        ("en", "2024-11", "B", 12, "A", "link"), ("en", "2024-11", "B", 40, "S", "external"),
        ("de", "2024-11", "C", 7, "B", "link"),
    ], schema)
    stale = transforms.stale(stored, fresh, ["lang", "month", "curr", "n", "prev"])
    assert stale.columns == stored.columns
    assert sorted(tuple(r) for r in stale.collect()) == [
        ("en", "2024-11", "B", 10, "A", "link"), ("en", "2024-11", "C", 7, "B", "link")]
    assert transforms.stale(stored, stored, ["lang", "month", "curr", "n", "prev"]).isEmpty()
