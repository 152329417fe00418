"""The producer's own settings: where dumps come from and go, and what `watch` loads.

These are read from the environment so the producer container can be configured without
arguments; every command also takes the matching option, which wins.
"""

from __future__ import annotations

import os
from pathlib import Path

from contract.settings import cache_root

#: Environment variable names.
DUMPS_URL_ENV = "CLICKSTREAM_DUMPS_URL"
DUMPS_DIR_ENV = "CLICKSTREAM_DUMPS_DIR"
WATCH_LANGS_ENV = "CLICKSTREAM_WATCH_LANGS"
WATCH_STATE_ENV = "CLICKSTREAM_WATCH_STATE"
WATCH_SINCE_ENV = "CLICKSTREAM_WATCH_SINCE"

DEFAULT_DUMPS_URL = "https://dumps.wikimedia.org/other/clickstream/"

#: Sent with every request: Wikimedia asks automated clients to identify themselves.
USER_AGENT = "clickstream-producer/1.0 (Wikipedia clickstream loader; python-urllib)"


def dumps_url(explicit: str | None = None) -> str:
    """The dumps base URL, always ending with a slash."""
    url = explicit or os.environ.get(DUMPS_URL_ENV) or DEFAULT_DUMPS_URL
    return url if url.endswith("/") else url + "/"


def cache_dir() -> Path:
    """`$CLICKSTREAM_CACHE`, else ~/.cache/clickstream (contract.settings.cache_root)."""
    return cache_root()


def dumps_dir(explicit: Path | None = None) -> Path:
    """Where downloaded dumps are kept: --dest, else $CLICKSTREAM_DUMPS_DIR, else <cache>/dumps."""
    if explicit:
        return explicit
    env = os.environ.get(DUMPS_DIR_ENV)
    return Path(env) if env else cache_dir() / "dumps"


def watch_langs(explicit: str | None = None) -> list[str]:
    """Languages `watch` loads: comma-separated, default "en"."""
    raw = explicit or os.environ.get(WATCH_LANGS_ENV) or "en"
    return [lang.strip() for lang in raw.split(",") if lang.strip()]


def watch_state(explicit: Path | None = None) -> Path:
    """The small JSON file in which `watch` remembers the months it has loaded."""
    if explicit:
        return explicit
    env = os.environ.get(WATCH_STATE_ENV)
    return Path(env) if env else cache_dir() / "watch-state.json"


def watch_since(explicit: str | None = None) -> str | None:
    """The first month `watch` may load; None means the newest one published when it first runs."""
    return explicit or os.environ.get(WATCH_SINCE_ENV) or None
