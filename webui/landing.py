"""How far a load has landed, for the Ingestion page: the share of its accepted rows the stream has
processed, drawn as a text bar, and the time left at the rate it reports. Pure functions of one load
as the query layer's `ingestion()` returns it."""

from __future__ import annotations

import math

from contract.status import LoadStatus

BAR_CELLS = 10
FULL, EMPTY = "▇", "▁"
#: The phase after the stream has caught up: the load's aggregates are written and a reload's stale rows removed.
FINALIZING = "finalizing"


def share(load: dict) -> float | None:
    """rows_processed / rows_accepted, within 0..1; None while either is unknown (or nothing was accepted)."""
    processed, accepted = load.get("rows_processed"), load.get("rows_accepted")
    if load.get("status") == LoadStatus.COMPLETE:
        return 1.0
    if processed is None or not accepted:
        return None
    return min(max(processed / accepted, 0.0), 1.0)


def bar(fraction: float) -> str:
    """`▇▇▇▇▇▇▁▁▁▁ 64%`; rounded down, so a bar shows 100% only when every row is in."""
    percent = math.floor(fraction * 100)
    full = math.floor(fraction * BAR_CELLS)
    return f"{FULL * full}{EMPTY * (BAR_CELLS - full)} {percent}%"


def eta_seconds(load: dict) -> float | None:
    """Seconds until the stream has processed every accepted row at the reported rows/s; None when
    there is no rate, nothing left or no way to tell."""
    fraction, rate = share(load), load.get("rows_per_second")
    if load.get("status") not in (LoadStatus.LOADING, LoadStatus.PROCESSING) or fraction is None or not rate:
        return None
    left = load["rows_accepted"] - load["rows_processed"]
    return left / rate if left > 0 and rate > 0 else None


def progress(load: dict) -> str:
    """The Progress column: a bar, "finalizing" after the stream caught up, or the failure's reason."""
    status = load.get("status")
    if status == LoadStatus.FAILED:
        return f"failed: {load.get('error') or 'no reason recorded'}"
    fraction = share(load)
    if fraction is None:
        return str(status or "")
    if status == LoadStatus.PROCESSING and fraction >= 1.0:
        return f"{bar(fraction)} {FINALIZING}"
    return bar(fraction)


def eta(load: dict) -> str:
    """The ETA column: "~45 s", "~12 min", "~2 h 05 min", or empty."""
    seconds = eta_seconds(load)
    if seconds is None:
        return ""
    seconds = math.ceil(seconds)
    if seconds < 60:
        return f"~{seconds} s"
    minutes = math.ceil(seconds / 60)
    return f"~{minutes} min" if minutes < 60 else f"~{minutes // 60} h {minutes % 60:02d} min"
