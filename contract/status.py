"""The statuses of a load, shared by the producer, the streaming job, the web UI and the tools.

The producer publishes an EventStatus on the LOADS topic; the streaming job keeps a LoadStatus in the
`ingestion` table (jobs/ingestion.py maps one to the other), which the web UI and the API show. Both
are str enums: they compare equal to, and serialize as, their plain values.
"""

from __future__ import annotations

from enum import StrEnum


class EventStatus(StrEnum):
    """A producer's load event on LOADS."""

    LOADING = "loading"
    PRODUCED = "produced"
    FAILED = "failed"


class LoadStatus(StrEnum):
    """A load in the `ingestion` table: loading -> processing -> complete, or failed."""

    LOADING = "loading"
    PROCESSING = "processing"
    COMPLETE = "complete"
    FAILED = "failed"


#: A load in one of these is still moving.
ACTIVE = (LoadStatus.LOADING, LoadStatus.PROCESSING)
#: A load in one of these is done, for better or worse.
FINISHED = (LoadStatus.COMPLETE, LoadStatus.FAILED)
