"""The `ingestion` and `stream_progress` tables, kept by the streaming driver.

A load moves loading -> processing -> complete (or failed). It is complete once the stream
has processed every RAW offset the producer wrote for it and its aggregates are stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from contract.schema import INGESTION_SCOPE
from contract.topics import LoadEvent

#: Producer event status -> ingestion status.
STATUS_OF_EVENT = {"loading": "loading", "produced": "processing", "failed": "failed"}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class PendingLoad:
    lang: str
    month: str
    start_offsets: dict[int, int]
    end_offsets: dict[int, int]


class IngestionTable:
    """Small, driver-side reads and writes of load status (cassandra-driver, not Spark)."""

    def __init__(self, session):
        self._session = session
        self._record = session.prepare(
            "UPDATE ingestion SET status=?, file=?, rows_accepted=?, rows_rejected=?, rejected_by_reason=?, "
            "start_offsets=?, end_offsets=?, seconds=?, rows_per_second=?, error=?, updated_at=?, "
            "started_at=?, produced_at=?, completed_at=null, rows_processed=null "
            "WHERE scope=? AND lang=? AND month=?"
        )
        self._complete = session.prepare(
            "UPDATE ingestion SET status='complete', rows_processed=?, completed_at=?, updated_at=? "
            "WHERE scope=? AND lang=? AND month=?"
        )
        self._pending = session.prepare(
            "SELECT lang, month, status, start_offsets, end_offsets FROM ingestion WHERE scope=?"
        )
        self._progress = session.prepare(
            "INSERT INTO stream_progress (query, batch_id, end_offsets, latest_offsets, rows_in, rows_out, "
            "batch_ms, input_rows_per_second, processed_rows_per_second, lag, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )

    def record_event(self, event: LoadEvent) -> None:
        """Apply the producer's latest event for a load."""
        now = _now()
        at = dt.datetime.fromtimestamp(event.at, dt.timezone.utc)
        rate = event.rows_accepted / event.seconds if event.seconds else 0.0
        self._session.execute(self._record, (
            STATUS_OF_EVENT.get(event.status, event.status), event.file, event.rows_accepted,
            event.rows_rejected, event.rejected_by_reason, event.start_offsets, event.end_offsets,
            event.seconds, rate, event.error or None, now,
            at if event.status == "loading" else None, at if event.status == "produced" else None,
            INGESTION_SCOPE, event.lang, event.month,
        ))

    def processing(self) -> list[PendingLoad]:
        """Loads whose rows are all in Kafka but not yet all aggregated."""
        rows = self._session.execute(self._pending, (INGESTION_SCOPE,))
        return [
            PendingLoad(r.lang, r.month, dict(r.start_offsets or {}), dict(r.end_offsets or {}))
            for r in rows if r.status == "processing"
        ]

    def mark_complete(self, load: PendingLoad, rows_processed: int) -> None:
        now = _now()
        self._session.execute(self._complete, (rows_processed, now, now, INGESTION_SCOPE, load.lang, load.month))

    def record_progress(self, query: str, progress: dict) -> None:
        """Store the stream's last progress report, with lag = latest - processed offsets."""
        source = progress["sources"][0]
        end = _partition_offsets(source.get("endOffset"))
        latest = _partition_offsets(source.get("latestOffset")) or end
        lag = sum(max(latest.get(p, 0) - end.get(p, 0), 0) for p in latest)
        self._session.execute(self._progress, (
            query, progress["batchId"], end, latest, progress.get("numInputRows", 0),
            progress.get("numInputRows", 0), progress.get("durationMs", {}).get("triggerExecution", 0),
            progress.get("inputRowsPerSecond") or 0.0, progress.get("processedRowsPerSecond") or 0.0,
            lag, _now(),
        ))


def _partition_offsets(offsets) -> dict[int, int]:
    """Spark reports Kafka offsets as {topic: {"partition": offset}} (sometimes as JSON text)."""
    import json

    if not offsets:
        return {}
    if isinstance(offsets, str):
        offsets = json.loads(offsets)
    (per_partition,) = offsets.values()
    return {int(p): int(o) for p, o in per_partition.items()}


def caught_up(load: PendingLoad, processed: dict[int, int]) -> bool:
    """True when the stream has processed every offset the load wrote."""
    return all(processed.get(p, 0) >= end for p, end in load.end_offsets.items())
