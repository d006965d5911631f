"""Replay what a device sent, as a listener would have read it: ``tracking decode`` uses this.

The input runs through the listener's own :class:`~smartcustoms.tracking.protocols.Link`, so a
login's identity and clock offset carry to later frames exactly as they do on a connection.
Unlike a listener, a replay stops at the first thing it cannot read: the input is one thing a
person copied from a log, and the error names its byte offset in it.
"""

from __future__ import annotations

from collections.abc import Mapping

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols import Bad, Link, Message, Protocol

__all__ = ["replay"]


def replay(
    protocol: Protocol,
    data: bytes,
    device_id: str | None = None,
    options: Mapping[str, str] | None = None,
) -> list[Message]:
    """Every message in ``data``, in order, decoded on one link that starts as ``device_id``
    with a listener's ``options`` (``"jt808.bad_check": "flag"``, say).

    Any garbage, an unfinished frame at the end, or a frame that does not decode raises
    :class:`FrameError` with its offset in ``data``. HTTP protocols take ``data`` as one
    request; datagram protocols take it as one UDP datagram when it does not read as a TCP
    stream (and the error reported is the reading that got further).
    """
    if "http" in protocol.transports:
        return [_whole(protocol, data, device_id, options)]
    try:
        return _stream(protocol, data, device_id, options)
    except FrameError as stream_error:
        if not protocol.datagram:
            raise
        try:
            return [_whole(protocol, data, device_id, options)]
        except FrameError as datagram_error:
            # Report whichever reading got further into the input: that is the likelier one.
            raise max(stream_error, datagram_error, key=lambda e: e.offset) from None


def _stream(
    protocol: Protocol, data: bytes, device_id: str | None, options: Mapping[str, str] | None
) -> list[Message]:
    link = Link(protocol, device_id=device_id, options=options)
    messages = []
    for step in link.receive(data):
        if isinstance(step, Bad):
            raise step.error
        messages.append(step.message)
    if link.buffer:
        raise FrameError(
            len(data),
            f"the rest of the frame that starts at byte {link.consumed}",
            f"the end of the input after {len(link.buffer)} bytes of it",
        )
    return messages


def _whole(
    protocol: Protocol, data: bytes, device_id: str | None, options: Mapping[str, str] | None
) -> Message:
    step = Link(protocol, device_id=device_id, options=options).decode(data)
    if isinstance(step, Bad):
        raise step.error
    return step.message
