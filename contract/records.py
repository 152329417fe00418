"""The clickstream record: how a dump line is read, validated and carried through Kafka.

This module is the single definition of the dump format's rules. The producer validates every
line with `parse_line`; the Spark jobs split Kafka values with `VALUE_FIELDS` and re-check rows
with expressions built from the same constants (`jobs/transforms.py`), and a test proves that the
two agree line for line.
"""

from __future__ import annotations

import enum
import re
import struct
import unicodedata
from dataclasses import dataclass

#: Values of the `type` column.
TYPES = ("link", "external", "other")

#: Pseudo-articles a click can come from. `type == "external"` exactly when prev is one of these.
OTHER_SOURCES = (
    "other-search",
    "other-external",
    "other-internal",
    "other-empty",
    "other-other",
)

#: Keys of an article's source mix: a row counts under its prev if prev is an other-* source,
#: else under its type ("link" or "other").
SOURCE_KEYS = ("link", "other") + OTHER_SOURCES

#: Lines above this size are rejected before any decoding (real lines are < 1 KB).
MAX_LINE_BYTES = 1 << 20

#: n must fit a signed 64-bit counter; the largest real n is about 1.2e8.
MAX_N_DIGITS = 18

#: MediaWiki's limit on a page title, in UTF-8 bytes.
MAX_TITLE_BYTES = 255

#: Order of the tab-separated fields of a Kafka value: the dump's four columns, prefixed with
#: the wiki and month so that every record is self-describing.
VALUE_FIELDS = ("lang", "month", "prev", "curr", "type", "n")

#: A title that is empty or only spaces/underscores (MediaWiki trims both, so no page has one).
#: A plain character class, so Python's `re` and Java's regex (Spark) read it the same way.
BLANK_TITLE_PATTERN = r"^[ _]*$"

LANG_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{1,15}$")
MONTH_PATTERN = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")


_BLANK_TITLE = re.compile(BLANK_TITLE_PATTERN)


class Reason(str, enum.Enum):
    """Why a line was rejected; the value is what the dead-letter record and the UI show."""

    COLUMN_COUNT = "wrong_column_count"
    N_NOT_INTEGER = "n_not_integer"
    N_BELOW_ONE = "n_below_one"
    UNKNOWN_TYPE = "unknown_type"
    TYPE_PREV_MISMATCH = "type_prev_mismatch"
    NOT_UTF8 = "not_utf8"
    OVERSIZED_LINE = "oversized_line"
    BLANK_TITLE = "blank_title"
    TITLE_TOO_LONG = "title_too_long"


@dataclass(frozen=True, slots=True)
class Row:
    """One valid dump row."""

    prev: str
    curr: str
    type: str
    n: int


@dataclass(frozen=True, slots=True)
class Rejection:
    """A line that broke a rule, with enough context to find and fix it."""

    reason: Reason
    detail: str


def source_key(prev: str, type_: str) -> str:
    """The source-mix bucket of a row: its prev for other-* sources, else its type."""
    return prev if prev in OTHER_SOURCES else type_


def parse_line(raw: bytes) -> Row | Rejection:
    """Validate one dump line (without its line ending). Quoting is off and titles are kept verbatim."""
    if len(raw) > MAX_LINE_BYTES:
        return Rejection(Reason.OVERSIZED_LINE, f"{len(raw)} bytes > {MAX_LINE_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return Rejection(Reason.NOT_UTF8, f"invalid byte at position {err.start}")
    fields = text.split("\t")
    if len(fields) != 4:
        return Rejection(Reason.COLUMN_COUNT, f"{len(fields)} columns, expected 4")
    prev, curr, type_, n_text = fields
    for title in (prev, curr):
        if _BLANK_TITLE.match(title):
            return Rejection(Reason.BLANK_TITLE, "empty or blank title")
        if len(title.encode("utf-8")) > MAX_TITLE_BYTES:
            return Rejection(Reason.TITLE_TOO_LONG, f"title over {MAX_TITLE_BYTES} bytes")
    if not n_text.isascii() or not n_text.isdigit() or len(n_text) > MAX_N_DIGITS:
        return Rejection(Reason.N_NOT_INTEGER, f"n={n_text[:40]!r}")
    n = int(n_text)
    if n < 1:
        return Rejection(Reason.N_BELOW_ONE, f"n={n}")
    if type_ not in TYPES:
        return Rejection(Reason.UNKNOWN_TYPE, f"type={type_[:40]!r}")
    if (type_ == "external") != (prev in OTHER_SOURCES):
        return Rejection(Reason.TYPE_PREV_MISMATCH, f"type={type_} with prev={prev[:40]!r}")
    return Row(prev, curr, type_, n)


def encode(lang: str, month: str, row: Row) -> tuple[bytes, bytes]:
    """The partition key and the value of a row.

    The key is (lang, curr): every row that clicks *into* an article lands in one partition, in
    file order, across all months, so per-article work downstream never shuffles incoming rows
    and an article's history stays ordered. Keying by curr rather than prev matters because
    prev is skewed: five other-* pseudo-articles are the prev of ~64% of all clicks.
    """
    key = f"{lang}\t{row.curr}".encode()
    value = "\t".join((lang, month, row.prev, row.curr, row.type, str(row.n))).encode()
    return key, value


class LineEncoder:
    """`parse_line` then `encode` for the lines of one wiki's month: a line's (key, value), or its Rejection.

    Nearly every real line takes a fast path: one regex over its bytes (two titles that are neither blank
    nor over MAX_TITLE_BYTES, a known type, n written without a leading zero), then UTF-8 and the type
    rule. Such a line is valid, and its value is the line itself behind "lang\tmonth\t", so nothing is
    decoded or rebuilt; any other line goes through `parse_line`. Every repeat in the regex is bounded, so
    a hostile line costs linear time. Both paths give the same answer on every line
    (tests/unit/contract/test_records.py); the fast one is ~3x less work per row (docs/benchmarks.md).
    """

    # A title of 1..MAX_TITLE_BYTES bytes with one byte that is neither a space nor an underscore in it.
    _TITLE = rb"((?=[^\t]{0,%d}[^\t _])[^\t]{1,%d})" % (MAX_TITLE_BYTES - 1, MAX_TITLE_BYTES)
    _PLAIN = re.compile(_TITLE + rb"\t" + _TITLE + rb"\t(" + "|".join(TYPES).encode()
                        + rb")\t[1-9][0-9]{0,%d}" % (MAX_N_DIGITS - 1))
    _OTHER_SOURCES = frozenset(s.encode() for s in OTHER_SOURCES)
    _EXTERNAL = b"external"

    def __init__(self, lang: str, month: str):
        self.lang, self.month = lang, month
        self._key_prefix = f"{lang}\t".encode()
        self._value_prefix = f"{lang}\t{month}\t".encode()

    def __call__(self, raw: bytes) -> tuple[bytes, bytes] | Rejection:
        plain = self._PLAIN.fullmatch(raw)
        if plain is not None and (raw.isascii() or _is_utf8(raw)):
            prev, curr, type_ = plain.group(1, 2, 3)
            if (type_ == self._EXTERNAL) == (prev in self._OTHER_SOURCES):
                return self._key_prefix + curr, self._value_prefix + raw
        parsed = parse_line(raw)
        return parsed if isinstance(parsed, Rejection) else encode(self.lang, self.month, parsed)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode(value: bytes) -> tuple[str, str, Row]:
    """Inverse of `encode` for one row's value: (lang, month, row)."""
    lang, month, prev, curr, type_, n = value.decode("utf-8").split("\t")
    return lang, month, Row(prev, curr, type_, int(n))


#: Rows packed into one Kafka record of RAW. Per-record work in the client (kafka-python spends
#: ~50 us on each send) and in the brokers dominates for 40-byte rows; a few hundred rows per
#: record make it negligible while a record stays ~10 KB.
ROWS_PER_RECORD = 256

#: Separates the rows of a packed record. Dump rows are lines, so no field holds a newline.
ROW_SEPARATOR = b"\n"


def pack(values: list[bytes]) -> bytes:
    """One RAW record value holding the encoded rows `values` (all of one partition)."""
    return ROW_SEPARATOR.join(values)


def unpack(value: bytes) -> list[bytes]:
    """The encoded rows of one RAW record value."""
    return value.split(ROW_SEPARATOR)


def partition_of(key: bytes, partitions: int) -> int:
    """The RAW partition of a row with partition key `key`: Kafka's default partitioner
    (murmur2, positive, modulo), so a client sending single keyed rows lands where we do."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


_MURMUR2_M = 0x5BD1E995


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) as an unsigned 32-bit int, as kafka-python's.
    Ours takes the input's 32-bit words in one unpack instead of four byte reads each, and masks once per
    step: ~3x faster, and an English month has ~6M titles to hash."""
    length = len(data)
    words = length // 4
    h = 0x9747B28C ^ length
    for k in struct.unpack_from(f"<{words}I", data):
        k = (k * _MURMUR2_M) & 0xFFFFFFFF
        k = ((k ^ (k >> 24)) * _MURMUR2_M) & 0xFFFFFFFF
        h = ((h * _MURMUR2_M) & 0xFFFFFFFF) ^ k
    if length % 4:
        # The tail's bytes are xor-ed in at disjoint bit positions: that is their little-endian value.
        h = ((h ^ int.from_bytes(data[words * 4:], "little")) * _MURMUR2_M) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * _MURMUR2_M) & 0xFFFFFFFF
    return h ^ (h >> 15)


def search_text(text: str) -> str:
    """A typed exact title as MediaWiki spells it: `_` where readers type a space."""
    return text.replace(" ", "_")


def fold(text: str) -> str:
    """`text` as search compares it: the one folding rule of the title index (jobs/monthly.py applies this very
    function in Spark) and of every query (webui/queries.py). Compatibility forms become plain ones (`ﬁ` -> `fi`,
    full-width -> ASCII), case is folded (`ß` -> `ss`), combining marks are dropped (`Zürich` -> `zurich`), and
    `_` reads as a space; so `main p` finds Main_Page. Unicode's canonical caseless match (NFKD, casefold, NFKD)
    with the marks left out after it, which makes the fold idempotent. Dropped are the characters of a nonzero
    combining class: accents and the like, also kana's voicing marks (`ガ` folds as `カ`); vowel signs of
    class 0 (Devanagari's) stay. The answer depends on Python's Unicode database: the web UI and the Spark
    images share Debian's Python 3.11."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("_", " ")


def check_lang(lang: str) -> str:
    """Return `lang` if it looks like a wiki code (en, de, zh_yue, be-tarask), else raise ValueError."""
    if not LANG_PATTERN.match(lang):
        raise ValueError(f"unknown language code {lang!r}: expected a wiki code such as 'en' or 'de'")
    return lang


def check_month(month: str) -> str:
    """Return `month` if it is a possible YYYY-MM, else raise ValueError."""
    if not MONTH_PATTERN.match(month):
        raise ValueError(f"impossible month {month!r}: expected YYYY-MM, e.g. 2024-11")
    return month
