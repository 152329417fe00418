"""Which articles the load tests ask for: the loaded month's most-read titles, drawn Zipf-like.

Real readers concentrate on a few articles, so the cache-friendly head gets most requests and the tail
keeps the database honest. The titles come from the running API (`/api/v1/top` of the newest complete
load); when that is not available, from the bundled sample, whose month is then the one asked for.
Pure functions plus one fetcher with an injected `get_json`; nothing here imports locust.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import urllib.request
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlencode

from contract.status import LoadStatus

log = logging.getLogger(__name__)

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "clickstream-enwiki-2024-11.tsv"
SAMPLE_LANG, SAMPLE_MONTH = "en", "2024-11"
TOP = 500  # titles in the pool; /api/v1/top allows up to contract.schema.TOP_ARTICLES_LIMIT


@dataclass(frozen=True)
class Pool:
    """Titles of one (lang, month), most-read first, with cumulative 1/rank weights for random.choices."""

    lang: str
    month: str
    titles: tuple[str, ...]
    source: str

    @cached_property
    def cum_weights(self) -> list[float]:
        return list(itertools.accumulate(1 / rank for rank in range(1, len(self.titles) + 1)))

    def pick(self, rng: random.Random) -> str:
        """One title, rank r drawn with probability proportional to 1/r."""
        return rng.choices(self.titles, cum_weights=self.cum_weights)[0]


def sample_titles(path: Path = SAMPLE, limit: int = TOP) -> list[str]:
    """Articles of the bundled sample by incoming clicks, most first (ties by title, so runs repeat)."""
    totals: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        _, curr, _, n = line.split("\t")
        totals[curr] = totals.get(curr, 0) + int(n)
    return sorted(totals, key=lambda t: (-totals[t], t))[:limit]


def sample_pool() -> Pool:
    return Pool(SAMPLE_LANG, SAMPLE_MONTH, tuple(sample_titles()), f"bundled sample {SAMPLE.name}")


def titles_in(payload: Any) -> list[str]:
    """The titles of a ranked-list response, in order: a list of {title, ...} rows, bare or under any key."""
    rows = payload
    if isinstance(payload, dict):
        rows = next((v for v in payload.values() if isinstance(v, list) and any(_titled(r) for r in v)), [])
    return [r["title"] for r in rows if _titled(r)] if isinstance(rows, list) else []


def _titled(row: Any) -> bool:
    return isinstance(row, dict) and isinstance(row.get("title"), str)


def newest_complete_load(loads: list[dict]) -> tuple[str, str] | None:
    """(lang, month) of the newest complete load, English first on a tie; None if nothing is complete."""
    done = [(x["month"], x["lang"] == "en", x["lang"]) for x in loads if x.get("status") == LoadStatus.COMPLETE]
    if not done:
        return None
    month, _, lang = max(done)
    return lang, month


def typed(title: str, length: int, lower_first: bool) -> str:
    """What a reader has typed after `length` keystrokes of `title`: spaces for `_`, maybe a lower-case start."""
    text = title.replace("_", " ")[:length]
    return text[:1].lower() + text[1:] if lower_first else text


def unknown_title(rng: random.Random) -> str:
    """A title no dump has: the API must answer 404."""
    return f"Loadtest_no_such_article_{rng.getrandbits(48):012x}"


def get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


def discover(host: str, fetch: Callable[[str], Any] = get_json) -> Pool:
    """The pool for `host`: $CLICKSTREAM_LOADTEST_LANG/MONTH or the newest complete load, its /top titles.

    Falls back to the bundled sample (en 2024-11) when the API has no such load or no /top yet; the
    caller logs which source won, since a stack without the sample loaded then answers 404s.
    """
    host = host.rstrip("/")
    lang, month = os.environ.get("CLICKSTREAM_LOADTEST_LANG"), os.environ.get("CLICKSTREAM_LOADTEST_MONTH")
    try:
        if not (lang and month):
            lang, month = newest_complete_load(fetch(f"{host}/api/v1/ingestion")["loads"]) or (None, None)
        if lang and month:
            top = titles_in(fetch(f"{host}/api/v1/top?" + urlencode({"lang": lang, "month": month, "limit": TOP})))
            if top:
                return Pool(lang, month, tuple(top), f"{host}/api/v1/top")
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("could not read the loaded titles from %s (%s)", host, err)
    return sample_pool()
