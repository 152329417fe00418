"""Kafka topics and the messages on them other than raw rows (which `records` defines)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import asdict, dataclass, field

#: Valid rows, encoded by `records.encode`.
RAW = "clickstream.raw"
#: Rejected lines with their reason (`DeadLetter`).
DEAD_LETTER = "clickstream.deadletter"
#: Lifecycle events of each load (`LoadEvent`), keyed by load id.
LOADS = "clickstream.loads"

ALL = (RAW, DEAD_LETTER, LOADS)

#: The raw bytes kept in a dead-letter record; an oversized line is cut to this.
DEAD_LETTER_RAW_LIMIT = 4096


def load_id(lang: str, month: str) -> str:
    """A load is one (wiki, month); loading it again replaces it."""
    return f"{lang}:{month}"


@dataclass
class DeadLetter:
    """A line that failed validation, with where it came from and why."""

    file: str
    line: int
    reason: str
    detail: str
    raw: bytes
    lang: str = ""
    month: str = ""

    def to_json(self) -> bytes:
        """Serialize; the raw line is base64 (it may not be UTF-8) and also shown escaped."""
        cut = self.raw[:DEAD_LETTER_RAW_LIMIT]
        body = asdict(self) | {
            "raw": base64.b64encode(cut).decode(),
            "raw_text": cut.decode("utf-8", "backslashreplace"),
            "raw_bytes": len(self.raw),
        }
        return json.dumps(body).encode()


@dataclass
class LoadEvent:
    """One step of a load. `status` is loading, produced or failed; Spark adds processing/complete.

    `produced` carries the end offsets per partition of RAW after the last row was acknowledged,
    and `start_offsets` those before the first row, so a consumer knows exactly which records
    belong to the load.
    """

    lang: str
    month: str
    status: str
    file: str = ""
    #: "md5:<hex>" of the source file, as read for this load.
    checksum: str = ""
    #: Identifies one run of a load, so a caller can wait for *its* completion, not an earlier one's.
    run: str = field(default_factory=lambda: uuid.uuid4().hex)
    rows_accepted: int = 0
    rows_rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    start_offsets: dict[int, int] = field(default_factory=dict)
    end_offsets: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""
    at: float = field(default_factory=time.time)

    @property
    def load_id(self) -> str:
        return load_id(self.lang, self.month)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "LoadEvent":
        body = json.loads(data)
        for key in ("start_offsets", "end_offsets"):
            body[key] = {int(p): int(o) for p, o in body.get(key, {}).items()}
        return cls(**body)
