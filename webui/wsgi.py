"""gunicorn entry point: `gunicorn webui.wsgi:server`."""

from webui.app import create_app

app = create_app()
server = app.server
# Warm Dash's lazily built dependency and asset state before the first real requests: concurrent
# first requests in a fresh worker can race on it and answer 500 (plotly/dash#3971).
server.test_client().get("/_dash-dependencies")
