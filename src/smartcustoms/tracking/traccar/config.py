"""The ``traccar.xml`` entries that point a Traccar server's forwarding at smartcustoms.

Keys as Traccar 5 and 6 read them (``org.traccar.config.Keys``; https://www.traccar.org/forward):
positions are forwarded when ``forward.url`` is set, as JSON with ``forward.type`` = ``json``,
with ``forward.header`` added to each request; events when ``event.forward.url`` is set
(``event.forward.type`` defaults to ``json``), with ``event.forward.header``. Retries
(``forward.retry.*``) make Traccar send again what we did not acknowledge with a ``2xx``.
Traccar 4 read ``forward.enable``/``forward.json`` and ``event.forward.enable`` instead: they are
written too, harmless to later versions.
"""

from __future__ import annotations

from typing import Final
from xml.sax.saxutils import escape

from smartcustoms.core.errors import ValidationFailed

__all__ = ["EVENTS_PATH", "POSITIONS_PATH", "TOKEN_PLACEHOLDER", "traccar_entries"]

POSITIONS_PATH: Final = "/api/tracking/traccar/positions"
EVENTS_PATH: Final = "/api/tracking/traccar/events"
TOKEN_PLACEHOLDER: Final = "<API token>"  # noqa: S105 (a placeholder shown, not a secret)


def traccar_entries(base_url: str, token: str | None = None, *, retry: bool = True) -> str:
    """The ``<entry>`` lines to paste into ``traccar.xml`` (XML-escaped), for the smartcustoms
    at ``base_url`` (``https://customs.example``) and the bearer ``token`` Traccar sends."""
    base = base_url.strip().rstrip("/")
    if not base.startswith(("https://", "http://")) or any(c.isspace() for c in base):
        raise ValidationFailed(
            "the URL must start with https:// (or http://) and hold no spaces",
            details=[{"field": "url", "value": base_url}],
        )
    header = f"Authorization: Bearer {token or TOKEN_PLACEHOLDER}"
    entries = [
        ("forward.type", "json"),
        ("forward.url", base + POSITIONS_PATH),
        ("forward.header", header),
        ("event.forward.type", "json"),
        ("event.forward.url", base + EVENTS_PATH),
        ("event.forward.header", header),
    ]
    if retry:
        entries.append(("forward.retry.enable", "true"))
    entries += [
        ("forward.enable", "true"),
        ("forward.json", "true"),
        ("event.forward.enable", "true"),
    ]
    lines = ["<!-- smartcustoms: Traccar forwarding (Traccar 5/6 keys; the last three for 4.x) -->"]
    lines += [f"<entry key='{key}'>{escape(value)}</entry>" for key, value in entries]
    return "\n".join(lines) + "\n"
