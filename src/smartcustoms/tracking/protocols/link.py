"""One device link's state, and the loop every link runs: frame → decode → carry the login.

A link is one TCP connection (or one input replayed from a log, see
:mod:`smartcustoms.tracking.replay`). What a device says once holds for the rest of its link:
Teltonika and GT06 log in with their identity and then send frames without it, and a GT06
login may announce its clock's offset from UTC. :class:`Link` keeps that state and the
unframed bytes, so the listener and the replay read a stream the same way, by construction.

What the link learns from a login:

* the device's identity, which replaces any earlier one;
* the clock offset the login announced (zero included); a login that announces none keeps the
  offset the link already had.

A login from a device the link may not accept (``accepts`` says no) changes nothing and comes
back marked ``refused``; the caller answers with the protocol's ``refusal`` and hangs up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols.base import Context, Message, MessageKind

if TYPE_CHECKING:
    from smartcustoms.tracking.protocols import Protocol

__all__ = ["Bad", "Decoded", "Link"]

_NO_OPTIONS: Final[Mapping[str, str]] = MappingProxyType({})


def _anyone(device_id: str) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Decoded:
    """A frame that decoded: the message, the frame's bytes and where it began in the stream."""

    message: Message
    data: bytes
    offset: int
    refused: bool = False  # a login the link did not accept; nothing was carried


@dataclass(frozen=True, slots=True)
class Bad:
    """Bytes that did not make a message; the error's offset counts from the stream's start."""

    error: FrameError
    stage: Literal["framing", "decoding"]


class Link:
    """What one device link has learned, and its bytes not yet framed.

    ``device_id`` is who the link belongs to (from a login, a frame that named its device, or
    the caller); ``context`` is what the next frame is decoded with. ``consumed`` counts the
    bytes of the stream before ``buffer``'s first byte, so offsets name a byte in the stream.
    """

    __slots__ = ("accepts", "buffer", "consumed", "context", "device_id", "protocol")

    def __init__(
        self,
        protocol: Protocol,
        *,
        device_id: str | None = None,
        options: Mapping[str, str] | None = None,
        accepts: Callable[[str], bool] = _anyone,
    ) -> None:
        self.protocol = protocol
        self.accepts = accepts
        self.device_id = device_id
        self.context = Context(device_id=device_id, options=options or _NO_OPTIONS)
        self.buffer = bytearray()
        self.consumed = 0

    def receive(self, data: bytes) -> Iterator[Decoded | Bad]:
        """Take ``data`` from the stream; yield what it completed, in stream order.

        Garbage the framer skipped comes first (the framer reports it before the frames it
        resynchronised on). Each frame is decoded with what the frames before it taught the
        link, so a caller that stops early leaves the rest undecoded and the state consistent.
        """
        self.buffer += data
        framing = self.protocol.frame(self.buffer)
        base = self.consumed
        if framing.consumed:
            # Frames are copies: the buffer can drop them before they are decoded.
            del self.buffer[: framing.consumed]
            self.consumed += framing.consumed
        for error in framing.errors:
            yield Bad(error.shifted(base), "framing")
        for frame in framing.frames:
            yield self.decode(frame.data, base + frame.offset)

    def decode(self, data: bytes, offset: int = 0) -> Decoded | Bad:
        """Decode one whole frame (or datagram, or HTTP request) found at ``offset``."""
        try:
            message = self.protocol.decode(data, self.context)
        except FrameError as error:
            return Bad(error.shifted(offset), "decoding")
        if message.kind is MessageKind.LOGIN and message.device_id:
            if not self.accepts(message.device_id):
                return Decoded(message, data, offset, refused=True)
            self.login(message)
        return Decoded(message, data, offset)

    def login(self, message: Message) -> None:
        """Carry a login's identity and clock offset to the link's later frames."""
        context = self.context
        offset = message.utc_offset if message.utc_offset is not None else context.utc_offset
        self.device_id = message.device_id
        self.context = Context(
            device_id=message.device_id, utc_offset=offset, options=context.options
        )

    def device_for(self, message: Message) -> str | None:
        """Whose records these are: the frame's own identity, else the link's."""
        return message.device_id or self.device_id

    def adopt(self, device_id: str) -> None:
        """Belong to ``device_id`` if nothing named the link yet (a frame that names itself)."""
        if not self.device_id:
            self.device_id = device_id
