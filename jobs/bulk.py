"""Bulk writes: a table's rows as SSTables that every replica takes whole, instead of one mutation per row.

Each Spark task pipes its rows, one per line, into the bulk loader (jobs/bulkload/BulkLoad.java,
installed on every Spark node at BULKLOAD). The loader writes them as sorted SSTables on the executor's
scratch disk and streams each to every replica of its token range, retrying while a replica is down; it
exits non-zero when it cannot, and Spark then retries the task. So when `bulk_write` returns, every replica
holds every row: more than a QUORUM write promises (docs/design.md, "What complete guarantees").

The rows stay in the JVM throughout (Dataset.as(String) -> JavaRDD.pipe), so no row passes through Python.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from contract import schema
from contract.settings import Settings
from jobs import sinks

log = logging.getLogger("clickstream.bulk")
T = TypeVar("T")

#: Where the Spark image installs the loader (infra/images/spark/Dockerfile).
BULKLOAD = "/opt/bulkload/bin/bulkload"
#: Below this many rows a table is upserted from the driver at LOCAL_QUORUM instead (sinks.upsert): a loader
#: pays ~5-10 s of start-up and streaming set-up whatever its size, the driver writes 10,000 rows in a few.
BULK_MIN_ROWS = sinks.UPSERT_MAX_ROWS
#: Rows per loader process. Each pays its JVM start, the ring's schema and a streaming session (seconds,
#: whatever its size), so an English month's 6 tables go in ~60 tasks, not ~200; its SSTables wait on the
#: executor's scratch disk meanwhile (~0.2 GB per edges task). A small load gets one task per table.
ROWS_PER_TASK = 4_000_000
#: The loader's in-memory buffer per SSTable; its heap holds about ten times this (measured: 16 MiB in 384 MiB).
BUFFER_MIB = 16
#: Streaming attempts per task and the pause between them: a restarted Cassandra node takes 1-2 minutes to
#: take streams again, and Spark retries a failed task 4 times more on top.
ATTEMPTS = 12
RETRY_SECONDS = 15


class BulkLoadError(RuntimeError):
    """The loaders reported a different number of rows than Spark gave them."""


def loader_env(settings: Settings, table: str, timestamp: int) -> dict[str, str]:
    """The loader's environment: the table, its INSERT at `timestamp`, and how to reach and log in to the ring."""
    credentials = settings.cassandra_credentials()
    env = {
        "BULKLOAD_KEYSPACE": settings.keyspace,
        "BULKLOAD_TABLE": table,
        "BULKLOAD_SCHEMA": schema.create_table(settings.keyspace, table),
        "BULKLOAD_INSERT": schema.insert(settings.keyspace, table, timestamp),
        "BULKLOAD_COLUMNS": ",".join(f"{name}:{cql_type}" for name, cql_type in schema.columns(table)),
        "BULKLOAD_FORMAT": line_format(table),
        "BULKLOAD_BUFFER_MIB": str(BUFFER_MIB),
        "BULKLOAD_ATTEMPTS": str(ATTEMPTS),
        "BULKLOAD_RETRY_SECONDS": str(RETRY_SECONDS),
        "CASSANDRA_HOSTS": settings.cassandra_hosts,
        "CASSANDRA_PORT": str(settings.cassandra_port),
        "CASSANDRA_STORAGE_PORT": str(settings.cassandra_storage_port),
    }
    if credentials:
        env |= {"CASSANDRA_USERNAME": credentials[0], "CASSANDRA_PASSWORD": credentials[1]}
    return env


#: Column types a TSV field carries: scalars as they are, and a source mix (map<text, bigint>, whose keys are
#: `contract.records` source keys, with neither ':' nor ',') as key:value,key:value. A table with any other
#: type (a list of titles) goes as JSON, which costs the loader more per row.
TSV_TYPES = {"text", "int", "bigint", "double", "map<text, bigint>"}


def line_format(table: str) -> str:
    """"tsv" when every column of `table` has a TSV form (cheaper to write and to parse), else "json"."""
    return "tsv" if all(t in TSV_TYPES for _, t in schema.columns(table)) else "json"


def as_lines(df: DataFrame, table: str) -> DataFrame:
    """`df` as the loader's input, one line per row holding exactly the table's columns in order: tab-separated
    (titles hold no tab or newline: `contract.records` rejects such rows) or a JSON object."""
    if line_format(table) == "json":
        return df.select(F.to_json(F.struct(*[name for name, _ in schema.columns(table)])).alias("value"))
    return df.select(F.concat_ws("\t", *[_tsv_field(name, cql_type) for name, cql_type in schema.columns(table)])
                     .alias("value"))


def _tsv_field(name: str, cql_type: str):
    if cql_type.startswith("map<"):
        entries = F.transform(F.map_entries(name), lambda e: F.concat(e["key"], F.lit(":"), e["value"].cast("string")))
        return F.coalesce(F.concat_ws(",", entries), F.lit(""))
    return F.col(name).cast("string")


def tasks_for(rows: int) -> int:
    return max(1, math.ceil(rows / ROWS_PER_TASK))


def bulk_write(df: DataFrame, settings: Settings, session, table: str, rows: int | None = None,
               timestamp: int | None = None) -> int:
    """Write every row of `df` (holding `table`'s columns) into `table` as SSTables on every replica; returns the
    rows written. `rows` is how many `df` holds, if known (it sizes the tasks, and the loaders' counts must match
    it). A table of at most BULK_MIN_ROWS rows is upserted from the driver's `session` instead: when `rows` is
    not given, one Spark job takes up to that many and, if that is all, upserts them without counting."""
    timestamp = sinks.write_timestamp() if timestamp is None else timestamp
    if rows is None:
        if (small := sinks.small_table(df, table)) is not None:
            return sinks.upsert_rows(small, settings, session, table, timestamp)
        rows = df.count()
    if rows == 0:
        return 0
    if rows <= BULK_MIN_ROWS:
        return sinks.upsert(df, settings, session, table, timestamp)
    lines, tasks = as_lines(df, table), tasks_for(rows)
    # Fewer tasks than partitions: merged without a shuffle. Never more: a big task only writes more SSTables.
    if lines._jdf.rdd().getNumPartitions() > tasks:
        lines = lines.coalesce(tasks)
    env = loader_env(settings, table, timestamp)
    jvm = df.sparkSession._jvm
    strings = getattr(lines._jdf, "as")(jvm.org.apache.spark.sql.Encoders.STRING()).javaRDD()
    started = time.monotonic()
    reports = [json.loads(line) for line in strings.pipe([BULKLOAD], env).collect()]
    written = sum(r["rows"] for r in reports)
    if written != rows:
        raise BulkLoadError(f"bulk write of {table}: the loaders wrote {written} rows of {rows}: {reports}")
    log.info("bulk write of %s: %d rows in %.1f s by %d loaders (SSTables %d, writing %.1f s and streaming "
             "%.1f s summed over them, attempts %d)", table, written, time.monotonic() - started, len(reports),
             *(sum(r.get(key, 0) for r in reports) for key in ("sstables", "write_s", "stream_s", "attempts")))
    return written


def side_by_side(calls: dict[str, Callable[[], T]]) -> dict[str, T]:
    """Run each call on a thread of its own and return their results by name. Spark runs jobs from several
    threads at once, so small jobs share the cores instead of queueing (each loader pays seconds of start-up
    and streaming set-up whatever its size). The first failure is raised once every call has ended."""
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="side") as pool:
        futures = {name: pool.submit(call) for name, call in calls.items()}
        return {name: future.result() for name, future in futures.items()}
