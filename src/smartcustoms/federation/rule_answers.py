"""A partner's rule, reviewed here, answers back: ``rule.adopted`` or ``rule.declined``.

A rule a partner offered is a draft in our rulebook (:mod:`.rules_offered`), reviewed through
the rulebook's own four-eyes flow by whatever path (API, page, command). That review emits
``risk_rule_approved`` / ``risk_rule_rejected``; this recorder, on the bus, sees it in the
review's transaction and queues the answer to the partner there, so the review and its answer
commit together. It imports nothing heavy: most transactions review no rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import Connection, select, update

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.events import AdminAction, Event
from smartcustoms.federation.exchange_tables import ADOPTED, DECLINED, PROPOSED, RuleReceivedRow
from smartcustoms.federation.outbox import enqueue

__all__ = ["RULE_ADOPTED", "RULE_DECLINED", "attach_rule_answers", "record_rule_answers"]

RULE_ADOPTED: Final = "rule.adopted"
RULE_DECLINED: Final = "rule.declined"

_REVIEWS: Final = {"risk_rule_approved": True, "risk_rule_rejected": False}
_SERVICE: Final = "federation.rule_answers"


def record_rule_answers(conn: Connection, events: Sequence[Event]) -> None:
    """Queue the answer to each partner's rule reviewed in this transaction."""
    for event in events:
        if not isinstance(event, AdminAction) or event.action not in _REVIEWS:
            continue
        # Here only: the risk package loads its models and a command that reviews no rule
        # (most) starts without them.
        from smartcustoms.risk.tables import RuleRow, RuleVersionRow

        name, _, number = event.target.rpartition("@")
        if not number.isdigit():
            continue
        found = conn.execute(
            select(
                RuleReceivedRow.id,
                RuleReceivedRow.partner_id,
                RuleReceivedRow.offer_id,
                RuleReceivedRow.origin_rule,
                RuleReceivedRow.origin_version,
                RuleVersionRow.review_note,
            )
            .join(RuleVersionRow, RuleVersionRow.id == RuleReceivedRow.rule_version_id)
            .join(RuleRow, RuleRow.id == RuleVersionRow.rule_id)
            .where(
                RuleRow.name == name,
                RuleVersionRow.version == int(number),
                RuleReceivedRow.state == PROPOSED,
            )
        ).first()
        if found is None:
            continue  # one of our own rules
        adopted = _REVIEWS[event.action]
        now = clock.now()
        conn.execute(
            update(RuleReceivedRow)
            .where(RuleReceivedRow.id == found.id)
            .values(state=ADOPTED if adopted else DECLINED, answered_at=now)
        )
        enqueue(
            conn,
            found.partner_id,
            RULE_ADOPTED if adopted else RULE_DECLINED,
            {
                "offer_id": found.offer_id,
                "rule": found.origin_rule,
                "version": found.origin_version,
                "note": found.review_note or "",
            },
            at=now,
        )


def attach_rule_answers(ctx: AppContext) -> None:
    """Put the recorder on ``ctx``'s bus (once)."""
    if _SERVICE not in ctx.services:
        ctx.services[_SERVICE] = record_rule_answers
        ctx.bus.subscribe_recorder(record_rule_answers)
