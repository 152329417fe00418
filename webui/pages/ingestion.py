"""Live view of every load: status, rows accepted and rejected, throughput and lag."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dash_table, dcc, html

from webui import db, ids

dash.register_page(__name__, path="/ingestion", name="Ingestion")

COLUMNS = ("lang", "month", "status", "rows_accepted", "rows_rejected", "rows_per_second", "lag", "error")


def layout(**_):
    return html.Div([
        html.H2("Ingestion"),
        dcc.Interval(id=ids.INGESTION_TIMER, interval=3000),
        dash_table.DataTable(id=ids.INGESTION_TABLE, columns=[{"name": c, "id": c} for c in COLUMNS]),
    ])


@callback(Output(ids.INGESTION_TABLE, "data"), Input(ids.INGESTION_TIMER, "n_intervals"))
def refresh(_):
    return [{c: load[c] for c in COLUMNS} for load in db.queries().ingestion()]
