"""Who is told of what: rules per trigger, role (or one person) and office.

A rule with ``after_minutes`` = 0 tells people as soon as the matter arises; with N > 0 it is a
step of the escalation chain: it fires only if the matter still waits N minutes later (the alert
not acknowledged, the rule version not decided, the scan not re-checked). Chains are therefore
rules of one trigger ordered by their minutes: the operators at once, the supervisor after 10,
the head of the command centre after 30.

Whom a rule reaches: the enabled users holding its role (or the one user it names). A rule
with an office applies only to matters at that office; a person whose contact names an office
is told only of matters at that office or at none (rule approvals are national).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import NotFound, ValidationFailed
from smartcustoms.core.events import AdminAction
from smartcustoms.core.roles import ALL_ROLES
from smartcustoms.core.tables import User, UserRole
from smartcustoms.core.unit import Unit
from smartcustoms.core.users import get_user
from smartcustoms.interop.notify.contacts import parse_office
from smartcustoms.interop.notify.cursor import ensure_cursor
from smartcustoms.interop.notify.tables import NotifyContact, NotifyRule
from smartcustoms.interop.notify.triggers import TRIGGERS

__all__ = ["CHANNELS", "Recipient", "add_rule", "list_rules", "recipients", "remove_rule"]

CHANNELS = ("email", "sms")
_WATCHED = ("alert_critical", "rule_approval", "scan_recheck")
_MAX_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class Recipient:
    username: str
    language: str
    email: str | None
    phone: str | None
    quiet_start: str | None
    quiet_end: str | None
    timezone: str

    def address(self, channel: str) -> str | None:
        return self.email if channel == "email" else self.phone


def parse_channels(values: Sequence[str]) -> str:
    chosen = [c.strip().lower() for c in values if c.strip()]
    bad = [c for c in chosen if c not in CHANNELS]
    if not chosen or bad:
        raise ValidationFailed(
            f"channels: one or more of {', '.join(CHANNELS)}",
            details=[{"field": "channels", "found": ",".join(bad)[:40]}],
        )
    return ",".join(c for c in CHANNELS if c in chosen)


def add_rule(
    unit: Unit,
    *,
    trigger: str,
    channels: Sequence[str],
    role: str | None = None,
    username: str | None = None,
    office: str | None = None,
    after_minutes: int = 0,
    actor: str,
) -> NotifyRule:
    if trigger not in TRIGGERS:
        raise ValidationFailed(
            f"trigger: one of {', '.join(TRIGGERS)}",
            details=[{"field": "trigger", "found": trigger[:40]}],
        )
    role = (role or "").strip() or None
    username = (username or "").strip().lower() or None
    if (role is None) == (username is None):
        raise ValidationFailed(
            "a rule names either a role or one user", details=[{"field": "role"}]
        )
    if role is not None and role not in {r.value for r in ALL_ROLES}:
        raise ValidationFailed(
            f"role: one of {', '.join(sorted(r.value for r in ALL_ROLES))}",
            details=[{"field": "role", "found": role[:40]}],
        )
    if username is not None:
        get_user(unit.session, username)  # NotFound names the field
    if not 0 <= after_minutes <= _MAX_MINUTES:
        raise ValidationFailed(
            f"after_minutes: 0 (at once) to {_MAX_MINUTES}",
            details=[{"field": "after_minutes", "found": after_minutes}],
        )
    if after_minutes and trigger not in _WATCHED:
        raise ValidationFailed(
            f"after_minutes: {trigger} is told once; escalation steps are for "
            f"{', '.join(_WATCHED)}",
            details=[{"field": "after_minutes"}],
        )
    row = NotifyRule(
        trigger=trigger,
        role=role,
        username=username,
        office=parse_office(office),
        channels=parse_channels(channels),
        after_minutes=after_minutes,
        created_at=clock.now(),
        created_by=actor,
    )
    unit.session.add(row)
    unit.session.flush()
    # Notifications begin with the first rule: the notifier reads the ledger from here on,
    # never the history written before anyone asked to be told.
    ensure_cursor(unit.session.connection())
    unit.emit(
        AdminAction(
            actor=actor,
            action="notify_rule_added",
            target=f"{row.id}:{trigger}:{role or username}:{row.channels}:{after_minutes}",
        )
    )
    return row


def remove_rule(unit: Unit, rule_id: int, *, actor: str) -> NotifyRule:
    row = unit.session.get(NotifyRule, rule_id)
    if row is None:
        raise NotFound(f"no notification rule {rule_id}", details=[{"field": "rule_id"}])
    unit.session.delete(row)
    unit.session.flush()
    unit.emit(AdminAction(actor=actor, action="notify_rule_removed", target=str(rule_id)))
    return row


def list_rules(session: Session, trigger: str | None = None) -> Sequence[NotifyRule]:
    query = select(NotifyRule).order_by(NotifyRule.trigger, NotifyRule.after_minutes, NotifyRule.id)
    if trigger is not None:
        query = query.where(NotifyRule.trigger == trigger)
    return session.scalars(query).all()


def recipients(session: Session, rule: NotifyRule, offices: Sequence[str]) -> list[Recipient]:
    """The people ``rule`` tells about a matter at ``offices`` (none: a national matter)."""
    if rule.office is not None and rule.office not in offices:
        return []
    query = (
        select(User, NotifyContact)
        .outerjoin(NotifyContact, NotifyContact.user_id == User.id)
        .where(User.disabled.is_(False))
        .order_by(User.username)
    )
    if rule.username is not None:
        query = query.where(User.username == rule.username)
    else:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == rule.role)))
    out = []
    for user, contact in session.execute(query).all():
        if contact is not None and contact.office and offices and contact.office not in offices:
            continue
        out.append(
            Recipient(
                username=user.username,
                language=user.language if user.language in ("en", "fr", "ar") else "",
                email=contact.email if contact else None,
                phone=contact.phone if contact else None,
                quiet_start=contact.quiet_start if contact else None,
                quiet_end=contact.quiet_end if contact else None,
                timezone=contact.timezone if contact else "UTC",
            )
        )
    return out
