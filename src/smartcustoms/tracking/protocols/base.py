"""The shape every protocol module shares: frames in, messages out, an acknowledgement to send.

Each ``protocols/<name>.py`` offers

* ``frame(buffer) -> Framing``: cut complete frames from the front of a stream buffer. It never
  raises: garbage is skipped up to the next place a frame can start and reported in
  ``Framing.errors``, so the caller logs it and carries on. It always makes progress
  (``consumed > 0``) or asks for more bytes (``consumed == 0`` and no frames), and never holds
  back more than the protocol's largest frame.
* ``decode(frame, context) -> Message``: one frame to normalised records, or :class:`FrameError`.
* an ``encode_…`` function per acknowledgement; ``Message.ack`` holds the one this frame needs,
  which the listener sends only after the records are durably stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType

from smartcustoms.core import clock
from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.records import Position

__all__ = ["Context", "Frame", "Framing", "Message", "MessageKind"]


@dataclass(frozen=True, slots=True)
class Frame:
    """One complete frame and where it began in the buffer handed to the framer."""

    data: bytes
    offset: int


@dataclass(frozen=True, slots=True)
class Framing:
    """What a framer found: complete frames, bytes to drop from the buffer, garbage skipped."""

    frames: tuple[Frame, ...] = ()
    consumed: int = 0
    errors: tuple[FrameError, ...] = ()


class MessageKind(StrEnum):
    LOGIN = "login"  # the device names itself; later frames on the link belong to it
    DATA = "data"  # positions and/or events
    HEARTBEAT = "heartbeat"  # keep-alive; may carry a status record
    OTHER = "other"  # understood, nothing to store (command replies, configuration echoes)


@dataclass(frozen=True, slots=True)
class Message:
    """A decoded frame.

    ``device_id`` is the identity the frame announced or carried (``None`` if it carries none).
    ``ack`` is what the server must send back, or ``None``. ``utc_offset`` is set when the device
    announced its clock's offset from UTC (GT06 login): pass it in the :class:`Context` of the
    device's later frames.
    """

    kind: MessageKind
    device_id: str | None
    records: tuple[Position, ...] = ()
    ack: bytes | None = None
    utc_offset: timedelta | None = None


_NO_OPTIONS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Context:
    """What the listener knows about the link a frame came from.

    ``device_id``: learned from an earlier login on this connection (Teltonika and GT06 send
    their identity once). ``received_at``: when the frame arrived, for messages without a time
    and for the plausibility checks; ``None`` means now. ``utc_offset``: the device clock's offset
    from UTC where the protocol sends local time; ``None`` means the protocol's default (UTC,
    except JT/T 808 whose standard says GMT+8). ``options``: per-protocol settings from the
    listener's configuration, keyed ``"<protocol>.<name>"`` (e.g. ``"eseal.startup_config"``).
    """

    device_id: str | None = None
    received_at: datetime | None = None
    utc_offset: timedelta | None = None
    options: Mapping[str, str] = field(default_factory=lambda: _NO_OPTIONS, hash=False)

    def now(self) -> datetime:
        return self.received_at if self.received_at is not None else clock.now()
