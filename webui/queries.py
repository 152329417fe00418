"""The query layer: every read the dashboard and the JSON API make, one partition each.

Functions take a cassandra-driver session and plain values and return plain dicts, so Dash
callbacks and Flask routes stay thin and tests can pass a fake session.
"""

from __future__ import annotations

from collections import Counter

from contract.records import OTHER_SOURCES, SOURCE_KEYS, source_key
from contract.schema import INGESTION_SCOPE, SOURCE_BUCKETS

CQL = {
    "stats": "SELECT incoming_total, outgoing_total, sources FROM article_stats WHERE lang=? AND month=? AND title=?",
    "incoming": "SELECT prev, type, n FROM edges_in WHERE lang=? AND month=? AND curr=? LIMIT ?",
    "outgoing": "SELECT curr, type, n FROM edges_out WHERE lang=? AND month=? AND prev=? AND bucket=? LIMIT ?",
    "all_incoming": "SELECT prev, type, n FROM edges_in WHERE lang=? AND month=? AND curr=?",
    "outgoing_total": "SELECT sum(n) AS total FROM edges_out WHERE lang=? AND month=? AND prev=? AND bucket=?",
    "loads": "SELECT * FROM ingestion WHERE scope=?",
    "progress": "SELECT * FROM stream_progress WHERE query=?",
}


class Queries:
    """Prepared statements over one session; one instance per process."""

    def __init__(self, session):
        self._session = session
        self._stmt = {name: session.prepare(cql) for name, cql in CQL.items()}

    def _rows(self, name: str, *params):
        return list(self._session.execute(self._stmt[name], params))

    def article(self, lang: str, month: str, title: str, limit: int) -> dict | None:
        """An article's totals, source mix and top incoming/outgoing rows; None if it has no rows."""
        incoming = [{"title": r.prev, "type": r.type, "n": r.n} for r in self._rows("incoming", lang, month, title, limit)]
        outgoing = self._outgoing(lang, month, title, limit)
        stats = self._rows("stats", lang, month, title)
        if not stats and not incoming and not outgoing:
            return None
        totals = self._stats_from_row(stats[0]) if stats else self._stats_from_edges(lang, month, title)
        return {"title": title, "lang": lang, "month": month, **totals, "incoming": incoming, "outgoing": outgoing}

    def _outgoing(self, lang: str, month: str, title: str, limit: int) -> list[dict]:
        rows = [r for b in _buckets(title) for r in self._rows("outgoing", lang, month, title, b, limit)]
        rows.sort(key=lambda r: (-r.n, r.curr))
        return [{"title": r.curr, "type": r.type, "n": r.n} for r in rows[:limit]]

    @staticmethod
    def _stats_from_row(row) -> dict:
        sources = dict(row.sources or {})
        return {
            "incoming_total": row.incoming_total or 0,
            "outgoing_total": row.outgoing_total or 0,
            "sources": {key: sources.get(key, 0) for key in SOURCE_KEYS},
        }

    def _stats_from_edges(self, lang: str, month: str, title: str) -> dict:
        # Before a load is complete its aggregates are not stored yet; the landed rows still
        # give the right answer for what has arrived so far.
        sources = Counter()
        for r in self._rows("all_incoming", lang, month, title):
            sources[source_key(r.prev, r.type)] += r.n
        outgoing = sum(self._rows("outgoing_total", lang, month, title, b)[0].total or 0 for b in _buckets(title))
        return {
            "incoming_total": sum(sources.values()),
            "outgoing_total": outgoing,
            "sources": {key: sources.get(key, 0) for key in SOURCE_KEYS},
        }

    def ingestion(self) -> list[dict]:
        """Every load with its status, newest month first, plus the stream's lag."""
        progress = self._rows("progress", "rows")
        lag = progress[0].lag if progress else None
        loads = []
        for r in self._rows("loads", INGESTION_SCOPE):
            loads.append({
                "lang": r.lang, "month": r.month, "run": r.run, "status": r.status, "file": r.file,
                "rows_accepted": r.rows_accepted or 0, "rows_rejected": r.rows_rejected or 0,
                "rejected_by_reason": dict(r.rejected_by_reason or {}),
                "rows_processed": r.rows_processed, "rows_per_second": r.rows_per_second,
                "seconds": r.seconds, "error": r.error, "lag": lag,
                "started_at": _iso(r.started_at), "produced_at": _iso(r.produced_at),
                "completed_at": _iso(r.completed_at), "updated_at": _iso(r.updated_at),
            })
        loads.sort(key=lambda load: (load["month"], load["lang"]), reverse=True)
        return loads


def _buckets(title: str):
    """The edges_out partitions of `title`: all buckets for an other-* source, else bucket 0."""
    return range(SOURCE_BUCKETS) if title in OTHER_SOURCES else (0,)


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value else None
