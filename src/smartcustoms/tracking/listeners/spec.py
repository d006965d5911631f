"""What a listener is configured as, and what it counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from smartcustoms.core.errors import ConfigurationError
from smartcustoms.tracking.protocols import PROTOCOLS

__all__ = ["DEFAULT_LISTENERS", "ListenerSpec", "ListenerStats", "parse_spec"]

_SPEC: Final = re.compile(r"^([a-z0-9]+):(tcp|udp|http):(\d{1,5})$")


@dataclass(frozen=True)
class ListenerSpec:
    protocol: str
    transport: str  # tcp, udp or http
    port: int  # 0: any free port (tests, the demo)

    @property
    def name(self) -> str:
        return f"{self.protocol}:{self.transport}:{self.port}"


def parse_spec(text: str) -> ListenerSpec:
    """``protocol:transport:port``, e.g. ``teltonika:udp:5027``; ConfigurationError otherwise."""
    match = _SPEC.match(text.strip())
    if match is None:
        raise ConfigurationError(
            f"listener {text!r}: expected protocol:transport:port, e.g. gt06:tcp:5023",
            details=[{"setting": "SMARTCUSTOMS_TRACKING_LISTENERS", "value": text}],
        )
    name, transport, port = match.group(1), match.group(2), int(match.group(3))
    protocol = PROTOCOLS.get(name)
    if protocol is None:
        raise ConfigurationError(
            f"listener {text!r}: unknown protocol {name!r}; known: {', '.join(PROTOCOLS)}",
            details=[{"setting": "SMARTCUSTOMS_TRACKING_LISTENERS", "value": text}],
        )
    if transport not in protocol.transports:
        raise ConfigurationError(
            f"listener {text!r}: {name} speaks {'/'.join(protocol.transports)}, not {transport}",
            details=[{"setting": "SMARTCUSTOMS_TRACKING_LISTENERS", "value": text}],
        )
    if port > 65535:
        raise ConfigurationError(f"listener {text!r}: port above 65535")
    return ListenerSpec(name, transport, port)


#: Every protocol on every transport it speaks, on traccar's default ports.
DEFAULT_LISTENERS: Final = tuple(
    f"{p.name}:{t}:{p.default_port}" for p in PROTOCOLS.values() for t in p.transports
)


@dataclass
class ListenerStats:
    """Counters of one listener (logged every minute and at shutdown)."""

    connections: int = 0  # accepted (TCP, HTTP) or peers seen (UDP)
    open: int = 0
    frames: int = 0  # decoded
    records: int = 0  # handed to the writer
    acks: int = 0  # acknowledgements sent after the commit
    bad_frames: int = 0  # framing or decoding errors
    refused: int = 0  # unknown devices, records without a device identity
    store_failures: int = 0  # the writer could not commit: nothing acknowledged

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)
