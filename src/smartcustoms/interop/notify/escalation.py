"""The escalation chain: a matter that still waits N minutes later goes to the next person.

A watched matter (see :mod:`.triggers`) opens a row in ``notify_watches`` when its record is
read; the record that ends the wait (acknowledged, decided, re-checked) closes it and cancels
the escalation notifications not yet sent. On every tick the notifier applies each escalation
rule (``after_minutes`` > 0) whose delay has passed and that the watch has not applied yet
(``fired``), so a chain fires each step once, in order of minutes, and stops when the matter
is settled. Watches older than the longest step possible are closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smartcustoms.core.settings import Settings
from smartcustoms.interop.notify.planner import queue_matter
from smartcustoms.interop.notify.states import CANCELLED, FAILED, QUEUED
from smartcustoms.interop.notify.tables import NotificationRow, NotifyRule, NotifyWatch
from smartcustoms.interop.notify.triggers import Matter

__all__ = ["close_watch", "fire_due", "open_watch"]

_LONGEST = timedelta(days=7, hours=1)


def open_watch(session: Session, matter: Matter, source: str, started_at: datetime) -> None:
    exists = session.scalar(
        select(NotifyWatch.id).where(
            NotifyWatch.trigger == matter.trigger, NotifyWatch.subject == matter.subject[:96]
        )
    )
    if exists is None:
        session.add(
            NotifyWatch(
                trigger=matter.trigger,
                subject=matter.subject[:96],
                source=source,
                offices=list(matter.offices),
                params={**matter.params, "dedup": matter.dedup},
                fired=[],
                started_at=started_at,
            )
        )
        session.flush()


def close_watch(session: Session, trigger: str, subject: str, now: datetime) -> int:
    """Close the watch; cancel its escalation notifications still waiting. Returns how many."""
    session.execute(
        update(NotifyWatch)
        .where(
            NotifyWatch.trigger == trigger,
            NotifyWatch.subject == subject[:96],
            NotifyWatch.closed_at.is_(None),
        )
        .values(closed_at=now)
    )
    result = session.connection().execute(
        update(NotificationRow)
        .where(
            NotificationRow.trigger == trigger,
            NotificationRow.subject == subject[:96],
            NotificationRow.step > 0,
            NotificationRow.state.in_((QUEUED, FAILED)),
        )
        .values(state=CANCELLED, last_error="settled before it was sent")
    )
    return int(result.rowcount or 0)


def _escalation_rules(session: Session) -> dict[str, list[NotifyRule]]:
    rules: dict[str, list[NotifyRule]] = {}
    for rule in session.scalars(
        select(NotifyRule).where(NotifyRule.after_minutes > 0).order_by(NotifyRule.after_minutes)
    ):
        rules.setdefault(rule.trigger, []).append(rule)
    return rules


def due_steps(
    session: Session, now: datetime, *, lock: bool = False
) -> list[tuple[NotifyWatch, Sequence[NotifyRule]]]:
    """Open watches with the escalation rules whose time has come and that they have not
    applied. The notifier asks this read-only before it opens a write transaction; ``lock``
    takes the watches (PostgreSQL ``FOR UPDATE SKIP LOCKED``: another notifier's are left to
    it), so two notifiers never apply the same step at once."""
    rules = _escalation_rules(session)
    if not rules:
        return []
    out: list[tuple[NotifyWatch, Sequence[NotifyRule]]] = []
    query = (
        select(NotifyWatch)
        .where(NotifyWatch.closed_at.is_(None), NotifyWatch.trigger.in_(list(rules)))
        .order_by(NotifyWatch.id)
    )
    if lock:
        query = query.with_for_update(skip_locked=True)
    for watch in session.scalars(query):
        waited = now - watch.started_at
        due = [
            r
            for r in rules[watch.trigger]
            if r.id not in watch.fired and timedelta(minutes=r.after_minutes) <= waited
        ]
        if due:
            out.append((watch, due))
    return out


def fire_due(session: Session, settings: Settings, now: datetime) -> int:
    """Apply every due escalation step (in the caller's write transaction); close watches
    past the longest chain. Returns the notifications queued."""
    queued = 0
    for watch, rules in due_steps(session, now, lock=True):
        params = dict(watch.params)
        dedup = str(params.pop("dedup", watch.subject))
        matter = Matter(
            watch.trigger, watch.subject, dedup, params, tuple(watch.offices), watch=True
        )
        queued += len(queue_matter(session, settings, matter, watch.source, rules, now))
        watch.fired = sorted({*watch.fired, *(r.id for r in rules)})
    session.execute(
        update(NotifyWatch)
        .where(NotifyWatch.closed_at.is_(None), NotifyWatch.started_at < now - _LONGEST)
        .values(closed_at=now)
    )
    session.flush()
    return queued
