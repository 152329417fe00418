"""The disk check before `load` sends anything (devstack.disk, and `python -m devstack.stack load`)."""

from __future__ import annotations

import gzip

import pytest

from devstack import disk, stack

GIB = 2**30


def test_the_ratios_are_the_benchmarks_figures():
    # docs/benchmarks.md: 1.87 GB of TSV took 904 MiB per broker and 3.73 GiB per node
    assert disk.KAFKA_REPLICA_PER_TSV_BYTE == pytest.approx(0.507, abs=0.001)
    assert disk.CASSANDRA_REPLICA_PER_TSV_BYTE == pytest.approx(2.142, abs=0.001)


def test_the_benchmark_month_needs_what_the_benchmark_measured_on_each_replica():
    need = disk.month_needs(1_870_000_000, kafka_replicas=3, cassandra_replicas=3)
    assert need.kafka == pytest.approx(3 * 904 * 2**20, abs=1)
    assert need.cassandra == pytest.approx(3 * 3.73 * GIB, abs=1)
    assert need.total == need.kafka + need.cassandra
    assert disk.required_free(need) == round(need.total * disk.SAFETY_FACTOR) + disk.RESERVE_BYTES


def test_the_need_grows_with_the_file_and_the_replicas():
    one = disk.month_needs(10**9, 1, 1)
    assert disk.month_needs(2 * 10**9, 1, 1).total == pytest.approx(2 * one.total, abs=2)
    assert disk.month_needs(10**9, 3, 1).kafka == pytest.approx(3 * one.kafka, abs=2)


def test_a_gzipped_month_counts_its_uncompressed_bytes(tmp_path):
    body = b"a\tb\tlink\t10\n" * 10_000
    plain, packed = tmp_path / "m.tsv", tmp_path / "m.tsv.gz"
    plain.write_bytes(body)
    packed.write_bytes(gzip.compress(body))
    assert disk.tsv_bytes(plain) == disk.tsv_bytes(packed) == len(body)
    assert packed.stat().st_size < len(body)


def test_a_month_that_fits_passes_and_one_that_does_not_says_what_it_needs(tmp_path):
    month = tmp_path / "clickstream-enwiki-2024-11.tsv"
    month.write_bytes(b"x" * 1000)
    need = disk.required_free(disk.month_needs(1000, 3, 3))
    assert disk.shortfall(month, 3, 3, free=need) is None
    message = disk.shortfall(month, 3, 3, free=need - 1)
    assert message.startswith(f"{month.name} needs ~") and "--skip-disk-check" in message


@pytest.fixture
def month(tmp_path, monkeypatch):
    """A month file of 1 GB (sparse), a stack whose Docker data root is `tmp_path`, and no producer."""
    path = tmp_path / "clickstream-enwiki-2024-11.tsv"
    with path.open("wb") as f:
        f.truncate(10**9)
    monkeypatch.setattr(disk, "docker_root", lambda: str(tmp_path))
    produced = []
    monkeypatch.setattr(stack, "outputs", lambda stack_name: {"kafkaBootstrap": "127.0.0.1:1"})
    monkeypatch.setattr(stack, "produce", lambda cmd, env=None: produced.append(cmd) or 0)
    return path, produced


def test_load_refuses_a_month_the_disk_would_not_hold_before_the_producer_starts(month, monkeypatch, capsys):
    path, produced = month
    monkeypatch.setattr(disk, "free_bytes", lambda root: 5 * GIB)  # a 1 GB month on 3+3 replicas needs ~11 GiB
    assert stack.run(["load", "--file", str(path)]) == disk.EXIT_NO_SPACE
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: clickstream-enwiki-2024-11.tsv needs ~") and "5.0 GiB free" in line
    assert produced == []


def test_load_goes_on_when_the_month_fits_or_the_check_is_skipped(month, monkeypatch):
    path, produced = month
    monkeypatch.setattr(disk, "free_bytes", lambda root: 5 * GIB)
    assert stack.run(["load", "--file", str(path), "--skip-disk-check"]) == 0
    monkeypatch.setattr(disk, "free_bytes", lambda root: 20 * GIB)
    assert stack.run(["load", "--file", str(path)]) == 0
    assert len(produced) == 2


def test_without_an_answer_from_docker_the_load_goes_on_with_a_warning(month, monkeypatch, capsys):
    path, produced = month

    def no_docker():
        raise OSError("`docker info` failed: Cannot connect to the Docker daemon")

    monkeypatch.setattr(disk, "docker_root", no_docker)
    assert stack.run(["load", "--file", str(path)]) == 0
    assert capsys.readouterr().err.startswith("warning: disk check skipped (OSError: `docker info` failed")
    assert len(produced) == 1
