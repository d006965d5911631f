"""Seizure and irregularity notices: what was found, published to partners, searchable there.

A notice says what an examination found, never who: its fields are exactly

    kind          seizure | irregularity
    found         what was found, 1-500 characters
    hs_code       the goods' HS code, 6 to 10 digits (the subheading checked against the HS
                  edition in force on found_on)
    route         the route or corridor, 1-200 characters (e.g. "Mombasa - Malaba - Kampala")
    concealment   how it was hidden, 1-300 characters ("none" when it was not)
    quantity      a number above 0
    unit          kg | t | l | m3 | pieces | packages | cartons
    found_on      the date of the finding (ISO 8601), not in the future

and any other field is refused by name. Deliberately absent, so that no personal data leaves
under the agreements this is built for: people's names (traders, drivers, declarants,
officers), identity, passport and tax numbers, addresses, telephone numbers, vehicle
registrations, container and seal numbers, declaration references. The publishing officer's
username stays here (``published_by``); the partner sees the administration only.

:func:`publish_notice` stores ours and queues one ``notice.published`` message per chosen
partner (each must be allowed ``notices`` in the directory), in one transaction; the handler
stores a partner's notice once per (administration, notice id); :func:`search_notices` finds
them by words and HS code.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.unit import Unit
from smartcustoms.federation.allowed import check_allowed
from smartcustoms.federation.directory import get_partner
from smartcustoms.federation.exchange_events import NoticePublished, NoticeReceived
from smartcustoms.federation.exchange_tables import NoticeRecipientRow, NoticeRow
from smartcustoms.federation.inbox import Incoming, handler
from smartcustoms.federation.outbox import enqueue
from smartcustoms.federation.tables import PartnerRow
from smartcustoms.reference.hs import edition_for

__all__ = [
    "NOTICES_KIND",
    "NOTICE_FIELDS",
    "NOTICE_KINDS",
    "NOTICE_PUBLISHED",
    "UNITS",
    "Notice",
    "notice_public",
    "publish_notice",
    "read_notice",
    "search_notices",
]

NOTICE_PUBLISHED: Final = "notice.published"
NOTICES_KIND: Final = "notices"
NOTICE_KINDS: Final = ("seizure", "irregularity")
UNITS: Final = ("kg", "t", "l", "m3", "pieces", "packages", "cartons")
NOTICE_FIELDS: Final = (
    "kind",
    "found",
    "hs_code",
    "route",
    "concealment",
    "quantity",
    "unit",
    "found_on",
)
_HS = re.compile(r"^[0-9]{6,10}$")
_NOTICE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_MAX_QUANTITY = Decimal("1e12")


@dataclass(frozen=True)
class Notice:
    kind: str
    found: str
    hs_code: str
    route: str
    concealment: str
    quantity: Decimal
    unit: str
    found_on: date

    def wire(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "found": self.found,
            "hs_code": self.hs_code,
            "route": self.route,
            "concealment": self.concealment,
            "quantity": str(self.quantity),
            "unit": self.unit,
            "found_on": self.found_on.isoformat(),
        }


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"notice: {field}: {message}", details=[{"field": field}])


def _text(doc: dict[str, Any], key: str, limit: int) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not 1 <= len(" ".join(value.split())) <= limit:
        raise _invalid(key, f"text of 1 to {limit} characters")
    return " ".join(value.split())


def _choice(doc: dict[str, Any], key: str, choices: Sequence[str]) -> str:
    value = doc.get(key)
    if value not in choices:
        raise _invalid(key, f"one of {', '.join(choices)}")
    return str(value)


def _quantity(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _invalid("quantity", "a number above 0")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _invalid("quantity", "a number above 0") from None
    if not number.is_finite() or not 0 < number < _MAX_QUANTITY:
        raise _invalid("quantity", "a number above 0 and below 10^12")
    return number.quantize(Decimal("0.001"))


def _found_on(value: Any) -> date:
    try:
        day = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    if day is None:
        raise _invalid("found_on", "a date, YYYY-MM-DD")
    # A day of slack: the partner's calendar may already be on tomorrow.
    if day > clock.now().date() + timedelta(days=1) or day.year < 2000:
        raise _invalid("found_on", "a date from 2000 on, not in the future")
    return day


def read_notice(doc: Any) -> Notice:
    """The notice in ``doc`` (a JSON object of :data:`NOTICE_FIELDS`, nothing else)."""
    if not isinstance(doc, dict):
        raise _invalid("notice", "a JSON object")
    extra = sorted(k for k in doc if k not in NOTICE_FIELDS)
    if extra:
        raise _invalid(extra[0], "not a field of a notice (no personal data is shared)")
    found_on = _found_on(doc.get("found_on"))
    hs_code = doc.get("hs_code")
    if not isinstance(hs_code, str) or not _HS.match(hs_code):
        raise _invalid("hs_code", "6 to 10 digits")
    why = edition_for(found_on).check(hs_code[:6])
    if why is not None:
        raise _invalid("hs_code", why)
    return Notice(
        kind=_choice(doc, "kind", NOTICE_KINDS),
        found=_text(doc, "found", 500),
        hs_code=hs_code,
        route=_text(doc, "route", 200),
        concealment=_text(doc, "concealment", 300),
        quantity=_quantity(doc.get("quantity")),
        unit=_choice(doc, "unit", UNITS),
        found_on=found_on,
    )


def _recipients(session: Session, names: Sequence[str]) -> list[PartnerRow]:
    if not names:
        raise _invalid("partners", "at least one partner")
    found: list[PartnerRow] = []
    for name in dict.fromkeys(names):
        partner = get_partner(session, name, field="partners")
        check_allowed(partner, NOTICES_KIND, field="partners")
        found.append(partner)
    return found


def publish_notice(
    unit: Unit, doc: Any, partners: Sequence[str], *, own_name: str, actor: str
) -> NoticeRow:
    """Store our notice and queue it to each of ``partners``, all or nothing."""
    notice = read_notice(doc)
    recipients = _recipients(unit.session, partners)
    now = clock.now()
    row = NoticeRow(
        notice_id=str(uuid.uuid4()),
        origin=own_name[:120],
        partner_id=None,
        **_columns(notice),
        published_at=now,
        published_by=actor[:64],
    )
    unit.session.add(row)
    unit.session.flush()
    body = {"notice_id": row.notice_id, "published_at": now.isoformat(), "notice": notice.wire()}
    conn = unit.session.connection()
    for partner in recipients:
        message_id = enqueue(conn, partner.id, NOTICE_PUBLISHED, body, at=now)
        unit.session.add(
            NoticeRecipientRow(notice_id=row.id, partner_id=partner.id, message_id=message_id)
        )
    unit.session.flush()
    unit.emit(
        NoticePublished(
            actor=actor,
            notice_id=row.notice_id,
            kind=notice.kind,
            hs_code=notice.hs_code,
            found_on=notice.found_on.isoformat(),
            partners=tuple(p.name for p in recipients),
        )
    )
    return row


def _columns(notice: Notice) -> dict[str, Any]:
    return {
        "kind": notice.kind,
        "found": notice.found,
        "hs_code": notice.hs_code,
        "route": notice.route,
        "concealment": notice.concealment,
        "quantity": notice.quantity,
        "unit": notice.unit,
        "found_on": notice.found_on,
    }


@handler(NOTICE_PUBLISHED)
def _receive_notice(unit: Unit, message: Incoming) -> dict[str, Any]:
    partner = message.partner
    check_allowed(partner, NOTICES_KIND, field="kind")
    notice_id = message.body.get("notice_id")
    if not isinstance(notice_id, str) or not _NOTICE_ID.match(notice_id):
        raise _invalid("notice_id", "a UUID in lower case")
    notice = read_notice(message.body.get("notice"))
    published = message.body.get("published_at")
    try:
        published_at = datetime.fromisoformat(published) if isinstance(published, str) else None
    except ValueError:
        published_at = None
    if published_at is None or published_at.tzinfo is None:
        raise _invalid("published_at", "an ISO 8601 time with its offset")
    known = unit.session.scalar(
        select(NoticeRow.id).where(
            NoticeRow.origin == partner.name, NoticeRow.notice_id == notice_id
        )
    )
    if known is not None:
        return {"notice": notice_id, "stored": False}
    unit.session.add(
        NoticeRow(
            notice_id=notice_id,
            origin=partner.name,
            partner_id=partner.id,
            **_columns(notice),
            published_at=published_at,
            published_by=f"partner:{partner.name}"[:64],
            received_at=clock.now(),
        )
    )
    unit.session.flush()
    unit.emit(
        NoticeReceived(
            actor=f"partner:{partner.name}"[:64],
            partner=partner.name,
            notice_id=notice_id,
            kind=notice.kind,
            hs_code=notice.hs_code,
            found_on=notice.found_on.isoformat(),
        )
    )
    return {"notice": notice_id, "stored": True}


def notice_public(row: NoticeRow) -> dict[str, Any]:
    return {
        "notice_id": row.notice_id,
        "origin": row.origin,
        "received": row.partner_id is not None,
        "kind": row.kind,
        "found": row.found,
        "hs_code": row.hs_code,
        "route": row.route,
        "concealment": row.concealment,
        "quantity": row.quantity,
        "unit": row.unit,
        "found_on": row.found_on,
        "published_at": row.published_at,
    }


def _like(words: str) -> str:
    escaped = words.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_notices(
    session: Session, *, q: str = "", hs: str = "", limit: int = 100
) -> list[NoticeRow]:
    """Notices (ours and partners'), newest finding first: each word of ``q`` in what was
    found, the route or the concealment; ``hs`` a prefix of the HS code (2 to 10 digits)."""
    query = select(NoticeRow)
    if hs:
        if not hs.isdigit() or not 2 <= len(hs) <= 10:
            raise _invalid("hs", "2 to 10 digits, the start of an HS code")
        query = query.where(NoticeRow.hs_code.startswith(hs))
    for word in q.split()[:8]:
        pattern = _like(word)
        query = query.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (NoticeRow.found, NoticeRow.route, NoticeRow.concealment)
                )
            )
        )
    query = query.order_by(NoticeRow.found_on.desc(), NoticeRow.id.desc()).limit(limit)
    return list(session.scalars(query))
