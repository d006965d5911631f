"""TCP listeners (one per protocol and port), and HTTP for OsmAnd on the same machinery.

Each connection keeps a :class:`~smartcustoms.tracking.protocols.Link` (its unframed bytes, the
identity and clock offset its device logged in with: the same state and loop ``tracking decode``
replays a log with) and a queue of acknowledgements in the order their frames arrived. A frame
with records gets its place in the queue and is handed to the writer; its acknowledgement
leaves only when the writer has committed it *and* everything before it on this connection has
been answered, so a device never sees an answer out of order. Frames without records (logins,
heartbeats) are answered as soon as nothing is waiting ahead of them.

If the writer cannot commit, the connection is closed without acknowledging: the device will
reconnect and send again (and the retransmission is not stored twice).

When the writer falls behind (``Ingestor.overloaded``) connections stop reading, which lets TCP
flow control slow the devices down, and resume when it has caught up.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import cast

from smartcustoms.core import clock
from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.listeners.spec import ListenerSpec, ListenerStats
from smartcustoms.tracking.protocols import Bad, Decoded, Link, Protocol, get_protocol

__all__ = ["StreamConnection", "StreamListener"]

log = logging.getLogger("smartcustoms.tracking.listeners")


class _Pending:
    __slots__ = ("ack", "close_after", "ready")

    def __init__(self, ack: bytes | None, ready: bool, close_after: bool = False) -> None:
        self.ack = ack
        self.ready = ready
        self.close_after = close_after


class StreamListener:
    """One protocol on one TCP port: its connections, counters and flow control."""

    def __init__(
        self,
        spec: ListenerSpec,
        ingestor: Ingestor,
        *,
        idle_timeout_s: float = 900.0,
        options: dict[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self.protocol: Protocol = get_protocol(spec.protocol)
        self.http = spec.transport == "http"
        if self.http:
            # The registry promises a reply to every protocol it serves over HTTP.
            assert self.protocol.reply is not None
            self.bad_request: bytes = self.protocol.reply(400)
            self.unavailable: bytes = self.protocol.reply(503)
        self.ingestor = ingestor
        self.idle_timeout_s = idle_timeout_s
        self.options = options or {}
        self.stats = ListenerStats()
        self.connections: set[StreamConnection] = set()
        self.paused: set[StreamConnection] = set()
        self.server: asyncio.Server | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._reaper: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    async def start(self, host: str, *, reuse_port: bool = False) -> int:
        """Listen; return the port (the one given, or the one the system chose for 0)."""
        self.loop = asyncio.get_running_loop()
        self.server = await self.loop.create_server(
            self._connection,
            host,
            self.spec.port,
            reuse_port=reuse_port or None,
            backlog=4096,
        )
        self._reaper = asyncio.create_task(self._reap_idle())
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    def _connection(self) -> StreamConnection:
        return StreamConnection(self)

    async def stop(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
        if self.server is not None:
            self.server.close()
        for connection in list(self.connections):
            connection.close()
        if self.server is not None:
            await self.server.wait_closed()

    def maybe_resume(self) -> None:
        if self.paused and not self.ingestor.overloaded:
            paused, self.paused = self.paused, set()
            for connection in paused:
                connection.resume()

    async def _reap_idle(self) -> None:
        assert self.loop is not None
        while True:
            await asyncio.sleep(min(30.0, self.idle_timeout_s / 2))
            deadline = self.loop.time() - self.idle_timeout_s
            for connection in list(self.connections):
                if connection.last_active < deadline:
                    log.info("%s: closing idle connection %s", self.name, connection.peer)
                    connection.close()


class StreamConnection(asyncio.Protocol):
    def __init__(self, listener: StreamListener) -> None:
        self.listener = listener
        self.protocol = listener.protocol
        self.link = Link(
            listener.protocol, options=listener.options, accepts=listener.ingestor.allows
        )
        self.pending: deque[_Pending] = deque()
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.last_active = 0.0
        self.closing = False
        self.unreadable = False  # an HTTP stream that lost its framing: answered, hanging up

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not inherit asyncio's classes; they have the same methods.
        self.transport = cast(asyncio.Transport, transport)
        peer = self.transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        listener = self.listener
        listener.connections.add(self)
        listener.stats.connections += 1
        listener.stats.open += 1
        assert listener.loop is not None
        self.last_active = listener.loop.time()

    def connection_lost(self, exc: Exception | None) -> None:
        listener = self.listener
        listener.connections.discard(self)
        listener.paused.discard(self)
        listener.stats.open -= 1
        self.closing = True

    def data_received(self, data: bytes) -> None:
        listener = self.listener
        assert listener.loop is not None
        self.last_active = listener.loop.time()
        if self.unreadable:
            return
        for step in self.link.receive(data):
            if isinstance(step, Bad):
                self._bad(step.error, step.stage)
                if self.http:
                    # An unreadable request leaves the stream unframeable: answer and hang up.
                    framing = step.stage == "framing"
                    self._answer_now(listener.bad_request, close_after=framing)
                    if framing:
                        self.unreadable = True
                        return
                continue
            self._frame(step)
            if self.closing:
                return
        if listener.ingestor.overloaded and self.transport is not None:
            self.transport.pause_reading()
            listener.paused.add(self)

    # -- frames --------------------------------------------------------------------------------

    @property
    def http(self) -> bool:
        return self.listener.http

    @property
    def device_id(self) -> str | None:
        return self.link.device_id

    def _frame(self, step: Decoded) -> None:
        listener = self.listener
        message = step.message
        listener.stats.frames += 1
        close_after = self.http and _wants_close(step.data)
        if step.refused:
            assert message.device_id is not None  # only a login that named its device is refused
            self._refuse(message.device_id)
            return
        link = self.link
        device_id = link.device_for(message)
        if not message.records:
            if message.ack is not None:
                self._answer_now(message.ack, close_after=close_after)
            return
        if device_id is None:
            listener.stats.refused += 1
            log.warning(
                "%s: %d records from %s before the device said who it is; dropped",
                listener.name,
                len(message.records),
                self.peer,
            )
            return
        if not listener.ingestor.allows(device_id):
            self._refuse(device_id)
            return
        link.adopt(device_id)
        records = message.records
        entry = _Pending(message.ack, False, close_after)
        self.pending.append(entry)
        listener.stats.records += len(records)
        listener.ingestor.submit_records(
            records, clock.now(), self.protocol.name, device_id, self._stored(entry), listener.loop
        )

    def _stored(self, entry: _Pending) -> Callable[[bool], None]:
        def done(stored: bool) -> None:
            if not stored:
                self.listener.stats.store_failures += 1
                if self.http and entry.ack is not None:
                    entry.ack = self.listener.unavailable
                else:
                    self.close()
                    return
            entry.ready = True
            self._flush()
            self.listener.maybe_resume()

        return done

    def _answer_now(self, ack: bytes, *, close_after: bool = False) -> None:
        self.pending.append(_Pending(ack, True, close_after))
        self._flush()

    def _flush(self) -> None:
        transport = self.transport
        pending = self.pending
        while pending and pending[0].ready:
            entry = pending.popleft()
            if transport is None or self.closing:
                continue
            if entry.ack is not None:
                transport.write(entry.ack)
                self.listener.stats.acks += 1
            if entry.close_after:
                self.close()

    def _bad(self, error: FrameError, stage: str) -> None:
        self.listener.stats.bad_frames += 1
        log.warning(
            "%s: bad frame (%s) from %s, device %s, at stream byte %d: %s",
            self.listener.name,
            stage,
            self.peer,
            self.device_id or "unknown",
            error.offset,
            error.message,
        )

    def _refuse(self, device_id: str) -> None:
        self.listener.stats.refused += 1
        log.warning(
            "%s: unknown device %s from %s refused", self.listener.name, device_id, self.peer
        )
        refusal = self.protocol.refusal
        if refusal is not None and self.transport is not None:
            self.transport.write(refusal)
        self.close()

    def resume(self) -> None:
        if self.transport is not None and not self.closing:
            self.transport.resume_reading()

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()


def _wants_close(request: bytes) -> bool:
    head = request[: request.find(b"\r\n\r\n")].lower()
    if b"connection: close" in head:
        return True
    return head.split(b"\r\n", 1)[0].endswith(b"http/1.0") and b"keep-alive" not in head
