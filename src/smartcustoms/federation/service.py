"""This instance in the federation: its signer and card, pinging a partner, the inbox's
entry point shared by the web route (and later the outbox's deliverer)."""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Final

from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Conflict
from smartcustoms.federation.card import Card, sign_card
from smartcustoms.federation.client import send_message
from smartcustoms.federation.directory import get_partner
from smartcustoms.federation.errors import (
    FederationNotConfigured,
    PartnerUnreachable,
    RequestRefused,
)
from smartcustoms.federation.events import MessageSent, RequestRefusedEvent
from smartcustoms.federation.inbox import INBOX_PATH, receive
from smartcustoms.federation.keys import load_federation_signer
from smartcustoms.federation.tables import ACTIVE, PartnerRow
from smartcustoms.federation.verify import claimed_key_id, verify_request
from smartcustoms.ledger.service import ledger_of
from smartcustoms.ledger.tlog.keys import Ed25519Signer

__all__ = ["handle_inbox", "own_card", "own_signer", "own_url", "ping"]

log = logging.getLogger("smartcustoms.federation")

_SIGNER: Final = "federation.signer"


def own_signer(ctx: AppContext) -> Ed25519Signer:
    signer = ctx.services.get(_SIGNER)
    if signer is None:
        signer = load_federation_signer(ctx.settings.data_dir, ctx.settings.ledger_origin)
        ctx.services[_SIGNER] = signer
    return signer


def own_url(ctx: AppContext) -> str:
    url = ctx.settings.federation_url
    if not url:
        raise FederationNotConfigured(
            "this instance has no federation URL: set SMARTCUSTOMS_FEDERATION_URL to the "
            "https:// address partners reach it at",
            details=[{"setting": "SMARTCUSTOMS_FEDERATION_URL"}],
        )
    return url.rstrip("/")


def own_card(ctx: AppContext) -> Card:
    """This instance's signed card, from its settings and keys (the same every time)."""
    country = ctx.settings.federation_country
    if not country:
        raise FederationNotConfigured(
            "this instance has no country: set SMARTCUSTOMS_FEDERATION_COUNTRY (ISO 3166-1 "
            "alpha-2, e.g. KE)",
            details=[{"setting": "SMARTCUSTOMS_FEDERATION_COUNTRY"}],
        )
    ledger = ledger_of(ctx)
    return sign_card(
        own_signer(ctx),
        name=ctx.settings.administration_name,
        country=country,
        url=own_url(ctx),
        ledger_vkey=ledger.vkey(),
        witness_vkey=ledger.witness_signer().verifier().key_string(),
    )


def handle_inbox(
    ctx: AppContext, *, method: str, path: str, headers: dict[str, str], body: bytes, client: str
) -> dict[str, Any]:
    """Verify a partner's request to the inbox and process it, in one transaction; a refusal is
    recorded in the ledger (its own unit: the request's was rolled back) and raised."""
    url = own_url(ctx) + INBOX_PATH
    try:
        with ctx.unit() as unit:
            partner = verify_request(
                unit.session,
                method=method,
                url=url,
                headers=headers,
                body=body,
                window_s=ctx.settings.federation_max_skew_s,
            )
            return receive(unit, partner, body, own_name=ctx.settings.administration_name)
    except RequestRefused as exc:
        key_id = claimed_key_id(headers)
        if exc.code in ("unknown_key", "signature_missing"):
            # Anyone who reaches the inbox can send these: were they ledger records, a stranger
            # could grow our ledger at will. They are logged; a partner's refusals are recorded.
            log.warning(
                "federation request refused (%s) from %s claiming key %r",
                exc.code, client[:64], (key_id or "")[:200],
            )  # fmt: skip
            raise
        with ctx.db.session() as session:
            partner_name = session.scalar(
                select(PartnerRow.name).where(PartnerRow.key_id == key_id)
            )
        ctx.record(
            RequestRefusedEvent(
                actor="federation",
                code=exc.code,
                reason=exc.message[:300],
                key_id=key_id,
                partner=partner_name,
                method=method,
                path=path[:200],
                client=client[:64],
            )
        )
        raise


def ping(ctx: AppContext, name: str, *, actor: str) -> dict[str, Any]:
    """Send ``partner.hello`` to partner ``name`` and return its answer; a refusal by the
    partner is raised with its code. The acknowledged send is a ledger record."""
    with ctx.db.session() as session:
        partner = get_partner(session, name)
        url, state, pname = partner.url, partner.state, partner.name
    if state != ACTIVE:
        raise Conflict(f"partner {pname!r} is suspended", code="partner_suspended")
    payload, answer = send_message(own_signer(ctx), url, "partner.hello", {"ping": True})
    if not answer.ok:
        raise PartnerUnreachable(
            f"partner {pname!r} answered {answer.status} {answer.error_code or ''}".rstrip(),
            details=[{"status": answer.status, "code": answer.error_code}],
            code="partner_refused",
        )
    ctx.record(
        MessageSent(
            actor=actor,
            partner=pname,
            message_id=str(answer.body.get("id", "")),
            kind="partner.hello",
            body_sha256=hashlib.sha256(payload).hexdigest(),
            status=answer.status,
        )
    )
    return answer.body
