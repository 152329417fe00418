"""Release the Pulumi locks that a killed `pulumi up` or `destroy` left on this host's file backend.

A run that ends with its machine (a session stopped mid-test, a reboot) leaves its lock file behind, and
every later command on the stack then refuses with "the stack is currently locked". The file backend
writes one JSON file per lock, `{"pid", "hostname", "timestamp", ...}`, under
`.pulumi/locks/<org>/<project>/<stack>/`. A lock is stale when it was taken on this host and its pid
is no longer the process that took it: gone, or a newer process that reuses the number. Locks of
live processes and of other hosts are never touched.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

#: How much later than the lock a process may have started and still be its owner (clock granularity).
OWNER_SLACK_S = 5.0


def state_dir(backend_url: str | None = None) -> Path | None:
    """The file backend's directory, or None for any other backend (whose locks are not ours to judge)."""
    url = urlparse(backend_url if backend_url is not None else os.environ.get("PULUMI_BACKEND_URL", ""))
    return Path(url.path) if url.scheme == "file" and url.path else None


def lock_files(state: Path, stack: str) -> list[Path]:
    return sorted(state.glob(f".pulumi/locks/**/{stack}/*.json"))


def process_started_at(pid: int) -> float | None:
    """When `pid` started (epoch seconds), or None if no such process runs here."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    ticks_since_boot = int(fields[19])  # field 22 of proc(5); the split drops pid and comm
    return _boot_time() + ticks_since_boot / os.sysconf("SC_CLK_TCK")


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise RuntimeError("/proc/stat has no btime line")


def is_stale(lock: dict, hostname: str, started_at=process_started_at) -> bool:
    if lock.get("hostname") != hostname:
        return False
    taken = datetime.fromisoformat(lock["timestamp"])  # RFC 3339 with nanoseconds; 3.11 reads it
    owner_start = started_at(int(lock["pid"]))
    return owner_start is None or owner_start > taken.timestamp() + OWNER_SLACK_S


def release_stale(stack: str, backend_url: str | None = None) -> list[str]:
    """Delete this stack's stale locks; return one line per lock released, for the caller to print."""
    state = state_dir(backend_url)
    if state is None:
        return []
    released = []
    for path in lock_files(state, stack):
        try:
            lock = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being written or removed by its owner right now
        if is_stale(lock, socket.gethostname()):
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".attrs").unlink(missing_ok=True)  # the blob store's metadata
            released.append(f"released a stale Pulumi lock on {stack}: pid {lock['pid']} took it at "
                            f"{lock['timestamp']} and is no longer running")
    return released
