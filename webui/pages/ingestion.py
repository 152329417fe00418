"""Live view of every load: status, how far it has landed (a bar and an ETA, webui.landing), throughput,
rows accepted and rejected (and why), and lag.

Polls every 2 s while a load is running and every 30 s otherwise, so an idle open tab costs
Cassandra next to nothing.
"""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dash_table, dcc, html
from dash.dash_table.Format import Format, Group, Scheme

from contract.status import ACTIVE, LoadStatus
from webui import db, ids, landing
from webui.openapi import PREFIX
from webui.pages._common import notice, unavailable

dash.register_page(__name__, path="/ingestion", name="Ingestion", order=2, title="Ingestion · Clickstream explorer")

FAST_MS, SLOW_MS, RETRY_MS = 2_000, 30_000, 10_000

_COUNT = {"type": "numeric", "format": Format(group=Group.yes, precision=0, scheme=Scheme.fixed)}
COLUMNS = [
    {"name": "Language", "id": "lang"},
    {"name": "Month", "id": "month"},
    {"name": "Status", "id": "status"},
    {"name": "Progress", "id": "progress"},
    {"name": "ETA", "id": "eta"},
    {"name": "Rows/s", "id": "rows_per_second", **_COUNT},
    {"name": "Accepted", "id": "rows_accepted", **_COUNT},
    {"name": "Rejected", "id": "rows_rejected", **_COUNT},
    {"name": "Rejected because", "id": "reasons"},
    {"name": "Lag (rows)", "id": "lag", **_COUNT},
    {"name": "Seconds", "id": "seconds", "type": "numeric",
     "format": Format(precision=1, scheme=Scheme.fixed)},
    {"name": "Started", "id": "started_at"},
    {"name": "Updated", "id": "updated_at"},
    {"name": "File", "id": "file"},
    {"name": "Error", "id": "error"},
]
STATUS_COLOURS = {LoadStatus.LOADING: "#fef6e7", LoadStatus.PROCESSING: "#eaf3ff", LoadStatus.COMPLETE: "#d5fdf4",
                  LoadStatus.FAILED: "#fee7e6"}


def layout(**_):
    return html.Div([
        html.P("Every load and its progress, newest month first. Progress is the share of a load's accepted "
               "rows the stream has processed, and the ETA assumes the rows/s shown. Once the stream has caught "
               f"up, a load spends a while {landing.FINALIZING} (its bar at 100%, status processing) while its "
               "aggregates are written, then turns complete. Refreshes every 2 s while a load is running, every "
               "30 s otherwise.", className="hint"),
        dcc.Interval(id=ids.INGESTION_TIMER, interval=FAST_MS),
        html.Div(id=ids.INGESTION_MESSAGE),
        dash_table.DataTable(
            id=ids.INGESTION_TABLE, columns=COLUMNS, data=[], sort_action="native",
            # Many columns: on a narrow window the table scrolls sideways inside the page, not the page itself.
            style_table={"overflowX": "auto"},
            style_cell={"fontFamily": "inherit", "padding": "4px 8px", "whiteSpace": "normal", "height": "auto"},
            style_header={"fontWeight": "600"},
            # the bar's cells line up, and a bar stays on one line (a failure's reason may wrap)
            style_cell_conditional=[{"if": {"column_id": "progress"}, "fontFamily": "monospace"}],
            style_data_conditional=[
                *({"if": {"filter_query": f'{{status}} = "{status}"'}, "backgroundColor": colour}
                  for status, colour in STATUS_COLOURS.items()),
                {"if": {"column_id": "progress", "filter_query": f'{{status}} != "{LoadStatus.FAILED}"'},
                 "whiteSpace": "nowrap"},
            ],
        ),
        # The API's own CSV of the ledger: always the loads as they are now, exact values rather than the table's.
        html.A("Download CSV", href=f"{PREFIX}/ingestion?format=csv", download="clickstream-ingestion.csv",
               className="csv-link"),
    ])


@callback(
    Output(ids.INGESTION_TABLE, "data"),
    Output(ids.INGESTION_TIMER, "interval"),
    Output(ids.INGESTION_MESSAGE, "children"),
    Input(ids.INGESTION_TIMER, "n_intervals"),
)
def refresh(_):
    try:
        loads = db.queries().ingestion()
    except Exception as err:  # noqa: BLE001 - keep the last table on screen and say why it is stale
        return dash.no_update, RETRY_MS, unavailable(err)
    message = None if loads else notice("Nothing loaded yet: drop a clickstream file into the producer's "
                                        "watch folder, or run `make load`.")
    return [row(load) for load in loads], interval(loads), message


def interval(loads: list[dict]) -> int:
    return FAST_MS if any(load["status"] in ACTIVE for load in loads) else SLOW_MS


def row(load: dict) -> dict:
    """A load as a table row: reasons as one line, most frequent first; times to the second."""
    reasons = sorted((load.get("rejected_by_reason") or {}).items(), key=lambda item: (-item[1], item[0]))
    return {
        **{c["id"]: load.get(c["id"]) for c in COLUMNS},
        "reasons": ", ".join(f"{reason.replace('_', ' ')}: {n:,}" for reason, n in reasons),
        "progress": landing.progress(load),
        "eta": landing.eta(load),
        "started_at": _time(load.get("started_at")),
        "updated_at": _time(load.get("updated_at")),
    }


def _time(iso: str | None) -> str:
    return iso[:19].replace("T", " ") if iso else ""
