"""Building blocks for tracking tests: corridors, declarations, transits, reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from smartcustoms.core.context import AppContext
from smartcustoms.declarations.model import Amount, Declaration, Item, Party, TransportEquipment
from smartcustoms.declarations.store import store_declarations
from smartcustoms.tracking.corridors import import_geojson
from smartcustoms.tracking.packaged import packaged_geojson
from smartcustoms.tracking.records import Position, SealEvent
from smartcustoms.tracking.store import Incoming
from smartcustoms.tracking.transits import TransitRequest, arm_transit, create_transit

# Points on the packaged Northern Corridor (Mombasa–Nairobi–Malaba–Kampala).
MOMBASA = (39.66359, -4.05466)  # in the KEMBA port zone
VOI = (38.55609, -3.39605)  # on the route, no zone
NEAR_VOI_OFF_ROUTE = (38.30, -3.80)  # ~50 km south-west of the route
MALABA_KE = (34.28165, 0.63513)  # border post zone
KAMPALA = (32.58219, 0.31628)  # UGKLA office zone
CONTAINERS = ["CSQU3054383", "MSKU9070323"]


def import_packaged(ctx: AppContext) -> None:
    with ctx.unit() as unit:
        import_geojson(unit, packaged_geojson(), actor="test")


def store_declaration(
    ctx: AppContext, lrn: str = "T-0001", submitted_by: str = "test", declarant: str = "BRK001"
) -> int:
    declaration = Declaration(
        lrn=lrn,
        type_code="TR",
        office_of_declaration="KEMBA",
        declarant=Party(id=declarant, name="Coast Clearing Ltd"),
        importer=Party(id="IMP042"),
        border_transport_mode="1",
        transport_equipment=[TransportEquipment(container_id=c) for c in CONTAINERS],
        items=[
            Item(
                sequence=1,
                hs_code="850440",
                origin_country="CN",
                customs_value=Amount(value=Decimal("12500"), currency="USD"),
                net_mass_kg=Decimal("840.5"),
            )
        ],
    )
    with ctx.unit() as unit:
        result = store_declarations(
            unit.session, [declaration], source="test", submitted_by=submitted_by
        )
    return result.stored[0].id


def make_transit(
    ctx: AppContext,
    device_id: str,
    *,
    lrn: str | None = None,
    arm: bool = True,
    hours: float = 48,
    corridor: str = "northern",
    origin: str = "KEMBA",
    destination: str = "UGKLA",
) -> int:
    declaration_id = store_declaration(ctx, lrn or f"T-{device_id}")
    with ctx.unit() as unit:
        row = create_transit(
            unit,
            TransitRequest(
                declaration_id=declaration_id,
                device_id=device_id,
                vehicle="KBX 123A",
                corridor=corridor,
                origin=origin,
                destination=destination,
                deadline=datetime.now(UTC) + timedelta(hours=hours),
                seal_number="KE123456",
            ),
            actor="officer",
            administration="Kenya Revenue Authority",
        )
        transit_id = row.id
    if arm:
        with ctx.unit() as unit:
            arm_transit(unit, transit_id, actor="officer")
    return transit_id


def position(
    device_id: str,
    where: tuple[float, float] = VOI,
    *,
    at: datetime | None = None,
    speed: float = 60.0,
    events: tuple[SealEvent, ...] = (),
    valid: bool = True,
    **attributes: Any,
) -> Position:
    return Position(
        device_id=device_id,
        time=(at or datetime.now(UTC)).replace(microsecond=0),
        latitude=where[1],
        longitude=where[0],
        speed_kmh=speed,
        course=300.0,
        satellites=9,
        valid=valid,
        events=events,
        attributes=attributes,
    )


def incoming(p: Position, received_at: datetime | None = None) -> Incoming:
    return Incoming(p, received_at or datetime.now(UTC), "test")
