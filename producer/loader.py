"""Streaming one dump file into Kafka: validate each line, send rows, dead-letter the rest."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from contract import records, topics
from contract.status import EventStatus
from producer.files import DumpError, DumpName, LineReader
from producer.integrity import check_file, read_sidecar
from producer.publish import Publisher, publish_event

#: Called now and then with (bytes consumed, rows accepted so far).
Progress = Callable[[int, int], None]


class LoadInterrupted(KeyboardInterrupt):
    """Ctrl-C during a load, raised after the rows sent so far were flushed and the load marked failed."""

    def __init__(self, summary: "LoadSummary"):
        super().__init__("interrupted")
        self.summary = summary


@dataclass
class LoadSummary:
    file: str
    lang: str
    month: str
    accepted: int = 0
    rejected: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    error: str = ""
    checksum: str = ""

    @property
    def rows_per_second(self) -> float:
        return (self.accepted + sum(self.rejected.values())) / self.seconds if self.seconds else 0.0


def load_file(path: Path, name: DumpName, publisher: Publisher, progress: Progress | None = None,
              run: str | None = None, check_progress: Callable[[int], None] | None = None) -> LoadSummary:
    """Send every valid row of `path` to RAW and every invalid one to DEAD_LETTER.

    The file is checked whole first (its md5 if a `.md5` sidecar gives one, and the full gzip
    stream), so a bad download fails before anything is sent. Load events on LOADS bracket the
    rows: `loading` first, then `produced` with the offsets that let the stream tell when all of
    them are processed, or `failed` with the reason. Ctrl-C flushes what was sent, marks the load
    failed ("interrupted") and raises LoadInterrupted.
    """
    summary = LoadSummary(file=path.name, lang=name.lang, month=name.month)
    event = topics.LoadEvent(lang=name.lang, month=name.month, status=EventStatus.LOADING, file=path.name)
    if run:
        event.run = run
    started = time.monotonic()
    interrupted = False
    try:
        event.checksum = summary.checksum = "md5:" + check_file(path, read_sidecar(path), check_progress)
        with LineReader(path) as reader:
            event.start_offsets = publisher.end_offsets(topics.RAW)
            publish_event(publisher, event)
            _send_lines(reader, name, publisher, summary, progress)
        publisher.flush()
        if summary.accepted == 0 and not summary.rejected:
            raise DumpError(f"{path.name}: the file holds no lines")
        event.end_offsets = publisher.end_offsets(topics.RAW)
        event.status = EventStatus.PRODUCED
    except DumpError as err:
        summary.error = str(err)
        event.status = EventStatus.FAILED
        publisher.flush()
    except KeyboardInterrupt:
        interrupted = True
        summary.error = "interrupted"
        event.status = EventStatus.FAILED
        publisher.flush()
    except Exception as err:
        # Anything else (records Kafka did not acknowledge, say) fails the load with its reason, instead
        # of leaving it `loading` for ever; the error still ends the command.
        summary.error = f"{type(err).__name__}: {err}"
        event.status = EventStatus.FAILED
        raise
    finally:
        summary.seconds = time.monotonic() - started
        event.rows_accepted = summary.accepted
        event.rows_rejected = sum(summary.rejected.values())
        event.rejected_by_reason = dict(summary.rejected)
        event.seconds = summary.seconds
        event.error = summary.error
        event.at = time.time()
        if event.start_offsets or event.status != EventStatus.LOADING:
            publish_event(publisher, event)
    if interrupted:
        raise LoadInterrupted(summary)
    return summary


class RowPacker:
    """Packs encoded rows per RAW partition (records.pack) and sends each pack when it is full.

    Partitions come from `records.partition_of`; the partition of each title is remembered
    because murmur2 in Python costs more than the rest of a row's work, and titles repeat.
    """

    CACHE_LIMIT = 1_000_000

    def __init__(self, publisher: Publisher, partitions: int):
        self._publisher = publisher
        self._partitions = partitions
        self._packs: dict[int, list[bytes]] = {p: [] for p in range(partitions)}
        self._partition_of: dict[bytes, int] = {}

    def add(self, key: bytes, value: bytes) -> None:
        partition = self._partition_of.get(key)
        if partition is None:
            if len(self._partition_of) >= self.CACHE_LIMIT:
                self._partition_of.clear()
            partition = self._partition_of[key] = records.partition_of(key, self._partitions)
        pack = self._packs[partition]
        pack.append(value)
        if len(pack) >= records.ROWS_PER_RECORD:
            self._send(partition)

    def _send(self, partition: int) -> None:
        self._publisher.send(topics.RAW, records.pack(self._packs[partition]), partition=partition)
        self._packs[partition] = []

    def flush(self) -> None:
        """Send every partly filled pack."""
        for partition, pack in self._packs.items():
            if pack:
                self._send(partition)


def _send_lines(reader: LineReader, name: DumpName, publisher: Publisher, summary: LoadSummary, progress) -> None:
    packer = RowPacker(publisher, len(publisher.end_offsets(topics.RAW)))
    try:
        _pack_lines(reader, name, publisher, packer, summary, progress)
    finally:
        # Also on Ctrl-C: the rows counted as accepted are the rows sent.
        packer.flush()


def _pack_lines(reader: LineReader, name: DumpName, publisher: Publisher, packer: RowPacker,
                summary: LoadSummary, progress) -> None:
    encode_line = records.LineEncoder(name.lang, name.month)
    for number, raw in reader:
        parsed = encode_line(raw)
        if not isinstance(parsed, records.Rejection):
            packer.add(*parsed)
            summary.accepted += 1
        else:
            letter = topics.DeadLetter(
                file=reader.path.name, line=number, reason=parsed.reason.value,
                detail=parsed.detail, raw=raw, lang=name.lang, month=name.month,
            )
            publisher.send(topics.DEAD_LETTER, letter.to_json())
            summary.rejected[parsed.reason.value] += 1
        if progress and number % 10_000 == 0:
            progress(reader.position, summary.accepted)
    if progress:
        progress(reader.position, summary.accepted)
