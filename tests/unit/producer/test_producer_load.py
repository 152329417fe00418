"""Loads fail before sending anything when the file is bad; Ctrl-C ends a load cleanly."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contract import topics
from contract.status import EventStatus
from producer import cli, loader
from producer.files import DumpError, DumpName, LineReader
from producer.integrity import check_file, write_sidecar
from producer.loader import LoadInterrupted, load_file
from tests.conftest import SAMPLE
from tests.fakes import FakePublisher

NAME = DumpName("en", "2024-11")

GZ = gzip.compress(SAMPLE.read_bytes(), mtime=0)


def gz_file(tmp_path: Path, data: bytes, name: str = "clickstream-enwiki-2024-11.tsv.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def nothing_sent(pub: FakePublisher) -> bool:
    return not pub.sent[topics.RAW] and not pub.sent[topics.DEAD_LETTER]


@pytest.mark.parametrize("data, message", [
    (GZ[:-40], "ends early"),
    (GZ[:len(GZ) // 2], "ends early"),
    (GZ[:20] + bytes(b ^ 0x55 for b in GZ[20:60]) + GZ[60:], "corrupt gzip"),
    (GZ + b"garbage", "unexpected bytes after the gzip stream"),
])
def test_a_damaged_gzip_fails_the_load_before_anything_is_sent(tmp_path: Path, data: bytes, message: str):
    pub = FakePublisher()
    summary = load_file(gz_file(tmp_path, data), NAME, pub)
    assert message in summary.error and "download it again" in summary.error
    assert nothing_sent(pub) and [e.status for e in pub.events()] == ["failed"]


def test_whole_gzip_variants_pass_the_check(tmp_path: Path):
    halves = SAMPLE.read_bytes().split(b"\n", 500)
    multi = gzip.compress(b"\n".join(halves[:500]) + b"\n") + gzip.compress(halves[500])
    check_file(gz_file(tmp_path, multi))
    check_file(gz_file(tmp_path, GZ + b"\0" * 100))  # zero padding after the stream, as gzip(1) allows
    pub = FakePublisher()
    assert load_file(gz_file(tmp_path, multi), NAME, pub).accepted == 1039


def test_the_check_streams_in_bounded_chunks_over_highly_compressible_data(tmp_path: Path):
    path = gz_file(tmp_path, gzip.compress(b"a\tb\tlink\t10\n" * 3_000_000, compresslevel=1))
    check_file(path)  # 36 MB inflated, but never held at once


def test_an_md5_sidecar_is_verified_before_anything_is_sent(tmp_path: Path):
    path = gz_file(tmp_path, GZ)
    write_sidecar(path, "0" * 32)
    pub = FakePublisher()
    summary = load_file(path, NAME, pub)
    assert "does not match the expected" in summary.error and nothing_sent(pub)
    write_sidecar(path, hashlib.md5(GZ).hexdigest())
    assert load_file(path, NAME, FakePublisher()).accepted == 1039


def test_a_wrong_md5_is_reported_before_the_gzip_damage_it_explains(tmp_path: Path):
    path = gz_file(tmp_path, GZ[:-40])
    with pytest.raises(DumpError, match="md5"):
        check_file(path, "0" * 32)


def test_load_command_rejects_a_bad_name_before_connecting(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(cli, "KafkaPublisher", lambda bootstrap: pytest.fail("must not connect"))
    path = gz_file(tmp_path, GZ, name="dump.tsv.gz")
    result = CliRunner().invoke(cli.app, ["load", str(path)])
    assert result.exit_code == 2 and "not a standard dump name" in result.output


def test_load_command_fails_an_empty_file_without_sending_rows(tmp_path: Path, monkeypatch):
    pub = FakePublisher()
    monkeypatch.setattr(cli, "KafkaPublisher", lambda bootstrap: pub)
    path = gz_file(tmp_path, b"", name="clickstream-enwiki-2024-11.tsv")
    result = CliRunner().invoke(cli.app, ["load", str(path)])
    assert result.exit_code == 1 and "empty" in result.output and nothing_sent(pub)


class InterruptedReader(LineReader):
    """Yields the first 300 lines, then behaves as if Ctrl-C was pressed."""

    def __iter__(self):
        for number, line in super().__iter__():
            if number > 300:
                raise KeyboardInterrupt
            yield number, line


def test_ctrl_c_flushes_what_was_sent_and_publishes_a_failed_event(monkeypatch):
    monkeypatch.setattr(loader, "LineReader", InterruptedReader)
    pub = FakePublisher()
    with pytest.raises(LoadInterrupted) as stop:
        load_file(SAMPLE, NAME, pub)
    assert stop.value.summary.accepted == 300 and stop.value.summary.error == "interrupted"
    assert len(pub.rows()) == 300
    loading, failed = pub.events()
    assert (loading.status, failed.status, failed.error) == ("loading", "failed", "interrupted")
    assert failed.rows_accepted == 300 and failed.run == loading.run
    assert pub.flushes >= 3  # the loading event, the rows sent, the failed event


def test_ctrl_c_during_load_command_exits_130(monkeypatch):
    monkeypatch.setattr(loader, "LineReader", InterruptedReader)
    pub = FakePublisher()
    monkeypatch.setattr(cli, "KafkaPublisher", lambda bootstrap: pub)
    result = CliRunner().invoke(cli.app, ["load", str(SAMPLE)])
    assert result.exit_code == 130
    assert "interrupted" in result.output and pub.events()[-1].error == "interrupted"


def test_an_unreachable_kafka_is_a_clear_error(monkeypatch):
    from kafka.errors import KafkaTimeoutError

    def refuse(bootstrap):
        raise KafkaTimeoutError("Unable to bootstrap from ['127.0.0.1:1']")

    monkeypatch.setattr(cli, "KafkaPublisher", refuse)
    result = CliRunner().invoke(cli.app, ["load", str(SAMPLE), "--bootstrap", "127.0.0.1:1"])
    assert result.exit_code == 1 and "cannot be reached" in result.output


class Unacknowledged(FakePublisher):
    """Kafka refused the rows: the flush after them raises, as KafkaPublisher.flush does."""

    def flush(self):
        super().flush()
        if self.sent[topics.RAW]:
            raise RuntimeError("3 records were not acknowledged: NotEnoughReplicasError()")


def test_a_load_kafka_does_not_acknowledge_is_marked_failed_with_the_reason_not_left_loading(tmp_path: Path):
    pub = Unacknowledged()
    with pytest.raises(RuntimeError, match="not acknowledged"):
        load_file(SAMPLE, NAME, pub)
    last = pub.events()[-1]
    assert last.status == EventStatus.FAILED
    assert last.error == "RuntimeError: 3 records were not acknowledged: NotEnoughReplicasError()"
