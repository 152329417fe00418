"""The synthetic month: valid, deterministic, and shaped like a real one."""

from __future__ import annotations

import gzip
import math
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contract import records
from producer import cli
from producer.generate import SPECIAL_TITLES, _titles, generate, write

ROWS = 200_000


@pytest.fixture(scope="module")
def month() -> list[records.Row]:
    lines = b"".join(generate(ROWS, seed=11)).split(b"\n")
    assert lines.pop() == b""
    parsed = [records.parse_line(line) for line in lines]
    bad = [(line, p) for line, p in zip(lines, parsed) if not isinstance(p, records.Row)]
    assert not bad, bad[:5]
    return parsed


def test_every_line_is_valid_and_the_count_is_exact(month):
    assert len(month) == ROWS


def test_no_pair_repeats(month):
    assert len({(r.prev, r.curr) for r in month}) == ROWS


def test_click_shares_by_type_match_a_real_month(month):
    clicks = Counter()
    for r in month:
        clicks[r.type] += r.n
    total = sum(clicks.values())
    assert clicks["external"] / total == pytest.approx(0.643, abs=0.01)
    assert clicks["link"] / total == pytest.approx(0.35, abs=0.01)
    assert clicks["other"] / total == pytest.approx(0.007, abs=0.0015)


def test_the_five_sources_are_external_and_nothing_else_is(month):
    sources = {r.prev for r in month if r.type == "external"}
    assert sources == set(records.OTHER_SOURCES)
    assert not any(r.prev in records.OTHER_SOURCES for r in month if r.type != "external")


def test_n_starts_at_10_which_is_commonest_with_a_heavy_tail(month):
    counts = Counter(r.n for r in month)
    assert min(counts) == 10 and counts.most_common(1)[0][0] == 10
    assert counts[10] > counts[11] > counts[12] > counts[15] > counts[20]
    ns = sorted((r.n for r in month), reverse=True)
    assert ns[0] > 10_000 * 10  # far beyond the typical row
    assert sum(ns[: ROWS // 100]) > 0.3 * sum(ns)  # the top 1% of rows carry a large share


def test_article_popularity_is_zipf_like(month):
    incoming = Counter()
    for r in month:
        incoming[r.curr] += r.n
    ranked = [n for _, n in incoming.most_common()]
    # Slope of log(clicks) against log(rank) between ranks 10 and 1000: about -1.
    slope = (math.log(ranked[999]) - math.log(ranked[9])) / (math.log(1000) - math.log(10))
    assert -1.3 < slope < -0.7


def test_titles_carry_the_hard_cases(month):
    titles = {r.curr for r in month} | {r.prev for r in month}
    assert {"NaN", "null", "AC/DC", '"Heroes"_(David_Bowie_album)', "Don't_Stop_Me_Now"} <= titles
    assert any(any(ord(c) > 0x370 for c in t) for t in titles)  # non-Latin scripts
    assert sum('"' in t for t in titles) > 100 and sum("/" in t for t in titles) > 100


def test_titles_are_one_to_one_and_valid():
    for lang in ("en", "ja", "ru"):
        title = _titles(lang)
        seen = [title(k) for k in range(1, 60_000)] + [title(k) for k in range(10**9, 10**9 + 100)]
        assert len(set(seen)) == len(seen)
        assert set(SPECIAL_TITLES.values()) <= set(seen)
        assert all(len(t.encode()) <= records.MAX_TITLE_BYTES and "\t" not in t and "\n" not in t for t in seen)


def test_a_seed_gives_the_same_month_and_another_seed_another():
    one = b"".join(generate(20_000, seed=1))
    assert b"".join(generate(20_000, seed=1)) == one
    assert b"".join(generate(20_000, seed=2)) != one
    assert b"".join(generate(20_000, seed=1, month="2024-12")) != one


@pytest.mark.parametrize("rows", [1, 7, 1000])
def test_small_months_have_exactly_the_rows_asked(rows):
    assert b"".join(generate(rows, seed=3)).count(b"\n") == rows


def test_write_streams_gzip_deterministically(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = tmp_path / "a" / "x.tsv.gz", tmp_path / "b" / "x.tsv.gz"
    seen = []
    assert write(a, 30_000, 5, "de", "2030-01", seen.append) == 30_000
    write(b, 30_000, 5, "de", "2030-01")
    assert a.read_bytes() == b.read_bytes()
    assert gzip.decompress(a.read_bytes()) == b"".join(generate(30_000, 5, "de", "2030-01"))
    assert seen[-1] == 30_000 and not list(tmp_path.glob("*/*.tmp"))


def test_generate_command_writes_the_standard_name(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli.app, ["generate", "--rows", "5000", "--lang", "fr", "--month", "2031-02",
                                          "--seed", "9"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "clickstream-frwiki-2031-02.tsv.gz"
    assert gzip.decompress(out.read_bytes()).count(b"\n") == 5000
    result = CliRunner().invoke(cli.app, ["generate", "--rows", "5", "--month", "2031-13"])
    assert result.exit_code == 2 and "impossible month" in result.output
