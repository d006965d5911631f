"""Receiver URL validation: http or https to a host, nothing that could smuggle credentials.

Credentials in a URL (``https://user:pass@host``) would be stored and shown on the deliveries
page, and sent in clear by any proxy log; a receiver authenticates messages by their signature
instead. Private and loopback addresses are allowed on purpose: the usual receiver is the
administration's own CMS on its internal network, and only administrators add subscriptions.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from smartcustoms.core.errors import ValidationFailed

__all__ = ["MAX_URL_LENGTH", "check_url"]

MAX_URL_LENGTH = 2048


def _refuse(message: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": "url"}], code=code)


def check_url(url: str) -> str:
    """Return ``url`` stripped if it may receive webhooks. Raises ValidationFailed naming the
    field ``url`` otherwise."""
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise _refuse(f"the receiver URL must have 1 to {MAX_URL_LENGTH} characters", "url_length")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise _refuse("the receiver URL must not contain spaces or control characters", "url_chars")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _refuse(f"the receiver URL is malformed: {exc}", "url_malformed") from exc
    if parts.scheme not in ("http", "https"):
        raise _refuse("the receiver URL must start with http:// or https://", "url_scheme")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _refuse(
            "the receiver URL must not contain a user name or password", "url_credentials"
        )
    if not parts.hostname:
        raise _refuse("the receiver URL must name a host", "url_host")
    if port == 0:
        raise _refuse("the receiver URL's port must be 1 to 65535", "url_port")
    if parts.fragment:
        raise _refuse("the receiver URL must not have a #fragment", "url_fragment")
    return url
