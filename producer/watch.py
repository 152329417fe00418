"""`watch`: the producer container's long-running mode.

It polls the dumps index, and loads every published month (from a first month on) of the
configured languages that it has not loaded yet, remembering loaded months in a small JSON
state file. Network trouble is never fatal: an unreachable index, a broken download or an
unreachable Kafka are logged, and the cycle is retried with a growing wait. The loader, the
index readers and `sleep` are injected, so the loop is tested offline and without waiting.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from producer import dumps

log = logging.getLogger(__name__)

#: (lang, month) -> whether the month is now loaded.
Loader = Callable[[str, str], bool]


@dataclass
class WatchState:
    """Months loaded per language, and the first month to consider; saved after every change."""

    path: Path
    since: str | None = None
    loaded: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> "WatchState":
        """The state saved at `path`, or an empty one if there is none (or it is unreadable)."""
        try:
            body = json.loads(path.read_text())
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as err:
            log.warning("state file %s unreadable (%s); starting afresh", path, err)
            return cls(path)
        return cls(path, body.get("since"), {k: sorted(v) for k, v in body.get("loaded", {}).items()})

    def is_loaded(self, lang: str, month: str) -> bool:
        """Whether `lang` `month` was loaded already."""
        return month in self.loaded.get(lang, [])

    def mark(self, lang: str, month: str) -> None:
        """Record a loaded month and save at once."""
        self.loaded[lang] = sorted(set(self.loaded.get(lang, [])) | {month})
        self.save()

    def save(self) -> None:
        """Write the state atomically (temporary file, then rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"since": self.since, "loaded": self.loaded}, indent=1, sort_keys=True))
        os.replace(tmp, self.path)


@dataclass
class Watcher:
    """Polls the index and loads new months; every dependency with the outside world is a field."""

    base: str
    langs: list[str]
    state: WatchState
    load: Loader
    since: str | None = None
    interval: float = 3600.0
    min_backoff: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    list_months: Callable[[str], list[str]] = dumps.list_months
    list_month: Callable[[str, str], dumps.MonthListing] = dumps.list_month

    def poll(self) -> tuple[int, int]:
        """One pass over the index: load what is new. Returns (months loaded, loads failed)."""
        months = self.list_months(self.base)
        if not months:
            log.warning("the dumps index at %s lists no months", self.base)
            return 0, 0
        if self.state.since is None:
            self.state.since = self.since or months[-1]
            self.state.save()
            log.info("watching months from %s on, for %s", self.state.since, ", ".join(self.langs))
        loaded = failed = 0
        for month in (m for m in months if m >= self.state.since):
            wanted = [lang for lang in self.langs if not self.state.is_loaded(lang, month)]
            if not wanted:
                continue
            listing = self.list_month(self.base, month)
            for lang in wanted:
                if lang not in listing.dumps:
                    log.info("%s %s: not published", lang, month)
                    continue
                if self._load(lang, month):
                    self.state.mark(lang, month)
                    loaded += 1
                else:
                    failed += 1
        return loaded, failed

    def _load(self, lang: str, month: str) -> bool:
        log.info("%s %s: loading", lang, month)
        try:
            ok = self.load(lang, month)
        except Exception as err:  # noqa: BLE001 - one failed month must not stop the watch
            log.error("%s %s: load failed (%s: %s); retrying later", lang, month, type(err).__name__, err)
            return False
        if not ok:
            log.error("%s %s: load failed; retrying later", lang, month)
        return ok

    def run(self, cycles: int | None = None) -> None:
        """Poll forever (or `cycles` times): every `interval` seconds, sooner with backoff after errors."""
        backoff = self.min_backoff
        done = 0
        while cycles is None or done < cycles:
            done += 1
            try:
                loaded, failed = self.poll()
            except dumps.NETWORK_ERRORS as err:
                log.warning("dumps index %s unreachable (%s); waiting %.0f s before retrying",
                            self.base, err, backoff)
                failed = 1
            except Exception as err:  # noqa: BLE001 - e.g. a garbled index page: wait and retry
                log.error("poll failed (%s: %s); waiting %.0f s before retrying", type(err).__name__, err, backoff)
                failed = 1
            else:
                log.info("poll done: %d loaded, %d failed", loaded, failed)
            if failed:
                wait, backoff = backoff, min(backoff * 2, self.interval)
            else:
                wait, backoff = self.interval, self.min_backoff
                log.info("next poll in %.0f s", wait)
            self.sleep(wait)
