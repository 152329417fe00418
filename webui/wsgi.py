"""gunicorn entry point: `gunicorn webui.wsgi:server`."""

from webui.app import create_app

app = create_app()
server = app.server
