"""The streaming job: land every clickstream row in Cassandra and finish each load exactly.

Usage (inside the cluster the Pulumi program submits it):
    spark-submit --master spark://spark-master:7077 jobs/streaming.py

Two queries run side by side. `rows` reads clickstream.raw as it arrives, validates every row,
counts it for the Ingestion page (per micro-batch, and per running load: its rows_processed so far)
and sends Spark-side rejects to the dead letters; it stores no rows, so a replay after a crash costs
only a re-count, which the per-load counts skip (jobs.ingestion.count_validated). `loads` reads the producer's load
events into the ingestion table. The driver's main loop publishes progress and, once `rows` has
passed a load's last offset, lands that load whole: its rows and aggregates, bulk-written to
every replica (jobs.finalize, jobs.bulk), then marks it complete. One bulk write of a finished
load replaces two mutations per row as the rows arrived: the cost of the write path
(docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from contract import topics
from contract.db import connect
from contract.records import ROWS_PER_RECORD
from contract.schema import LOADS_QUERY, ROWS_QUERY
from contract.settings import Settings
from contract.topics import LoadEvent
from jobs import transforms
from jobs.finalize import SMALL_SHUFFLE_PARTITIONS, finalize, run_analytics
from jobs.ingestion import IngestionTable, RecordRows, partition_offsets, caught_up
from jobs.sinks import spark_conf

log = logging.getLogger("clickstream.streaming")

#: Logged when every row of a load has landed and its totals are being computed; the fault tests wait for it.
CAUGHT_UP = "load %s %s caught up: aggregating"
#: A micro-batch's cap: each pays ~1 s whatever its size (the tally to the driver, progress writes), so at
#: 200k rows the stream validated 60-90k rows/s and fell behind the producer (~80k rows/s); a small load
#: is one batch either way.
ROWS_PER_BATCH = 1_000_000
#: Spark caps a micro-batch in Kafka records; RAW records hold ROWS_PER_RECORD rows each.
RECORDS_PER_BATCH = ROWS_PER_BATCH // ROWS_PER_RECORD
TRIGGER = "1 second"
#: How often the driver's loop publishes progress and looks for caught-up loads: each look is two small
#: reads of the ingestion table, and every second of it is a second more before a small load completes.
LOOP_SECONDS = 1


#: The fair scheduler's pool of the batch analytics. Under the default FIFO scheduling, the stream's
#: micro-batches and the next load's finalize queued behind every stage of a running PageRank; in a
#: pool of their own, the analytics get half of the cores while other work waits, and all when it does not.
ANALYTICS_POOL = "analytics"


def build_session(settings: Settings) -> SparkSession:
    builder = SparkSession.builder.appName("clickstream-streaming").master(settings.spark_master)
    for key, value in spark_conf(settings).items():
        builder = builder.config(key, value)
    return (builder.config("spark.sql.shuffle.partitions", str(SMALL_SHUFFLE_PARTITIONS))
            .config("spark.scheduler.mode", "FAIR").getOrCreate())


def read_source(spark: SparkSession, settings: Settings, topic: str) -> DataFrame:
    return (
        spark.readStream.format("kafka")
        .options(**settings.kafka_spark_options())
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .option("maxOffsetsPerTrigger", RECORDS_PER_BATCH)
        .option("failOnDataLoss", "true")
        .load()
    )


def write_rows(settings: Settings, counts: dict[int, tuple[int, int]], table: IngestionTable):
    """foreachBatch sink of the rows query: Spark-side rejects to the dead letters, and the batch's counts.

    Records (rows in, rows landed) of each batch in `counts`: Spark's own progress counts Kafka
    records, and a RAW record packs many rows. Adds the batch's rows to each running load's
    rows_processed, from the same one tally (a few lines per RAW record) collected to the driver.
    """

    def sink(batch: DataFrame, batch_id: int) -> None:
        parsed = transforms.parse_values(batch, keep=transforms.RECORD_COLUMNS).persist()
        try:
            tally = transforms.record_tally(parsed).collect()
            by_verdict = {verdict: sum(r.rows for r in tally if r.valid == verdict) for verdict in (True, False)}
            counts[batch_id] = (sum(by_verdict.values()), by_verdict[True])
            rejected = transforms.rejected_rows(parsed.drop(*transforms.RECORD_COLUMNS))
            if by_verdict[False]:
                letters = rejected.select(F.to_json(F.struct(F.lit("spark").alias("file"), "*")).alias("value"))
                letters.write.format("kafka").options(**settings.kafka_spark_options()) \
                    .option("topic", topics.DEAD_LETTER).save()
        finally:
            parsed.unpersist()
        _record_validated(table, [RecordRows(r.partition, r.offset, r.lang, r.month, r.rows) for r in tally])

    return sink


def _record_validated(table: IngestionTable, records: list[RecordRows]) -> None:
    """Count the batch's rows of each running load; a failed write is logged, not raised: the count only
    feeds the Ingestion page's bar, and a progress write must not stop the stream (a load whose count
    misses a batch reads below 100% until it completes)."""
    try:
        table.record_validated(records)
    except Exception:  # noqa: BLE001 - progress is advisory; the load's completion does not depend on it
        log.warning("could not record the validated rows of this batch", exc_info=True)


def write_load_events(table: IngestionTable):
    """foreachBatch sink of the loads query: apply each producer event in offset order."""

    def sink(batch: DataFrame, batch_id: int) -> None:
        for row in batch.select("value").orderBy("partition", "offset").collect():
            table.record_event(LoadEvent.from_json(bytes(row.value)))

    return sink


def _analyze(spark: SparkSession, settings: Settings, session, table: IngestionTable, load) -> None:
    """Run the batch analytics of a complete load; a failure is logged and the stream goes on."""
    started = time.monotonic()
    # A thread-local property: PySpark runs each Python thread on a JVM thread of its own.
    spark.sparkContext.setLocalProperty("spark.scheduler.pool", ANALYTICS_POOL)
    try:
        run_analytics(spark, settings, load, session)
    except Exception:  # noqa: BLE001 - analytics are re-runnable; the stream must not die for them
        log.exception("analytics of %s %s failed; reload the month to retry", load.lang, load.month)
        return
    table.mark_analyzed(load)
    log.info("analytics of %s %s done in %.1f s", load.lang, load.month, time.monotonic() - started)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()  # the schema is applied before the job starts (jobs.apply_schema)
    spark = build_session(settings)
    session = connect(settings, settings.keyspace)
    table = IngestionTable(session)
    batch_rows: dict[int, tuple[int, int]] = {}
    rows_query = (
        read_source(spark, settings, topics.RAW).writeStream.queryName(ROWS_QUERY)
        .foreachBatch(write_rows(settings, batch_rows, table)).trigger(processingTime=TRIGGER)
        .option("checkpointLocation", f"{settings.checkpoint_dir}/rows").start()
    )
    loads_query = (
        read_source(spark, settings, topics.LOADS).writeStream.queryName(LOADS_QUERY)
        .foreachBatch(write_load_events(table)).trigger(processingTime=TRIGGER)
        .option("checkpointLocation", f"{settings.checkpoint_dir}/loads").start()
    )
    log.info("streaming from %s into keyspace %s", settings.kafka_bootstrap, settings.keyspace)
    # Analytics take minutes on a big month; one background thread runs them so that the loop
    # keeps finishing other loads meanwhile (Spark schedules jobs from several threads).
    analyst = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analytics")
    analyses: dict[tuple, Future] = {}
    while rows_query.isActive and loads_query.isActive:
        spark.streams.awaitAnyTermination(LOOP_SECONDS)
        progress = rows_query.lastProgress
        if progress:
            table.record_progress(ROWS_QUERY, progress, batch_rows.get(progress["batchId"]))
            for done in [b for b in batch_rows if b < progress["batchId"]]:
                del batch_rows[done]
        processed = partition_offsets(progress["sources"][0].get("endOffset")) if progress else {}
        # A reload is finalized once the analytics of the month's earlier load are done: rows they
        # write after finalize deleted a title's would bring that title back.
        analysing = {key[:2] for key, future in analyses.items() if not future.done()}
        for load in table.processing():
            if caught_up(load, processed) and (load.lang, load.month) not in analysing:
                log.info(CAUGHT_UP, load.lang, load.month)
                started = time.monotonic()
                count = finalize(spark, settings, load, session)
                table.mark_complete(load, count)
                log.info("load %s %s complete: %d rows aggregated in %.1f s",
                         load.lang, load.month, count, time.monotonic() - started)
        # Complete loads without analytics: just finished, or finished under a driver that died.
        for load in table.unanalyzed():
            if (key := (load.lang, load.month, load.run)) not in analyses:
                analyses[key] = analyst.submit(_analyze, spark, settings, session, table, load)
    # Surface the failure that stopped a query, so the container exits non-zero and restarts.
    for query in (rows_query, loads_query):
        if query.exception():
            raise query.exception()


if __name__ == "__main__":
    main()
