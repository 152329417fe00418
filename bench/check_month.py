"""A loaded month against ground truth from its file, through the JSON API: for months too big to check whole.

    python -m bench.check_month FILE --lang en --month 2001-03 [--sample 1000] [--stack dev]

Ground truth is computed here from the file with the csv module, independently of the pipeline's
parser and transforms. Checked: the month's rows and clicks (/api/v1/month); and for `--sample`
random articles, the 100 most-read and the five other-* sources, each article's totals, source mix,
and its top incoming and outgoing rows (/api/v1/article, ties ordered as the API orders them: by n
descending, then title); and, page by page (/api/v1/incoming, /api/v1/outgoing), every row into the
`--paged` articles with the most rows in and every row out of those with the most rows out. Prints
what differs and exits 1 if anything does.
"""

from __future__ import annotations

import argparse
import csv
import heapq
import json
import random
import sys
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path

from contract.records import OTHER_SOURCES
from devstack import stack as stack_tool

TOP_ROWS = 10
PAGE_ROWS = 1000


def rows(path: Path):
    with path.open(newline="", encoding="utf-8") as f:
        for prev, curr, kind, n in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            yield prev, curr, kind, int(n)


def totals(path: Path):
    """Pass 1: the month's rows and clicks, and every title's incoming and outgoing totals and row counts."""
    incoming, outgoing, rows_in, rows_out, count, clicks = Counter(), Counter(), Counter(), Counter(), 0, 0
    for prev, curr, _, n in rows(path):
        incoming[curr] += n
        outgoing[prev] += n
        rows_in[curr] += 1
        rows_out[prev] += 1
        count, clicks = count + 1, clicks + n
    return incoming, outgoing, rows_in, rows_out, count, clicks


def best_first(edge: dict) -> tuple:
    """The API's order of an article's rows: n descending, then title."""
    return -edge["n"], edge["title"]


def by_count(item: tuple[str, int]) -> tuple[int, str]:
    return item[1], item[0]


def edge(row: dict) -> dict:
    return {k: row[k] for k in ("title", "type", "n")}


def expected(path: Path, titles: set[str], incoming: Counter, outgoing: Counter) -> tuple[dict, dict, dict]:
    """Pass 2: for `titles`, the sources and the top incoming and outgoing rows; and every row in and out."""
    into, out_of, sources = defaultdict(list), defaultdict(list), defaultdict(Counter)
    for prev, curr, kind, n in rows(path):
        if curr in titles:
            into[curr].append({"title": prev, "type": kind, "n": n})
            sources[curr][prev if prev in OTHER_SOURCES else kind] += n
        if prev in titles:
            out_of[prev].append({"title": curr, "type": kind, "n": n})

    def top(edges):
        return heapq.nsmallest(TOP_ROWS, edges, key=best_first)

    articles = {t: {"incoming_total": incoming[t], "outgoing_total": outgoing[t],
                    "sources": {k: v for k, v in sources[t].items() if v},
                    "source_count": len(into[t]), "destination_count": len(out_of[t]),
                    "incoming": top(into[t]), "outgoing": top(out_of[t])} for t in titles}
    return articles, into, out_of


def paged(api: str, direction: str, title: str, lang: str, month: str) -> list[dict]:
    """Every row of one direction of `title`, page by page, as the API gives them."""
    edges, after = [], ""
    while True:
        query = urllib.parse.urlencode({"title": title, "lang": lang, "month": month, "limit": PAGE_ROWS,
                                        "after": after})
        page = get(f"{api}/{direction}?{query}")
        edges += [edge(e) for e in page["edges"]]
        after = page["next"]
        if after is None:
            return edges


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def check(api: str, path: Path, lang: str, month: str, sample: int = 1000, paged_articles: int = 5
          ) -> tuple[str, list]:
    """Check the month (`lang`, `month`) behind the JSON API at `api` against the file at `path`; returns a
    one-line summary and what differs (empty when everything matches)."""
    incoming, outgoing, rows_in, rows_out, count, clicks = totals(path)
    wrong = []
    found_month = get(f"{api}/month?lang={lang}&month={month}")
    if (found_month["rows"], found_month["total_clicks"]) != (count, clicks):
        wrong.append(("month", (found_month["rows"], found_month["total_clicks"]), (count, clicks)))
    articles = sorted(t for t in incoming if t not in OTHER_SOURCES)
    chosen = set(random.Random(7).sample(articles, min(sample, len(articles))))
    chosen |= {t for t, _ in heapq.nlargest(100, incoming.items(), key=by_count)}
    chosen |= set(OTHER_SOURCES) & set(outgoing)
    # The other-* sources have a row out to most articles: millions, too many to page through here.
    most_in = [t for t, _ in heapq.nlargest(paged_articles, rows_in.items(), key=by_count)]
    articles_out = ((t, c) for t, c in rows_out.items() if t not in OTHER_SOURCES)
    most_out = [t for t, _ in heapq.nlargest(paged_articles, articles_out, key=by_count)]
    chosen |= set(most_in) | set(most_out)
    truth, into, out_of = expected(path, chosen, incoming, outgoing)
    whole = [("incoming", t, into[t]) for t in most_in] + [("outgoing", t, out_of[t]) for t in most_out]
    for direction, title, edges in whole:
        if paged(api, direction, title, lang, month) != sorted(edges, key=best_first):
            wrong.append((f"{direction} of {title}, paged", f"{len(edges):,} rows in the file"))
    for title, want in sorted(truth.items()):
        query = urllib.parse.urlencode({"title": title, "lang": lang, "month": month, "limit": TOP_ROWS})
        found = get(f"{api}/article?{query}")
        got = {k: found[k] for k in want}
        got["sources"] = {k: v for k, v in got["sources"].items() if v}
        got["incoming"] = [edge(e) for e in got["incoming"]]
        got["outgoing"] = [edge(e) for e in got["outgoing"]]
        if got != want:
            wrong.append((title, {k: got[k] for k in want if got[k] != want[k]},
                          {k: want[k] for k in want if got[k] != want[k]}))
    summary = (f"{lang} {month}: {count:,} rows, {clicks:,} clicks in the file; checked the month and "
               f"{len(truth):,} articles ({min(sample, len(articles)):,} random, the top 100, the other-* sources): "
               f"every row of {len(whole)} articles paged ({sum(len(e) for *_, e in whole):,} rows): "
               f"{len(wrong)} differ")
    return summary, wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path)
    parser.add_argument("--lang", required=True)
    parser.add_argument("--month", required=True)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--paged", type=int, default=5, help="articles read whole, page by page, each way")
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args()
    api = f"{stack_tool.outputs(args.stack)['webUrl']}/api/v1"
    summary, wrong = check(api, args.file, args.lang, args.month, args.sample, args.paged)
    print(summary)
    for item in wrong[:10]:
        print("  differs:", item)
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
