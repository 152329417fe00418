"""Downloading one month's dump into the cache: resumable, and verified against the published md5.

The transfer goes to `<name>.part`; a broken connection is retried with an HTTP Range request
from where the part ends (also across runs). Only a file whose md5 matches the month's md5sums
file is renamed to its final name, with the md5 written beside it as `<name>.md5`.
"""

from __future__ import annotations

import http.client
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from producer import dumps
from producer.config import USER_AGENT
from producer.integrity import md5_of, read_sidecar, write_sidecar

log = logging.getLogger(__name__)

#: Called with (bytes on disk, total bytes or None).
Progress = Callable[[int, "int | None"], None]
CHUNK = 1 << 20


class DownloadError(Exception):
    """The dump could not be fetched or failed verification; the message says what to do."""


def download(lang: str, month: str, dest: Path, base: str, progress: Progress | None = None,
             attempts: int = 5, sleep: Callable[[float], None] = time.sleep, timeout: float = 60.0) -> Path:
    """Fetch `clickstream-<lang>wiki-<month>.tsv.gz` into `dest` and return its path."""
    name = dumps.dump_name(lang, month)
    final = dest / name
    if final.exists() and read_sidecar(final):
        return final
    try:
        listing = dumps.list_month(base, month, timeout)
    except urllib.error.HTTPError as err:
        if err.code == 404:
            raise DownloadError(f"{month}: no such month folder at {dumps.month_url(base, month)}") from None
        raise
    if lang not in listing.dumps:
        raise DownloadError(f"{month}: no {lang} dump published; languages: {', '.join(listing.langs) or 'none'}")
    try:
        expected = dumps.published_md5(base, listing, name, timeout)
    except dumps.NotPublished as err:
        raise DownloadError(f"{err}; cannot verify the download") from None
    dest.mkdir(parents=True, exist_ok=True)
    target = final if final.exists() else dest / f"{name}.part"
    if target is not final:
        _transfer_with_retries(dumps.file_url(base, month, name), target, progress, attempts, sleep, timeout)
    actual = md5_of(target)
    if actual != expected:
        target.unlink()
        raise DownloadError(f"{name}: md5 {actual} does not match the published {expected}; "
                            f"the file was deleted: download it again")
    if target is not final:
        target.replace(final)
    write_sidecar(final, expected)
    return final


def _transfer_with_retries(url: str, part: Path, progress: Progress | None, attempts: int,
                           sleep: Callable[[float], None], timeout: float) -> None:
    """Transfer, resuming after each break; gives up after `attempts` breaks in a row without progress."""
    failures = 0
    before = -1
    while True:
        try:
            _transfer(url, part, progress, timeout)
            return
        except dumps.NETWORK_ERRORS as err:
            if not _retryable(err):
                raise DownloadError(f"{url}: {err}") from None
            have = part.stat().st_size if part.exists() else 0
            failures = 1 if have > before else failures + 1
            before = have
            if failures >= attempts:
                raise DownloadError(f"{url}: transfer failed {attempts} times without progress (last: {err!r}); "
                                    f"{have:,} bytes are kept in {part.name}, run again to resume") from None
            wait = min(2.0 ** failures, 60.0)
            log.warning("transfer broken at %s bytes (%r); resuming in %.0f s", f"{have:,}", err, wait)
            sleep(wait)


def _retryable(err: BaseException) -> bool:
    if isinstance(err, urllib.error.HTTPError):
        return err.code >= 500 or err.code in (408, 429)
    return True


def _transfer(url: str, part: Path, progress: Progress | None, timeout: float) -> None:
    """One GET, appending to `part` from its current size; raises if the body ends early."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:
            return  # nothing left to fetch: the md5 check decides whether the part is right
        raise
    with response:
        if have and response.status != 206:
            have = 0  # the server ignored the range: start again
        elif have and not response.headers.get("Content-Range", "").startswith(f"bytes {have}-"):
            part.unlink()
            raise http.client.HTTPException(f"asked for bytes {have}- but got {response.headers.get('Content-Range')}")
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        if progress:
            progress(have, total)
        with part.open("ab" if have else "wb") as f:
            while chunk := response.read(CHUNK):
                f.write(chunk)
                have += len(chunk)
                if progress:
                    progress(have, total)
    if total is not None and have < total:
        raise http.client.IncompleteRead(b"", total - have)
