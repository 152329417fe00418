"""Where a load stands on a running stack, and waiting for it on progress rather than on a fixed time.

A load shows progress in three places, one per phase:
- RAW's end offsets grow while the producer sends (status `loading`);
- its ingestion row and the stream's lag change while the stream validates rows (`processing`);
- the Spark driver's work grows while it lands a caught-up load (still `processing`: the driver's
  loop, and with it the stream's reported lag, is blocked meanwhile): its finished tasks, and the
  records its running stages have read and written so far (executors report those every few seconds).
A wait fails when none of them has moved for the stall time (devstack.progress).
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from devstack.progress import wait_for_progress


#: The per-stage record counts of Spark's REST API that grow while a stage runs.
RECORD_COUNTS = ("inputRecords", "outputRecords", "shuffleReadRecords", "shuffleWriteRecords")


@dataclass(frozen=True)
class LoadState:
    """One look at a load: compared field by field to tell whether anything moved since the last look."""

    #: The load's row of /api/v1/ingestion (None: not listed yet).
    load: dict | None = None
    #: Records in RAW, over every partition (None: not asked, or Kafka did not answer yet).
    raw_records: int | None = None
    #: Tasks the Spark driver has finished since it started (None: not asked, or it did not answer yet).
    driver_tasks: int | None = None
    #: Records read and written so far by the driver's running stages (None: as for driver_tasks).
    driver_records: int | None = None
    #: The last error of a source that did not answer; not compared (a flapping source is no progress).
    note: str = field(default="", compare=False)

    @property
    def status(self) -> str | None:
        return self.load["status"] if self.load else None

    def __str__(self) -> str:
        if self.load is None:
            where = "not listed in /api/v1/ingestion"
        else:
            x = self.load
            where = (f"status {x['status']}, {x.get('rows_accepted', 0):,} rows accepted, "
                     f"rows processed {x.get('rows_processed')}, stream lag {x.get('lag')}, "
                     f"updated at {x.get('updated_at')}")
        extra = [f"{self.raw_records:,} records in RAW" if self.raw_records is not None else "",
                 f"{self.driver_tasks:,} driver tasks done" if self.driver_tasks is not None else "",
                 f"{self.driver_records:,} records in running stages" if self.driver_records is not None else "",
                 f"({self.note})" if self.note else ""]
        return "; ".join([where, *filter(None, extra)])


def get_json(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


class LoadProbe:
    """Callable: the LoadState of one load (`run` None: whichever run of lang/month is listed).

    `kafka` (kafka-python connection settings) adds RAW's end offsets and `driver_ui` (a URL, or a callable
    returning one) the Spark driver's task count; a source that fails keeps its last value, so only real change counts.
    """

    def __init__(self, api: str, lang: str, month: str, run: str | None = None, *, kafka: dict | None = None,
                 driver_ui: str | Callable[[], str | None] | None = None, fetch=get_json):
        self.api, self.lang, self.month, self.run = api, lang, month, run
        self.kafka, self.driver_ui, self.fetch = kafka, driver_ui, fetch
        self.last = LoadState()
        self._consumer = None

    def __call__(self) -> LoadState:
        notes = []
        load, raw = self.last.load, self.last.raw_records
        tasks, records = self.last.driver_tasks, self.last.driver_records
        try:
            load = self.row(self.fetch(f"{self.api}/api/v1/ingestion")["loads"])
        except (OSError, ValueError, KeyError) as err:
            notes.append(f"ingestion API: {err}")
        if self.kafka:
            try:
                raw = self.raw_records()
            except Exception as err:  # noqa: BLE001 - a broker down mid-fault is expected; keep the last count
                notes.append(f"Kafka: {err}")
        if self.driver_ui:
            try:
                tasks, records = self.driver_work()
            except (OSError, ValueError, KeyError, IndexError) as err:
                notes.append(f"Spark driver: {err}")
        self.last = LoadState(load, raw, tasks, records, "; ".join(notes))
        return self.last

    def row(self, loads: list[dict]) -> dict | None:
        """This load's row of the ingestion list."""
        key = (self.lang, self.month, self.run)
        return next((x for x in loads if (x["lang"], x["month"], self.run and x["run"]) == key), None)

    def raw_records(self) -> int:
        from contract import topics
        from kafka import KafkaConsumer, TopicPartition

        if self._consumer is None:
            self._consumer = KafkaConsumer(**self.kafka, request_timeout_ms=10_000)
        partitions = [TopicPartition(topics.RAW, p) for p in self._consumer.partitions_for_topic(topics.RAW) or ()]
        return sum(self._consumer.end_offsets(partitions).values())

    def driver_work(self) -> tuple[int, int]:
        """(finished and failed tasks over every executor the application has had, records read and
        written so far by its running stages), from the driver's REST API."""
        ui = self.driver_ui() if callable(self.driver_ui) else self.driver_ui
        if not ui:
            raise OSError("no driver UI address")
        (app, *_) = self.fetch(f"{ui}/api/v1/applications")
        base = f"{ui}/api/v1/applications/{app['id']}"
        executors = self.fetch(f"{base}/allexecutors")
        tasks = sum(e.get("completedTasks", 0) + e.get("failedTasks", 0) for e in executors)
        stages = self.fetch(f"{base}/stages?status=active")
        records = sum(s.get(k, 0) for s in stages for k in RECORD_COUNTS)
        return tasks, records

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None


def wait_for(probe: LoadProbe, done: Callable[[LoadState], bool], what: str, *,
             stall_seconds: float | None = None, interval: float = 2.0) -> LoadState:
    """Poll `probe` until `done(state)`; devstack.progress.Stalled once nothing about the load has moved."""
    try:
        return wait_for_progress(probe, done, f"{what} ({probe.lang} {probe.month})", stall_seconds=stall_seconds,
                                 interval=interval, describe=str)
    finally:
        probe.close()


def driver_ui(container: str) -> Callable[[], str | None]:
    """The Spark driver UI of the stack's streaming container, looked up anew each time (a restart
    can change the address); on host networking (the multihost stack) it is on the loopback."""

    def lookup() -> str | None:
        found = subprocess.run(["docker", "inspect", "--format",
                                "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", container],
                               capture_output=True, text=True)
        if found.returncode != 0:
            return None
        addresses = found.stdout.split()
        return f"http://{addresses[0] if addresses else '127.0.0.1'}:4040"

    return lookup
