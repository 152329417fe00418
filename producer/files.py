"""Dump files on disk: what the standard name says, and reading lines as raw bytes."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from contract.records import MAX_LINE_BYTES, check_lang, check_month

NAME_PATTERN = re.compile(r"^clickstream-(?P<lang>[^-]+)wiki-(?P<month>[^.]+)\.tsv(\.gz)?$")
GZIP_MAGIC = b"\x1f\x8b"
#: Bytes read at a time.
BLOCK_BYTES = 1 << 20


class DumpError(Exception):
    """The file cannot be loaded at all; the message says why and what to do."""


@dataclass(frozen=True)
class DumpName:
    lang: str
    month: str


def name_of(path: Path, lang: str | None = None, month: str | None = None) -> DumpName:
    """Language and month from `clickstream-<lang>wiki-<YYYY-MM>.tsv[.gz]`; explicit values win."""
    match = NAME_PATTERN.match(path.name)
    if (lang is None or month is None) and not match:
        raise DumpError(
            f"{path.name}: not a standard dump name (clickstream-<lang>wiki-<YYYY-MM>.tsv[.gz]); "
            "give the language and month explicitly"
        )
    lang = lang or match["lang"]
    month = month or match["month"]
    try:
        return DumpName(check_lang(lang), check_month(month))
    except ValueError as err:
        raise DumpError(f"{path.name}: {err}") from None


class LineReader:
    """Yields (line_number, raw_line) of a .tsv or .tsv.gz file, with the bytes read so far.

    Lines are bytes without their line ending: decoding is validation's job, so a bad byte
    becomes one dead-letter record instead of an exception that ends the load.
    """

    def __init__(self, path: Path):
        self.path = path
        self.size = path.stat().st_size
        if self.size == 0:
            raise DumpError(f"{path.name}: the file is empty")
        self._raw = path.open("rb")
        self.compressed = self._raw.read(2) == GZIP_MAGIC
        self._raw.seek(0)
        self._stream = gzip.GzipFile(fileobj=self._raw) if self.compressed else self._raw

    @property
    def position(self) -> int:
        """Bytes of the file on disk consumed so far (compressed bytes for .gz)."""
        return self._raw.tell()

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        number = 0
        try:
            for line in self._lines():
                number += 1
                yield number, line
        except EOFError:
            raise DumpError(
                f"{self.path.name}: the gzip stream ends early after line {number} "
                "(truncated download?); download it again"
            ) from None
        except gzip.BadGzipFile as err:
            raise DumpError(f"{self.path.name}: corrupt gzip after line {number}: {err}") from None

    def _lines(self) -> Iterator[bytes]:
        """Every line without its ending; one over MAX_LINE_BYTES as its first MAX_LINE_BYTES + 1 bytes (enough
        to reject it, and memory stays bounded).

        Read a block at a time: `readline` releases the GIL at every 8 KiB read and then waits for the Kafka
        client's sender thread to let go of it, which cost a third of a load's time (docs/benchmarks.md)."""
        limit = MAX_LINE_BYTES + 1
        rest, skipping = b"", False
        while block := self._stream.read(BLOCK_BYTES):
            if skipping:
                end = block.find(b"\n")
                if end < 0:
                    continue
                block, skipping = block[end + 1:], False
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                yield line[:limit].rstrip(b"\r\n")
            if len(rest) >= limit:
                yield rest[:limit].rstrip(b"\r\n")
                rest, skipping = b"", True
        if rest:
            yield rest.rstrip(b"\r\n")

    def close(self) -> None:
        self._stream.close()
        self._raw.close()

    def __enter__(self) -> "LineReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
