"""Shared fixtures: the bundled real sample and its ground truth, computed straight from the file."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "clickstream-enwiki-2024-11.tsv"
#: The project's versions, from Pulumi.yaml, where they live: {"kafkaVersion": "4.1.1", ...}.
VERSIONS = {key.split(":", 1)[1]: value for key, value in
            yaml.safe_load((Path(__file__).parents[1] / "Pulumi.yaml").read_text())["config"].items()
            if key.endswith("Version")}


#: Titles whose search fold (contract.records.fold) is easy to get wrong: precomposed and combining accents,
#: case pairs that fold to several letters, compatibility forms, scripts without case, astral code points.
TRICKY_TITLES = ("Éclair", "éclair", "ß", "ẞ", "İstanbul", "Σίσυφος", "ΐ", "東京", "東京都", "Ωmega", "ǅemal", "Ǆ",
                 "1984", "3D", '"Quoted"', "'Apostrophe'", "_x", "𝔸lpha", "ﬁsh", "Ⅻ", "Ⓐ", "K", "Zu\u0308rich",
                 "Zürich", "ガンダム", "Ｔｏｋｙｏ", "㎒", "a\u0301\u0301", "\u0301x", "\u0301", "क्षत्रिय", "Main_Page")


def read_sample(path: Path = SAMPLE) -> list[tuple[str, str, str, int]]:
    """The sample's rows, read independently of the product's parser (csv, quoting off)."""
    with path.open(newline="", encoding="utf-8") as f:
        return [(p, c, t, int(n)) for p, c, t, n in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


def ground_truth(rows) -> dict[str, dict]:
    """Per article: incoming/outgoing totals, source mix and sorted incoming/outgoing lists."""
    others = {"other-search", "other-external", "other-internal", "other-empty", "other-other"}
    truth = defaultdict(lambda: {"incoming_total": 0, "outgoing_total": 0, "sources": defaultdict(int),
                                 "incoming": [], "outgoing": []})
    for prev, curr, type_, n in rows:
        truth[curr]["incoming_total"] += n
        truth[curr]["sources"][prev if prev in others else type_] += n
        truth[curr]["incoming"].append({"title": prev, "type": type_, "n": n})
        truth[prev]["outgoing_total"] += n
        truth[prev]["outgoing"].append({"title": curr, "type": type_, "n": n})
    for article in truth.values():
        for key in ("incoming", "outgoing"):
            article[key].sort(key=lambda r: (-r["n"], r["title"]))
    return dict(truth)


@pytest.fixture(scope="session")
def sample_rows():
    return read_sample()
