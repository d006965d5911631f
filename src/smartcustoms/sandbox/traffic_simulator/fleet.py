"""Driving a fleet of simulated devices against real listeners, over real sockets.

Each device is an asyncio task with its own TCP connection (or the fleet's one MQTT client): it
logs in if its protocol does, then every ``interval_s`` sends a report (``records_per_frame``
records in one frame, for protocols that batch) and, like a real device, waits for the answer
before the next one. A report that is not answered in time is sent again on a fresh connection,
so the fleet also exercises retransmission. ``on_ack`` sees every acknowledged batch (the crash
test checks that each of them is stored).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from smartcustoms.core import clock
from smartcustoms.sandbox.traffic_simulator.encoders import (
    ENCODERS,
    EVENTS_SUPPORTED,
    Encoder,
    device_id_for,
    multi_record,
)
from smartcustoms.sandbox.traffic_simulator.trucks import INCIDENTS, Route, Truck
from smartcustoms.tracking.records import Position

__all__ = ["Fleet", "FleetConfig", "FleetStats", "make_trucks"]

log = logging.getLogger("smartcustoms.sandbox.traffic_simulator")

OnAck = Callable[[str, Sequence[Position]], None]


@dataclass(frozen=True)
class FleetConfig:
    protocol: str
    host: str
    port: int
    interval_s: float = 10.0
    records_per_frame: int = 1
    speedup: float = 1.0
    incidents_per_hour: float = 0.0
    incident_minutes: float = 10.0
    ack_timeout_s: float = 10.0
    connect_timeout_s: float = 10.0
    local_hosts: Sequence[str] = ()  # source addresses to spread connections over
    mqtt_prefix: str = "smartcustoms"
    mqtt_qos: int = 1
    seed: int = 1


@dataclass
class FleetStats:
    connected: int = 0  # devices connected now
    connects: int = 0
    reconnects: int = 0
    frames: int = 0
    records: int = 0
    acked_frames: int = 0
    acked_records: int = 0
    timeouts: int = 0
    errors: int = 0
    incidents: int = 0
    ack_latencies: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


def make_trucks(
    count: int, protocol: str, routes: Sequence[Route], *, seed: int = 1, first: int = 0
) -> list[Truck]:
    """``count`` trucks spread over ``routes``, at random places along them."""
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    trucks = []
    for n in range(first, first + count):
        route = routes[n % len(routes)]
        trucks.append(
            Truck(
                device_id=device_id_for(protocol, n),
                route=route,
                along_m=rng.uniform(0.05, 0.9) * route.length_m,
                speed_kmh=rng.uniform(45, 75),
                battery=rng.uniform(60, 100),
                rng=random.Random(rng.random()),  # noqa: S311
            )
        )
    return trucks


class Fleet:
    def __init__(self, config: FleetConfig, trucks: Sequence[Truck], on_ack: OnAck | None = None):
        if config.protocol not in ENCODERS:
            raise ValueError(f"no simulator for {config.protocol!r}; have {', '.join(ENCODERS)}")
        if config.records_per_frame > 1 and not multi_record(config.protocol):
            raise ValueError(f"{config.protocol} sends one record per frame")
        self.config = config
        self.encoder: Encoder = ENCODERS[config.protocol]
        self.trucks = list(trucks)
        self.on_ack = on_ack
        self.stats = FleetStats()
        self.supported = EVENTS_SUPPORTED[config.protocol]
        self._stop = asyncio.Event()
        self._mqtt: object | None = None

    def stop(self) -> None:
        self._stop.set()

    async def run(self, duration_s: float | None = None) -> FleetStats:
        """Drive every truck until ``duration_s`` has passed or :meth:`stop` is called."""
        if self.config.protocol == "mqtt":
            self._mqtt = await asyncio.to_thread(self._mqtt_client)
        tasks = [asyncio.create_task(self._drive(truck, n)) for n, truck in enumerate(self.trucks)]
        try:
            if duration_s is None:
                await self._stop.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), duration_s)
        finally:
            self._stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._mqtt is not None:
                client = self._mqtt
                await asyncio.to_thread(_mqtt_close, client)
        return self.stats

    # -- one device ----------------------------------------------------------------------------

    async def _drive(self, truck: Truck, n: int) -> None:
        config = self.config
        rng = random.Random(config.seed * 1_000_003 + n)  # noqa: S311
        # Spread the fleet over the interval, as devices switched on at different times are.
        await asyncio.sleep(rng.uniform(0, config.interval_s) if config.interval_s else 0)
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        unacked: tuple[bytes, list[Position]] | None = None
        serial = 0
        last = time.monotonic()
        try:
            while not self._stop.is_set():
                if config.protocol != "mqtt" and connection is None:
                    connection = await self._connect(truck.device_id, n)
                    if connection is None:
                        await asyncio.sleep(1.0)
                        continue
                now_m = time.monotonic()
                self._maybe_incident(truck, rng, now_m - last)
                truck.advance(now_m - last, config.speedup)
                last = now_m
                if unacked is None and not truck.silent:
                    positions = self._positions(truck)
                    serial += 1
                    frame = self.encoder.report(truck.device_id, positions, serial)
                    unacked = (frame, positions)
                if unacked is not None:
                    ok = await self._send(connection, truck.device_id, *unacked)
                    if ok:
                        unacked = None
                    elif connection is not None:
                        _close(connection[1])
                        connection = None
                        self.stats.connected -= 1
                        self.stats.reconnects += 1
                        continue
                if config.interval_s:
                    await asyncio.sleep(config.interval_s)
        finally:
            if connection is not None:
                _close(connection[1])
                self.stats.connected -= 1

    def _maybe_incident(self, truck: Truck, rng: random.Random, seconds: float) -> None:
        rate = self.config.incidents_per_hour
        if not rate or truck.incident is not None:
            return
        if rng.random() < rate * seconds / 3600:
            kind = rng.choice(INCIDENTS)
            truck.start_incident(kind, self.config.incident_minutes * 60)
            self.stats.incidents += 1
            log.info("incident %s on %s", kind, truck.device_id)

    def _positions(self, truck: Truck) -> list[Position]:
        count = self.config.records_per_frame
        now = clock.now()
        positions = []
        for k in range(count):
            # A batch is what the device stored since its last report, one per second.
            p = truck.report(now - timedelta(seconds=count - 1 - k))
            if p.events and not set(p.events) <= self.supported:
                p = _without(p, self.supported)
            positions.append(p)
        return positions

    async def _connect(
        self, device_id: str, n: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        config = self.config
        local = config.local_hosts[n % len(config.local_hosts)] if config.local_hosts else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    config.host, config.port, local_addr=(local, 0) if local else None
                ),
                config.connect_timeout_s,
            )
        except (OSError, TimeoutError) as error:
            self.stats.errors += 1
            log.debug("%s: cannot connect: %s", device_id, error)
            return None
        self.stats.connects += 1
        self.stats.connected += 1
        login = self.encoder.login(device_id)
        if login is not None:
            writer.write(login)
            if self.encoder.login_ack:
                try:
                    await asyncio.wait_for(self._read_login(reader), config.ack_timeout_s)
                except (OSError, TimeoutError, asyncio.IncompleteReadError):
                    self.stats.errors += 1
                    _close(writer)
                    self.stats.connected -= 1
                    return None
        return reader, writer

    async def _read_login(self, reader: asyncio.StreamReader) -> None:
        if self.encoder.name == "teltonika":
            reply = await reader.readexactly(1)
            if reply != b"\x01":
                raise OSError("login refused")
        else:
            await self.encoder.read_ack(reader)

    async def _send(
        self,
        connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None,
        device_id: str,
        frame: bytes,
        positions: list[Position],
    ) -> bool:
        stats = self.stats
        started = time.perf_counter()
        if connection is None:  # MQTT
            return await self._publish(device_id, frame, positions, started)
        reader, writer = connection
        try:
            writer.write(frame)
            stats.frames += 1
            stats.records += len(positions)
            if not self.encoder.acked(positions):
                await writer.drain()
                return True
            await asyncio.wait_for(self.encoder.read_ack(reader), self.config.ack_timeout_s)
        except TimeoutError:
            stats.timeouts += 1
            return False
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            stats.errors += 1
            return False
        self._acked(device_id, positions, started)
        return True

    def _acked(self, device_id: str, positions: Sequence[Position], started: float) -> None:
        stats = self.stats
        stats.acked_frames += 1
        stats.acked_records += len(positions)
        if len(stats.ack_latencies) < 1_000_000:
            stats.ack_latencies.append(time.perf_counter() - started)
        if self.on_ack is not None:
            self.on_ack(device_id, positions)

    # -- MQTT ----------------------------------------------------------------------------------

    def _mqtt_client(self) -> object:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"smartcustoms-simulator-{random.getrandbits(32):08x}",
            protocol=paho.MQTTv5,
        )
        client.connect(self.config.host, self.config.port, keepalive=30)
        client.loop_start()
        return client

    async def _publish(
        self, device_id: str, frame: bytes, positions: list[Position], started: float
    ) -> bool:
        from smartcustoms.tracking.mqtt_scheme import positions_topic

        client = self._mqtt
        assert client is not None
        topic = positions_topic(self.config.mqtt_prefix, device_id)
        info = client.publish(topic, frame, qos=self.config.mqtt_qos)  # type: ignore[attr-defined]
        self.stats.frames += 1
        self.stats.records += len(positions)
        try:
            await asyncio.wait_for(
                asyncio.to_thread(info.wait_for_publish, self.config.ack_timeout_s),
                self.config.ack_timeout_s + 1,
            )
        except (TimeoutError, RuntimeError, ValueError):
            self.stats.timeouts += 1
            return False
        self._acked(device_id, positions, started)  # the broker has it (QoS 1)
        return True


def _without(p: Position, supported: frozenset[object]) -> Position:
    from dataclasses import replace

    return replace(p, events=tuple(e for e in p.events if e in supported))


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()


def _mqtt_close(client: object) -> None:
    client.disconnect()  # type: ignore[attr-defined]
    client.loop_stop()  # type: ignore[attr-defined]
