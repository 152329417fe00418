"""A small time-bounded memo for the query layer's reads.

Readers are Zipf-distributed (a few articles get most lookups) and a month's data changes only
while it loads, so a few seconds of memo serve most reads from memory and delay what a reader
sees by at most `TTL_SECONDS`. Once a month's load is complete its answers no longer change, so
reads the query layer calls settled are kept `SETTLED_TTL_SECONDS`: under load nearly every lookup
of a loaded month is then served from memory, which is what lets two cores answer hundreds of
lookups a second. Ingestion and health are never memoized: they report live state.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict

TTL_SECONDS = 5.0
#: A month reloaded with different content shows its old answers for at most this long.
SETTLED_TTL_SECONDS = 60.0
MAX_ENTRIES = 20_000


MISSING = object()


class TTLCache:
    """Least-recently-used entries, each valid for `ttl` seconds, or `settled_ttl` for answers that
    can no longer change; thread-safe."""

    def __init__(self, ttl: float = TTL_SECONDS, settled_ttl: float = SETTLED_TTL_SECONDS,
                 max_entries: int = MAX_ENTRIES, clock=time.monotonic):
        self._ttl, self._settled_ttl, self._max, self._clock = ttl, settled_ttl, max_entries, clock
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """The live entry of `key`, or MISSING."""
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit and hit[0] > now:
                self._entries.move_to_end(key)
                return hit[1]
        return MISSING

    def get_or_compute(self, key, compute, settled: bool = False):
        """The entry of `key`; on a miss, `compute()`, kept for the settled or the short TTL."""
        hit = self.get(key)
        if hit is not MISSING:
            return hit
        now = self._clock()
        value = compute()  # outside the lock: a slow read must not block other keys
        with self._lock:
            self._entries[key] = (now + (self._settled_ttl if settled else self._ttl), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return value


def memoized(method=None, *, settled=None):
    """Memoize a Queries read on (method, arguments) in the instance's `cache`. Callers must not
    mutate what it returns (the same object serves later readers).

    `settled(self, *args)`, asked on a miss before the read, says whether the answer can no longer
    change; a settled answer is kept the cache's settled TTL. (Asked before, not after: a read that
    started before a load completed may hold part of it.)
    """
    if method is None:
        return functools.partial(memoized, settled=settled)

    @functools.wraps(method)
    def read(self, *args, **kwargs):
        key = (method.__name__, args, tuple(sorted(kwargs.items())))
        hit = self.cache.get(key)
        if hit is not MISSING:
            return hit
        is_settled = settled is not None and settled(self, *args)
        return self.cache.get_or_compute(key, lambda: method(self, *args, **kwargs), is_settled)

    return read
