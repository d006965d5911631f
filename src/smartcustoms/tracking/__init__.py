"""Electronic cargo tracking: device protocols, and (later) listeners, transits and alerts.

The device protocol layer is pure: bytes in, :class:`Position` records and acknowledgement
bytes out, :class:`FrameError` for frames that do not fit. Listeners call it like this::

    protocol = get_protocol("gt06")
    framing = protocol.frame(buffer)            # complete frames, bytes consumed, garbage skipped
    for frame in framing.frames:
        message = protocol.decode(frame.data, Context(device_id=session_device_id))
        store(message.records)                  # durable write first …
        if message.ack:
            send(message.ack)                   # … then the acknowledgement
"""

from __future__ import annotations

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols import PROTOCOLS, Protocol, get_protocol
from smartcustoms.tracking.protocols.base import Context, Frame, Framing, Message, MessageKind
from smartcustoms.tracking.records import Position, SealEvent

__all__ = [
    "PROTOCOLS",
    "Context",
    "Frame",
    "FrameError",
    "Framing",
    "Message",
    "MessageKind",
    "Position",
    "Protocol",
    "SealEvent",
    "get_protocol",
]
