"""Real listeners on real sockets, in a background event loop, for tests; and plain clients."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from smartcustoms.core.context import AppContext
from smartcustoms.tracking.ingest import Ingestor, IngestTiming
from smartcustoms.tracking.listeners.mqtt import MqttConfig
from smartcustoms.tracking.listeners.server import ListenConfig, ListenerSet
from smartcustoms.tracking.listeners.spec import parse_spec
from smartcustoms.tracking.tables import PositionRow

QUIET = IngestTiming(refresh_s=0.1, sweep_s=3600, prune_s=3600, devices_s=0.1)


class Harness:
    """An ingest writer and listeners, as ``tracking listen`` runs them, on free ports."""

    def __init__(
        self,
        ctx: AppContext,
        specs: Sequence[str],
        *,
        mqtt: MqttConfig | None = None,
        **ingestor: Any,
    ) -> None:
        self.ctx = ctx
        self.ingestor = Ingestor(ctx, timing=QUIET, **ingestor)
        config = ListenConfig(specs=[parse_spec(s) for s in specs], host="127.0.0.1", mqtt=mqtt)
        self.listeners = ListenerSet(config, self.ingestor)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> Harness:
        self.ingestor.start()
        self.thread.start()
        self.ports = self.call(self.listeners.start())
        return self

    def __exit__(self, *exc: object) -> None:
        self.call(self.listeners.stop(drain_s=5))
        self.ingestor.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def port(self, spec: str) -> int:
        return int(self.ports[spec])

    def stats(self, spec: str) -> dict[str, int]:
        for group in (self.listeners.streams, self.listeners.datagrams):
            for listener in group:
                if listener.name == spec:
                    return listener.stats.as_dict()
        raise KeyError(spec)

    def stored(self) -> int:
        with self.ctx.db.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(PositionRow)).scalar_one())


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.settimeout(10)
    return sock


def receive(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def receive_until(sock: socket.socket, end: bytes, count: int = 1) -> bytes:
    data = b""
    while data.count(end) < count:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data
