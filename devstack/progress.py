"""Waiting on work whose length depends on the machine: time out when it stops moving, not at a fixed total.

A wait polls a probe that returns where the work stands (any value that compares with ==: a load's
status and counts, Kafka offsets, a process's exit code). Whenever that value changes, the stall
clock starts again. The wait fails only when nothing has changed for `stall_seconds`
(CLICKSTREAM_STALL_SECONDS, default 300 s), or, as a safety net, past `cap_seconds` in all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: How long nothing may change before a wait gives up; a slow machine moves slowly, but it moves. Longer than
#: the quietest stretch of a healthy load: a bulk-load task that retries a restarting Cassandra node for
#: up to 12 x 15 s (jobs/bulk.py) shows no progress until it finishes.
STALL_SECONDS = float(os.environ.get("CLICKSTREAM_STALL_SECONDS", "300"))
#: The absolute bound: only a wait that keeps changing without ever finishing reaches it.
CAP_SECONDS = float(os.environ.get("CLICKSTREAM_WAIT_CAP_SECONDS", str(4 * 3600)))


class Stalled(TimeoutError):
    """A wait saw no progress for its stall time (or ran past its cap); the message says where it stood."""


def wait_for_progress(probe: Callable[[], T], done: Callable[[T], bool], what: str, *,
                      stall_seconds: float | None = None, cap_seconds: float | None = None,
                      interval: float = 2.0, describe: Callable[[T], str] = repr,
                      clock: Callable[[], float] = time.monotonic,
                      sleep: Callable[[float], None] = time.sleep) -> T:
    """Poll `probe()` every `interval` s until `done(state)` and return that state; raise Stalled when the
    state has not changed for `stall_seconds`, or when `cap_seconds` have passed since the start."""
    stall = STALL_SECONDS if stall_seconds is None else stall_seconds
    cap = CAP_SECONDS if cap_seconds is None else cap_seconds
    started = changed = clock()
    state = probe()
    while not done(state):
        now = clock()
        if now - changed >= stall or now - started >= cap:
            reason = f"no change for {now - changed:.0f} s" if now - changed >= stall else f"past the {cap:.0f} s cap"
            raise Stalled(f"{what}: {reason} (stall limit {stall:.0f} s, {now - started:.0f} s in all); "
                          f"last seen: {describe(state)}")
        sleep(interval)
        previous, state = state, probe()
        if state != previous:
            changed = clock()
    return state
