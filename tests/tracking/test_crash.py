"""Crash safety: ``kill -9`` the listener process under load, start it again; every position it
acknowledged is stored, and what the devices send again is not stored twice."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import func, select

from smartcustoms.core.db import Database
from smartcustoms.core.settings import Settings
from smartcustoms.sandbox.traffic_simulator import Fleet, FleetConfig, make_trucks, packaged_routes
from smartcustoms.tracking.listeners.process import read_ready, start_listeners, stop_process
from smartcustoms.tracking.records import Position
from smartcustoms.tracking.tables import PositionRow
from tests.waiting import wait_for

DEVICES = 40
LOAD = 150  # acknowledged positions that make a load, before the crash and after it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_kill_9_under_load_loses_no_acknowledged_position(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "SMARTCUSTOMS_DATA_DIR": str(settings.data_dir),
        "SMARTCUSTOMS_DATABASE_URL": settings.sqlalchemy_url,
        "SMARTCUSTOMS_TRACKING_MQTT_URL": "",
        "SMARTCUSTOMS_LOG_LEVEL": "INFO",
    }
    args = ["--host", "127.0.0.1", "--listener", f"teltonika:tcp:{port}"]
    log = tmp_path / "listen.log"
    ready = tmp_path / "ready.json"
    acked: set[tuple[str, str, float, float]] = set()

    def on_ack(device: str, positions: Sequence[Position]) -> None:
        for p in positions:
            acked.add((device, p.time.isoformat(), p.latitude or 0.0, p.longitude or 0.0))

    trucks = make_trucks(DEVICES, "teltonika", list(packaged_routes().values()), seed=9)
    fleet = Fleet(
        FleetConfig(
            protocol="teltonika",
            host="127.0.0.1",
            port=port,
            interval_s=0.05,
            records_per_frame=5,
            speedup=50,
            ack_timeout_s=2,
            connect_timeout_s=2,
        ),
        trucks,
        on_ack=on_ack,
    )

    async def until(condition: Callable[[], bool], message: str) -> None:
        """Wait on the condition off the event loop, so the fleet keeps driving meanwhile."""
        await asyncio.to_thread(wait_for, condition, 60.0, interval=0.05, message=message)

    async def scenario() -> tuple[int, int]:
        first = await asyncio.to_thread(
            start_listeners, args=args, ready_file=ready, env=env, log=log
        )
        assert read_ready(ready)["listeners"][f"teltonika:tcp:{port}"]["port"] == port
        driving = asyncio.create_task(fleet.run())
        await until(lambda: len(acked) > LOAD, "no load before the crash")
        before_kill = len(acked)
        os.kill(first.pid, signal.SIGKILL)  # no goodbye: whatever was in flight is cut
        await asyncio.to_thread(first.wait)
        await until(
            lambda: fleet.stats.reconnects + fleet.stats.errors > 0,
            "the devices never saw the crash",
        )
        second = await asyncio.to_thread(
            start_listeners, args=args, ready_file=ready, env=env, log=log
        )
        await until(lambda: len(acked) > before_kill + LOAD, "no load after the restart")
        fleet.stop()
        await driving
        code = await asyncio.to_thread(stop_process, second)
        return before_kill, code

    before_kill, code = asyncio.run(scenario())
    assert code == 0
    assert before_kill > LOAD and len(acked) > before_kill + LOAD  # load before and after the crash
    assert fleet.stats.reconnects + fleet.stats.errors > 0  # the devices saw the crash

    db = Database(settings.sqlalchemy_url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(
                select(
                    PositionRow.device_id,
                    PositionRow.time,
                    PositionRow.latitude,
                    PositionRow.longitude,
                )
            ).all()
            duplicates = conn.execute(
                select(func.count()).select_from(
                    select(PositionRow.device_id, PositionRow.time, PositionRow.attributes)
                    .group_by(
                        PositionRow.device_id,
                        PositionRow.time,
                        PositionRow.latitude,
                        PositionRow.longitude,
                        PositionRow.speed_kmh,
                        PositionRow.attributes,
                    )
                    .having(func.count() > 1)
                    .subquery()
                )
            ).scalar_one()
    finally:
        db.dispose()
    stored = {(d, t.isoformat(), lat, lon) for d, t, lat, lon in rows}
    missing = acked - stored
    assert not missing, f"{len(missing)} acknowledged positions lost, e.g. {sorted(missing)[:3]}"
    assert duplicates == 0
    assert len(rows) == len(stored)
    # Frames in flight at the kill went unanswered and were sent again after the restart.
    assert fleet.stats.frames > fleet.stats.acked_frames
