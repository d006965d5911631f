"""How to reach each person: e-mail, phone (E.164), office, quiet hours and time zone.

Administrators set them; each change is an ``admin.action`` ledger record naming the user
(never the address itself: the ledger is public to partners, phone numbers are personal).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.events import AdminAction
from smartcustoms.core.tables import User
from smartcustoms.core.unit import Unit
from smartcustoms.core.users import get_user
from smartcustoms.interop.notify.quiet import parse_clock, parse_zone
from smartcustoms.interop.notify.tables import NotifyContact

__all__ = ["ContactView", "list_contacts", "parse_email", "parse_office", "set_contact"]

# One address, no spaces or line breaks (a header injection needs a line break).
_EMAIL = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
_OFFICE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


def parse_email(value: str, field: str = "email") -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value) or "." not in value.rpartition("@")[2]:
        raise ValidationFailed(
            f"{field}: one e-mail address such as officer@customs.example",
            details=[{"field": field, "found": value[:80]}],
        )
    return value


def parse_phone(value: str, field: str = "phone") -> str:
    compact = re.sub(r"[\s().-]", "", value)
    if not _PHONE.match(compact):
        raise ValidationFailed(
            f"{field}: an international number in E.164 form such as +254700000001",
            details=[{"field": field, "found": value[:40]}],
        )
    return compact


def parse_office(value: str | None, field: str = "office") -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if not _OFFICE.match(text):
        raise ValidationFailed(
            f"{field}: an office or zone code (letters, digits, . _ -; at most 32), "
            f"got {text[:40]!r}",
            details=[{"field": field, "found": text[:40]}],
        )
    return text


@dataclass(frozen=True)
class ContactView:
    username: str
    display_name: str
    disabled: bool
    roles: frozenset[str]
    language: str | None
    contact: NotifyContact | None


def set_contact(
    unit: Unit,
    username: str,
    *,
    email: str | None,
    phone: str | None,
    office: str | None,
    quiet_start: str | None,
    quiet_end: str | None,
    timezone: str = "UTC",
    actor: str,
) -> NotifyContact:
    """Create or replace ``username``'s contact details. Empty values clear a field."""
    user = get_user(unit.session, username)
    start = parse_clock(quiet_start, "quiet_start") if quiet_start else None
    end = parse_clock(quiet_end, "quiet_end") if quiet_end else None
    if (start is None) != (end is None):
        raise ValidationFailed(
            "quiet hours need both a start and an end",
            details=[{"field": "quiet_end" if start else "quiet_start"}],
        )
    values = {
        "email": parse_email(email) if email and email.strip() else None,
        "phone": parse_phone(phone) if phone and phone.strip() else None,
        "office": parse_office(office),
        "quiet_start": start,
        "quiet_end": end,
        "timezone": parse_zone(timezone.strip() or "UTC"),
        "updated_at": clock.now(),
        "updated_by": actor,
    }
    row = unit.session.get(NotifyContact, user.id)
    if row is None:
        row = NotifyContact(user_id=user.id, **values)
        unit.session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    unit.session.flush()
    unit.emit(AdminAction(actor=actor, action="notify_contact_set", target=user.username))
    return row


def list_contacts(session: Session) -> Sequence[ContactView]:
    """Every user with their contact details (None where none were set)."""
    rows = session.execute(
        select(User, NotifyContact)
        .outerjoin(NotifyContact, NotifyContact.user_id == User.id)
        .order_by(User.username)
    ).all()
    return [
        ContactView(u.username, u.display_name, u.disabled, u.roles, u.language, c) for u, c in rows
    ]
