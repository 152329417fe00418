"""The Dash app: multi-page dashboard plus the JSON API on the same Flask server."""

from __future__ import annotations

import dash
from dash import Dash, dcc, html

from webui import headers
from contract.settings import MAX_REQUEST_BYTES
from webui.api import api



def create_app() -> Dash:
    # suppress_callback_exceptions: each page's callbacks name components only that page renders.
    # update_title=None: the ingestion page polls every 2 s, and "Updating..." would flicker in the tab.
    # Named after the package, so Dash loads pages as webui.pages.* - the modules tests and other
    # code import - rather than as a second, top-level `pages` copy with its own registrations.
    app = Dash("webui", use_pages=True, pages_folder="pages", title="Clickstream explorer",
               suppress_callback_exceptions=True, update_title=None)
    app.server.register_blueprint(api)
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.layout = html.Div([
        html.Header([
            dcc.Link("Clickstream explorer", href="/", className="brand"),
            html.Nav([dcc.Link(page["name"], href=page["relative_path"], className="nav-link",
                               id="nav-" + page["name"].lower())
                      for page in dash.page_registry.values()], className="nav"),
        ], className="topbar"),
        html.Main(dash.page_container, className="page"),
    ])
    headers.register(app)
    return app
