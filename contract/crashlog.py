"""The last resort of the command-line tools: an unexpected error becomes one line on stderr, and its
full trace goes to a file under $CLICKSTREAM_CACHE/logs/ for whoever debugs it."""

from __future__ import annotations

import os
import time
import traceback
from pathlib import Path

from contract.settings import cache_root


def write(err: BaseException, tool: str) -> Path:
    """Write `err`'s full trace to a new file under $CLICKSTREAM_CACHE/logs/; return its path."""
    directory = cache_root() / "logs"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{tool}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    path.write_text("".join(traceback.format_exception(err)))
    return path


def describe(err: BaseException, tool: str) -> str:
    """What a tool prints after `error: ` for an unexpected error: its type, its message and where the
    full trace was written."""
    try:
        where = f"full trace in {write(err, tool)}"
    except OSError as unwritable:  # a read-only cache must not hide the original error
        where = f"the trace could not be written: {unwritable}"
    message = " ".join(str(err).split()) or "(no message)"
    return f"unexpected {type(err).__name__}: {message} ({where})"
