"""Risk shared, never imposed: a targeting rule offered to a partner, a proposal over there.

At the origin, :func:`offer_rule` queues a ``rule.offered`` message carrying an approved rule
version in the documented form (:mod:`.rule_form`), in the transaction that records the offer.

At the partner, the handler reads the rule with the partner's own parser and stores it in its
rulebook as a *draft* written by ``partner:<name>`` (through :func:`risk.rulebook.propose`):
it selects nothing until a local supervisor approves it through the rulebook's own four-eyes
review, like any analyst's draft. The rule is named ``<country>:<name>`` there, so it never
becomes a new version of a local rule; a later offer of the same rule is its next version.
The review's answer flows back (:mod:`.rule_answers`) as ``rule.adopted`` / ``rule.declined``,
and :func:`_receive_answer` records it against the offer here.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, NotFound, ValidationFailed
from smartcustoms.core.unit import Unit
from smartcustoms.federation.allowed import check_allowed
from smartcustoms.federation.directory import get_partner
from smartcustoms.federation.exchange_events import RuleOfferAnswered, RuleOffered, RuleReceived
from smartcustoms.federation.exchange_tables import (
    ADOPTED,
    DECLINED,
    OFFERED,
    PROPOSED,
    RuleOfferRow,
    RuleReceivedRow,
)
from smartcustoms.federation.inbox import Incoming, handler
from smartcustoms.federation.outbox import enqueue
from smartcustoms.federation.rule_answers import RULE_ADOPTED, RULE_DECLINED
from smartcustoms.federation.rule_form import read_rule, rule_document
from smartcustoms.federation.tables import PartnerRow
from smartcustoms.risk import rulebook
from smartcustoms.risk.tables import RuleRow, RuleVersionRow

__all__ = [
    "RULES_KIND",
    "RULE_ADOPTED",
    "RULE_DECLINED",
    "RULE_OFFERED",
    "list_offers",
    "offer_public",
    "offer_rule",
]

RULE_OFFERED: Final = "rule.offered"
#: The directory's kind a partner needs to receive (and send) rules.
RULES_KIND: Final = "rules"


def offer_rule(unit: Unit, partner_name: str, version_id: int, *, actor: str) -> RuleOfferRow:
    """Offer approved rule version ``version_id`` to partner ``partner_name``."""
    session = unit.session
    partner = get_partner(session, partner_name)
    check_allowed(partner, RULES_KIND)
    version = session.get(RuleVersionRow, version_id)
    if version is None:
        raise NotFound(f"no rule version {version_id}", details=[{"field": "rule"}])
    if version.status != "approved":
        raise Conflict(
            f"only an approved version is offered; this one is {version.status}",
            details=[{"field": "rule", "value": version_id}],
            code="rule_not_approved",
        )
    again = session.scalar(
        select(RuleOfferRow.state).where(
            RuleOfferRow.partner_id == partner.id,
            RuleOfferRow.rule_version_id == version.id,
            RuleOfferRow.state != DECLINED,
        )
    )
    if again is not None:
        raise Conflict(
            f"{version.rule.name}@{version.version} was already offered to {partner.name} "
            f"({again})",
            details=[{"field": "rule", "value": version_id}],
            code="rule_already_offered",
        )
    document = rule_document(version)
    now = clock.now()
    message_id = enqueue(session.connection(), partner.id, RULE_OFFERED, {"rule": document}, at=now)
    row = RuleOfferRow(
        partner_id=partner.id,
        rule_version_id=version.id,
        rule_name=version.rule.name,
        rule_version=version.version,
        message_id=message_id,
        offered_at=now,
        offered_by=actor[:64],
        state=OFFERED,
    )
    session.add(row)
    session.flush()
    unit.emit(
        RuleOffered(
            actor=actor,
            partner=partner.name,
            rule=version.rule.name,
            version=version.version,
            expression=document["expression"],
            lane=version.lane,
            message_id=message_id,
        )
    )
    return row


def offer_public(row: RuleOfferRow, partner: str) -> dict[str, Any]:
    return {
        "partner": partner,
        "rule": row.rule_name,
        "version": row.rule_version,
        "message_id": row.message_id,
        "state": row.state,
        "offered_at": row.offered_at,
        "offered_by": row.offered_by,
        "answered_at": row.answered_at,
        "answer_note": row.answer_note,
    }


def list_offers(session: Session, *, limit: int = 200) -> list[dict[str, Any]]:
    """The rules we offered, newest first, with what became of each."""
    rows = session.execute(
        select(RuleOfferRow, PartnerRow.name)
        .join(PartnerRow, PartnerRow.id == RuleOfferRow.partner_id)
        .order_by(RuleOfferRow.id.desc())
        .limit(limit)
    )
    return [offer_public(row, name) for row, name in rows]


def _local_name(unit: Unit, partner: PartnerRow, origin_rule: str, author: str) -> str:
    """The rule's name here: the one an earlier offer of it got, else ``<country>:<name>``."""
    earlier = unit.session.scalar(
        select(RuleRow.name)
        .join(RuleVersionRow, RuleVersionRow.rule_id == RuleRow.id)
        .join(RuleReceivedRow, RuleReceivedRow.rule_version_id == RuleVersionRow.id)
        .where(RuleReceivedRow.partner_id == partner.id, RuleReceivedRow.origin_rule == origin_rule)
        .limit(1)
    )
    if earlier is not None:
        return earlier
    name = f"{partner.country}:{origin_rule}"[:120]
    taken = unit.session.scalar(select(RuleRow.created_by).where(RuleRow.name == name))
    if taken is not None and taken != author:
        raise Conflict(
            f"a rule named {name!r} already exists here",
            details=[{"field": "rule.name", "value": origin_rule}],
            code="rule_name_taken",
        )
    return name


@handler(RULE_OFFERED)
def _receive_offer(unit: Unit, message: Incoming) -> dict[str, Any]:
    partner = message.partner
    check_allowed(partner, RULES_KIND, field="kind")
    rule = read_rule(message.body.get("rule"))
    author = f"partner:{partner.name}"[:64]
    name = _local_name(unit, partner, rule.name, author)
    version = rulebook.propose(
        unit,
        name=name,
        expression=rule.expression,
        lane=rule.lane,
        reason=rule.reason,
        instructions=rule.instructions,
        valid_from=rule.valid_from,
        valid_until=rule.valid_until,
        actor=author,
    )
    unit.session.add(
        RuleReceivedRow(
            partner_id=partner.id,
            offer_id=message.message_id,
            origin_rule=rule.name,
            origin_version=rule.version,
            rule_version_id=version.id,
            received_at=clock.now(),
            state=PROPOSED,
        )
    )
    unit.session.flush()
    proposal = f"{name}@{version.version}"
    unit.emit(
        RuleReceived(
            actor=author,
            partner=partner.name,
            offer_id=message.message_id,
            origin_rule=rule.name,
            origin_version=rule.version,
            proposal=proposal,
            expression=rule.expression,
            lane=rule.lane.value,
        )
    )
    return {"proposal": proposal, "state": PROPOSED}


@handler(RULE_ADOPTED)
@handler(RULE_DECLINED)
def _receive_answer(unit: Unit, message: Incoming) -> dict[str, Any]:
    offer_id, note = message.body.get("offer_id"), message.body.get("note") or ""
    if not isinstance(offer_id, str) or not 1 <= len(offer_id) <= 64:
        raise ValidationFailed(
            "message: offer_id: the offer's message id", details=[{"field": "offer_id"}]
        )
    if not isinstance(note, str):
        raise ValidationFailed("message: note: text", details=[{"field": "note"}])
    row = unit.session.scalar(
        select(RuleOfferRow).where(
            RuleOfferRow.message_id == offer_id, RuleOfferRow.partner_id == message.partner.id
        )
    )
    if row is None:
        raise NotFound(
            f"no rule was offered to {message.partner.name} as {offer_id!r}",
            details=[{"field": "offer_id", "value": offer_id}],
        )
    adopted = message.kind == RULE_ADOPTED
    if row.state != OFFERED:
        return {"state": row.state}  # answered before (a re-sent answer changes nothing)
    row.state = ADOPTED if adopted else DECLINED
    row.answered_at = clock.now()
    row.answer_note = note.strip()[:500] or None
    unit.session.flush()
    unit.emit(
        RuleOfferAnswered(
            actor=f"partner:{message.partner.name}"[:64],
            partner=message.partner.name,
            rule=row.rule_name,
            version=row.rule_version,
            message_id=offer_id,
            adopted=adopted,
        )
    )
    return {"state": row.state}
