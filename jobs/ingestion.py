"""The `ingestion` and `stream_progress` tables, kept by the streaming driver.

A load moves loading -> processing -> complete (or failed). It is complete once the stream
has processed every RAW offset the producer wrote for it and its aggregates are stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from contract.schema import INGESTION_SCOPE
from contract.status import ACTIVE, EventStatus, LoadStatus
from contract.topics import LoadEvent

#: Producer event status -> ingestion status.
STATUS_OF_EVENT = {EventStatus.LOADING: LoadStatus.LOADING, EventStatus.PRODUCED: LoadStatus.PROCESSING,
                   EventStatus.FAILED: LoadStatus.FAILED}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class PendingLoad:
    lang: str
    month: str
    start_offsets: dict[int, int]
    end_offsets: dict[int, int]
    run: str | None = None
    #: Rows the stream has validated so far and, per partition, the offset after the last record counted.
    rows_processed: int | None = None
    validated_offsets: dict[int, int] = field(default_factory=dict)


class RecordRows(NamedTuple):
    """The rows of one RAW record (of one verdict) in a micro-batch: a line of `transforms.record_tally`."""

    partition: int
    offset: int
    lang: str
    month: str
    rows: int


class IngestionTable:
    """Small, driver-side reads and writes of load status (cassandra-driver, not Spark)."""

    def __init__(self, session):
        self._session = session
        self._statements: dict[str, object] = {}
        self._complete = session.prepare(
            "UPDATE ingestion SET status='complete', rows_processed=?, completed_at=?, updated_at=? "
            "WHERE scope=? AND lang=? AND month=?"
        )
        self._pending = session.prepare(
            "SELECT lang, month, run, status, start_offsets, end_offsets, analyzed_at, rows_processed, "
            "validated_offsets FROM ingestion WHERE scope=?"
        )
        # Conditional on the run, so that a count never lands on a newer run of the month (as mark_analyzed).
        self._validated = session.prepare(
            "UPDATE ingestion SET rows_processed=?, validated_offsets=?, updated_at=? "
            "WHERE scope=? AND lang=? AND month=? IF run=?"
        )
        self._analyzed = session.prepare(
            "UPDATE ingestion SET analyzed_at=? WHERE scope=? AND lang=? AND month=? IF run=?"
        )
        self._progress = session.prepare(
            "INSERT INTO stream_progress (query, batch_id, end_offsets, latest_offsets, rows_in, rows_out, "
            "batch_ms, input_rows_per_second, processed_rows_per_second, lag, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )

    def record_event(self, event: LoadEvent) -> None:
        """Apply the producer's latest event for a load; a new `loading` event starts the load afresh."""
        at = dt.datetime.fromtimestamp(event.at, dt.timezone.utc)
        columns = {
            "status": STATUS_OF_EVENT.get(event.status, event.status), "file": event.file, "run": event.run,
            "checksum": event.checksum or None,
            "rows_accepted": event.rows_accepted, "rows_rejected": event.rows_rejected,
            "rejected_by_reason": event.rejected_by_reason, "start_offsets": event.start_offsets,
            "end_offsets": event.end_offsets, "seconds": event.seconds,
            "rows_per_second": event.rows_accepted / event.seconds if event.seconds else 0.0,
            "error": event.error or None, "updated_at": _now(),
        }
        if event.status == EventStatus.LOADING:
            columns |= {"started_at": at, "produced_at": None, "completed_at": None, "analyzed_at": None,
                        "rows_processed": None, "validated_offsets": None}
        elif event.status == EventStatus.PRODUCED:
            columns["produced_at"] = at
        assignments = ", ".join(f"{name}=?" for name in columns)
        statement = self._prepared(f"UPDATE ingestion SET {assignments} WHERE scope=? AND lang=? AND month=?")
        self._session.execute(statement, (*columns.values(), INGESTION_SCOPE, event.lang, event.month))

    def _prepared(self, cql: str):
        if cql not in self._statements:
            self._statements[cql] = self._session.prepare(cql)
        return self._statements[cql]

    def _loads(self, keep) -> list[PendingLoad]:
        rows = self._session.execute(self._pending, (INGESTION_SCOPE,))
        return [
            PendingLoad(r.lang, r.month, dict(r.start_offsets or {}), dict(r.end_offsets or {}), r.run,
                        r.rows_processed, dict(r.validated_offsets or {}))
            for r in rows if keep(r)
        ]

    def processing(self) -> list[PendingLoad]:
        """Loads whose rows are all in Kafka but not yet all aggregated."""
        return self._loads(lambda r: r.status == LoadStatus.PROCESSING)

    def active(self) -> list[PendingLoad]:
        """Loads still loading or processing: the ones whose validated rows the stream counts."""
        return self._loads(lambda r: r.status in ACTIVE)

    def record_validated(self, records: list[RecordRows]) -> None:
        """Add a micro-batch's rows to the count of each active load they belong to: one write per load
        with rows in the batch. Called before Spark commits the batch; a replay of it counts nothing
        again (see `count_validated`)."""
        if not records:
            return
        for load in self.active():
            if counted := count_validated(load, records):
                rows, marks = counted
                self._session.execute(self._validated, (rows, marks, _now(), INGESTION_SCOPE, load.lang,
                                                        load.month, load.run))

    def unanalyzed(self) -> list[PendingLoad]:
        """Complete loads whose batch analytics have not finished (never run, or lost with a driver)."""
        return self._loads(lambda r: r.status == LoadStatus.COMPLETE and r.analyzed_at is None)

    def mark_analyzed(self, load: PendingLoad) -> None:
        """Record finished analytics, unless a newer run of the same month has started since."""
        self._session.execute(self._analyzed, (_now(), INGESTION_SCOPE, load.lang, load.month, load.run))

    def mark_complete(self, load: PendingLoad, rows_processed: int) -> None:
        now = _now()
        self._session.execute(self._complete, (rows_processed, now, now, INGESTION_SCOPE, load.lang, load.month))

    def record_progress(self, query: str, progress: dict, rows: tuple[int, int] | None = None) -> None:
        """Store the stream's last progress report, with lag = latest - processed offsets (records).

        `rows` is the batch's (rows in, rows landed); without it, Spark's record counts stand in.
        """
        source = progress["sources"][0]
        end = partition_offsets(source.get("endOffset"))
        latest = partition_offsets(source.get("latestOffset")) or end
        lag = sum(max(latest.get(p, 0) - end.get(p, 0), 0) for p in latest)
        self._session.execute(self._progress, (
            query, progress["batchId"], end, latest, *(rows or (progress.get("numInputRows", 0),) * 2),
            progress.get("durationMs", {}).get("triggerExecution", 0),
            progress.get("inputRowsPerSecond") or 0.0, progress.get("processedRowsPerSecond") or 0.0,
            lag, _now(),
        ))


def partition_offsets(offsets) -> dict[int, int]:
    """Spark reports Kafka offsets as {topic: {"partition": offset}} (sometimes as JSON text)."""
    import json

    if not offsets:
        return {}
    if isinstance(offsets, str):
        offsets = json.loads(offsets)
    (per_partition,) = offsets.values()
    return {int(p): int(o) for p, o in per_partition.items()}


def count_validated(load: PendingLoad, records: Iterable[RecordRows]) -> tuple[int, dict[int, int]] | None:
    """The load's (rows_processed, validated_offsets) once `records` are counted, or None if none of them
    is a record of the load not yet counted.

    A record counts when it holds the load's lang and month and lies in its offset range (from
    start_offsets; before end_offsets once the producer has reported them) at or past the partition's
    validated offset. Count and offsets are stored in one row update, so a micro-batch that Spark
    replays after a crash finds its records below the stored offsets and adds nothing.
    """
    stored, marks, added = load.validated_offsets, dict(load.validated_offsets), 0
    for record in records:
        p = record.partition
        if (record.lang, record.month) != (load.lang, load.month):
            continue
        if record.offset < max(load.start_offsets.get(p, 0), stored.get(p, 0)):
            continue
        if load.end_offsets and record.offset >= load.end_offsets.get(p, 0):
            continue
        added += record.rows
        marks[p] = max(marks.get(p, 0), record.offset + 1)
    return ((load.rows_processed or 0) + added, marks) if added else None


def caught_up(load: PendingLoad, processed: dict[int, int]) -> bool:
    """True when the stream has processed every offset the load wrote."""
    return all(processed.get(p, 0) >= end for p, end in load.end_offsets.items())
