"""UDP listeners: each datagram is one message, answered to its sender after the commit."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from smartcustoms.core import clock
from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.listeners.spec import ListenerSpec, ListenerStats
from smartcustoms.tracking.protocols import Protocol, get_protocol
from smartcustoms.tracking.protocols.base import Context

__all__ = ["DatagramListener"]

log = logging.getLogger("smartcustoms.tracking.listeners")


class DatagramListener(asyncio.DatagramProtocol):
    """One protocol on one UDP port. There is no session: every datagram names its device."""

    def __init__(self, spec: ListenerSpec, ingestor: Ingestor) -> None:
        self.spec = spec
        self.protocol: Protocol = get_protocol(spec.protocol)
        self.ingestor = ingestor
        self.stats = ListenerStats()
        self.transport: asyncio.DatagramTransport | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._peers: set[Any] = set()

    @property
    def name(self) -> str:
        return self.spec.name

    async def start(self, host: str, *, reuse_port: bool = False) -> int:
        self.loop = asyncio.get_running_loop()
        transport, _ = await self.loop.create_datagram_endpoint(
            lambda: self, local_addr=(host, self.spec.port), reuse_port=reuse_port or None
        )
        self.transport = transport  # uvloop's class does not inherit asyncio's
        port: int = transport.get_extra_info("sockname")[1]
        return port

    async def stop(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        pass

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if addr not in self._peers and len(self._peers) < 100_000:
            self._peers.add(addr)
            self.stats.connections += 1
        try:
            message = self.protocol.decode(data, Context())
        except FrameError as error:
            self.stats.bad_frames += 1
            log.warning(
                "%s: bad datagram from %s:%s at byte %d: %s",
                self.name,
                addr[0],
                addr[1],
                error.offset,
                error.message,
            )
            return
        self.stats.frames += 1
        device_id = message.device_id
        if not message.records:
            self._send(message.ack, addr)
            return
        if device_id is None or not self.ingestor.allows(device_id):
            self.stats.refused += 1
            log.warning("%s: datagram from %s refused (device %s)", self.name, addr, device_id)
            return
        records = message.records
        self.stats.records += len(records)
        ack = message.ack

        def done(stored: bool) -> None:
            if stored:
                self._send(ack, addr)
            else:
                self.stats.store_failures += 1  # no answer: the device sends it again

        self.ingestor.submit_records(
            records, clock.now(), self.protocol.name, device_id, done, self.loop
        )

    def _send(self, ack: bytes | None, addr: Any) -> None:
        if ack is not None and self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(ack, addr)
            self.stats.acks += 1

    def error_received(self, exc: Exception) -> None:
        log.debug("%s: %s", self.name, exc)
