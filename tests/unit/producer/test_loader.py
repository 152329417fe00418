import gzip
import hashlib
from pathlib import Path

import pytest

from contract import records, topics
from producer import files
from producer.files import DumpError, DumpName, LineReader, name_of
from producer.loader import load_file
from tests.conftest import SAMPLE, read_sample
from tests.fakes import FakePublisher


NAME = DumpName("en", "2024-11")


def test_sample_loads_every_row_packed_by_partition_in_file_order_with_events():
    pub = FakePublisher(partitions=3)
    summary = load_file(SAMPLE, NAME, pub)
    assert summary.accepted == len(read_sample()) == 1039
    assert not summary.rejected and not summary.error
    sent = [(p, records.decode(v)[2]) for p, v in pub.rows()]
    assert sorted((r.prev, r.curr, r.type, r.n) for _, r in sent) == sorted(read_sample())
    for partition in range(3):
        # Each partition holds exactly the rows whose (lang, curr) key maps to it, in file order.
        mine = [(r.prev, r.curr, r.type, r.n) for p, r in sent if p == partition]
        assert mine == [x for x in read_sample() if records.partition_of(f"en\t{x[1]}".encode(), 3) == partition]
    assert all(len(records.unpack(v)) <= records.ROWS_PER_RECORD for _, v, _ in pub.sent[topics.RAW])
    loading, produced = pub.events()
    assert (loading.status, produced.status) == ("loading", "produced")
    assert produced.start_offsets == {0: 0, 1: 0, 2: 0}
    assert sum(produced.end_offsets.values()) == len(pub.sent[topics.RAW]) >= 1039 // records.ROWS_PER_RECORD
    assert produced.rows_accepted == 1039
    # The ledger records which bytes were loaded.
    assert produced.checksum == loading.checksum == "md5:" + hashlib.md5(SAMPLE.read_bytes()).hexdigest()


def test_gzip_is_read_the_same(tmp_path: Path):
    gz = tmp_path / "clickstream-enwiki-2024-11.tsv.gz"
    gz.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    pub = FakePublisher()
    assert load_file(gz, NAME, pub).accepted == 1039


def test_bad_lines_go_to_dead_letters_and_the_load_goes_on(tmp_path: Path):
    f = tmp_path / "x.tsv"
    f.write_bytes(b"a\tb\tlink\t10\nbad line\na\tb\tlink\tzero\n\xff\tb\tlink\t10\nc\td\tother\t12\n")
    pub = FakePublisher()
    summary = load_file(f, NAME, pub)
    assert summary.accepted == 2
    assert summary.rejected == {"wrong_column_count": 1, "n_not_integer": 1, "not_utf8": 1}
    letters = pub.dead_letters()
    assert [(d["line"], d["reason"]) for d in letters] == [(2, "wrong_column_count"), (3, "n_not_integer"),
                                                           (4, "not_utf8")]
    assert letters[2]["raw_text"] == "\\xff\tb\tlink\t10"
    assert pub.events()[-1].rejected_by_reason == summary.rejected


def test_oversized_line_is_cut_and_rejected_without_loading_it_whole(tmp_path: Path):
    f = tmp_path / "x.tsv"
    f.write_bytes(b"a\tb\tlink\t10\n" + b"x" * (3 * records.MAX_LINE_BYTES) + b"\nc\td\tlink\t11\n")
    pub = FakePublisher()
    summary = load_file(f, NAME, pub)
    assert summary.accepted == 2 and summary.rejected == {"oversized_line": 1}
    assert len(pub.dead_letters()[0]["raw_text"]) == topics.DEAD_LETTER_RAW_LIMIT


def test_empty_file_fails_with_a_clear_message(tmp_path: Path):
    f = tmp_path / "x.tsv"
    f.write_bytes(b"")
    pub = FakePublisher()
    summary = load_file(f, NAME, pub)
    assert "empty" in summary.error
    assert pub.events()[-1].status == "failed"


def test_truncated_gzip_fails_before_anything_is_sent(tmp_path: Path):
    gz = tmp_path / "x.tsv.gz"
    gz.write_bytes(gzip.compress(SAMPLE.read_bytes())[:-40])
    pub = FakePublisher()
    summary = load_file(gz, NAME, pub)
    assert "ends early" in summary.error and "download it again" in summary.error
    assert pub.sent[topics.RAW] == [] and pub.sent[topics.DEAD_LETTER] == []
    assert [e.status for e in pub.events()] == ["failed"]
    assert summary.accepted == 0


def test_the_line_reader_still_reports_a_cut_it_meets(tmp_path: Path):
    gz = tmp_path / "x.tsv.gz"
    gz.write_bytes(gzip.compress(SAMPLE.read_bytes())[:-40])
    with pytest.raises(DumpError, match="ends early"), LineReader(gz) as reader:
        for _ in reader:
            pass


@pytest.mark.parametrize("block", [1, 3, 7, 64, 1 << 20])
@pytest.mark.parametrize("compress", [False, True])
def test_the_line_reader_splits_lines_wherever_its_blocks_end(tmp_path: Path, monkeypatch, block, compress):
    monkeypatch.setattr(files, "BLOCK_BYTES", block)
    monkeypatch.setattr(files, "MAX_LINE_BYTES", 10)
    data = (b"a\tb\tlink\t1\r\n\n\r\nshort\n" + b"x" * 11 + b"\n" + b"y" * 40 + b"\nafter\n" + b"z" * 25
            + b"\r\n" + SAMPLE.read_bytes()[:200] + b"\nlast, no ending")
    path = tmp_path / "x.tsv"
    path.write_bytes(gzip.compress(data) if compress else data)
    with LineReader(path) as reader:
        lines = list(reader)
    expected = [line[:11].rstrip(b"\r\n") for line in data.split(b"\n")]
    assert lines == list(enumerate(expected, start=1))


@pytest.mark.parametrize("name, lang, month", [
    ("clickstream-enwiki-2024-11.tsv.gz", "en", "2024-11"),
    ("clickstream-zh_yuewiki-2018-01.tsv", "zh_yue", "2018-01"),
])
def test_name_of_standard_files(name, lang, month):
    assert name_of(Path(name)) == DumpName(lang, month)


@pytest.mark.parametrize("name, message", [
    ("clickstream-enwiki-2024-13.tsv", "impossible month"),
    ("clickstream-EN!wiki-2024-11.tsv", "unknown language"),
    ("dump.tsv", "not a standard dump name"),
])
def test_name_of_rejects_bad_names(name, message):
    with pytest.raises(DumpError, match=message):
        name_of(Path(name))


def test_explicit_lang_and_month_override_the_name():
    assert name_of(Path("dump.tsv"), "de", "2020-02") == DumpName("de", "2020-02")
