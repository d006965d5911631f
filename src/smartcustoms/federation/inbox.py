"""The message inbox: a partner's verified message, accepted once, dispatched by kind.

A message is one JSON object ``{"id": "...", "kind": "...", "body": {...}}``. ``id`` (1 to 64
characters of ``A-Z a-z 0-9 . _ : -``, chosen by the sender, a UUID in practice) makes delivery
idempotent: the inbox row is claimed first, unique on (partner, id), so a redelivered message —
the sender retrying after a lost answer — gets the answer stored the first time, marked
``"duplicate": true``, and its handler never runs twice. The same id with another body is a
409 ``message_id_reused``. Handlers register per kind (:func:`handler`); ``partner.hello``
(a ping) is the first; hand-over, scans, rules and notices add theirs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, ValidationFailed
from smartcustoms.core.jsontext import loads
from smartcustoms.core.settings import Settings
from smartcustoms.core.unit import Unit
from smartcustoms.federation.events import MessageReceived
from smartcustoms.federation.tables import InboxRow, PartnerRow

__all__ = ["HANDLERS", "INBOX_PATH", "Incoming", "handler", "receive"]

INBOX_PATH: Final = "/federation/v1/messages"
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_KIND = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")


@dataclass(frozen=True)
class Incoming:
    partner: PartnerRow
    message_id: str
    kind: str
    body: dict[str, Any]
    own_name: str
    #: Take a handed-over transit's responsibility at once (SMARTCUSTOMS_FEDERATION_AUTO_ACCEPT).
    auto_accept: bool = False
    #: This instance's settings, for handlers that store files (a shared scan's scan store).
    settings: Settings | None = None


Handler = Callable[[Unit, Incoming], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}
#: Kinds whose inbox row keeps the message's SHA-256, not the message: what they carry is kept
#: elsewhere (a scan piece's bytes on disk until its scan is put together), and a copy here would
#: keep every scan received in pieces in the database a second time, as base64.
DIGEST_ONLY: set[str] = set()


def handler(kind: str, *, keep_body: bool = True) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        if not keep_body:
            DIGEST_ONLY.add(kind)
        return fn

    return register


@handler("partner.hello")
def _hello(unit: Unit, message: Incoming) -> dict[str, Any]:
    """A ping: the partner checks that we know its key and answer. The inbox row and its
    ledger record are the trace."""
    return {"hello": message.partner.name, "from": message.own_name}


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"message: {field}: {message}", details=[{"field": field}])


def receive(
    unit: Unit,
    partner: PartnerRow,
    raw: bytes,
    *,
    own_name: str,
    auto_accept: bool = False,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Accept ``raw`` from ``partner`` (already verified) and return the answer."""
    doc = loads(raw, "message")
    if not isinstance(doc, dict):
        raise _invalid("message", "a JSON object")
    message_id, kind, body = doc.get("id"), doc.get("kind"), doc.get("body", {})
    if not isinstance(message_id, str) or not _MESSAGE_ID.match(message_id):
        raise _invalid("id", "1 to 64 characters of A-Z a-z 0-9 . _ : -")
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise _invalid("kind", "a message kind such as partner.hello")
    if not isinstance(body, dict):
        raise _invalid("body", "a JSON object")
    fn = HANDLERS.get(kind)
    if fn is None:
        raise _invalid("kind", f"{kind!r} is not a kind this instance receives")
    digest = hashlib.sha256(raw).hexdigest()
    text = f"sha256:{digest}" if kind in DIGEST_ONLY else raw.decode("utf-8")
    # Claim the id first, in a savepoint: a concurrent delivery of the same message waits on
    # the unique key (PostgreSQL) and then finds the claim; SQLite serialises writers.
    row = InboxRow(
        partner_id=partner.id,
        message_id=message_id,
        kind=kind,
        body=text,
        answer="{}",
        received_at=clock.now(),
    )
    try:
        with unit.session.begin_nested():
            unit.session.add(row)
            unit.session.flush()
    except IntegrityError:
        row = _existing(unit, partner, message_id)
    else:
        answer = fn(
            unit, Incoming(partner, message_id, kind, body, own_name, auto_accept, settings)
        )
        row.answer = json.dumps(answer, ensure_ascii=False, sort_keys=True)
        unit.session.flush()
        unit.emit(
            MessageReceived(
                actor=f"partner:{partner.name}"[:64],
                partner=partner.name,
                message_id=message_id,
                kind=kind,
                body_sha256=digest,
            )
        )
        return {"id": message_id, "kind": kind, "duplicate": False, "answer": answer}
    if row.body != text:
        raise Conflict(
            f"message {message_id!r} was received before with another body",
            details=[{"field": "id", "value": message_id}],
            code="message_id_reused",
        )
    stored: dict[str, Any] = json.loads(row.answer)
    return {"id": message_id, "kind": row.kind, "duplicate": True, "answer": stored}


def _existing(unit: Unit, partner: PartnerRow, message_id: str) -> InboxRow:
    row = unit.session.scalars(
        select(InboxRow).where(InboxRow.partner_id == partner.id, InboxRow.message_id == message_id)
    ).first()
    assert row is not None  # the unique key said it is there
    return row
