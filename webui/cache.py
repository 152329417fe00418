"""A small time-bounded memo for the query layer's reads.

Readers are Zipf-distributed (a few articles get most lookups) and a month's data changes only
while it loads, so a few seconds of memo serve most reads from memory and delay what a reader
sees by at most `TTL_SECONDS`. Once a month's load is complete its answers no longer change until
it is loaded again, so reads of a complete month are keyed by that load's run id and kept
`SETTLED_TTL_SECONDS`: a reload has a new run id, so its answers never meet the old ones, and
under load nearly every lookup of a loaded month is served from memory, which is what lets two
cores answer hundreds of lookups a second. Settled entries expire at spread-out times, so the
entries filled together at start-up are not all read again in the same second. Ingestion and
health are never memoized: they report live state.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from collections import OrderedDict

TTL_SECONDS = 5.0
#: Settled entries live this long, times a random factor from 1 to 1.5.
SETTLED_TTL_SECONDS = 600.0
MAX_ENTRIES = 20_000


class TTLCache:
    """Least-recently-used entries, each valid for `ttl` seconds, or `settled_ttl` for answers that
    can no longer change; thread-safe."""

    def __init__(self, ttl: float = TTL_SECONDS, settled_ttl: float = SETTLED_TTL_SECONDS,
                 max_entries: int = MAX_ENTRIES, clock=time.monotonic, spread=lambda: random.uniform(1.0, 1.5)):
        self._ttl, self._settled_ttl, self._max, self._clock = ttl, settled_ttl, max_entries, clock
        self._spread = spread
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key, compute, settled: bool = False):
        """The entry of `key`; on a miss, `compute()`, kept for the settled or the short TTL."""
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit and hit[0] > now:
                self._entries.move_to_end(key)
                return hit[1]
        value = compute()  # outside the lock: a slow read must not block other keys
        with self._lock:
            self._entries[key] = (now + (self._settled_ttl * self._spread() if settled else self._ttl), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return value


def memoized(method=None, *, version=None):
    """Memoize a Queries read on (method, arguments) in the instance's `cache`. Callers must not
    mutate what it returns (the same object serves later readers).

    `version(self, *args)` names the state the answer comes from once it can no longer change (the
    run id of a complete load), else None. It is part of the key, and a versioned answer is kept
    the cache's settled TTL. (Asked before the read: one that started before a load completed may
    hold part of it.)
    """
    if method is None:
        return functools.partial(memoized, version=version)

    @functools.wraps(method)
    def read(self, *args, **kwargs):
        settled_by = version(self, *args) if version is not None else None
        key = (method.__name__, settled_by, args, tuple(sorted(kwargs.items())))
        return self.cache.get_or_compute(key, lambda: method(self, *args, **kwargs), settled_by is not None)

    return read
