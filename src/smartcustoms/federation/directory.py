"""The partner directory: add from a verified card, list, find, suspend, reactivate.

Adding refuses a card whose signature does not verify (:func:`.card.parse_card`), a card of
this instance itself, and a partner already present (same name, request key, URL or ledger);
each addition and state change is an event, so a ledger record on our side.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import NotFound, ValidationFailed
from smartcustoms.core.unit import Unit
from smartcustoms.federation.card import Card, fingerprint_groups, parse_card, parse_kinds
from smartcustoms.federation.errors import PartnerConflict
from smartcustoms.federation.events import PartnerAdded, PartnerStateChanged
from smartcustoms.federation.tables import ACTIVE, STATES, PartnerRow

__all__ = [
    "add_partner",
    "get_partner",
    "kinds_of",
    "list_partners",
    "partner_public",
    "set_state",
]


def kinds_of(row: PartnerRow) -> list[str]:
    return [k for k in row.kinds.split(",") if k]


def partner_public(row: PartnerRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "country": row.country,
        "url": row.url,
        "ledger_vkey": row.ledger_vkey,
        "witness_vkey": row.witness_vkey,
        "request_vkey": row.request_vkey,
        "key_id": row.key_id,
        "kinds": kinds_of(row),
        "fingerprint": fingerprint_groups(row.fingerprint),
        "state": row.state,
        "added_at": row.added_at,
        "added_by": row.added_by,
        "changed_at": row.changed_at,
    }


def list_partners(session: Session) -> Sequence[PartnerRow]:
    return session.scalars(select(PartnerRow).order_by(PartnerRow.name)).all()


def get_partner(session: Session, name: str, *, field: str = "name") -> PartnerRow:
    row = session.scalars(select(PartnerRow).where(PartnerRow.name == name)).first()
    if row is None:
        raise NotFound(f"no partner named {name!r}", details=[{"field": field, "value": name}])
    return row


def add_partner(
    unit: Unit,
    card_text: str | bytes,
    *,
    own: Card,
    actor: str,
    kinds: Iterable[str] | None = None,
) -> PartnerRow:
    """Verify ``card_text`` and add its issuer; ``kinds`` narrows what it may receive (by
    default what its card says it accepts)."""
    card = parse_card(card_text)
    # Keys compare as public keys, not as strings: a vkey's name is its holder's to choose, so
    # our ledger key under another name is still ours. A card naming our keys (any of the
    # three, in any field) or another partner's could make our own cosignatures count as a
    # partner's witness, or one partner pass for two.
    claimed = _public_keys(card.request_vkey, card.ledger_vkey, card.witness_vkey)
    if claimed & _public_keys(own.request_vkey, own.ledger_vkey, own.witness_vkey):
        raise PartnerConflict(
            "this is this instance's own card, or a card naming one of its keys",
            details=[{"field": "card"}],
            code="partner_is_self",
        )
    allowed = card.kinds if kinds is None else parse_kinds(kinds)
    beyond = [k for k in allowed if k not in card.kinds]
    if beyond:
        raise ValidationFailed(
            f"the partner's card does not accept {', '.join(beyond)}",
            details=[{"field": "kinds", "value": beyond}],
        )
    clash = unit.session.scalars(
        select(PartnerRow).where(
            or_(
                PartnerRow.name == card.name,
                PartnerRow.key_id == card.key_id,
                PartnerRow.url == card.url,
                PartnerRow.ledger_vkey == card.ledger_vkey,
            )
        )
    ).first()
    if clash is None:
        clash = next(
            (
                row
                for row in unit.session.scalars(select(PartnerRow))
                if claimed & _public_keys(row.request_vkey, row.ledger_vkey, row.witness_vkey)
            ),
            None,
        )
    if clash is not None:
        field = next(
            f
            for f, same in (
                ("name", clash.name == card.name),
                ("request_vkey", clash.key_id == card.key_id),
                ("url", clash.url == card.url),
                ("ledger_vkey", clash.ledger_vkey == card.ledger_vkey),
                ("keys", True),
            )
            if same
        )
        raise PartnerConflict(
            f"partner {clash.name!r} is already in the directory (same {field})",
            details=[{"field": field, "partner": clash.name}],
        )
    now = clock.now()
    row = PartnerRow(
        name=card.name,
        country=card.country,
        url=card.url,
        ledger_vkey=card.ledger_vkey,
        witness_vkey=card.witness_vkey,
        request_vkey=card.request_vkey,
        key_id=card.key_id,
        kinds=",".join(allowed),
        fingerprint=card.fingerprint,
        card=card_text if isinstance(card_text, str) else card_text.decode("utf-8"),
        state=ACTIVE,
        added_at=now,
        added_by=actor[:64],
        changed_at=now,
    )
    unit.session.add(row)
    unit.session.flush()
    unit.emit(
        PartnerAdded(
            actor=actor,
            at=now,
            name=card.name,
            country=card.country,
            url=card.url,
            fingerprint=card.fingerprint,
            request_key=card.request_vkey,
            ledger_vkey=card.ledger_vkey,
            witness_vkey=card.witness_vkey,
            kinds=tuple(allowed),
        )
    )
    return row


def set_state(unit: Unit, name: str, state: str, *, actor: str) -> PartnerRow:
    """Suspend (its requests are refused from now on) or reactivate a partner."""
    if state not in STATES:
        raise ValidationFailed(
            f"state must be one of {', '.join(STATES)}", details=[{"field": "state"}]
        )
    row = get_partner(unit.session, name)
    if row.state != state:
        row.state = state
        row.changed_at = clock.now()
        unit.session.flush()
        unit.emit(PartnerStateChanged(actor=actor, name=row.name, state=state))
    return row


def _public_keys(*vkeys: str) -> set[bytes]:
    """The Ed25519 public keys (32 bytes) the verifier keys carry, whatever their names (a vkey
    is name+hash+base64: names hold no "+", base64 may)."""
    found = set()
    for vkey in vkeys:
        try:
            found.add(base64.b64decode(vkey.split("+", 2)[-1])[1:])  # after the algorithm byte
        except (ValueError, binascii.Error):
            continue  # not ours to judge here: parse_card already checked the format
    return found
