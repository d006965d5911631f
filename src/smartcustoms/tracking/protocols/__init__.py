"""Device protocols by name: each one a framer, a decoder and its acknowledgements.

See ``base.py`` for the shape every protocol module shares. The listener layer looks a protocol
up here by the name in its configuration and never imports a protocol module directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from smartcustoms.core.errors import NotFound
from smartcustoms.tracking.protocols import eseal, gt06, jt701, jt808, osmand, teltonika
from smartcustoms.tracking.protocols.base import Context, Frame, Framing, Message, MessageKind

__all__ = [
    "PROTOCOLS",
    "Context",
    "Frame",
    "Framing",
    "Message",
    "MessageKind",
    "Protocol",
    "get_protocol",
]


@dataclass(frozen=True, slots=True)
class Protocol:
    """One device protocol as the listeners and the CLI see it.

    ``frame`` cuts a TCP stream into frames; ``decode`` turns one frame (or one UDP datagram,
    or one HTTP request for ``http``) into a :class:`Message`. ``max_frame`` bounds what a
    framer may hold back waiting for the rest of a frame. ``datagram`` protocols also accept a
    whole UDP datagram in ``decode``. ``default_port`` is traccar's, so devices already pointed
    at a traccar server need no reconfiguration.
    """

    name: str
    title: str
    frame: Callable[[bytes | bytearray | memoryview], Framing]
    decode: Callable[[bytes, Context], Message]
    max_frame: int
    transports: tuple[str, ...]
    default_port: int
    text: bool = False
    datagram: bool = False


PROTOCOLS: Mapping[str, Protocol] = MappingProxyType(
    {
        p.name: p
        for p in (
            Protocol(
                "teltonika",
                "Teltonika Codec 8 / 8 Extended / 16",
                teltonika.frame,
                teltonika.decode,
                teltonika.MAX_FRAME,
                ("tcp", "udp"),
                5027,
                datagram=True,
            ),
            Protocol(
                "jt808",
                "JT/T 808 (e-locks and trackers)",
                jt808.frame,
                jt808.decode,
                jt808.MAX_FRAME,
                ("tcp",),
                5015,
            ),
            Protocol(
                "jt701",
                "Jointech JT701/JT709 e-lock (JT600 family)",
                jt701.frame,
                jt701.decode,
                jt701.MAX_FRAME,
                ("tcp",),
                5014,
            ),
            Protocol(
                "gt06",
                "Concox GT06 and compatibles",
                gt06.frame,
                gt06.decode,
                gt06.MAX_FRAME,
                ("tcp",),
                5023,
            ),
            Protocol(
                "osmand",
                "OsmAnd / Traccar Client over HTTP",
                osmand.frame,
                osmand.decode,
                osmand.MAX_FRAME,
                ("http",),
                5055,
                text=True,
            ),
            Protocol(
                "eseal",
                "Text e-seal (##S,…,E##)",
                eseal.frame,
                eseal.decode,
                eseal.MAX_FRAME,
                ("tcp",),
                5169,
                text=True,
            ),
        )
    }
)


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name``; :class:`NotFound` naming the known ones otherwise."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        known = ", ".join(PROTOCOLS)
        raise NotFound(
            f"unknown device protocol {name!r}; known: {known}",
            details=[{"field": "protocol", "found": name, "expected": known}],
        ) from None
