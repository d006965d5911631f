"""The partner directory over the API: administrators manage it, supervisors and auditors read.

``GET /api/partners``, ``GET /api/partners/card`` (this instance's signed card),
``POST /api/partners`` (a partner's card: verified, added, a ledger record),
``PUT /api/partners/{name}/card`` (its newer card: a rotated key, a moved URL; a ledger record),
``POST /api/partners/{name}/suspend`` and ``/activate``, ``POST /api/partners/{name}/ping``,
``PUT /api/partners/{name}/accounts/{username}`` (link a partner-administration account),
``POST /api/partners/{name}/rules/offer`` (offer an approved targeting rule: a proposal there).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from smartcustoms.core.roles import Role
from smartcustoms.federation import directory
from smartcustoms.federation.accounts import link_account
from smartcustoms.federation.card import fingerprint_groups
from smartcustoms.federation.rules_offered import offer_public, offer_rule
from smartcustoms.federation.service import own_card, ping
from smartcustoms.federation.tables import ACTIVE, SUSPENDED
from smartcustoms.web.api.schemas import StrictBody
from smartcustoms.web.deps import ContextDep, UnitDep
from smartcustoms.web.policy import CurrentPrincipal, requires

__all__ = [
    "MANAGERS",
    "READERS",
    "RULE_OFFERERS",
    "CardUpdated",
    "RuleOfferPublic",
    "router",
]

router = APIRouter(prefix="/api/partners", tags=["partners"])

#: Manage the directory.
MANAGERS = frozenset({Role.ADMINISTRATOR})
#: Read it.
READERS = frozenset({Role.ADMINISTRATOR, Role.SUPERVISOR, Role.AUDITOR})
#: Offer a targeting rule to a partner (the rulebook's writers and reviewers).
RULE_OFFERERS = frozenset({Role.RISK_ANALYST, Role.SUPERVISOR})

PartnerName = Annotated[str, Path(min_length=1, max_length=120, description="Partner name")]
Username = Annotated[str, Path(min_length=1, max_length=64)]


class PartnerPublic(BaseModel):
    name: str
    country: str
    url: str
    ledger_vkey: str
    witness_vkey: str
    request_vkey: str
    key_id: str
    kinds: list[str]
    fingerprint: str = Field(description="First 128 bits of the card's SHA-256, to read aloud")
    state: str
    added_at: datetime
    added_by: str
    changed_at: datetime


class OwnCard(BaseModel):
    card: dict[str, Any]
    fingerprint: str


class CardBody(StrictBody):
    card: dict[str, Any] = Field(description="The partner's signed card, as it printed it")
    kinds: list[str] | None = Field(
        None, description="What the partner may receive (default: what its card accepts)"
    )


class NewCardBody(StrictBody):
    card: dict[str, Any] = Field(description="The partner's new signed card, as it printed it")
    confirm_fingerprint: str | None = Field(
        None,
        max_length=100,
        description="The fingerprint the partner read by phone; required when the card's "
        "request key is not the one we trust",
    )
    kinds: list[str] | None = Field(
        None, description="Narrow what the partner may receive (default: as it was)"
    )


class CardUpdated(BaseModel):
    partner: PartnerPublic
    old_fingerprint: str
    changed: list[str] = Field(description="The card's fields that changed")


class RuleOffer(StrictBody):
    rule: int = Field(ge=1, le=2**31 - 1, description="An approved rule version's id")


class RuleOfferPublic(BaseModel):
    partner: str
    rule: str
    version: int
    message_id: str = Field(description="The offer's id; the partner's answer names it")
    state: str = Field(description="offered, adopted or declined")
    offered_at: datetime
    offered_by: str
    answered_at: datetime | None
    answer_note: str | None


class Link(BaseModel):
    username: str
    partner: str


@router.get("", summary="Partner administrations")
@requires(READERS)
def list_partners(unit: UnitDep) -> list[PartnerPublic]:
    return [
        PartnerPublic(**directory.partner_public(r)) for r in directory.list_partners(unit.session)
    ]


@router.get(
    "/card",
    summary="This instance's signed partner card, to give to a partner",
    responses={409: {"description": "Federation is not configured here (the setting is named)"}},
)
@requires(READERS)
def card(ctx: ContextDep) -> OwnCard:
    own = own_card(ctx)
    return OwnCard(card=json.loads(own.to_json()), fingerprint=fingerprint_groups(own.fingerprint))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Add a partner from its card")
@requires(MANAGERS)
def add(
    body: CardBody, unit: UnitDep, ctx: ContextDep, principal: CurrentPrincipal
) -> PartnerPublic:
    row = directory.add_partner(
        unit,
        json.dumps(body.card, ensure_ascii=False),
        own=own_card(ctx),
        actor=principal.username,
        kinds=body.kinds,
    )
    return PartnerPublic(**directory.partner_public(row))


@router.get("/{name}", summary="One partner")
@requires(READERS)
def read(name: PartnerName, unit: UnitDep) -> PartnerPublic:
    return PartnerPublic(**directory.partner_public(directory.get_partner(unit.session, name)))


@router.put(
    "/{name}/card",
    summary="Replace a partner's card with its newer one (a rotated key, a moved URL)",
)
@requires(MANAGERS)
def update_card(
    name: PartnerName,
    body: NewCardBody,
    unit: UnitDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
) -> CardUpdated:
    done = directory.update_partner(
        unit,
        json.dumps(body.card, ensure_ascii=False),
        own=own_card(ctx),
        actor=principal.username,
        name=name,
        confirm_fingerprint=body.confirm_fingerprint,
        kinds=body.kinds,
    )
    return CardUpdated(
        partner=PartnerPublic(**directory.partner_public(done.row)),
        old_fingerprint=fingerprint_groups(done.old_fingerprint),
        changed=list(done.changed),
    )


@router.post("/{name}/suspend", summary="Suspend a partner: its requests are refused")
@requires(MANAGERS)
def suspend(name: PartnerName, unit: UnitDep, principal: CurrentPrincipal) -> PartnerPublic:
    row = directory.set_state(unit, name, SUSPENDED, actor=principal.username)
    return PartnerPublic(**directory.partner_public(row))


@router.post("/{name}/activate", summary="Reactivate a suspended partner")
@requires(MANAGERS)
def activate(name: PartnerName, unit: UnitDep, principal: CurrentPrincipal) -> PartnerPublic:
    row = directory.set_state(unit, name, ACTIVE, actor=principal.username)
    return PartnerPublic(**directory.partner_public(row))


@router.post("/{name}/ping", summary="Send the partner a signed hello and show its answer")
@requires(MANAGERS)
async def ping_partner(
    name: PartnerName, ctx: ContextDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    return await run_in_threadpool(ping, ctx, name, actor=principal.username)


@router.put(
    "/{name}/accounts/{username}",
    summary="Link a partner-administration account to this partner (it sees what was handed to it)",
)
@requires(MANAGERS)
def link(name: PartnerName, username: Username, unit: UnitDep, principal: CurrentPrincipal) -> Link:
    link_account(unit, username, name, actor=principal.username)
    return Link(username=username.lower(), partner=name)


@router.delete(
    "/{name}/accounts/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unlink a partner-administration account",
)
@requires(MANAGERS)
def unlink(
    name: PartnerName, username: Username, unit: UnitDep, principal: CurrentPrincipal
) -> None:
    directory.get_partner(unit.session, name)
    link_account(unit, username, None, actor=principal.username)


@router.post(
    "/{name}/rules/offer",
    status_code=status.HTTP_201_CREATED,
    summary="Offer an approved targeting rule: a proposal at the partner until its supervisor "
    "approves it",
)
@requires(RULE_OFFERERS)
def offer(
    name: PartnerName, body: RuleOffer, unit: UnitDep, principal: CurrentPrincipal
) -> RuleOfferPublic:
    row = offer_rule(unit, name, body.rule, actor=principal.username)
    return RuleOfferPublic(**offer_public(row, name))
