"""Security headers on every answer of the web UI's server, the dashboard's and the API's alike."""

from __future__ import annotations

from flask import Flask, Response

SECURITY_HEADERS = {
    # Browsers must take each answer as the type it says it is (JSON stays JSON, never script).
    "X-Content-Type-Options": "nosniff",
    # Other sites learn at most our origin from a link followed out of the dashboard, never a path or query.
    "Referrer-Policy": "strict-origin-when-cross-origin",
    # No page may frame ours (clickjacking). Only frame-ancestors: a script-src policy would block
    # the inline script Dash's index page renders its app with, and the dashboard would not start.
    "Content-Security-Policy": "frame-ancestors 'none'",
    # The same for browsers that predate frame-ancestors.
    "X-Frame-Options": "DENY",
}


def register(server: Flask) -> None:
    """Add the security headers to every response `server` sends."""
    server.after_request(_add_security_headers)


def _add_security_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response
