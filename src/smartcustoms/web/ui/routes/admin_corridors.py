"""The corridors page, for administrators: the corridors with their buffer, length and alert
thresholds, the zones (stop zones, offices, border posts), an import of a GeoJSON
FeatureCollection — all or nothing, a refusal naming the feature and its field — and each
corridor on the map."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import NotFound, SmartCustomsError, ValidationFailed
from smartcustoms.core.i18n import N_
from smartcustoms.core.jsontext import loads
from smartcustoms.core.roles import Role
from smartcustoms.tracking.corridors import ImportResult, import_geojson
from smartcustoms.tracking.packaged import packaged_geojson
from smartcustoms.tracking.tables import CorridorRow, ZoneRow
from smartcustoms.tracking.thresholds import Thresholds
from smartcustoms.web.auth import context
from smartcustoms.web.i18n import translations
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import language_of, render

router = APIRouter(prefix="/admin/corridors", include_in_schema=False)

CorridorCode = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._\-]+$")]

#: The thresholds a corridor sets, as the page labels them (units in the label).
THRESHOLD_LABELS = {
    "deviation_minutes": N_("Off the corridor before an alert (minutes)"),
    "long_stop_minutes": N_("Stopped outside a stop zone before an alert (minutes)"),
    "stop_speed_kmh": N_("Speed at or below which a truck is stopped (km/h)"),
    "stop_radius_m": N_("Creeping further than this ends a stop (metres)"),
    "signal_lost_minutes": N_("Silent before an alert (minutes)"),
    "low_battery_percent": N_("Battery low at or below (percent)"),
}
ZONE_KIND_LABELS = {
    "port": N_("port"),
    "office": N_("customs office"),
    "border_post": N_("border post"),
    "parking": N_("parking"),
    "checkpoint": N_("checkpoint"),
}
_FEATURE = re.compile(r"^features\[(\d+)\]")


def _corridors(ctx: AppContext) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with ctx.db.read_session() as session:
        corridors = [
            {
                "code": c.code,
                "name": c.name,
                "buffer_m": c.buffer_m,
                "length_km": c.length_km,
                "thresholds": Thresholds.parse(c.thresholds).as_json(),
                "own": sorted(c.thresholds),
                "imported_at": c.imported_at.isoformat(timespec="minutes"),
                "imported_by": c.imported_by,
            }
            for c in session.scalars(select(CorridorRow).order_by(CorridorRow.code))
        ]
        zones = [
            {
                "code": z.code,
                "name": z.name,
                "kind": z.kind,
                "office": z.office or "",
                "authorised_stop": z.authorised_stop,
                "radius_m": z.radius_m,
            }
            for z in session.scalars(select(ZoneRow).order_by(ZoneRow.code))
        ]
    return corridors, zones


def _page(
    request: Request,
    *,
    error: dict[str, Any] | None = None,
    imported: ImportResult | None = None,
    text: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    corridors, zones = _corridors(context(request))
    return render(
        request,
        "admin_corridors.html",
        status_code=status_code,
        corridors=corridors,
        zones=zones,
        threshold_labels=THRESHOLD_LABELS,
        zone_kinds=ZONE_KIND_LABELS,
        error=error,
        imported=imported,
        text=text,
    )


@router.get("", response_class=HTMLResponse)
@requires(Role.ADMINISTRATOR)
def corridors_page(request: Request) -> HTMLResponse:
    return _page(request)


def _refusal(request: Request, exc: SmartCustomsError) -> dict[str, Any]:
    """The refusal as the page shows it: which feature, which field, what is wrong."""
    gettext = translations(language_of(request)).gettext
    detail = next((d for d in exc.details if isinstance(d.get("field"), str)), {})
    field = str(detail.get("field", ""))
    # A problem found inside a feature's part (its thresholds, its geometry) names the part
    # in "field" and the feature in "feature" (tracking.corridors wraps it so).
    match = _FEATURE.match(field) or _FEATURE.match(str(detail.get("feature", "")))
    if match:
        summary = gettext("Feature %(index)s is refused: field %(field)s.") % {
            "index": match.group(1),
            "field": field,
        }
    elif "line" in (exc.details[0] if exc.details else {}):
        d = exc.details[0]
        summary = gettext("The file is not JSON: line %(line)s, column %(column)s.") % {
            "line": d["line"],
            "column": d["column"],
        }
    else:
        summary = gettext("The file is refused: field %(field)s.") % {"field": field or "—"}
    return {
        "summary": summary,
        "field": field,
        "feature": int(match.group(1)) if match else None,
        "message": exc.message,
        "code": exc.code,
    }


def _import(ctx: AppContext, data: bytes | str, actor: str) -> ImportResult:
    parsed = loads(data, "file")
    with ctx.unit() as unit:
        return import_geojson(unit, parsed, actor=actor)


@router.post("/import", response_class=HTMLResponse)
@requires(Role.ADMINISTRATOR)
async def import_corridors(
    request: Request,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile | None, File()] = None,
    text: Annotated[str, Form(max_length=5_000_000)] = "",
    packaged: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    """Import from an uploaded file, from pasted GeoJSON, or the packaged corridors."""
    ctx = context(request)
    data: bytes | str
    if packaged:
        data = _packaged_text()
    elif file is not None and file.filename:
        data = await file.read()  # bounded by the request body limit
    else:
        data = text
    try:
        if not data or (isinstance(data, str) and not data.strip()):
            raise ValidationFailed(
                "file: choose a GeoJSON file or paste one", details=[{"field": "file"}]
            )
        result = await run_in_threadpool(_import, ctx, data, principal.username)
    except SmartCustomsError as exc:
        return _page(request, error=_refusal(request, exc), text=text, status_code=exc.status_code)
    return _page(request, imported=result)


def _packaged_text() -> str:
    import json

    return json.dumps(packaged_geojson())


def _editor(request: Request, corridor: dict[str, Any] | None, route: Any) -> HTMLResponse:
    return render(
        request,
        "admin_corridor_edit.html",
        corridor=corridor,
        route=route,
        threshold_labels=THRESHOLD_LABELS,
        zone_kinds=ZONE_KIND_LABELS,
    )


@router.get("/new", response_class=HTMLResponse)
@requires(Role.ADMINISTRATOR)
def new_corridor(request: Request) -> HTMLResponse:
    """Draw a corridor on the map: its route, its stop zones, its thresholds. The page builds
    a GeoJSON FeatureCollection and sends it to the import, which checks it as any file."""
    return _editor(request, None, None)


@router.get("/{code}/edit", response_class=HTMLResponse)
@requires(Role.ADMINISTRATOR)
def edit_corridor(request: Request, code: CorridorCode) -> HTMLResponse:
    """Move, add or remove the route's points, change its thresholds, add stop zones: saved as
    an import of the same code, which replaces the stored corridor."""
    corridors, _ = _corridors(context(request))
    corridor = next((c for c in corridors if c["code"] == code), None)
    if corridor is None:
        raise NotFound(f"no corridor {code}", details=[{"field": "code"}])
    with context(request).db.read_session() as session:
        route = session.scalar(select(CorridorRow.route).where(CorridorRow.code == code))
    return _editor(request, corridor, route)


@router.get("/{code}", response_class=HTMLResponse)
@requires(Role.ADMINISTRATOR)
def corridor_map(request: Request, code: CorridorCode) -> HTMLResponse:
    corridors, zones = _corridors(context(request))
    corridor = next((c for c in corridors if c["code"] == code), None)
    if corridor is None:
        raise NotFound(f"no corridor {code}", details=[{"field": "code"}])
    return render(
        request,
        "admin_corridor.html",
        corridor=corridor,
        zones=zones,
        threshold_labels=THRESHOLD_LABELS,
        zone_kinds=ZONE_KIND_LABELS,
    )
