"""The federation inbox: ``POST /federation/v1/messages``, partners' signed messages; and what
partners share besides transits: ``POST``/``GET /api/federation/notices`` (publish a seizure or
irregularity notice, search notices), ``GET /api/federation/rule-offers`` (rules offered and
their answers), ``GET /api/federation/community`` (per partner, in figures).

Public in the access policy (no session, no token) because the RFC 9421 signature *is* the
authentication, as the checkpoint's signature is for the witness endpoint: the key id names a
partner from the directory, and :func:`smartcustoms.federation.service.handle_inbox` refuses
(401, with a code) and records in the ledger anything not signed by an active partner's key,
stale, replayed or altered.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from smartcustoms.core.roles import Role
from smartcustoms.federation.community import community
from smartcustoms.federation.inbox import INBOX_PATH
from smartcustoms.federation.notices import (
    NOTICE_KINDS,
    UNITS,
    notice_public,
    publish_notice,
    search_notices,
)
from smartcustoms.federation.rules_offered import list_offers
from smartcustoms.federation.service import handle_inbox
from smartcustoms.web.api.routes.partners import READERS, RULE_OFFERERS, RuleOfferPublic
from smartcustoms.web.api.schemas import StrictBody
from smartcustoms.web.auth import client_address
from smartcustoms.web.deps import ContextDep, UnitDep
from smartcustoms.web.policy import CurrentPrincipal, requires

__all__ = ["NOTICE_PUBLISHERS", "NOTICE_READERS", "router"]

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


# -- what partners share besides transits: notices, rules offered, the community's figures ----

#: Read notices (ours and partners'): the officers who act on them and those who oversee.
NOTICE_READERS = frozenset(
    {Role.EXAMINING_OFFICER, Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR}
)
#: Publish a notice to partners: intelligence leaves the administration, so analysts and
#: supervisors only.
NOTICE_PUBLISHERS = frozenset({Role.RISK_ANALYST, Role.SUPERVISOR})


class NoticeFields(StrictBody):
    """A seizure or irregularity notice: what was found, never who (no other field exists)."""

    kind: str = Field(description=" | ".join(NOTICE_KINDS))
    found: str = Field(min_length=1, max_length=500, description="What was found")
    hs_code: str = Field(pattern=r"^[0-9]{6,10}$", description="The goods' HS code")
    route: str = Field(min_length=1, max_length=200, description="Route or corridor")
    concealment: str = Field(min_length=1, max_length=300, description="How it was hidden")
    quantity: Decimal = Field(gt=0, lt=10**12, max_digits=15, decimal_places=3)
    unit: str = Field(description=" | ".join(UNITS))
    found_on: date = Field(description="The day of the finding")


class NoticePublish(StrictBody):
    notice: NoticeFields
    partners: list[Annotated[str, Field(min_length=1, max_length=120)]] = Field(
        min_length=1, max_length=50, description="Partners allowed notices in the directory"
    )


class NoticePublic(BaseModel):
    notice_id: str
    origin: str = Field(description="The publishing administration")
    received: bool = Field(description="From a partner (else ours)")
    kind: str
    found: str
    hs_code: str
    route: str
    concealment: str
    quantity: Decimal
    unit: str
    found_on: date
    published_at: datetime


class NoticePublished(NoticePublic):
    partners: list[str]


@router.post(
    "/api/federation/notices",
    status_code=status.HTTP_201_CREATED,
    summary="Publish a seizure or irregularity notice to partners",
)
@requires(NOTICE_PUBLISHERS)
def publish(
    body: NoticePublish, unit: UnitDep, ctx: ContextDep, principal: CurrentPrincipal
) -> NoticePublished:
    row = publish_notice(
        unit,
        body.notice.model_dump(mode="json"),
        body.partners,
        own_name=ctx.settings.administration_name,
        actor=principal.username,
    )
    return NoticePublished(**notice_public(row), partners=list(dict.fromkeys(body.partners)))


@router.get("/api/federation/notices", summary="Search notices, ours and partners'")
@requires(NOTICE_READERS)
def notices(
    unit: UnitDep,
    q: Annotated[str, Query(max_length=200, description="Words in what, route, concealment")] = "",
    hs: Annotated[str, Query(max_length=10, description="Start of the HS code")] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[NoticePublic]:
    rows = search_notices(unit.session, q=q, hs=hs, limit=limit)
    return [NoticePublic(**notice_public(r)) for r in rows]


@router.get("/api/federation/rule-offers", summary="Rules offered to partners and their answers")
@requires(RULE_OFFERERS | {Role.AUDITOR})
def rule_offers(unit: UnitDep) -> list[RuleOfferPublic]:
    return [RuleOfferPublic(**o) for o in list_offers(unit.session)]


@router.get("/api/federation/community", summary="Per partner: witnessing and what is shared")
@requires(READERS)
def community_figures(unit: UnitDep) -> list[dict[str, Any]]:
    return [p.public() for p in community(unit.session)]
