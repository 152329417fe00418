"""The query layer: every read the dashboard and the JSON API make, one partition each.

Functions take a cassandra-driver session and plain values and return plain dicts, so Dash
callbacks and Flask routes stay thin and tests can pass a fake session. The reads of one answer
are all sent (`_send`) before any of them is awaited, so a memo miss costs the slowest read, not
the sum of them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

from webui.cache import TTLCache, memoized
from contract.records import OTHER_SOURCES, SOURCE_KEYS, fold, source_key
from contract.schema import INGESTION_SCOPE, ROWS_QUERY, SEARCH_PREFIX_CHARS, SEARCH_SCAN, SOURCE_BUCKETS
from contract.status import LoadStatus

CQL = {
    "stats": "SELECT incoming_total, outgoing_total, sources, source_count, destination_count FROM article_trend "
             "WHERE lang=? AND month=? AND title=?",
    "incoming": "SELECT prev, type, n FROM edges_in WHERE lang=? AND month=? AND curr=? LIMIT ?",
    "outgoing": "SELECT curr, type, n FROM edges_out WHERE lang=? AND month=? AND prev=? AND bucket=? LIMIT ?",
    # A page after the cursor (n, title): the rest of n's ties, then the rows below n.
    "incoming_ties": "SELECT prev, type, n FROM edges_in WHERE lang=? AND month=? AND curr=? AND n=? AND prev>? "
                     "LIMIT ?",
    "incoming_below": "SELECT prev, type, n FROM edges_in WHERE lang=? AND month=? AND curr=? AND n<? LIMIT ?",
    "outgoing_ties": "SELECT curr, type, n FROM edges_out WHERE lang=? AND month=? AND prev=? AND bucket=? AND n=? "
                     "AND curr>? LIMIT ?",
    "outgoing_below": "SELECT curr, type, n FROM edges_out WHERE lang=? AND month=? AND prev=? AND bucket=? AND n<? "
                      "LIMIT ?",
    "all_incoming": "SELECT prev, type, n FROM edges_in WHERE lang=? AND month=? AND curr=?",
    "outgoing_total": "SELECT sum(n) AS total, count(n) AS edges FROM edges_out WHERE lang=? AND month=? AND prev=? "
                      "AND bucket=?",
    "loads": "SELECT * FROM ingestion WHERE scope=?",
    "lang_loads": "SELECT month, status, run FROM ingestion WHERE scope=? AND lang=?",
    "progress": "SELECT * FROM stream_progress WHERE query=?",
    "month_stats": "SELECT rows, total_clicks, sources FROM month_stats WHERE lang=? AND month=?",
    "top": "SELECT rank, title, incoming_total FROM top_articles WHERE lang=? AND month=? LIMIT ?",
    "movers": "SELECT rank, title, incoming_total, previous_total, change FROM movers WHERE lang=? AND month=? LIMIT ?",
    "search_top": "SELECT title FROM search_top WHERE lang=? AND month=? AND prefix=? LIMIT ?",
    "search_titles": "SELECT title, incoming_total FROM search_titles WHERE lang=? AND month=? AND prefix=? "
                     "AND folded>=? AND folded<? LIMIT ?",
    "trend": "SELECT month, incoming_total, outgoing_total, sources FROM article_trend WHERE lang=? AND title=? "
             "ORDER BY month ASC",
    "related": "SELECT rank, related, score FROM related WHERE lang=? AND month=? AND title=? LIMIT ?",
    "paths": "SELECT rank, path, probability FROM likely_paths WHERE lang=? AND month=? AND title=? AND steps=? "
             "LIMIT ?",
    "pagerank": "SELECT rank, title, score FROM pagerank WHERE lang=? AND month=? LIMIT ?",
}

#: Status of a load whose every accepted row is queryable (jobs/ingestion.py writes it).
COMPLETE = LoadStatus.COMPLETE

#: The streaming driver reports progress every few seconds, but finalizing a big load blocks its
#: loop for minutes; only a report older than this suggests the job is stuck or gone.
STREAM_STALE_SECONDS = 600

#: The largest code point, a noncharacter no title uses: `prefix + LAST_CHARACTER` sorts after
#: every folded title that starts with prefix (Cassandra compares text as UTF-8 bytes, i.e. by code point).
LAST_CHARACTER = "\U0010ffff"


class Queries:
    """Prepared statements over one session; one instance per process."""

    def __init__(self, session, cache: TTLCache | None = None):
        self._session = session
        self.cache = cache or TTLCache()
        self._stmt = {name: _idempotent(session.prepare(cql)) for name, cql in CQL.items()}

    def _send(self, name: str, *params) -> Callable[[], list]:
        """Send one read now; calling what it returns waits for the rows. Callers send every read of
        an answer before they wait for any, so the reads run side by side on the cluster."""
        future = self._session.execute_async(self._stmt[name], params)
        return lambda: list(future.result())

    def _rows(self, name: str, *params) -> list:
        return self._send(name, *params)()

    @memoized
    def _complete_runs(self, lang: str) -> dict[str, str]:
        """Run id of each month of `lang` whose load is complete."""
        return {r.month: r.run for r in self._rows("lang_loads", INGESTION_SCOPE, lang) if r.status == COMPLETE}

    def complete_run(self, lang: str, month: str, *_) -> str | None:
        """The run id of (lang, month)'s complete load, else None. Until the month is loaded again its
        articles, top list and titles no longer change. (Not its movers, which the next month's
        load rewrites, nor the analytics, which run after completion.)"""
        return self._complete_runs(lang).get(month)

    @memoized(version=complete_run)
    def article(self, lang: str, month: str, title: str, limit: int) -> dict | None:
        """An article's totals, source mix and top incoming/outgoing rows; None if it has no rows."""
        read_stats = self._send("stats", lang, month, title)
        read_incoming = self._best("incoming", lang, month, title, limit)
        read_outgoing = self._best("outgoing", lang, month, title, limit)
        stats = read_stats()
        if not stats and self.complete_run(lang, month):
            return None  # a complete load stores stats for every title it has a row of
        incoming, outgoing = read_incoming(), read_outgoing()
        if not stats and not incoming and not outgoing:
            return None
        totals = self._stats_from_row(stats[0]) if stats else self._stats_from_edges(lang, month, title)
        return {"title": title, "lang": lang, "month": month, **totals, "incoming": incoming, "outgoing": outgoing}

    @memoized(version=complete_run)
    def edges(self, lang: str, month: str, title: str, direction: str, limit: int,
              after: tuple[int, str] | None = None) -> tuple[list[dict], tuple[int, str] | None]:
        """One page of every row into (direction "incoming") or out of ("outgoing") an article, best first:
        by n descending, then title. The page holds the `limit` rows after the cursor `after`, the (n, title)
        of the previous page's last row; returned with the next page's cursor, None after the last page."""
        rows = self._best(direction, lang, month, title, limit + 1, after)()
        page = rows[:limit]
        return page, ((page[-1]["n"], page[-1]["title"]) if len(rows) > limit else None)

    def _best(self, direction: str, lang: str, month: str, title: str, fetch: int,
              after: tuple[int, str] | None = None) -> Callable[[], list[dict]]:
        """Send the reads of up to `fetch` rows of one direction of `title` after `after`; calling what it
        returns waits for them and merges them over its partitions, best first."""
        partitions = [(title,)] if direction == "incoming" else [(title, b) for b in _buckets(title)]
        pages = [self._page(direction, (lang, month, *key), fetch, after) for key in partitions]
        other = "prev" if direction == "incoming" else "curr"

        def merged() -> list[dict]:
            rows = [r for page in pages for r in page()]
            rows.sort(key=lambda r: (-r.n, getattr(r, other)))
            return [{"title": getattr(r, other), "type": r.type, "n": r.n} for r in rows[:fetch]]
        return merged

    def _page(self, direction: str, key: tuple, fetch: int, after: tuple[int, str] | None) -> Callable[[], list]:
        """Send the reads of up to `fetch` rows of one partition after `after`; calling what it returns
        waits for them, in clustering order."""
        if after is None:
            return self._send(direction, *key, fetch)
        n, title = after
        # Both at once: the rows below n fill what n's ties leave of the page. Waiting for the ties
        # first would read fewer rows below, but the page would cost two round trips.
        ties = self._send(f"{direction}_ties", *key, n, title, fetch)
        below = self._send(f"{direction}_below", *key, n, fetch)

        def page() -> list:
            rows = ties()
            return rows + below()[:fetch - len(rows)]
        return page

    @staticmethod
    def _stats_from_row(row) -> dict:
        return {
            "incoming_total": row.incoming_total or 0,
            "outgoing_total": row.outgoing_total or 0,
            "sources": _source_mix(row.sources),
            # None for a month loaded before article_trend held them.
            "source_count": row.source_count,
            "destination_count": row.destination_count,
        }

    def _stats_from_edges(self, lang: str, month: str, title: str) -> dict:
        # Before a load is complete its aggregates are not stored yet; the landed rows still
        # give the right answer for what has arrived so far.
        incoming = self._send("all_incoming", lang, month, title)
        outgoing_totals = [self._send("outgoing_total", lang, month, title, b) for b in _buckets(title)]
        sources = Counter()
        edges_in = incoming()
        for r in edges_in:
            sources[source_key(r.prev, r.type)] += r.n
        buckets = [total()[0] for total in outgoing_totals]
        return {
            "incoming_total": sum(sources.values()),
            "outgoing_total": sum(bucket.total or 0 for bucket in buckets),
            "sources": _source_mix(sources),
            "source_count": len(edges_in),
            "destination_count": sum(bucket.edges for bucket in buckets),
        }

    def article_exists(self, lang: str, month: str, title: str) -> bool:
        """Whether `article` would find `title`: stored totals or, before completion, any landed row."""
        if self.complete_run(lang, month):
            return bool(self._rows("stats", lang, month, title))  # what `article` decides by, too
        pending = (self._send("stats", lang, month, title), self._send("incoming", lang, month, title, 1),
                   self._best("outgoing", lang, month, title, 1))
        return any(found() for found in pending)

    def months(self, lang: str) -> list[str]:
        """Months of `lang` with a complete load, newest first."""
        return sorted(self._complete_runs(lang), reverse=True)

    @memoized
    def languages(self) -> list[str]:
        """Languages with at least one complete load."""
        return sorted({r.lang for r in self._rows("loads", INGESTION_SCOPE) if r.status == COMPLETE})

    @memoized
    def month(self, lang: str, month: str) -> dict | None:
        """Totals and source mix of a whole month; None before its load completes."""
        rows = self._rows("month_stats", lang, month)
        if not rows:
            return None
        (row,) = rows
        return {"lang": lang, "month": month, "rows": row.rows or 0, "total_clicks": row.total_clicks or 0,
                "sources": _source_mix(row.sources)}

    @memoized(version=complete_run)
    def top(self, lang: str, month: str, limit: int) -> list[dict]:
        """The month's most-read articles, best first."""
        return [{"title": r.title, "incoming_total": r.incoming_total} for r in self._rows("top", lang, month, limit)]

    @memoized
    def movers(self, lang: str, month: str, limit: int) -> list[dict]:
        """The biggest changes in incoming clicks against the previous month, biggest first."""
        return [{"title": r.title, "incoming_total": r.incoming_total, "previous_total": r.previous_total,
                 "change": r.change} for r in self._rows("movers", lang, month, limit)]

    @memoized(version=complete_run)
    def search(self, lang: str, month: str, q: str, limit: int) -> list[str]:
        """Titles starting with what the reader typed, ignoring case, accents and `_` against space
        (`contract.records.fold`), most-read first (by incoming clicks, then title); one partition read.

        A short query's answer is stored in rank order. A longer one reads the first SEARCH_SCAN matches
        in fold order and ranks them, so with more matches than that its ranking covers those only;
        every title it returns still matches."""
        folded = fold(q)
        if not folded:
            return []
        if len(folded) <= SEARCH_PREFIX_CHARS:
            return [r.title for r in self._rows("search_top", lang, month, folded, limit)]
        rows = self._rows("search_titles", lang, month, folded[:SEARCH_PREFIX_CHARS], folded,
                          folded + LAST_CHARACTER, SEARCH_SCAN)
        rows.sort(key=lambda r: (-(r.incoming_total or 0), r.title))
        return [r.title for r in rows[:limit]]

    @memoized
    def trend(self, lang: str, title: str) -> list[dict]:
        """An article's totals and source mix in every loaded month, oldest first."""
        return [{"month": r.month, "incoming_total": r.incoming_total, "outgoing_total": r.outgoing_total,
                 "sources": _source_mix(r.sources)} for r in self._rows("trend", lang, title)]

    @memoized
    def related(self, lang: str, month: str, title: str, limit: int) -> list[dict]:
        """Articles read from the same places as `title`, best first."""
        return [{"title": r.related, "score": r.score} for r in self._rows("related", lang, month, title, limit)]

    @memoized
    def paths(self, lang: str, month: str, title: str, steps: int, limit: int) -> list[dict]:
        """The most probable paths of exactly `steps` clicks out of `title`, most probable first."""
        rows = self._rows("paths", lang, month, title, steps, limit)
        return [{"path": list(r.path), "probability": r.probability} for r in rows]

    @memoized
    def pagerank(self, lang: str, month: str, limit: int) -> list[dict]:
        """The month's articles by PageRank, best first."""
        rows = self._rows("pagerank", lang, month, limit)
        return [{"rank": r.rank, "title": r.title, "score": r.score} for r in rows]

    def ingestion(self) -> list[dict]:
        """Every load with its status, newest month first, plus the stream's lag."""
        progress = self._rows("progress", ROWS_QUERY)
        lag = progress[0].lag if progress else None
        loads = []
        for r in self._rows("loads", INGESTION_SCOPE):
            loads.append({
                "lang": r.lang, "month": r.month, "run": r.run, "status": r.status, "file": r.file,
                "checksum": r.checksum,
                "rows_accepted": r.rows_accepted or 0, "rows_rejected": r.rows_rejected or 0,
                "rejected_by_reason": dict(r.rejected_by_reason or {}),
                "rows_processed": r.rows_processed, "rows_per_second": r.rows_per_second,
                "seconds": r.seconds, "error": r.error, "lag": lag,
                "started_at": _iso(r.started_at), "produced_at": _iso(r.produced_at),
                "completed_at": _iso(r.completed_at), "updated_at": _iso(r.updated_at),
            })
        loads.sort(key=lambda load: (load["month"], load["lang"]), reverse=True)
        return loads

    def health(self, now: dt.datetime | None = None) -> dict:
        """Status of Cassandra and of the streaming job; overall "ok" exactly when Cassandra answers."""
        now = now or _utcnow()
        try:
            progress = self._rows("progress", ROWS_QUERY)
        except Exception as err:  # noqa: BLE001 - a health report describes any failure instead of raising it
            return {"status": "unavailable",
                    "cassandra": {"status": "unavailable", "error": str(err), "hosts": self._hosts()},
                    "streaming": _streaming(None, now)}
        return {"status": "ok", "cassandra": {"status": "ok", "hosts": self._hosts()},
                "streaming": _streaming(progress[0] if progress else None, now)}

    def _hosts(self) -> list[dict]:
        # Every node the driver has discovered, with its view of whether the node is up. A session
        # without a cluster (a test's fake) simply knows no hosts.
        cluster = getattr(self._session, "cluster", None)
        if cluster is None:
            return []
        return [{"address": str(h.address), "datacenter": h.datacenter, "is_up": h.is_up}
                for h in cluster.metadata.all_hosts()]


def _idempotent(statement):
    # Every statement here is a read: marked so, the driver may send it to a second replica when
    # the first is slow (the session's speculative execution policy, contract.db).
    statement.is_idempotent = True
    return statement


def _source_mix(stored) -> dict[str, int]:
    """A source mix with every source key: a stored map (null or leaving out the keys it has no clicks of), or
    clicks counted by source."""
    stored = dict(stored or {})
    return {key: stored.get(key, 0) for key in SOURCE_KEYS}


def _buckets(title: str):
    """The edges_out partitions of `title`: all buckets for an other-* source, else bucket 0."""
    return range(SOURCE_BUCKETS) if title in OTHER_SOURCES else (0,)


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value else None


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _streaming(progress, now: dt.datetime) -> dict:
    """The streaming job's state from its last progress report (None: it has not reported yet)."""
    if progress is None or progress.updated_at is None:
        return {"status": "unknown", "age_seconds": None, "lag": None}
    # The driver returns timestamps as naive UTC datetimes.
    updated_at = progress.updated_at.replace(tzinfo=progress.updated_at.tzinfo or dt.timezone.utc)
    age = max((now - updated_at).total_seconds(), 0.0)
    return {"status": "ok" if age <= STREAM_STALE_SECONDS else "stale", "age_seconds": round(age, 1),
            "lag": progress.lag}
