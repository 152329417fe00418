"""Checking a dump file whole before any of it is sent: its md5 and, for .gz, the full gzip stream.

One pass reads the file in large chunks, feeds the md5 and decompresses into a bounded buffer
that is thrown away; zlib checks every member's CRC-32 and length, so a truncated or corrupt
download is caught here rather than in the middle of a load.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable
from pathlib import Path

from producer.files import GZIP_MAGIC, DumpError

CHUNK = 4 << 20
#: Most bytes one decompress call may return, so a highly compressible file stays bounded in memory.
OUT_LIMIT = 16 << 20


def sidecar(path: Path) -> Path:
    """`<file>.md5`, written by `download` in md5sum's format."""
    return path.with_name(path.name + ".md5")


def write_sidecar(path: Path, md5: str) -> None:
    """Record `md5` beside `path` as `<hex>  <name>`, so `md5sum -c` can check it too."""
    sidecar(path).write_text(f"{md5}  {path.name}\n")


def read_sidecar(path: Path) -> str | None:
    """The md5 recorded beside `path`, or None when there is no sidecar."""
    try:
        text = sidecar(path).read_text().strip()
    except FileNotFoundError:
        return None
    md5 = text.split()[0].lower() if text else ""
    if len(md5) != 32:
        raise DumpError(f"{sidecar(path).name}: not an md5sum line: {text[:80]!r}")
    return md5


def md5_of(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """The md5 of a file, read in large chunks."""
    digest = hashlib.md5()
    done = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(done)
    return digest.hexdigest()


def check_file(path: Path, md5: str | None = None, progress: Callable[[int], None] | None = None) -> str:
    """Raise DumpError unless `path` is non-empty, matches `md5` (if given) and, if gzip, is whole.

    Returns the file's md5, which the load ledger records.
    """
    if path.stat().st_size == 0:
        raise DumpError(f"{path.name}: the file is empty")
    with path.open("rb") as f:
        compressed = f.read(2) == GZIP_MAGIC
    digest = hashlib.md5()
    gz = _GzipCheck(path.name) if compressed else None
    done = 0
    gz_error: DumpError | None = None
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            if gz and not gz_error:
                try:
                    gz.feed(chunk)
                except DumpError as err:
                    gz_error = err
                    if not md5:
                        break
            done += len(chunk)
            if progress:
                progress(done)
    # A wrong md5 says more than a gzip error (it also explains one), so it is reported first.
    if md5 and digest.hexdigest() != md5.lower():
        raise DumpError(f"{path.name}: md5 {digest.hexdigest()} does not match the expected {md5}; "
                        "delete it and download it again")
    if gz_error:
        raise gz_error
    if gz:
        gz.finish()
    return digest.hexdigest()


class _GzipCheck:
    """Decompresses a (possibly multi-member) gzip stream and discards the output."""

    def __init__(self, name: str):
        self.name = name
        self.inflated = 0
        self._d = zlib.decompressobj(wbits=31)
        self._trailing = False

    def feed(self, data: bytes) -> None:
        """Inflate the next chunk of the file; raises DumpError on corrupt data."""
        while data:
            if self._d.eof and not self._trailing:
                if data[:1] == GZIP_MAGIC[:1]:
                    self._d = zlib.decompressobj(wbits=31)  # the next member
                else:
                    self._trailing = True
            if self._trailing:
                self._check_padding(data)
                return
            try:
                self.inflated += len(self._d.decompress(data, OUT_LIMIT))
                while self._d.unconsumed_tail:
                    self.inflated += len(self._d.decompress(self._d.unconsumed_tail, OUT_LIMIT))
            except zlib.error as err:
                raise DumpError(f"{self.name}: corrupt gzip after {self.inflated:,} bytes: {err}; "
                                "download it again") from None
            data = self._d.unused_data if self._d.eof else b""

    def _check_padding(self, data: bytes) -> None:
        if data.strip(b"\0"):
            raise DumpError(f"{self.name}: unexpected bytes after the gzip stream; download it again")

    def finish(self) -> None:
        """Raise DumpError unless the stream ended at the end of a member."""
        if not self._trailing and not self._d.eof:
            raise DumpError(f"{self.name}: the gzip stream ends early after {self.inflated:,} bytes "
                            "(truncated download?); download it again")
