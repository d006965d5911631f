"""The partner directory: add from a verified card, update from a newer one, list, find,
suspend, reactivate.

Adding refuses a card whose signature does not verify (:func:`.card.parse_card`), a card of
this instance itself, and a partner already present (same name, request key, URL or ledger);
it registers the partner's log with our witness in the same transaction
(:mod:`.witnessing`); each addition and state change is an event, so a ledger record on our
side.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import NotFound, ValidationFailed
from smartcustoms.core.unit import Unit
from smartcustoms.federation.card import Card, fingerprint_groups, parse_card, parse_kinds
from smartcustoms.federation.errors import CardRejected, PartnerConflict
from smartcustoms.federation.events import PartnerAdded, PartnerStateChanged, PartnerUpdated
from smartcustoms.federation.tables import ACTIVE, STATES, PartnerRow
from smartcustoms.federation.witnessing import witness_partner_log
from smartcustoms.ledger.tlog.keys import parse_verifier_key

__all__ = [
    "CardUpdate",
    "add_partner",
    "get_partner",
    "kinds_of",
    "list_partners",
    "partner_public",
    "set_state",
    "update_partner",
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
    _refuse_taken(unit.session, card, own)
    allowed = card.kinds if kinds is None else parse_kinds(kinds)
    beyond = [k for k in allowed if k not in card.kinds]
    if beyond:
        raise ValidationFailed(
            f"the partner's card does not accept {', '.join(beyond)}",
            details=[{"field": "kinds", "value": beyond}],
        )
    # The partner's log is witnessed by us from now on (and ours by it: .witnessing).
    own_origin = parse_verifier_key(own.ledger_vkey).name
    witness_partner_log(unit.session.connection(), card.ledger_vkey, own_origin=own_origin)
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


@dataclass(frozen=True)
class CardUpdate:
    """What :func:`update_partner` did: the row as it is now, the fingerprint it had, and the
    card's fields that changed (none: the same card again, nothing recorded)."""

    row: PartnerRow
    old_fingerprint: str
    changed: tuple[str, ...]


def update_partner(
    unit: Unit,
    card_text: str | bytes,
    *,
    own: Card,
    actor: str,
    name: str | None = None,
    confirm_fingerprint: str | None = None,
    kinds: Iterable[str] | None = None,
) -> CardUpdate:
    """Replace a partner's card with a newer one it issued (a key rotated, its URL moved).

    The card names the partner (``name``, when given, must be that name). Signed by the request
    key we already trust, the partner vouches for the change itself; a card with another request
    key (the old one lost) proves nothing about who wrote it, so it is taken only with
    ``confirm_fingerprint``, the fingerprint the partner's officer read by phone, as when adding.
    The same refusals as adding apply, against every partner but this one. What the partner may
    receive stays as it was, less what its new card no longer accepts, or narrowed by ``kinds``.
    A new ledger key is added to our witness's state for the partner's log, which keeps the
    tree cosigned so far."""
    card = parse_card(card_text)
    if name is not None and name != card.name:
        raise ValidationFailed(
            f"the card is {card.name!r}'s, not {name!r}'s",
            details=[{"field": "card.name", "value": card.name}],
        )
    row = get_partner(unit.session, card.name, field="card.name")
    same_key = _public_keys(card.request_vkey) == _public_keys(row.request_vkey)
    if not same_key:
        _check_confirmation(card, confirm_fingerprint)
    _refuse_taken(unit.session, card, own, other_than=row.id)
    current = tuple(k for k in kinds_of(row) if k in card.kinds)
    allowed = current if kinds is None else parse_kinds(kinds)
    beyond = [k for k in allowed if k not in current]
    if beyond:
        raise ValidationFailed(
            f"an update only narrows what the partner may receive: not {', '.join(beyond)}",
            details=[{"field": "kinds", "value": beyond}],
        )
    old_fingerprint = row.fingerprint
    changed = tuple(
        field
        for field, before, after in (
            ("country", row.country, card.country),
            ("url", row.url, card.url),
            ("request_vkey", row.request_vkey, card.request_vkey),
            ("ledger_vkey", row.ledger_vkey, card.ledger_vkey),
            ("witness_vkey", row.witness_vkey, card.witness_vkey),
            ("kinds", row.kinds, ",".join(allowed)),
        )
        if before != after
    )
    if not changed and row.fingerprint == card.fingerprint:
        return CardUpdate(row, old_fingerprint, ())
    row.country, row.url, row.ledger_vkey = card.country, card.url, card.ledger_vkey
    row.witness_vkey, row.request_vkey, row.key_id = (
        card.witness_vkey,
        card.request_vkey,
        card.key_id,
    )
    row.kinds, row.fingerprint = ",".join(allowed), card.fingerprint
    row.card = card_text if isinstance(card_text, str) else card_text.decode("utf-8")
    row.changed_at = clock.now()
    # The row holds the new key before the witness looks: it refuses a log name that another
    # partner's row holds under another key, and this partner's old key is no longer that.
    unit.session.flush()
    own_origin = parse_verifier_key(own.ledger_vkey).name
    witness_partner_log(unit.session.connection(), card.ledger_vkey, own_origin=own_origin)
    unit.emit(
        PartnerUpdated(
            actor=actor,
            at=row.changed_at,
            name=card.name,
            old_fingerprint=old_fingerprint,
            fingerprint=card.fingerprint,
            changed=changed,
            confirmed=not same_key,
            country=card.country,
            url=card.url,
            request_key=card.request_vkey,
            ledger_vkey=card.ledger_vkey,
            witness_vkey=card.witness_vkey,
            kinds=tuple(allowed),
        )
    )
    return CardUpdate(row, old_fingerprint, changed)


def _check_confirmation(card: Card, confirm_fingerprint: str | None) -> None:
    """The fingerprint read by phone, in groups or not, at least its 32 first hex digits."""
    said = "".join((confirm_fingerprint or "").split()).lower()
    if not said:
        raise CardRejected(
            "the card is signed by another request key than the partner's: confirm its "
            f"fingerprint ({fingerprint_groups(card.fingerprint)}) with the partner by phone",
            details=[{"field": "confirm_fingerprint"}],
            code="fingerprint_confirmation_required",
        )
    if len(said) < 32 or not card.fingerprint.startswith(said):
        raise CardRejected(
            "the confirmed fingerprint is not the card's",
            details=[{"field": "confirm_fingerprint"}],
            code="fingerprint_mismatch",
        )


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


def _refuse_taken(
    session: Session, card: Card, own: Card, *, other_than: int | None = None
) -> None:
    """Refuse a card naming our keys, or another partner's name, request key, URL, ledger or
    any of its keys (``other_than``: the id of the partner the card replaces)."""
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
    others = select(PartnerRow)
    if other_than is not None:
        others = others.where(PartnerRow.id != other_than)
    clash = session.scalars(
        others.where(
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
                for row in session.scalars(others)
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
