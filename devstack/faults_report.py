"""The fault suites' verdicts as the Markdown table of docs/reliability.md.

    python -m devstack.faults_report            # the latest run in $CLICKSTREAM_CACHE/faults/
    python -m devstack.faults_report FILE.jsonl
"""

from __future__ import annotations

import json
import sys

from contract.settings import cache_root

#: Where the fault suites append their verdicts, one JSON line each, one file per run.
REPORTS = cache_root() / "faults"

COLUMNS = ("scenario", "injected", "rows expected", "rows found", "clicks expected", "clicks found",
           "articles wrong", "result")


def table(verdicts: list[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for v in verdicts:
        lines.append(f"| {v['scenario']} | {v['injected']} | {v['rows_expected']:,} | {v['rows_found']:,} | "
                     f"{v['clicks_expected']:,} | {v['clicks_found']:,} | {v['articles_wrong']:,} | "
                     f"{'pass' if v['passed'] else 'FAIL'} |")
    return "\n".join(lines)


def main() -> None:
    runs = sorted(REPORTS.glob("*.jsonl"))
    path = sys.argv[1] if len(sys.argv) > 1 else (runs[-1] if runs else None)
    if path is None:
        raise SystemExit(f"no fault-suite verdicts in {REPORTS}; run `make test-faults` first")
    with open(path) as f:
        verdicts = [json.loads(line) for line in f if line.strip()]
    print(f"Verdicts of {path}:\n")
    print(table(verdicts))


if __name__ == "__main__":
    main()
