"""Running the listeners: one event loop for the sockets, one writer thread for the database.

:func:`run_listeners` is what ``smartcustoms tracking listen`` runs (and what ``serve`` and the
demo start beside the web application, as a child process). It starts the writer, binds every
configured listener, writes a *ready file* naming the ports it got (port 0 in a specification
means any free port: tests and the demo use it), and runs until SIGTERM or SIGINT. Stopping is
graceful: no new connections, no more reading, the writer commits what it holds and every
acknowledgement due is sent, then connections close.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from smartcustoms.core.context import AppContext
from smartcustoms.tracking.ingest import Ingestor, IngestTiming
from smartcustoms.tracking.listeners.datagram import DatagramListener
from smartcustoms.tracking.listeners.mqtt import MqttConfig, MqttSubscriber
from smartcustoms.tracking.listeners.spec import ListenerSpec
from smartcustoms.tracking.listeners.stream import StreamListener

__all__ = ["ListenConfig", "ListenerSet", "run_listeners", "serve_listeners"]

log = logging.getLogger("smartcustoms.tracking.listeners")


@dataclass(frozen=True)
class ListenConfig:
    specs: Sequence[ListenerSpec]
    host: str = "127.0.0.1"
    mqtt: MqttConfig | None = None
    idle_timeout_s: float = 900.0
    reuse_port: bool = False
    ready_file: Path | None = None
    stats_interval_s: float = 60.0
    exit_with_parent: bool = False
    options: dict[str, str] = field(default_factory=dict)


class ListenerSet:
    """The listeners of one process, sharing one writer."""

    def __init__(self, config: ListenConfig, ingestor: Ingestor) -> None:
        self.config = config
        self.ingestor = ingestor
        self.streams: list[StreamListener] = []
        self.datagrams: list[DatagramListener] = []
        self.mqtt: MqttSubscriber | None = None
        self.ports: dict[str, int] = {}

    async def start(self) -> dict[str, int]:
        config = self.config
        for spec in config.specs:
            if spec.transport == "udp":
                datagram = DatagramListener(spec, self.ingestor)
                port = await datagram.start(config.host, reuse_port=config.reuse_port)
                self.datagrams.append(datagram)
            else:
                stream = StreamListener(
                    spec,
                    self.ingestor,
                    idle_timeout_s=config.idle_timeout_s,
                    options=config.options,
                )
                port = await stream.start(config.host, reuse_port=config.reuse_port)
                self.streams.append(stream)
            self.ports[spec.name] = port
            log.info("listening for %s on %s:%d", spec.name, config.host, port)
        if config.mqtt is not None:
            self.mqtt = MqttSubscriber(config.mqtt, self.ingestor)
            self.mqtt.start()
        return self.ports

    async def stop(self, drain_s: float = 10.0) -> None:
        for stream in self.streams:
            if stream.server is not None:
                stream.server.close()
            for connection in list(stream.connections):
                if connection.transport is not None:
                    connection.transport.pause_reading()
        if self.mqtt is not None:
            # Off the loop: it waits for what the broker already sent to be stored.
            await asyncio.to_thread(self.mqtt.stop)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + drain_s
        while self.ingestor.pending and loop.time() < deadline:
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)  # let the last acknowledgements out
        for stream in self.streams:
            await stream.stop()
        for datagram in self.datagrams:
            await datagram.stop()

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {s.name: s.stats.as_dict() for s in self.streams}
        out.update({d.name: d.stats.as_dict() for d in self.datagrams})
        if self.mqtt is not None:
            out[self.mqtt.name] = self.mqtt.stats.as_dict()
        out["writer"] = self.ingestor.stats.as_dict()
        return out


def _write_ready(path: Path, ports: dict[str, int], config: ListenConfig) -> None:
    listeners = {}
    for spec in config.specs:
        listeners[spec.name] = {
            "protocol": spec.protocol,
            "transport": spec.transport,
            "host": config.host,
            "port": ports[spec.name],
        }
    data = {"pid": os.getpid(), "listeners": listeners, "mqtt": config.mqtt is not None}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)  # atomic: a reader sees the whole file or none


#: ``gc.set_threshold`` of a listener process once its start-up heap is frozen.
LISTENER_GC_THRESHOLDS: Final = (50_000, 20, 10)


def _freeze_heap() -> None:
    """Leave what start-up made (modules, the ORM, corridors: a million objects or more) out
    of garbage collection from now on. Ingest allocates a few containers per record, and the
    collector's full passes would walk that whole heap every few seconds: measured here,
    a fifth of the listener's time at 28,000 positions/s. Cycles made later are still found.

    Then the youngest generation is collected every 50,000 containers more (not 700): the
    records in flight (a Position, its attributes and IO element, a Report: some 20,000
    containers between two commits) were otherwise walked by 30 young and several full
    collections per batch, while nearly all of them are freed by their reference counts once
    the batch is acknowledged; measured here, 12 % of the listener's time. Cyclic garbage
    (closed connections, exceptions) waits a little longer, 50,000 containers at most."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*LISTENER_GC_THRESHOLDS)


async def serve_listeners(
    ctx: AppContext,
    config: ListenConfig,
    ingestor: Ingestor,
    stop: asyncio.Event,
    *,
    freeze_heap: bool = False,
) -> dict[str, Any]:
    """Run until ``stop`` is set; return the final counters. ``freeze_heap``: a process of
    its own (``run_listeners``) freezes its start-up heap (see :func:`_freeze_heap`)."""
    ingestor.start()
    listeners = ListenerSet(config, ingestor)
    try:
        ports = await listeners.start()
        if freeze_heap:
            _freeze_heap()
        if config.ready_file is not None:
            _write_ready(config.ready_file, ports, config)
        parent = os.getppid()
        loop = asyncio.get_running_loop()
        next_stats = loop.time() + config.stats_interval_s
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            if config.exit_with_parent and os.getppid() != parent:
                log.warning("the parent process is gone: stopping the listeners")
                break
            if loop.time() >= next_stats:
                next_stats = loop.time() + config.stats_interval_s
                log.info("tracking listeners: %s", json.dumps(listeners.stats()))
    finally:
        await listeners.stop()
        ingestor.stop()
    final = listeners.stats()
    log.info("tracking listeners stopped: %s", json.dumps(final))
    return final


def run_listeners(ctx: AppContext, config: ListenConfig) -> dict[str, Any]:
    """The blocking entry point: an event loop (uvloop when installed) until SIGTERM/SIGINT."""
    settings = ctx.settings
    ingestor = Ingestor(
        ctx,
        live_interval_s=settings.tracking_live_interval_s,
        feed_retention_minutes=settings.tracking_feed_retention_minutes,
        accept_unknown_devices=settings.tracking_accept_unknown_devices,
        timing=IngestTiming(),
    )

    async def main() -> dict[str, Any]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await serve_listeners(ctx, config, ingestor, stop, freeze_heap=True)

    try:
        import uvloop

        return uvloop.run(main())
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        return asyncio.run(main())
