"""The Dash app: multi-page dashboard plus the JSON API on the same Flask server."""

from __future__ import annotations

import dash
from dash import Dash, dcc, html

from webui.api import api


def create_app() -> Dash:
    app = Dash(__name__, use_pages=True, pages_folder="pages", title="Clickstream explorer",
               suppress_callback_exceptions=True)
    app.server.register_blueprint(api)
    app.layout = html.Div([
        html.Nav([dcc.Link(page["name"], href=page["relative_path"], className="nav-link")
                  for page in dash.page_registry.values()], className="nav"),
        dash.page_container,
    ])
    return app
