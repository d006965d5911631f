"""The federation inbox: ``POST /federation/v1/messages``, partners' signed messages.

Public in the access policy (no session, no token) because the RFC 9421 signature *is* the
authentication, as the checkpoint's signature is for the witness endpoint: the key id names a
partner from the directory, and :func:`smartcustoms.federation.service.handle_inbox` refuses
(401, with a code) and records in the ledger anything not signed by an active partner's key,
stale, replayed or altered.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from smartcustoms.federation.inbox import INBOX_PATH
from smartcustoms.federation.service import handle_inbox
from smartcustoms.web.auth import client_address
from smartcustoms.web.deps import ContextDep

__all__ = ["router"]

router = APIRouter(tags=["federation"])


@router.post(
    INBOX_PATH,
    summary="A partner's signed message (RFC 9421, Ed25519; idempotent by message id)",
    responses={401: {"description": "not signed by an active partner, stale or replayed"}},
)
async def inbox(request: Request, ctx: ContextDep) -> dict[str, Any]:
    body = await request.body()
    # Field lines joined as RFC 9110 combines them; names in lower case.
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return await run_in_threadpool(
        lambda: handle_inbox(
            ctx,
            method=request.method,
            path=request.url.path,
            headers=headers,
            body=body,
            client=client_address(request) or "",
        )
    )
