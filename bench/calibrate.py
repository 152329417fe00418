"""How `producer generate` compares with a real dump where the pipeline's cost comes from.

    python -m bench.calibrate [--real tests/data/clickstream-enwiki-2024-11.tsv] [--rows 100000]

Prints, for the real file and a generated month side by side: bytes per row and per title, rows per
article in and out, the share of other-* rows, and quantiles of n. A real file that is a row sample of
a month (the bundled one is) holds few rows per article, so compare those two lines with care.
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from pathlib import Path

from contract.records import OTHER_SOURCES
from producer.generate import generate

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "clickstream-enwiki-2024-11.tsv"


def profile(lines: list[bytes]) -> dict[str, float]:
    rows = [line.rstrip(b"\n").split(b"\t") for line in lines if line.strip()]
    into = Counter(curr for _, curr, _, _ in rows)
    out_of = Counter(prev for prev, _, _, _ in rows if prev.decode() not in OTHER_SOURCES)
    ns = sorted(int(n) for *_, n in rows)
    titles = [t for prev, curr, _, _ in rows for t in (prev, curr) if t.decode() not in OTHER_SOURCES]

    def quantile(q: float) -> int:
        return ns[min(len(ns) - 1, int(q * len(ns)))]

    return {
        "rows": len(rows),
        "bytes per row": statistics.mean(len(line) for line in lines),
        "bytes per title": statistics.mean(len(t) for t in titles),
        "rows per article in": statistics.mean(into.values()),
        "rows per article out": statistics.mean(out_of.values()) if out_of else 0.0,
        "share of other-* rows": sum(1 for prev, *_ in rows if prev.decode() in OTHER_SOURCES) / len(rows),
        "n p50": quantile(0.5), "n p90": quantile(0.9), "n p99": quantile(0.99), "n max": ns[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", type=Path, default=SAMPLE)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    real = profile(args.real.read_bytes().splitlines(keepends=True))
    generated = profile([line for chunk in generate(args.rows, seed=7) for line in chunk.splitlines(keepends=True)])
    print(f"{'':24}{'real (' + args.real.name + ')':>44}{'generated':>14}")
    for key in real:
        print(f"{key:24}{real[key]:>44,.2f}{generated[key]:>14,.2f}")


if __name__ == "__main__":
    main()
