"""Will the dev stack's disk hold a month? Asked before `load` sends anything (issue 16: "a clear error
when the disk would not hold a month, given before anything is sent").

The estimate scales the file's TSV bytes by what the 35M-row benchmark measured (docs/benchmarks.md,
"35M rows"): a 1.87 GB TSV took 904 MiB of Kafka per broker and 3.73 GiB of Cassandra per node, with
every broker and node holding a full replica (replication factor 3 on 3 of each). The stack's
containers all keep their data under one Docker data root on this host, so that is the free space
that counts.
"""

from __future__ import annotations

import gzip
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: docs/benchmarks.md, the 35M run: the TSV's bytes, and what one replica of it took in each store.
BENCHMARK_TSV_BYTES = 1.87e9
#: RAW's packed, lz4-compressed records of the month on one broker: ~0.51 of the TSV.
KAFKA_REPLICA_PER_TSV_BYTE = 904 * 2**20 / BENCHMARK_TSV_BYTES
#: The month's tables on one node (every row in edges_in and edges_out, plus the per-article tables,
#: before compaction settles): ~2.14 of the TSV.
CASSANDRA_REPLICA_PER_TSV_BYTE = 3.73 * 2**30 / BENCHMARK_TSV_BYTES
#: Room for what the ratios miss: compaction's temporary copies, the analytics tables, a bigger month's
#: longer titles.
SAFETY_FACTOR = 1.25
#: Free space left over after the month, for Docker, logs and the rest of the host.
RESERVE_BYTES = 2 * 2**30
#: The exit code of a refused load: errno ENOSPC, "no space left on device".
EXIT_NO_SPACE = 28


@dataclass(frozen=True)
class Need:
    """The bytes a month would take on the stack's disk, by store."""

    kafka: int
    cassandra: int

    @property
    def total(self) -> int:
        return self.kafka + self.cassandra


def month_needs(tsv_bytes: int, kafka_replicas: int, cassandra_replicas: int) -> Need:
    """The disk a month of `tsv_bytes` takes once landed: a copy per replica in Kafka and in Cassandra."""
    return Need(kafka=round(tsv_bytes * KAFKA_REPLICA_PER_TSV_BYTE * kafka_replicas),
                cassandra=round(tsv_bytes * CASSANDRA_REPLICA_PER_TSV_BYTE * cassandra_replicas))


def required_free(need: Need) -> int:
    """Free bytes a load of `need` asks for: the estimate with its safety factor, plus the reserve."""
    return round(need.total * SAFETY_FACTOR) + RESERVE_BYTES


def tsv_bytes(path: Path) -> int:
    """The file's bytes as TSV: its size, or for a .gz the size its gzip trailer records (ISIZE, modulo
    4 GiB; an English month is ~1.9 GB)."""
    if path.suffix != ".gz":
        return path.stat().st_size
    with path.open("rb") as raw:
        if raw.read(2) != b"\x1f\x8b":
            raise gzip.BadGzipFile(f"{path.name} is not gzip")
        raw.seek(-4, os.SEEK_END)
        return int.from_bytes(raw.read(4), "little")


def docker_root() -> str:
    """The Docker data root of the default engine, where the stack's volumes and logs live."""
    done = subprocess.run(["docker", "info", "--format", "{{.DockerRootDir}}"], capture_output=True, text=True,
                          timeout=30)
    if done.returncode != 0 or not done.stdout.strip():
        raise OSError(f"`docker info` failed: {(done.stderr or done.stdout).strip()[:200]}")
    return done.stdout.strip()


def free_bytes(directory: str) -> int:
    """Bytes an unprivileged writer may still use on the file system of `directory`."""
    stats = os.statvfs(directory)
    return stats.f_bavail * stats.f_frsize


def shortfall(path: Path, kafka_replicas: int, cassandra_replicas: int, free: int) -> str | None:
    """Why the stack's disk (`free` bytes) would not hold the month in `path`, or None when it would."""
    need = month_needs(tsv_bytes(path), kafka_replicas, cassandra_replicas)
    wanted = required_free(need)
    if free >= wanted:
        return None
    return (f"{path.name} needs ~{_size(need.total)} on the stack's disk (Kafka {_size(need.kafka)}, Cassandra "
            f"{_size(need.cassandra)}), {_size(wanted)} with the safety margin, and Docker's data root has "
            f"{_size(free)} free: free some space, or pass --skip-disk-check if you know better")


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.0f} MiB"
