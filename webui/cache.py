"""A small time-bounded memo for the query layer's reads.

Readers are Zipf-distributed (a few articles get most lookups) and a month's data changes only
while it loads, so a few seconds of memo serve most reads from memory and delay what a reader
sees by at most `TTL_SECONDS`. Ingestion and health are never memoized: they report live state.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict

TTL_SECONDS = 5.0
MAX_ENTRIES = 20_000


class TTLCache:
    """Least-recently-used entries, each valid for `ttl` seconds; thread-safe."""

    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES, clock=time.monotonic):
        self._ttl, self._max, self._clock = ttl, max_entries, clock
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key, compute):
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit and hit[0] > now:
                self._entries.move_to_end(key)
                return hit[1]
        value = compute()  # outside the lock: a slow read must not block other keys
        with self._lock:
            self._entries[key] = (now + self._ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return value


def memoized(method):
    """Memoize a Queries read on (method, arguments) in the instance's `cache`. Callers must not
    mutate what it returns (the same object serves later readers)."""

    @functools.wraps(method)
    def read(self, *args, **kwargs):
        key = (method.__name__, args, tuple(sorted(kwargs.items())))
        return self.cache.get_or_compute(key, lambda: method(self, *args, **kwargs))

    return read
