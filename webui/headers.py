"""Security headers on every answer of the web UI's server, the dashboard's and the API's alike."""

from __future__ import annotations

from dash import Dash
from flask import Response

SECURITY_HEADERS = {
    # Browsers must take each answer as the type it says it is (JSON stays JSON, never script).
    "X-Content-Type-Options": "nosniff",
    # Other sites learn at most our origin from a link followed out of the dashboard, never a path or query.
    "Referrer-Policy": "strict-origin-when-cross-origin",
    # The same as the policy's frame-ancestors, for browsers that predate it.
    "X-Frame-Options": "DENY",
}


def content_security_policy(script_hashes: list[str]) -> str:
    """Only our own origin, for everything. Scripts: our files, and the inline scripts Dash renders its
    app with, each by its hash (`Dash.csp_hashes`), so no other inline script runs. Styles may be inline:
    Dash components and Plotly set style attributes. Images may be data: and blob: URLs: a chart saved
    as PNG is drawn into one. No page may frame ours (clickjacking)."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self' " + " ".join(dict.fromkeys(script_hashes)),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def register(app: Dash) -> None:
    """Add the security headers to every response `app`'s server sends."""
    headers = {}

    def add_security_headers(response: Response) -> Response:
        if not headers:
            # Dash gathers the pages' clientside callbacks, each an inline script, when it serves its first
            # request (before this hook runs), not when the app is made: so the policy is made then.
            headers.update(SECURITY_HEADERS)
            headers["Content-Security-Policy"] = content_security_policy(app.csp_hashes())
        response.headers.update(headers)
        return response

    app.server.after_request(add_security_headers)
