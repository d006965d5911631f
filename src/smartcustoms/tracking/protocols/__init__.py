"""Device protocols by name: each one a framer, a decoder and its acknowledgements.

See ``base.py`` for the shape every protocol module shares, ``framing.py`` for what the framers
share and ``link.py`` for what a link remembers between frames. The listener layer looks a
protocol up here by the name in its configuration and never imports a protocol module directly:
what is particular to a protocol (its refusal, its HTTP answers) is declared here with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from smartcustoms.core.errors import NotFound
from smartcustoms.tracking.protocols import eseal, gt06, jt701, jt808, osmand, teltonika
from smartcustoms.tracking.protocols.base import Context, Frame, Framing, Message, MessageKind
from smartcustoms.tracking.protocols.integrity import CheckPolicy
from smartcustoms.tracking.protocols.link import Bad, Decoded, Link

__all__ = [
    "PROTOCOLS",
    "Bad",
    "CheckPolicy",
    "Context",
    "Decoded",
    "Frame",
    "Framing",
    "Link",
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

    ``refusal`` is what the device is sent before the listener hangs up on a device it does not
    know (``None``: nothing, just hang up). ``reply`` builds the protocol's answer for an HTTP
    status, for the listener's own answers (400 to a request it cannot read, 503 when the
    store fails); every protocol served over ``http`` has one. ``bad_check`` is what becomes of
    a frame whose check code fails (``integrity.py``): refused and counted, or kept flagged.
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
    refusal: bytes | None = None
    reply: Callable[[int], bytes] | None = None
    bad_check: CheckPolicy = CheckPolicy.NONE

    def __post_init__(self) -> None:
        if "http" in self.transports and self.reply is None:
            raise TypeError(f"protocol {self.name!r} is served over HTTP but has no reply")


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
                refusal=teltonika.LOGIN_REFUSAL,
                bad_check=CheckPolicy.REFUSE,  # CRC-16 of TCP packets (UDP carries none)
            ),
            Protocol(
                "jt808",
                "JT/T 808 (e-locks and trackers)",
                jt808.frame,
                jt808.decode,
                jt808.MAX_FRAME,
                ("tcp",),
                5015,
                bad_check=jt808.CHECK_POLICY,  # XOR check code; a listener may choose flag
            ),
            Protocol(
                "jt701",
                "Jointech JT701/JT709 e-lock (JT600 family)",
                jt701.frame,
                jt701.decode,
                jt701.MAX_FRAME,
                ("tcp",),
                5014,
                bad_check=CheckPolicy.NONE,  # no check code ($ frames; U0x's is not verified)
            ),
            Protocol(
                "gt06",
                "Concox GT06 and compatibles",
                gt06.frame,
                gt06.decode,
                gt06.MAX_FRAME,
                ("tcp",),
                5023,
                bad_check=CheckPolicy.REFUSE,  # CRC-ITU: the GT06 documents say to discard
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
                reply=osmand.encode_response,
                bad_check=CheckPolicy.NONE,  # TCP's own checksum is all there is
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
                bad_check=CheckPolicy.NONE,  # the sentence carries no check code
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
