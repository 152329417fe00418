"""One Cassandra session and query layer per process, opened on first use (after gunicorn forks)."""

from __future__ import annotations

import threading

from contract.db import connect
from contract.settings import Settings
from webui.queries import Queries

_lock = threading.Lock()
_queries: Queries | None = None


def queries() -> Queries:
    global _queries
    with _lock:
        if _queries is None:
            settings = Settings.from_env()
            _queries = Queries(connect(settings, settings.keyspace))
        return _queries
