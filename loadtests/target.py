"""Load goes to this machine only: every target must be a loopback address (127.0.0.0/8, ::1, localhost)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def loopback(target: str) -> bool:
    """Whether a URL (http://127.0.0.1:8050) or a host:port (127.0.0.1:19092) names this machine."""
    host = urlsplit(target if "//" in target else f"//{target}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check(targets: list[str]) -> list[str]:
    """The targets that are not loopback, for a refusal message."""
    return [t for t in targets if not loopback(t)]
