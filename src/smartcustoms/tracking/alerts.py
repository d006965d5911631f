"""The alert workflow: acknowledge, assign, comment, escalate to a response team, resolve.

    open ──acknowledge──▶ acknowledged ──escalate──▶ escalated
      │                        │                        │
      └──────escalate──────────┼────────────────────────┤
      └────────────────────────┴──────resolve───────────┴──▶ resolved

Assigning and commenting are allowed at any point before resolution (comments after it too).
Every step is a row with its actor and the seconds since the alert was raised, a live feed entry
with the alert's new state, and an event for the ledger.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, NotFound, ValidationFailed
from smartcustoms.core.i18n import N_
from smartcustoms.core.roles import Role
from smartcustoms.core.unit import Unit
from smartcustoms.core.users import get_user
from smartcustoms.tracking.events import (
    AlertAcknowledged,
    AlertAssigned,
    AlertCommented,
    AlertEscalated,
    AlertResolved,
)
from smartcustoms.tracking.feed import alert_payload, append_feed
from smartcustoms.tracking.tables import AlertRow, AlertStepRow, TransitRow

__all__ = [
    "OUTCOME_LABELS",
    "STATUS_LABELS",
    "AlertStatus",
    "Outcome",
    "acknowledge_alert",
    "assign_alert",
    "comment_alert",
    "escalate_alert",
    "get_alert",
    "resolve_alert",
]


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


class Outcome(StrEnum):
    FALSE_ALARM = "false_alarm"
    DEVICE_FAULT = "device_fault"
    AUTHORISED = "authorised"  # an authorised stop, opening or detour
    TAMPERING_CONFIRMED = "tampering_confirmed"
    GOODS_MISSING = "goods_missing"
    OTHER = "other"


STATUS_LABELS = {
    AlertStatus.OPEN: N_("open"),
    AlertStatus.ACKNOWLEDGED: N_("acknowledged"),
    AlertStatus.ESCALATED: N_("escalated"),
    AlertStatus.RESOLVED: N_("resolved"),
}
OUTCOME_LABELS = {
    Outcome.FALSE_ALARM: N_("False alarm"),
    Outcome.DEVICE_FAULT: N_("Device fault"),
    Outcome.AUTHORISED: N_("Authorised (stop, opening or detour)"),
    Outcome.TAMPERING_CONFIRMED: N_("Tampering confirmed"),
    Outcome.GOODS_MISSING: N_("Goods missing"),
    Outcome.OTHER: N_("Other"),
}

_NOT_RESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.ESCALATED)
_MAX_NOTE = 2000


def get_alert(session: Session, alert_id: int) -> AlertRow:
    row = session.get(AlertRow, alert_id)
    if row is None:
        raise NotFound(f"no alert {alert_id}", details=[{"alert_id": alert_id}])
    return row


def _require(row: AlertRow, allowed: tuple[AlertStatus, ...], action: str) -> None:
    if row.status not in allowed:
        raise Conflict(
            f"alert {row.id} is {row.status}: it cannot be {action}",
            details=[{"status": row.status, "allowed": [a.value for a in allowed]}],
        )


def _note(note: str | None, required: bool = False) -> str | None:
    text = (note or "").strip()
    if len(text) > _MAX_NOTE:
        raise ValidationFailed(f"note: at most {_MAX_NOTE} characters", details=[{"field": "note"}])
    if required and not text:
        raise ValidationFailed("note: say something", details=[{"field": "note"}])
    return text or None


def _record(
    unit: Unit,
    row: AlertRow,
    action: str,
    actor: str,
    now: datetime,
    *,
    value: str | None = None,
    note: str | None = None,
) -> int:
    """Record the step; return the milliseconds since the alert was raised."""
    elapsed = max(0.0, (now - row.raised_at).total_seconds())
    unit.session.add(
        AlertStepRow(
            alert_id=row.id,
            action=action,
            at=now,
            actor=actor,
            elapsed_s=round(elapsed, 3),
            value=value,
            note=note,
        )
    )
    reference = unit.session.scalars(
        select(TransitRow.reference).where(TransitRow.id == row.transit_id)
    ).one()
    unit.session.flush()
    append_feed(unit.session, [("alert", row.transit_id, alert_payload(row, reference))], now)
    return round(elapsed * 1000)


def acknowledge_alert(
    unit: Unit, alert_id: int, *, actor: str, note: str | None = None
) -> AlertRow:
    """An operator has seen the alert and owns it until someone else is assigned."""
    row = get_alert(unit.session, alert_id)
    _require(row, (AlertStatus.OPEN,), "acknowledged")
    now = clock.now()
    row.status = AlertStatus.ACKNOWLEDGED.value
    row.acknowledged_at = now
    if row.assignee is None:
        row.assignee = actor
    elapsed = _record(unit, row, "acknowledged", actor, now, note=_note(note))
    unit.emit(AlertAcknowledged(actor=actor, at=now, alert_id=row.id, elapsed_ms=elapsed))
    return row


def assign_alert(unit: Unit, alert_id: int, *, actor: str, assignee: str) -> AlertRow:
    """Give the alert to an operator (a user holding the command-centre role)."""
    row = get_alert(unit.session, alert_id)
    _require(row, _NOT_RESOLVED, "assigned")
    user = get_user(unit.session, assignee)
    if user is None or user.disabled or Role.COMMAND_CENTRE_OPERATOR.value not in user.roles:
        raise ValidationFailed(
            f"assignee: {assignee!r} is not an active command-centre operator",
            details=[{"field": "assignee", "found": assignee}],
        )
    now = clock.now()
    row.assignee = assignee
    elapsed = _record(unit, row, "assigned", actor, now, value=assignee)
    unit.emit(
        AlertAssigned(actor=actor, at=now, alert_id=row.id, assignee=assignee, elapsed_ms=elapsed)
    )
    return row


def comment_alert(unit: Unit, alert_id: int, *, actor: str, note: str) -> AlertRow:
    row = get_alert(unit.session, alert_id)
    text = _note(note, required=True)
    assert text is not None
    now = clock.now()
    elapsed = _record(unit, row, "commented", actor, now, note=text)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    unit.emit(
        AlertCommented(actor=actor, at=now, alert_id=row.id, note_sha256=digest, elapsed_ms=elapsed)
    )
    return row


def escalate_alert(
    unit: Unit, alert_id: int, *, actor: str, team: str, note: str | None = None
) -> AlertRow:
    """Dispatch a response team (a mobile unit, the border post, the police)."""
    row = get_alert(unit.session, alert_id)
    _require(row, (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED), "escalated")
    team = team.strip()
    if not 1 <= len(team) <= 64:
        raise ValidationFailed(
            "team: the response team, 1 to 64 characters", details=[{"field": "team"}]
        )
    now = clock.now()
    row.status = AlertStatus.ESCALATED.value
    row.team = team
    if row.acknowledged_at is None:
        row.acknowledged_at = now
    if row.assignee is None:
        row.assignee = actor
    elapsed = _record(unit, row, "escalated", actor, now, value=team, note=_note(note))
    unit.emit(AlertEscalated(actor=actor, at=now, alert_id=row.id, team=team, elapsed_ms=elapsed))
    return row


def resolve_alert(
    unit: Unit, alert_id: int, *, actor: str, outcome: str, note: str | None = None
) -> AlertRow:
    """Close the alert with what it turned out to be. A new trigger raises a new alert."""
    row = get_alert(unit.session, alert_id)
    _require(row, _NOT_RESOLVED, "resolved")
    if outcome not in Outcome._value2member_map_:
        raise ValidationFailed(
            f"outcome: one of {', '.join(o.value for o in Outcome)}",
            details=[{"field": "outcome", "found": outcome}],
        )
    now = clock.now()
    row.status = AlertStatus.RESOLVED.value
    row.outcome = outcome
    row.open_key = None
    row.resolved_at = now
    if row.acknowledged_at is None:
        row.acknowledged_at = now
    elapsed = _record(unit, row, "resolved", actor, now, value=outcome, note=_note(note))
    unit.emit(
        AlertResolved(actor=actor, at=now, alert_id=row.id, outcome=outcome, elapsed_ms=elapsed)
    )
    return row
