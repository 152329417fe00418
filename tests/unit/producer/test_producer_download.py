"""Months discovery and downloads against a fake dumps site on 127.0.0.1."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from producer import cli, dumps
from producer.download import DownloadError, download
from producer.integrity import read_sidecar
from tests.fakes import FakePublisher
from tests.fakes import FakeDumps, closed_port_url, sample_gz

EN = "clickstream-enwiki-2024-11.tsv.gz"


def no_sleep(seconds: float) -> None:
    pass


def run(*args: str):
    """Invoke the CLI; the output comes back with its line wrapping undone."""
    result = CliRunner().invoke(cli.app, list(args))
    result.text = " ".join(result.output.split())
    return result


def file_requests(fake: FakeDumps, name: str) -> list[str | None]:
    """The Range header of each request for one dump file."""
    return [rng for path, rng in fake.requests if path.endswith("/" + name)]


def test_months_and_languages_come_from_the_index(site: FakeDumps):
    assert dumps.list_months(site.base) == ["2024-10", "2024-11"]
    october = dumps.list_month(site.base, "2024-10")
    assert october.langs == ["de", "en"] and october.md5_files == ["md5sums.txt"]
    assert (dumps.published_md5(site.base, october, "clickstream-enwiki-2024-10.tsv.gz")
            == hashlib.md5(sample_gz()).hexdigest())


def test_index_parsing_ignores_other_links():
    html = ('<a href="../">../</a><a href="2017-11/">2017-11/</a><a href="/other/clickstream/2024-13/">x</a>'
            '<a href="https://dumps.example/other/clickstream/2018-01/">2018-01/</a><a href="readme.html">r</a>')
    assert dumps.parse_months(html) == ["2017-11", "2018-01"]
    month = dumps.parse_month("2024-11", '<a href="clickstream-zh_yuewiki-2024-11.tsv.gz">z</a>'
                                         '<a href="clickstream-enwiki-2024-10.tsv.gz">old</a>'
                                         '<a href="md5sums.txt">m</a>')
    assert month.dumps == {"zh_yue": "clickstream-zh_yuewiki-2024-11.tsv.gz"} and month.md5_files == ["md5sums.txt"]
    assert dumps.parse_md5sums("d41d8cd98f00b204e9800998ecf8427e  ./a.tsv.gz\nnot a line\n") == {
        "a.tsv.gz": "d41d8cd98f00b204e9800998ecf8427e"}


def test_months_command_prints_a_table(site: FakeDumps):
    result = run("months", "--base-url", site.base)
    assert result.exit_code == 0, result.output
    assert "2024-10" in result.text and "de en" in result.text
    result = run("months", "--lang", "de", "--base-url", site.base)
    assert "clickstream-dewiki-2024-10.tsv.gz" in result.text and "2024-11" not in result.text


def test_months_command_fails_clearly_when_the_index_is_unreachable():
    result = run("months", "--base-url", closed_port_url())
    assert result.exit_code == 1 and "cannot be read" in result.text


def test_download_verifies_and_writes_the_md5_beside_the_file(site: FakeDumps, tmp_path: Path):
    path = download("en", "2024-11", tmp_path, site.base, sleep=no_sleep)
    assert path == tmp_path / EN and path.read_bytes() == sample_gz()
    assert read_sidecar(path) == hashlib.md5(sample_gz()).hexdigest()
    assert not (tmp_path / f"{EN}.part").exists()
    assert download("en", "2024-11", tmp_path, site.base) == path  # cached: no second transfer
    assert file_requests(site, EN) == [None]


def test_a_transfer_cut_half_way_is_resumed_with_a_range_request(site: FakeDumps, tmp_path: Path):
    half = len(sample_gz()) // 2
    site.cut_after[EN] = half
    sleeps = []
    seen = []
    path = download("en", "2024-11", tmp_path, site.base, progress=lambda done, total: seen.append((done, total)),
                    sleep=sleeps.append)
    assert path.read_bytes() == sample_gz()
    assert file_requests(site, EN) == [None, f"bytes={half}-"]
    assert len(sleeps) == 1
    assert seen[-1] == (len(sample_gz()), len(sample_gz()))


def test_a_part_left_by_an_earlier_run_is_resumed(site: FakeDumps, tmp_path: Path):
    (tmp_path / f"{EN}.part").write_bytes(sample_gz()[:1000])
    path = download("en", "2024-11", tmp_path, site.base, sleep=no_sleep)
    assert path.read_bytes() == sample_gz()
    assert file_requests(site, EN) == ["bytes=1000-"]


def test_a_server_that_ignores_range_gets_a_fresh_transfer(site: FakeDumps, tmp_path: Path):
    site.ignore_range = True
    (tmp_path / f"{EN}.part").write_bytes(b"junk" * 100)
    assert download("en", "2024-11", tmp_path, site.base, sleep=no_sleep).read_bytes() == sample_gz()


def test_a_wrong_md5_deletes_the_file_and_says_so(site: FakeDumps, tmp_path: Path):
    site.wrong_md5.add(EN)
    with pytest.raises(DownloadError, match="does not match the published 0{32}.*deleted"):
        download("en", "2024-11", tmp_path, site.base, sleep=no_sleep)
    assert list(tmp_path.iterdir()) == []


def test_download_command_exits_non_zero_on_a_wrong_md5(site: FakeDumps, tmp_path: Path):
    site.wrong_md5.add(EN)
    result = run("download", "--lang", "en", "--month", "2024-11", "--dest", str(tmp_path), "--base-url", site.base)
    assert result.exit_code == 1
    assert "does not match the published" in result.text and "deleted" in result.text
    assert list(tmp_path.iterdir()) == []


def test_a_flaky_link_still_completes_as_long_as_bytes_arrive(site: FakeDumps, tmp_path: Path):
    site.cut_after[EN] = 4000
    site.cut_every_time = True
    path = download("en", "2024-11", tmp_path, site.base, attempts=2, sleep=no_sleep)
    assert path.read_bytes() == sample_gz()
    assert file_requests(site, EN)[:3] == [None, "bytes=4000-", "bytes=8000-"]


def test_retries_without_progress_are_bounded_and_keep_the_part(site: FakeDumps, tmp_path: Path):
    (tmp_path / f"{EN}.part").write_bytes(sample_gz()[:500])
    site.cut_after[EN] = 0
    site.cut_every_time = True
    sleeps = []
    with pytest.raises(DownloadError, match="failed 3 times without progress.*run again to resume"):
        download("en", "2024-11", tmp_path, site.base, attempts=3, sleep=sleeps.append)
    assert sleeps == [2.0, 4.0]
    assert (tmp_path / f"{EN}.part").stat().st_size == 500


@pytest.mark.parametrize("lang, month, message", [
    ("fr", "2024-11", "no fr dump published; languages: en"),
    ("en", "2023-01", "no such month folder"),
])
def test_unpublished_dumps_fail_clearly(site: FakeDumps, tmp_path: Path, lang, month, message):
    with pytest.raises(DownloadError, match=message):
        download(lang, month, tmp_path, site.base, sleep=no_sleep)


def test_a_month_without_md5sums_is_refused(tmp_path: Path):
    with FakeDumps({"2024-11": {EN: sample_gz()}}, md5_file="SHA1SUMS") as fake:
        fake.md5_file = "sha1sums.txt"
        with pytest.raises(DownloadError, match="no md5sums file is published"):
            download("en", "2024-11", tmp_path, fake.base, sleep=no_sleep)


def test_load_by_lang_and_month_downloads_then_loads(site: FakeDumps, tmp_path: Path, monkeypatch):
    pub = FakePublisher()
    monkeypatch.setattr(cli, "KafkaPublisher", lambda bootstrap: pub)
    args = ["load", "--lang", "en", "--month", "2024-11", "--dest", str(tmp_path), "--base-url", site.base]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert len(pub.rows()) == 1039 and pub.events()[-1].status == "produced"
    assert (tmp_path / f"{EN}.md5").exists()
    result = run(*args)  # second time: from the cache
    assert result.exit_code == 0 and file_requests(site, EN) == [None]


def test_load_without_file_or_month_is_a_usage_error():
    result = run("load", "--lang", "en")
    assert result.exit_code == 2 and "--lang and --month" in result.text
