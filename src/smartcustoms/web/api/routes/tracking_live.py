"""The command centre's data: corridors and zones, devices, the live snapshot and the live
stream (server-sent events)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Header, Request, status
from fastapi.responses import StreamingResponse

from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.tracking import queries
from smartcustoms.tracking.corridors import import_geojson
from smartcustoms.tracking.devices import list_devices, register_device
from smartcustoms.tracking.live import LiveEntry, LiveHub
from smartcustoms.web.api.tracking_schemas import DeviceCreate, DevicePublic, ImportPublic
from smartcustoms.web.auth import context
from smartcustoms.web.deps import UnitDep
from smartcustoms.web.params import INT64_MAX, FeedId
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.tracking_access import (
    COMMAND_CENTRE,
    CORRIDOR_ADMINS,
    TRANSIT_READERS,
)

__all__ = ["hub_of", "router"]

router = APIRouter(prefix="/api/tracking", tags=["tracking"])

_KEEP_ALIVE_S: Final = 15.0
# Streams end after this long and the browser reconnects (EventSource does, resuming from the
# last id): bounded streams let a server restart without waiting on them.
_STREAM_LIFETIME_S: Final = 300.0
_FEED_ID: Final = re.compile(r"[0-9]{1,19}")


class NotAcceptable(SmartCustomsError):
    status_code = 406
    code = "not_acceptable"


def hub_of(request: Request) -> LiveHub:
    """This web process's live hub (one per application)."""
    hub: LiveHub | None = getattr(request.app.state, "tracking_hub", None)
    if hub is None:
        ctx = context(request)
        hub = LiveHub(ctx.db, poll_s=ctx.settings.tracking_live_poll_ms / 1000)
        request.app.state.tracking_hub = hub
    return hub


@router.get("/map", summary="Corridors (route and buffer) and zones as GeoJSON")
@requires(TRANSIT_READERS)
def map_layers(unit: UnitDep) -> dict[str, Any]:
    return queries.map_layers(unit.session)


@router.post(
    "/corridors/import",
    status_code=status.HTTP_201_CREATED,
    summary="Import corridors and zones from a GeoJSON FeatureCollection",
)
@requires(CORRIDOR_ADMINS)
def import_corridors(
    body: Annotated[dict[str, Any], Body(description="A GeoJSON FeatureCollection")],
    unit: UnitDep,
    principal: CurrentPrincipal,
) -> ImportPublic:
    result = import_geojson(unit, body, actor=principal.username)
    return ImportPublic(corridors=list(result.corridors), zones=list(result.zones))


@router.get("/devices", summary="Registered devices")
@requires(CORRIDOR_ADMINS, COMMAND_CENTRE)
def devices(unit: UnitDep) -> list[DevicePublic]:
    return [
        DevicePublic(
            device_id=d.device_id,
            kind=d.kind,
            protocol=d.protocol,
            label=d.label,
            registered_at=d.registered_at,
            registered_by=d.registered_by,
            disabled=d.disabled,
        )
        for d in list_devices(unit.session)
    ]


@router.post("/devices", status_code=status.HTTP_201_CREATED, summary="Register a device")
@requires(CORRIDOR_ADMINS)
def add_device(body: DeviceCreate, unit: UnitDep, principal: CurrentPrincipal) -> DevicePublic:
    row = register_device(
        unit,
        body.device_id,
        kind=body.kind,
        protocol=body.protocol,
        label=body.label,
        actor=principal.username,
    )
    return DevicePublic(
        device_id=row.device_id,
        kind=row.kind,
        protocol=row.protocol,
        label=row.label,
        registered_at=row.registered_at,
        registered_by=row.registered_by,
        disabled=row.disabled,
    )


@router.get(
    "/live",
    summary="Monitored transits with their last position and open alerts",
    description="`feed_id` is where to start the live stream (`/api/tracking/stream?after=`).",
)
@requires(COMMAND_CENTRE)
def live(unit: UnitDep) -> dict[str, Any]:
    return queries.live_snapshot(unit.session)


@router.get(
    "/stream",
    summary="Live stream (server-sent events): positions, alerts, transit changes",
    description="Events `position`, `alert` and `transit`, each with an `id`; reconnecting "
    "with `Last-Event-ID` (or `?after=`) resumes after that id.",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
@requires(COMMAND_CENTRE)
async def stream(
    request: Request,
    after: FeedId = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    if "text/event-stream" not in request.headers.get("accept", ""):
        # A plain GET would wait on a stream that never ends: say what to ask for instead.
        raise NotAcceptable(
            "this is a server-sent event stream: send 'Accept: text/event-stream'",
            details=[{"header": "accept", "expected": "text/event-stream"}],
        )
    if last_event_id and _FEED_ID.fullmatch(last_event_id) and int(last_event_id) <= INT64_MAX:
        after = int(last_event_id)  # anything else: not an id we sent, start from now
    hub = hub_of(request)
    sub = await hub.subscribe(after)

    async def events() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        end = loop.time() + _STREAM_LIFETIME_S
        try:
            yield "retry: 1000\n\n"
            for entry in sub.backlog:
                yield entry.sse()
            while loop.time() < end:
                try:
                    item: LiveEntry | None = await asyncio.wait_for(sub.queue.get(), _KEEP_ALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if item is None:  # dropped for falling behind: reconnect and resume
                    break
                yield item.sse()
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
