"""A list of JSON-like rows as CSV text: the one place the API's `format=csv` is written.

The `csv` module does the quoting (RFC 4180: commas, quotes and line breaks in a title are kept
exactly), so every cell reads back as the JSON answer's value, as text.
"""

from __future__ import annotations

import csv
import io
import json


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as in the JSON answer, not Python's True
    if isinstance(value, (list, dict)):
        # One cell per value keeps the table rectangular; JSON keeps it exact (a path's titles, a reason count).
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)  # str(float) is its shortest exact form


def to_csv(columns: list[str], rows: list) -> str:
    """A header row of `columns`, then one row per item: a dict's values by column, or a scalar alone.

    A key no column names still gets one, after them, so nothing the JSON answer holds is dropped."""
    extra = {key: None for row in rows if isinstance(row, dict) for key in row if key not in columns}
    columns = [*columns, *extra]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        values = [row.get(column) for column in columns] if isinstance(row, dict) else [row]
        writer.writerow([_cell(value) for value in values])
    return out.getvalue()
