"""``smartcustoms tracking corridors|transits|alerts``: corridors, the transit lifecycle, alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from smartcustoms.cli.common import actor, console, fail, keep_whole, open_context
from smartcustoms.cli.lazy import lazy_module

if TYPE_CHECKING:
    from smartcustoms.tracking import corridors, transits
    from smartcustoms.tracking import packaged as packaged_corridors
    from smartcustoms.tracking import tables as tracking_tables
else:  # loaded when a command runs, not for `--help`
    corridors = lazy_module("smartcustoms.tracking.corridors")
    packaged_corridors = lazy_module("smartcustoms.tracking.packaged")
    tracking_tables = lazy_module("smartcustoms.tracking.tables")
    transits = lazy_module("smartcustoms.tracking.transits")

__all__ = ["alerts_app", "corridors_app", "transits_app"]

corridors_app = typer.Typer(help="Corridors and zones (GeoJSON).", no_args_is_help=True)
transits_app = typer.Typer(
    help="Transits: create, arm, hand over, discharge.", no_args_is_help=True
)
alerts_app = typer.Typer(help="Alerts raised on transits.", no_args_is_help=True)


@corridors_app.command("import")
def corridors_import(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="A GeoJSON FeatureCollection.")] = None,
    packaged: Annotated[
        bool, typer.Option(help="The Northern and Central corridors packaged with smartcustoms.")
    ] = False,
) -> None:
    """Import corridors (LineString features) and zones (Point with radius_m, or Polygon).

    A feature with the code of a stored one replaces it. See the README for the properties.
    """
    if (file is None) == (not packaged):
        fail("give a FILE or --packaged", code=2)
    if packaged:
        data = packaged_corridors.packaged_geojson()
    else:
        assert file is not None
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            fail(f"{file}: {exc}", code=2)
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        result = corridors.import_geojson(unit, data, actor=actor())
    console.print(
        f"imported {len(result.corridors)} corridors ({', '.join(result.corridors) or '—'}) "
        f"and {len(result.zones)} zones"
    )


@corridors_app.command("list")
def corridors_list(ctx: typer.Context) -> None:
    """Corridors with their buffer and length, and the zones."""
    from sqlalchemy import select

    with open_context(ctx) as app_ctx, app_ctx.db.session() as session:
        table = Table("code", "name", "buffer", "length", "thresholds")
        for c in session.scalars(
            select(tracking_tables.CorridorRow).order_by(tracking_tables.CorridorRow.code)
        ):
            table.add_row(
                c.code, c.name, f"{c.buffer_m} m", f"{c.length_km} km", json.dumps(c.thresholds)
            )
        console.print(table)
        zones = Table("zone", "name", "kind", "UN/LOCODE", "authorised stop")
        for z in session.scalars(
            select(tracking_tables.ZoneRow).order_by(tracking_tables.ZoneRow.code)
        ):
            zones.add_row(
                z.code, z.name, z.kind, z.office or "", "yes" if z.authorised_stop else "no"
            )
        console.print(zones)


@transits_app.command("create")
def transits_create(
    ctx: typer.Context,
    declaration: Annotated[int, typer.Option(help="The stored declaration's ID.")],
    device: Annotated[str, typer.Option(help="The e-seal's device ID.")],
    vehicle: Annotated[str, typer.Option(help="The truck's registration.")],
    corridor: Annotated[str, typer.Option(help="Corridor code.")],
    origin: Annotated[str, typer.Option(help="Zone code of the office of departure.")],
    destination: Annotated[str, typer.Option(help="Zone code of the office of destination.")],
    hours: Annotated[float, typer.Option(min=0.1, help="Time allowed.")] = 120.0,
    seal: Annotated[str | None, typer.Option(help="The seal's number.")] = None,
    container: Annotated[
        list[str] | None,
        typer.Option(help="Container (ISO 6346); default: the declaration's.", show_default=False),
    ] = None,
) -> None:
    """Create a transit from a declaration (the seal is armed later, at origin)."""
    request = transits.TransitRequest(
        declaration_id=declaration,
        device_id=device,
        vehicle=vehicle,
        corridor=corridor,
        origin=origin,
        destination=destination,
        deadline=transits.default_deadline(hours),
        seal_number=seal,
        containers=container,
    )
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        row = transits.create_transit(
            unit, request, actor=actor(), administration=app_ctx.settings.administration_name
        )
        console.print(f"transit {row.id} ({row.reference}) created")


@transits_app.command("arm")
def transits_arm(ctx: typer.Context, transit: int) -> None:
    """Arm the seal at the office of departure: monitoring starts."""
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        row = transits.arm_transit(unit, transit, actor=actor())
        console.print(f"transit {row.id} armed")


@transits_app.command("hand-over")
def transits_hand_over(
    ctx: typer.Context,
    transit: int,
    border: Annotated[str, typer.Option(help="Zone code of the border post.")],
    to: Annotated[str, typer.Option(help="The partner administration taking over.")],
) -> None:
    """Hand the transit over to the partner administration at a border post."""
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        row = transits.hand_over_transit(
            unit, transit, actor=actor(), border=border, to_administration=to
        )
        console.print(f"transit {row.id} handed over to {row.responsible}")


@transits_app.command("discharge")
def transits_discharge(
    ctx: typer.Context,
    transit: int,
    seal_broken: Annotated[bool, typer.Option(help="The seal was not intact.")] = False,
) -> None:
    """Disarm the seal at destination: the transit ends."""
    with open_context(ctx) as app_ctx, app_ctx.unit() as unit:
        row = transits.discharge_transit(unit, transit, actor=actor(), seal_intact=not seal_broken)
        console.print(f"transit {row.id} discharged")


@transits_app.command("list")
def transits_list(
    ctx: typer.Context, status: Annotated[str | None, typer.Option(help="Only this status.")] = None
) -> None:
    """Transits with their seal, vehicle, route, status and deadline."""
    from sqlalchemy import select

    with open_context(ctx) as app_ctx, app_ctx.db.session() as session:
        query = select(tracking_tables.TransitRow).order_by(tracking_tables.TransitRow.id)
        if status:
            query = query.where(tracking_tables.TransitRow.status == status)
        table = Table("id", "reference", "device", "vehicle", "route", "status", "deadline")
        transits_shown = list(session.scalars(query))
        for t in transits_shown:
            table.add_row(
                str(t.id),
                t.reference,
                t.device_id,
                t.vehicle,
                f"{t.origin} → {t.destination}",
                t.status,
                t.deadline.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
            )
        keep_whole(table, 1, [t.reference for t in transits_shown])
        keep_whole(table, 2, [t.device_id for t in transits_shown])
        console.print(table)


@alerts_app.command("list")
def alerts_list(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option(help="open, acknowledged, escalated, resolved")
    ] = None,
) -> None:
    """Alerts, newest first (the workflow itself is in the web interface and the API)."""
    from sqlalchemy import select

    with open_context(ctx) as app_ctx, app_ctx.db.session() as session:
        query = (
            select(tracking_tables.AlertRow).order_by(tracking_tables.AlertRow.id.desc()).limit(500)
        )
        if status:
            query = query.where(tracking_tables.AlertRow.status == status)
        table = Table("id", "transit", "type", "severity", "status", "raised", "count")
        for a in session.scalars(query):
            table.add_row(
                str(a.id),
                str(a.transit_id),
                a.type,
                a.severity,
                a.status,
                _when(a.raised_at),
                str(a.count),
            )
        console.print(table)


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
