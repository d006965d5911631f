"""The demo's tracking step: corridors, armed transits, and trucks on the road.

It imports the packaged corridors (with thresholds shortened so that incidents show within a
minute or two), creates a declaration and an armed transit for each simulated e-lock, then
starts the device listeners and the simulator as child processes against the demo's database:
the command-centre map is alive from the first page load. Both children stop with the demo.
"""

from __future__ import annotations

import atexit
import os
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final

from rich.console import Console
from sqlalchemy import select
from stdnum import iso6346

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.declarations.model import Amount, Declaration, Item, Party, TransportEquipment
from smartcustoms.declarations.store import store_declarations
from smartcustoms.sandbox.traffic_simulator import packaged_routes
from smartcustoms.sandbox.traffic_simulator.encoders import device_id_for
from smartcustoms.tracking.corridors import import_geojson
from smartcustoms.tracking.listeners.process import (
    read_ready,
    start_listeners,
    start_simulator,
    stop_process,
)
from smartcustoms.tracking.packaged import packaged_geojson
from smartcustoms.tracking.tables import CorridorRow
from smartcustoms.tracking.transits import TransitRequest, arm_transit, create_transit

__all__ = ["DEMO_TRUCKS", "import_demo_corridors", "seed_tracking_demo"]

ACTOR = "demo"
DEMO_TRUCKS: Final = 12
PROTOCOL: Final = "jt808"  # e-locks: their reports carry seal openings
# Demo time runs fast: trucks move 40× real speed, and the rules fire after a minute or two.
DEMO_THRESHOLDS: Final = {
    "deviation_minutes": 1,
    "long_stop_minutes": 2,
    "signal_lost_minutes": 2,
}
_ROUTES: Final = {"northern": ("KEMBA", "RWKGL"), "central": ("TZDAR", "RWKGL")}


def _container(n: int) -> str:
    base = f"MSKU{n:06d}"
    return base + iso6346.calc_check_digit(base)


def import_demo_corridors(ctx: AppContext) -> None:
    """The packaged corridors, with the demo's short thresholds."""
    with ctx.unit() as unit:
        import_geojson(unit, packaged_geojson(), actor=ACTOR)
        for row in unit.session.scalars(select(CorridorRow)):
            row.thresholds = dict(DEMO_THRESHOLDS)


def seed_tracking_demo(ctx: AppContext) -> None:
    import_demo_corridors(ctx)
    corridors = list(packaged_routes())
    for n in range(DEMO_TRUCKS):
        corridor = corridors[n % len(corridors)]
        origin, destination = _ROUTES[corridor]
        declaration = Declaration(
            lrn=f"DEMO-T{n + 1:03d}",
            type_code="TR",
            office_of_declaration=origin,
            declarant=Party(id="BRK001", name="Coast Clearing Ltd"),
            importer=Party(id=f"IMP{n:03d}"),
            border_transport_mode="1",
            transport_equipment=[TransportEquipment(container_id=_container(n + 1))],
            items=[
                Item(
                    sequence=1,
                    hs_code="850440",
                    origin_country="CN",
                    customs_value=Amount(value=Decimal("12500"), currency="USD"),
                    net_mass_kg=Decimal("8400"),
                )
            ],
        )
        with ctx.unit() as unit:
            stored = store_declarations(
                unit.session, [declaration], source="demo", submitted_by="declarant"
            )
            transit = create_transit(
                unit,
                TransitRequest(
                    declaration_id=stored.stored[0].id,
                    device_id=device_id_for(PROTOCOL, n),
                    vehicle=f"KB{chr(65 + n % 26)} {100 + n}{chr(65 + n % 7)}",
                    corridor=corridor,
                    origin=origin,
                    destination=destination,
                    deadline=clock.now() + timedelta(days=5),
                    seal_number=f"KE{700000 + n}",
                ),
                actor=ACTOR,
                administration=ctx.settings.administration_name,
            )
            transit_id = transit.id
        with ctx.unit() as unit:
            arm_transit(unit, transit_id, actor=ACTOR)
    _start_traffic(ctx)


def _start_traffic(ctx: AppContext) -> None:
    settings = ctx.settings
    env = {
        "SMARTCUSTOMS_DATA_DIR": str(settings.data_dir),
        "SMARTCUSTOMS_DATABASE_URL": settings.sqlalchemy_url,
        "SMARTCUSTOMS_TRACKING_MQTT_URL": "",
        "SMARTCUSTOMS_LOG_LEVEL": "WARNING",
    }
    if settings.secret_key is not None:
        env["SMARTCUSTOMS_SECRET_KEY"] = settings.secret_key.get_secret_value()
    env.pop("SMARTCUSTOMS_CONFIG", None)
    os.environ.pop("SMARTCUSTOMS_CONFIG", None)  # the demo never reads the user's settings
    ready = Path(tempfile.mkdtemp(prefix="smartcustoms-demo-ready-")) / "listeners.json"
    log = Path(settings.data_dir) / "tracking.log"
    listeners = start_listeners(
        args=["--host", "127.0.0.1", "--listener", f"{PROTOCOL}:tcp:0", "--no-mqtt"],
        ready_file=ready,
        env=env,
        log=log,
    )
    port = next(iter(read_ready(ready)["listeners"].values()))["port"]
    ready.unlink(missing_ok=True)
    ready.parent.rmdir()
    simulator = start_simulator(
        [
            "--devices",
            str(DEMO_TRUCKS),
            "--protocol",
            PROTOCOL,
            "--target",
            f"127.0.0.1:{port}",
            "--interval",
            "2",
            "--speedup",
            "40",
            "--incidents",
            "12",
            "--incident-minutes",
            "2.5",
        ],
        env=env,
        log=log,
    )

    def stop() -> None:
        stop_process(simulator)
        stop_process(listeners)

    ctx.on_close(stop)
    atexit.register(stop)
    Console().print(
        f"Tracking: {DEMO_TRUCKS} sealed trucks on the Northern and Central corridors report to "
        f"a {PROTOCOL} listener on 127.0.0.1:{port} (log: {log}).",
        soft_wrap=True,  # one line, whatever the width: piped, not cut at 80 columns
    )
