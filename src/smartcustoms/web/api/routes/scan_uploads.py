"""Resumable scan uploads over HTTP: the tus 1.0 protocol (core, creation and termination),
for scanning sites on thin links (:mod:`smartcustoms.scans.uploads` keeps the pieces).

- ``POST /api/scans/uploads`` with ``Upload-Length`` and ``Upload-Metadata`` (``declaration_id``,
  and as a one-piece upload's form: ``filename``, ``container_number``, ``tare_kg``,
  ``goods_gross_kg``, ``declared_empty``, ``sidecar``) → 201 and the upload's ``Location``;
- ``HEAD`` on it → ``Upload-Offset``: how far it got (after a dropped connection, go on from
  there);
- ``PATCH`` on it with ``Upload-Offset`` and ``Content-Type: application/offset+octet-stream``
  → 204 and the new offset; the piece that completes the file also receives the scan, and the
  answer names it in ``Smartcustoms-Scan`` (a file that cannot be a scan is refused with the same
  422 as a one-piece upload, and the upload is removed);
- ``DELETE`` on it abandons it.

Any tus 1.0 client works (the tests use ``tuspy``). Who may: the roles that may upload a scan,
each only its own uploads.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import BadRequest, Conflict, SmartCustomsError
from smartcustoms.core.principal import Principal
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.storage import store_for
from smartcustoms.scans.uploads import Appender, PendingUpload, UploadStore, parse_metadata
from smartcustoms.web.api.routes.scans import UPLOADERS
from smartcustoms.web.deps import ContextDep
from smartcustoms.web.policy import CurrentPrincipal, requires

router = APIRouter(prefix="/api/scans/uploads", tags=["scans"])

TUS_VERSION = "1.0.0"
OFFSET_STREAM = "application/offset+octet-stream"


class PreconditionFailed(SmartCustomsError):
    status_code = 412
    code = "tus_version"


#: Every tus request must name the protocol's version; documented so clients expect it.
TUS_RESPONSES: dict[int | str, dict[str, Any]] = {
    412: {"description": "Tus-Resumable is missing or not 1.0.0 (Tus-Version says what is)"}
}


class UnsupportedMediaType(SmartCustomsError):
    status_code = 415
    code = "unsupported_media_type"


def _store(ctx: AppContext) -> UploadStore:
    settings = ctx.settings
    return UploadStore(settings.data_dir / "uploads", settings.max_upload_bytes)


def _tus(version: str | None) -> None:
    if version != TUS_VERSION:
        raise PreconditionFailed(f"Tus-Resumable must be {TUS_VERSION}")


def _headers(upload: PendingUpload) -> dict[str, str]:
    headers = {
        "Tus-Resumable": TUS_VERSION,
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.length),
        "Cache-Control": "no-store",
    }
    if upload.scan_id is not None:
        headers["Smartcustoms-Scan"] = f"/api/scans/{upload.scan_id}"
    return headers


@router.options("", summary="What this server's tus supports", status_code=204)
@requires(*UPLOADERS)
def capabilities(ctx: ContextDep) -> Response:
    return Response(
        status_code=status.HTTP_204_NO_CONTENT,
        headers={
            "Tus-Resumable": TUS_VERSION,
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": "creation,termination",
            "Tus-Max-Size": str(ctx.settings.max_upload_bytes),
        },
    )


@router.post(
    "",
    summary="Start a resumable scan upload (tus creation)",
    status_code=201,
    responses=TUS_RESPONSES,
)
@requires(*UPLOADERS)
def create(
    ctx: ContextDep,
    principal: CurrentPrincipal,
    upload_length: Annotated[int, Header(ge=0, le=2**62)],
    tus_resumable: Annotated[str | None, Header()] = None,
    upload_metadata: Annotated[str | None, Header(max_length=65_536)] = None,
) -> Response:
    _tus(tus_resumable)
    upload = _store(ctx).create(principal.username, upload_length, parse_metadata(upload_metadata))
    return Response(
        status_code=status.HTTP_201_CREATED,
        headers={
            "Tus-Resumable": TUS_VERSION,
            "Location": f"/api/scans/uploads/{upload.id}",
            "Upload-Offset": "0",
        },
    )


@router.head("/{upload_id}", summary="How far an upload got", responses=TUS_RESPONSES)
@requires(*UPLOADERS)
def offset(
    upload_id: str,
    ctx: ContextDep,
    principal: CurrentPrincipal,
    tus_resumable: Annotated[str | None, Header()] = None,
) -> Response:
    _tus(tus_resumable)
    upload = _store(ctx).get(upload_id, principal.username)
    return Response(status_code=status.HTTP_200_OK, headers=_headers(upload))


@router.patch(
    "/{upload_id}",
    summary="Append a piece; the last piece receives the scan",
    responses=TUS_RESPONSES,
)
@requires(*UPLOADERS)
async def append(
    upload_id: str,
    request: Request,
    ctx: ContextDep,
    principal: CurrentPrincipal,
    upload_offset: Annotated[int, Header(ge=0, le=2**62)],
    content_type: Annotated[str | None, Header()] = None,
    tus_resumable: Annotated[str | None, Header()] = None,
) -> Response:
    _tus(tus_resumable)
    if (content_type or "").split(";")[0].strip().lower() != OFFSET_STREAM:
        raise UnsupportedMediaType(f"Content-Type must be {OFFSET_STREAM}")
    store = _store(ctx)
    with store.appending(upload_id, principal.username, upload_offset) as appender:
        try:
            async for chunk in request.stream():
                appender.write(chunk)  # a local disk write: short next to the network's pace
        except ClientDisconnect:
            # The line dropped: what arrived is kept; the client asks HEAD and goes on.
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        if appender.complete:
            # Received while still holding the upload's lock: a DELETE or a second PATCH
            # racing this one waits its turn (409) instead of removing the file being read.
            appender.flush()
            complete = store.get(upload_id, principal.username)
            await run_in_threadpool(_receive, ctx, store, complete, principal, appender)
    upload = store.get(upload_id, principal.username)
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=_headers(upload))


@router.delete(
    "/{upload_id}",
    summary="Abandon an upload (tus termination)",
    status_code=204,
    responses=TUS_RESPONSES,
)
@requires(*UPLOADERS)
def abandon(
    upload_id: str,
    ctx: ContextDep,
    principal: CurrentPrincipal,
    tus_resumable: Annotated[str | None, Header()] = None,
) -> Response:
    _tus(tus_resumable)
    _store(ctx).delete(upload_id, principal.username)
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers={"Tus-Resumable": TUS_VERSION})


def _receive(
    ctx: AppContext,
    store: UploadStore,
    upload: PendingUpload,
    principal: Principal,
    appender: Appender,
) -> None:
    fields = dict(upload.fields)
    sidecar = fields.pop("sidecar")
    try:
        with ctx.unit() as unit:
            received = receive_scan(
                unit,
                store_for(ctx.settings),
                Upload(
                    data=store.data(upload),
                    sidecar=sidecar.encode() if sidecar is not None else None,
                    **fields,
                ),
                actor=principal.username,
                source="api",
            )
            scan_id = received.scan.id
    except (BadRequest, Conflict):
        # The same file would be refused again: nothing to resume. (A server-side failure
        # keeps the upload; an empty PATCH at its length tries receiving it again.)
        appender.discard()
        raise
    store.received(upload, scan_id)
