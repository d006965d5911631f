"""Turning a matter into notification rows: rules → people → channels, with de-duplication
and quiet hours. Runs inside the notifier's transaction; sends nothing.

Each row's ``key`` is the SHA-256 of (ledger record, trigger, subject, rule, person, channel):
reading the same record again (a crash before the cursor moved, another notifier racing)
queues nothing new. Texts are composed now, in the person's language, so a retry re-sends
exactly the same message.

De-duplication: a row whose (trigger and step, matter's ``dedup``, person, channel) equals
one queued within ``notify_dedup_minutes`` is still recorded — state ``suppressed``, naming
the first — so the page shows that the person was not told twice, and why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core.settings import Settings
from smartcustoms.interop.notify.quiet import quiet_until
from smartcustoms.interop.notify.rules import Recipient, recipients
from smartcustoms.interop.notify.states import DEAD, QUEUED, SUPPRESSED
from smartcustoms.interop.notify.tables import NotificationRow, NotifyRule
from smartcustoms.interop.notify.triggers import Matter
from smartcustoms.interop.notify.wording import compose

__all__ = ["notification_key", "queue_matter"]

_NO_ADDRESS = {"email": "no e-mail address on file", "sms": "no phone number on file"}


def notification_key(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def queue_matter(
    session: Session,
    settings: Settings,
    matter: Matter,
    source: str,
    rules: Sequence[NotifyRule],
    now: datetime,
    people_cache: dict[tuple[int, tuple[str, ...]], list[Recipient]] | None = None,
) -> list[NotificationRow]:
    """Queue what ``rules`` say about ``matter`` (from the ledger record ``source``); return
    the rows added (none that already existed). ``people_cache`` keeps each rule's recipients
    for the rest of one transaction (a burst of alerts asks the same question many times)."""
    added = []
    for rule in rules:
        people = None if people_cache is None else people_cache.get((rule.id, matter.offices))
        if people is None:
            people = recipients(session, rule, matter.offices)
            if people_cache is not None:
                people_cache[(rule.id, matter.offices)] = people
        for person in people:
            for channel in rule.channels.split(","):
                row = _queue_one(session, settings, matter, source, rule, person, channel, now)
                if row is not None:
                    added.append(row)
    return added


def _queue_one(
    session: Session,
    settings: Settings,
    matter: Matter,
    source: str,
    rule: NotifyRule,
    person: Recipient,
    channel: str,
    now: datetime,
) -> NotificationRow | None:
    key = notification_key(
        source, matter.trigger, matter.subject, rule.id, person.username, channel
    )
    if session.scalar(select(NotificationRow.id).where(NotificationRow.key == key)) is not None:
        return None
    language = person.language or settings.default_language
    title, body = compose(matter.trigger, matter.params, language, after_minutes=rule.after_minutes)
    dedup = f"{matter.trigger}:{rule.after_minutes}:{matter.dedup}"[:160]
    address = person.address(channel)
    state, error, due = QUEUED, None, now
    if address is None:
        state, error = DEAD, _NO_ADDRESS[channel]
    else:
        first = _told_recently(session, settings, dedup, person.username, channel, now)
        if first is not None:
            state, error = SUPPRESSED, f"same matter told in notification {first}"
        elif not matter.urgent:
            due = quiet_until(now, person.quiet_start, person.quiet_end, person.timezone) or now
    row = NotificationRow(
        key=key,
        rule_id=rule.id,
        username=person.username,
        channel=channel,
        address=address,
        trigger=matter.trigger,
        subject=matter.subject[:96],
        dedup=dedup,
        step=rule.after_minutes,
        language=language,
        title=title,
        body=body,
        state=state,
        tries=0,
        last_error=error,
        created_at=now,
        next_attempt_at=due,
    )
    session.add(row)  # flushed by the next query (autoflush): the dedup check sees it
    return row


def _told_recently(
    session: Session, settings: Settings, dedup: str, username: str, channel: str, now: datetime
) -> int | None:
    if settings.notify_dedup_minutes == 0:
        return None
    since = now - timedelta(minutes=settings.notify_dedup_minutes)
    return session.scalar(
        select(NotificationRow.id)
        .where(
            NotificationRow.dedup == dedup,
            NotificationRow.username == username,
            NotificationRow.channel == channel,
            NotificationRow.created_at >= since,
            NotificationRow.state.not_in((SUPPRESSED, DEAD)),
        )
        .order_by(NotificationRow.id)
        .limit(1)
    )
