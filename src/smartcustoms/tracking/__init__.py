"""Electronic cargo tracking: device protocols, listeners, the pipeline, transits and alerts.

=====================  ==========================================================================
``protocols/``         one module per device protocol: framing, decoding, acknowledgements
``records``            the normalised form every protocol decodes to (:class:`Position`)
``listeners/``         TCP, UDP, HTTP servers and the MQTT subscriber (``mqtt_scheme``: topics)
``ingest``             the writer: batches, durable commit, then the devices' acknowledgements
``store``              positions in the database, de-duplicated
``pipeline``           what follows the write, in order (``monitor``: its memory; ``rules``)
``geometry``           corridor buffers and zones in metres; ``corridors``: GeoJSON import;
                       ``packaged``: the Northern and Central corridors (``data/``)
``transits``           the transit lifecycle; ``alerts``: the alert workflow; ``devices``
``events``             what tracking records in the ledger
``feed``, ``live``     the live feed in the database and its fan-out to browsers
``queries``            what the pages and the API read
``simulator/``         trucks on the corridors speaking the device protocols
=====================  ==========================================================================

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
