import itertools
import random

import pytest

from contract import records
from contract.records import Reason, Row, parse_line
from tests.conftest import SAMPLE, TRICKY_TITLES, read_sample


def test_every_sample_line_is_valid_and_kept_verbatim():
    lines = SAMPLE.read_bytes().split(b"\n")
    parsed = [parse_line(line) for line in lines]
    assert all(isinstance(p, Row) for p in parsed)
    assert [(p.prev, p.curr, p.type, p.n) for p in parsed] == read_sample()


@pytest.mark.parametrize("line, reason", [
    (b"a\tb\tlink", Reason.COLUMN_COUNT),
    (b"a\tb\tlink\t10\textra", Reason.COLUMN_COUNT),
    (b"a\tb\tlink\tten", Reason.N_NOT_INTEGER),
    (b"a\tb\tlink\t1.5", Reason.N_NOT_INTEGER),
    (b"a\tb\tlink\t-3", Reason.N_NOT_INTEGER),
    (b"a\tb\tlink\t" + b"9" * 19, Reason.N_NOT_INTEGER),
    (b"a\tb\tlink\t0", Reason.N_BELOW_ONE),
    (b"a\tb\tredlink\t10", Reason.UNKNOWN_TYPE),
    (b"other-search\tb\tlink\t10", Reason.TYPE_PREV_MISMATCH),
    (b"a\tb\texternal\t10", Reason.TYPE_PREV_MISMATCH),
    (b"a\xff\tb\tlink\t10", Reason.NOT_UTF8),
    (b"a" * (records.MAX_LINE_BYTES + 1), Reason.OVERSIZED_LINE),
    (b"\tb\tlink\t10", Reason.BLANK_TITLE),
    (b"a\t  \tlink\t10", Reason.BLANK_TITLE),
    (b"a\t" + "é".encode() * 128 + b"\tlink\t10", Reason.TITLE_TOO_LONG),
])
def test_bad_lines_are_rejected_with_their_reason(line, reason):
    result = parse_line(line)
    assert isinstance(result, records.Rejection)
    assert result.reason == reason


@pytest.mark.parametrize("title", ['"Quoted"', "AC/DC", "NaN", "null", "Ωmega_(letter)", "東京", "it's", "100%"])
def test_awkward_titles_are_kept_exactly(title):
    row = parse_line(f"{title}\t{title}_2\tlink\t10".encode())
    assert row == Row(title, f"{title}_2", "link", 10)


def test_encode_decode_round_trip_and_key_is_lang_and_curr():
    row = Row("other-search", "Ünïcode/Title", "external", 42)
    key, value = records.encode("de", "2024-11", row)
    assert key == "de\tÜnïcode/Title".encode()
    assert records.decode(value) == ("de", "2024-11", row)


def parsed_then_encoded(line: bytes, lang: str = "en", month: str = "2024-11"):
    parsed = parse_line(line)
    return parsed if isinstance(parsed, records.Rejection) else records.encode(lang, month, parsed)


#: Fields that sit on either side of every rule of parse_line; every combination is tried.
TITLES = [b"a", b"", b" ", b"_", b" _ ", b"x" * 255, b"x" * 256, "é".encode() * 127, "é".encode() * 128,
          b"other-search", b"other-empty", b"other-searchx", b"Foo\r", b"a\xff", b"\xed\xa0\x80", "東京".encode(),
          b"a\nb", b"_x_"]
TYPES = [b"link", b"external", b"other", b"LINK", b"", b"links"]
COUNTS = [b"1", b"0", b"007", b"10", b"9" * 18, b"9" * 19, b"-1", b"1.5", b" 1", b"1 ", "１".encode(), b"+1", b""]


def test_the_line_encoder_answers_exactly_as_parse_line_then_encode():
    lines = [b"\t".join(fields) for fields in itertools.product(TITLES, TITLES, TYPES, COUNTS)]
    lines += SAMPLE.read_bytes().split(b"\n") + [b"a\tb\tlink", b"a\tb\tlink\t10\textra", b"", b"\t\t\t",
                                                 b"a" * (records.MAX_LINE_BYTES + 1), b"a" * records.MAX_LINE_BYTES,
                                                 b"_ " * 100_000 + b"\tb\tlink\t1", b"a\t" * 100_000]
    encode_line = records.LineEncoder("en", "2024-11")
    mismatches = [line for line in lines if encode_line(line) != parsed_then_encoded(line)]
    assert not mismatches, mismatches[:5]
    assert sum(not isinstance(encode_line(line), records.Rejection) for line in lines) > 1000


@pytest.mark.parametrize("prev, type_, expected", [
    ("other-search", "external", "other-search"), ("Foo", "link", "link"), ("Foo", "other", "other"),
])
def test_source_key(prev, type_, expected):
    assert records.source_key(prev, type_) == expected


@pytest.mark.parametrize("bad", ["EN", "e", "en wiki", "", "x" * 20])
def test_check_lang_rejects(bad):
    with pytest.raises(ValueError, match="language"):
        records.check_lang(bad)


@pytest.mark.parametrize("bad", ["2024-13", "2024-00", "24-11", "2024-1", "1999-01", "2024-11-01"])
def test_check_month_rejects(bad):
    with pytest.raises(ValueError, match="month"):
        records.check_month(bad)


def test_packs_round_trip_and_partitions_follow_kafkas_default_partitioner():
    values = [records.encode("en", "2024-11", records.Row(f"P{i}", f"C{i}", "link", i + 10))[1] for i in range(5)]
    assert records.unpack(records.pack(values)) == values
    # Java's Utils.murmur2 of these keys (Kafka's UtilsTest): -973932308 and 479470107, then
    # `& 0x7fffffff` and modulo, as the Java client's default partitioner does.
    assert records.partition_of(b"21", 1000) == (-973932308 & 0x7FFFFFFF) % 1000
    assert records.partition_of(b"abc", 7) == (479470107 & 0x7FFFFFFF) % 7


def test_our_murmur2_is_kafka_pythons():
    from kafka.partitioner.default import murmur2

    rng = random.Random(7)
    keys = [rng.randbytes(rng.randrange(0, 80)) for _ in range(5000)] + ["en\tÜnïcode/Title".encode(), b""]
    assert [records.murmur2(k) for k in keys] == [murmur2(k) for k in keys]


@pytest.mark.parametrize("typed, title", [
    ("main p", "Main_Page"), ("MAIN_page", "Main_Page"), ("zurich", "Zürich"), ("ZÜRICH", "Zürich"),
    ("東京", "東京"), ("東京", "東京都"), ("strasse", "Straße"), ("istanbul", "İstanbul"), ("fish", "ﬁsh"),
    ("tokyo", "Ｔｏｋｙｏ"), ("cafe", "Cafe\u0301"), ("café", "Cafe\u0301_de_Flore"), ("σισυφ", "Σίσυφος"),
])
def test_a_folded_query_is_a_prefix_of_the_folded_title(typed, title):
    assert records.fold(title).startswith(records.fold(typed))


def test_fold_ignores_case_accents_compatibility_forms_and_underscores():
    assert records.fold("Main_Page") == "main page"
    assert records.fold("Zürich") == records.fold("Zu\u0308rich") == "zurich"  # precomposed or combining
    assert records.fold("東京都") == "東京都"  # no case, no marks: unchanged
    assert records.fold("Straße") == "strasse" and records.fold("㎒") == "mhz"
    assert records.fold("\u0301\u0308") == ""  # only combining marks: nothing left to find
    assert records.fold("Mañana_2024") != records.fold("Manana-2024")  # punctuation is kept


def test_fold_is_idempotent_on_every_sample_title_and_tricky_ones():
    names = {t for p, c, _, _ in read_sample() for t in (p, c)} | set(TRICKY_TITLES)
    assert all(records.fold(records.fold(t)) == records.fold(t) for t in names)
