"""Reading tables back through the Spark Cassandra Connector, and the writes too small for a bulk write
(jobs.bulk): upserts, trims and deletes sent from the driver's own session."""

from __future__ import annotations

import logging
import time
from itertools import islice

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from contract import schema
from contract.settings import Settings

CASSANDRA_FORMAT = "org.apache.spark.sql.cassandra"
#: Writes and deletes the driver keeps in flight: one at QUORUM takes ~20 ms on the dev stack.
WRITES_IN_FLIGHT = 64
#: Rows of one partition `upsert` sends as one unlogged batch, which Cassandra applies as one mutation: on the
#: dev ring, 100-row single-partition batches 16 in flight landed 11.8x the rows/s of one row per request
#: (../shared/notes/scale.md) and 400-row ones timed out; 25-row batches WRITES_IN_FLIGHT at a time keep the
#: same 1,600 rows in flight.
BATCH_ROWS = 25
#: Keys taken from Spark per round of deletes, which bounds the driver's memory whatever the number of keys.
DELETE_ROUND = 10_000
#: The most rows `upsert` sends from the driver; a bigger table is bulk-written (jobs.bulk). Through the
#: connector instead, a table of a few hundred rows cost a Spark task per partition (~1-2 s each on
#: the dev stack) and an executor session, and the sample's six tables ~35 s; from the driver, ~1 s.
UPSERT_MAX_ROWS = 10_000
#: Rounds in which the driver sends again what failed, and the pause between them: a Cassandra node that
#: restarts times writes out for a while (seen: "received only 1 responses" at QUORUM), and a failure here
#: would fail the finalize and restart the driver. Every statement sent this way is idempotent (upserts at a
#: fixed timestamp, deletes, reads), so sending one twice is harmless.
ATTEMPTS = 12
RETRY_SECONDS = 5

log = logging.getLogger("clickstream.sinks")


def write_timestamp() -> int:
    """A write timestamp (microseconds) for one write of a load: later than anything an earlier load wrote."""
    return time.time_ns() // 1000


def execute_all(session, statement, params: list) -> list:
    """Execute the prepared `statement` once per item of `params` (`execute_statements`); results in order."""
    return execute_statements(session, [(statement, p) for p in params])


def execute_statements(session, statements: list[tuple]) -> list:
    """Execute each (statement, parameters) of `statements`, WRITES_IN_FLIGHT at a time, and return the results
    in order; what fails is sent again, ATTEMPTS rounds RETRY_SECONDS apart, and then the last error is raised."""
    from cassandra.concurrent import execute_concurrent

    results, pending = [None] * len(statements), list(range(len(statements)))
    for attempt in range(1, ATTEMPTS + 1):
        answers = execute_concurrent(session, [statements[i] for i in pending], concurrency=WRITES_IN_FLIGHT,
                                     raise_on_first_error=False)
        failed = []
        for i, (ok, answer) in zip(pending, answers):
            if ok:
                results[i] = answer
            else:
                failed.append((i, answer))
        if not failed:
            return results
        if attempt == ATTEMPTS:
            raise failed[0][1]
        log.warning("%d of %d statements failed (first: %s); again in %d s (round %d of %d)",
                    len(failed), len(pending), failed[0][1], RETRY_SECONDS, attempt + 1, ATTEMPTS)
        time.sleep(RETRY_SECONDS)
        pending = [i for i, _ in failed]
    raise AssertionError("unreachable: the last round returns or raises")


def upsert(df: DataFrame, settings: Settings, session, table: str, timestamp: int | None = None) -> int:
    """Upsert every row of `df` (its columns some of `table`'s, at most UPSERT_MAX_ROWS rows) through the
    driver's `session`, at `timestamp` (default: now); returns how many. Same key, same row: replays are
    harmless."""
    rows = small_table(df, table)
    if rows is None:
        raise ValueError(f"{table}: more than {UPSERT_MAX_ROWS} rows to upsert from the driver; bulk-write them")
    return upsert_rows(rows, settings, session, table, timestamp)


def small_table(df: DataFrame, table: str) -> list[dict] | None:
    """The rows of `df` (as dicts of those of `table`'s columns it has), or None if it has more than
    UPSERT_MAX_ROWS: one Spark job that stops reading once it has that many."""
    names = [name for name, _ in schema.columns(table) if name in df.columns]
    rows = [r.asDict() for r in df.select(*names).take(UPSERT_MAX_ROWS + 1)]
    return None if len(rows) > UPSERT_MAX_ROWS else rows


def upsert_rows(rows: list[dict], settings: Settings, session, table: str, timestamp: int | None = None) -> int:
    """Upsert `rows` (dicts holding the same columns of `table`, its partition key among them) at `timestamp`
    (default: now), BATCH_ROWS of one partition per request; returns how many."""
    from cassandra.query import BatchStatement, BatchType

    if not rows:
        return 0
    names = list(rows[0])
    cql = schema.insert(settings.keyspace, table, write_timestamp() if timestamp is None else timestamp, names)
    insert = session.prepare(cql)
    key, partitions = schema.partition_key(table), {}
    for row in rows:
        partitions.setdefault(tuple(row[c] for c in key), []).append(tuple(row.values()))
    statements = []
    for members in partitions.values():
        for start in range(0, len(members), BATCH_ROWS):
            chunk = members[start:start + BATCH_ROWS]
            if len(chunk) == 1:
                statements.append((insert, chunk[0]))
                continue
            batch = BatchStatement(batch_type=BatchType.UNLOGGED)
            for params in chunk:
                batch.add(insert, params)
            statements.append((batch, None))
    execute_statements(session, statements)
    return len(rows)


def any_stored(session, settings: Settings, table: str, **where) -> bool:
    """Whether `table` holds a row whose columns equal the given values (a list, tuple or range value: any
    of them); one query of the driver's `session`, where a Spark read costs a job."""
    equal = [c for c, v in where.items() if not isinstance(v, (list, tuple, range))]
    among = [c for c in where if c not in equal]
    query = session.prepare(schema.exists(settings.keyspace, table, equal, among))
    (answer,) = execute_all(session, query, [[where[c] for c in equal] + [list(where[c]) for c in among]])
    return answer.one() is not None


def read_table(spark: SparkSession, settings: Settings, table: str, **where) -> DataFrame:
    """The rows of `table` whose columns equal the given values; a list, tuple or range value means IN.

    Name every partition key column, so the connector pushes the filter down as partition reads
    instead of scanning the table.
    """
    df = spark.read.format(CASSANDRA_FORMAT).options(keyspace=settings.keyspace, table=table).load()
    for column, value in where.items():
        df = df.where(F.col(column).isin(list(value)) if isinstance(value, (list, tuple, range))
                      else F.col(column) == value)
    return df


def read_partitions(spark: SparkSession, settings: Settings, table: str, keys: DataFrame) -> DataFrame:
    """The stored rows of the partitions of `table` that `keys` names (its columns: the partition key).

    A join on the whole partition key, which CassandraSparkExtensions plans as a direct join: one
    partition read per key, issued by the executors as they go through `keys`. An IN filter
    (`read_table`) ends in the same reads (past spark.cassandra.sql.inClauseToJoinConversionThreshold
    the connector converts it to a join), but with every key a literal of a plan built and held on
    the driver: right for ARTICLE_BUCKETS buckets, not for the millions of titles of a month.
    `directJoinSetting=on` skips the connector's size test, which compares estimates (Cassandra's
    size_estimates, Spark's plan statistics) that a young table or a Kafka-derived frame lack.
    """
    stored = (spark.read.format(CASSANDRA_FORMAT)
              .options(keyspace=settings.keyspace, table=table, directJoinSetting="on").load())
    return keys.distinct().join(stored, keys.columns).select(*stored.columns)


def delete_keys(keys: DataFrame, settings: Settings, session, table: str) -> int:
    """Delete from `table` the partition or row each row of `keys` names; returns how many deletes were sent.

    The columns of `keys` are the table's partition key or its primary key (`contract.schema.delete`).
    PySpark has no delete through the connector (`deleteFromCassandra` is Scala only), and only the
    driver's container holds the writer's password (executors would need it shipped in every task),
    so the driver sends them through its own `session`: keys stream from Spark a round at a time,
    each round with WRITES_IN_FLIGHT requests in flight. Fine for what a reload leaves stale; a
    month replaced by a wholly different file costs about one delete per stored row.
    """
    statement = session.prepare(schema.delete(settings.keyspace, table, keys.columns))
    rows, sent = keys.toLocalIterator(), 0
    # Rounds are taken on this thread: handing the iterator itself to the driver would advance it
    # (and with it Spark jobs) on the driver's I/O thread.
    while batch := [tuple(r) for r in islice(rows, DELETE_ROUND)]:
        execute_all(session, statement, batch)
        sent += len(batch)
    return sent


def replace_ranked(df: DataFrame, settings: Settings, session, table: str, lang: str, month: str) -> int:
    """Make `df` the whole (lang, month) partition of a top-N table keyed by `rank` 1..n; returns n.

    Positions are clustering keys, so an upsert overwrites ranks 1..n but would leave a previous
    run's ranks above n behind. Writing first and then dropping ranks > n with one range tombstone
    (cassandra-driver `session`) means a reader meanwhile sees at worst old and new rows mixed,
    never the empty partition that deleting it first would show. Every row of `df` must be in
    the (lang, month) partition.
    """
    count = upsert(df, settings, session, table)
    trim = session.prepare(f"DELETE FROM {settings.keyspace}.{table} WHERE lang=? AND month=? AND rank>?")
    execute_all(session, trim, [(lang, month, count)])
    return count


def spark_conf(settings: Settings) -> dict[str, str]:
    """Connector settings: where Cassandra is, who logs in, and reads at QUORUM; the Spark cluster's secret;
    and no log line that would print either."""
    credentials = settings.cassandra_credentials()
    # Spark's UI and event log redact keys matching spark.redaction.regex (…password…).
    auth = {"spark.cassandra.auth.username": credentials[0],
            "spark.cassandra.auth.password": credentials[1]} if credentials else {}
    # The cluster's RPC secret: the master refuses a driver without it (docs/security.md).
    return auth | settings.spark_auth_conf() | {
        "spark.cassandra.connection.host": settings.cassandra_hosts,
        "spark.cassandra.connection.port": str(settings.cassandra_port),
        "spark.cassandra.connection.localDC": settings.cassandra_datacenter,
        # Reads only: the connector writes nothing (bulk writes, and `upsert` from the driver).
        "spark.cassandra.input.consistency.level": "LOCAL_QUORUM",
        "spark.sql.extensions": "com.datastax.spark.connector.CassandraSparkExtensions",
        # Spark logs an event its listeners were slow to handle (over 1 s: a busy machine) in full, and a job's
        # start carries every property unredacted, the password too (found in the driver's log by the stack's
        # secret scan, test_security).
        "spark.scheduler.listenerbus.logSlowEvent": "false",
    }
