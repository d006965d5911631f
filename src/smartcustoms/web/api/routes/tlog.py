"""The ledger over HTTP in the C2SP formats, under the prefix ``/ledger``.

* ``GET /ledger/checkpoint`` — the latest signed checkpoint with its cosignatures
  (tlog-tiles, ``text/plain; charset=utf-8``, not cached);
* ``GET /ledger/tile/<L>/<N>[.p/<W>]`` and ``GET /ledger/tile/entries/<N>[.p/<W>]`` — hash tiles
  and entry bundles of the latest checkpoint's tree (``application/octet-stream``, immutable;
  entry bundles gzip-compressed when the client accepts it);
* ``GET /ledger/proof/<index>`` — a ``c2sp.org/tlog-proof@v1`` bundle for an entry, carrying
  the entry, verifiable offline with ``smartcustoms ledger verify``;
* ``POST /ledger/witness/add-checkpoint`` — this instance as a C2SP tlog-witness of the
  partners' ledgers it was told to witness.

The three reads are public when ``ledger_public`` is set (see ``web.policy``), otherwise for
auditors, partner administrations and administrators. The witness endpoint is always public:
the log's signature on the checkpoint is what authenticates a submission.
"""

from __future__ import annotations

import gzip
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from smartcustoms.core.errors import NotFound
from smartcustoms.core.roles import Role
from smartcustoms.ledger.errors import WitnessConflict
from smartcustoms.ledger.service import ledger_of
from smartcustoms.ledger.tlog.tiles import EntryBundleID
from smartcustoms.web.deps import ContextDep
from smartcustoms.web.policy import requires

__all__ = ["LEDGER_READERS", "router"]

router = APIRouter(prefix="/ledger", tags=["ledger"])

#: Who may read the ledger when it is not public.
LEDGER_READERS = frozenset({Role.AUDITOR, Role.PARTNER_ADMINISTRATION, Role.ADMINISTRATOR})

TEXT = "text/plain; charset=utf-8"
BINARY = "application/octet-stream"
_IMMUTABLE = "max-age=31536000, immutable"


def _cache(ctx: ContextDep, policy: str) -> str:
    # A gated ledger's answers must not sit in shared caches.
    return ("public, " if ctx.settings.ledger_public else "private, ") + policy


@router.get(
    "/checkpoint",
    summary="The latest signed checkpoint (C2SP tlog-checkpoint, with cosignatures)",
    response_class=Response,
    responses={200: {"content": {TEXT: {}}}},
)
@requires(LEDGER_READERS)
def checkpoint(ctx: ContextDep) -> Response:
    cp = ledger_of(ctx).checkpoint()
    if cp is None:
        raise NotFound("the ledger has no signed checkpoint yet")
    return Response(cp.text, media_type=TEXT, headers={"Cache-Control": "no-cache"})


@router.get(
    "/tile/{path:path}",
    summary="A hash tile or entry bundle (C2SP tlog-tiles)",
    response_class=Response,
    responses={200: {"content": {BINARY: {}}}},
)
@requires(LEDGER_READERS)
def tile(path: str, request: Request, ctx: ContextDep) -> Response:
    found, data = ledger_of(ctx).tile("tile/" + path)
    headers = {"Cache-Control": _cache(ctx, _IMMUTABLE)}
    if isinstance(found, EntryBundleID):
        headers["Vary"] = "Accept-Encoding"
        if "gzip" in request.headers.get("accept-encoding", ""):
            data = gzip.compress(data, compresslevel=6, mtime=0)
            headers["Content-Encoding"] = "gzip"
    return Response(data, media_type=BINARY, headers=headers)


@router.get(
    "/proof/{index}",
    summary="A proof bundle for an entry (c2sp.org/tlog-proof@v1, entry in 'extra')",
    response_class=Response,
    responses={200: {"content": {TEXT: {}}}},
)
@requires(LEDGER_READERS)
def proof(
    ctx: ContextDep,
    index: Annotated[int, Path(ge=0, le=(1 << 63) - 1)],
    download: Annotated[bool, Query(description="Send as a file to save.")] = False,
) -> Response:
    bundle = ledger_of(ctx).proof_bundle(index)
    headers = {"Cache-Control": _cache(ctx, "max-age=60")}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="ledger-entry-{index}.proof"'
    return Response(bundle, media_type=TEXT, headers=headers)


@router.post(
    "/witness/add-checkpoint",
    summary="Witness a partner's checkpoint (C2SP tlog-witness)",
    response_class=Response,
    responses={
        200: {"content": {TEXT: {}}, "description": "cosignature lines"},
        409: {"content": {"text/x.tlog.size": {}}, "description": "old size is not ours"},
    },
)
async def add_checkpoint(request: Request, ctx: ContextDep) -> Response:
    body = await request.body()
    try:
        lines = await run_in_threadpool(ledger_of(ctx).witness_add_checkpoint, body)
    except WitnessConflict as exc:
        if exc.size is None:
            raise
        # Exactly this content type, which the spec names (Starlette would add a charset).
        headers = {"Content-Type": "text/x.tlog.size"}
        return Response(f"{exc.size}\n", status_code=409, headers=headers)
    return Response(lines, media_type=TEXT)
