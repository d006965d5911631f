"""The trader identities a user may act for: grant, revoke, replace, list, check.

A trader identity is the declarant ID a declaration names (``declarant.id``, WCO 57B). A user
with the declarant role lodges and reads only under the identities bound to it; a customs
broker acting for several traders holds several. Administrators manage the bindings, and each
change is an event the ledger records.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import NotFound, ValidationFailed
from smartcustoms.core.events import Event
from smartcustoms.core.tables import UserTrader
from smartcustoms.core.unit import Unit
from smartcustoms.core.users import get_user

__all__ = [
    "MAX_DECLARANT_ID",
    "TraderGranted",
    "TraderRevoked",
    "grant_traders",
    "list_traders",
    "may_act_for",
    "parse_declarant_ids",
    "revoke_traders",
    "set_traders",
    "trader_ids",
]

#: The longest declarant ID a declaration may carry (``Party.id``, ``declarations.declarant_id``).
MAX_DECLARANT_ID = 17
#: Declarant IDs named by one event, so that each ledger record stays small (a broker bound to
#: thousands of traders at once gives several events).
IDS_PER_EVENT = 500


@dataclass(frozen=True, kw_only=True)
class TraderGranted(Event):
    """``username`` may now act for ``declarant_ids`` (the ones newly bound)."""

    type: ClassVar[str] = "admin.traders_granted"
    username: str
    declarant_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class TraderRevoked(Event):
    """``username`` may no longer act for ``declarant_ids``."""

    type: ClassVar[str] = "admin.traders_revoked"
    username: str
    declarant_ids: tuple[str, ...]


def parse_declarant_ids(values: Iterable[str], *, field: str = "declarant_ids") -> list[str]:
    """Declarant IDs as a declaration carries them (surrounding blanks dropped), checked, in
    order, without repeats. Each problem names ``field[i]``."""
    found: list[str] = []
    for i, raw in enumerate(values):
        value = raw.strip()
        where = f"{field}[{i}]"
        if not value or len(value) > MAX_DECLARANT_ID:
            raise ValidationFailed(
                f"declarant ID {value!r}: 1 to {MAX_DECLARANT_ID} characters",
                details=[{"field": where, "problem": "length"}],
            )
        if any(not c.isprintable() or c.isspace() for c in value):
            raise ValidationFailed(
                f"declarant ID {value!r}: no blanks or control characters",
                details=[{"field": where, "problem": "invalid character"}],
            )
        if value not in found:
            found.append(value)
    return found


def trader_ids(
    session: Session, user_id: int, among: Collection[str] | None = None
) -> frozenset[str]:
    """The declarant IDs ``user_id`` may act for; only those ``among`` the given ones, when
    given (a broker bound to thousands of traders lodging for two reads two rows, not all)."""
    query = select(UserTrader.declarant_id).where(UserTrader.user_id == user_id)
    if among is None:
        return frozenset(session.scalars(query))
    found: set[str] = set()
    wanted = sorted(set(among))
    for start in range(0, len(wanted), 500):  # bounded IN lists, whatever the batch
        chunk = wanted[start : start + 500]
        found.update(session.scalars(query.where(UserTrader.declarant_id.in_(chunk))))
    return frozenset(found)


def may_act_for(session: Session, user_id: int, declarant_id: str) -> bool:
    found = session.scalar(
        select(UserTrader.declarant_id).where(
            UserTrader.user_id == user_id, UserTrader.declarant_id == declarant_id
        )
    )
    return found is not None


def list_traders(session: Session, username: str) -> Sequence[UserTrader]:
    """The bindings of ``username``, by declarant ID. An unknown user is :class:`NotFound`."""
    user = get_user(session, username)
    return session.scalars(
        select(UserTrader).where(UserTrader.user_id == user.id).order_by(UserTrader.declarant_id)
    ).all()


def grant_traders(
    unit: Unit, username: str, declarant_ids: Iterable[str], *, actor: str
) -> list[str]:
    """Bind ``username`` to ``declarant_ids``; returns those that were not bound yet (binding
    again is not an error, and not an event)."""
    wanted = parse_declarant_ids(declarant_ids)
    user = get_user(unit.session, username)
    have = trader_ids(unit.session, user.id)
    added = [d for d in wanted if d not in have]
    now = clock.now()
    for declarant_id in added:
        unit.session.add(
            UserTrader(
                user_id=user.id, declarant_id=declarant_id, granted_at=now, granted_by=actor[:64]
            )
        )
    unit.session.flush()
    for chunk in _chunks(added):
        unit.emit(TraderGranted(actor=actor, username=user.username, declarant_ids=chunk))
    return added


def revoke_traders(
    unit: Unit, username: str, declarant_ids: Iterable[str], *, actor: str
) -> list[str]:
    """Unbind ``username`` from ``declarant_ids``; each must be bound (else :class:`NotFound`
    naming it, and nothing changes)."""
    wanted = parse_declarant_ids(declarant_ids)
    user = get_user(unit.session, username)
    have = trader_ids(unit.session, user.id)
    for i, declarant_id in enumerate(wanted):
        if declarant_id not in have:
            raise NotFound(
                f"{user.username} is not bound to declarant {declarant_id!r}",
                details=[{"field": f"declarant_ids[{i}]", "value": declarant_id}],
            )
    _remove(unit, user.id, wanted)
    for chunk in _chunks(wanted):
        unit.emit(TraderRevoked(actor=actor, username=user.username, declarant_ids=chunk))
    return wanted


def set_traders(
    unit: Unit, username: str, declarant_ids: Iterable[str], *, actor: str
) -> frozenset[str]:
    """Make ``declarant_ids`` exactly the identities of ``username``; one event for what was
    added, one for what was removed."""
    wanted = parse_declarant_ids(declarant_ids)
    user = get_user(unit.session, username)
    have = trader_ids(unit.session, user.id)
    removed = sorted(have - set(wanted))
    _remove(unit, user.id, removed)
    for chunk in _chunks(removed):
        unit.emit(TraderRevoked(actor=actor, username=user.username, declarant_ids=chunk))
    grant_traders(unit, user.username, [d for d in wanted if d not in have], actor=actor)
    return frozenset(wanted)


def _chunks(declarant_ids: Collection[str]) -> Iterator[tuple[str, ...]]:
    ordered = sorted(declarant_ids)
    for start in range(0, len(ordered), IDS_PER_EVENT):
        yield tuple(ordered[start : start + IDS_PER_EVENT])


def _remove(unit: Unit, user_id: int, declarant_ids: Collection[str]) -> None:
    if not declarant_ids:
        return
    for row in unit.session.scalars(
        select(UserTrader).where(
            UserTrader.user_id == user_id, UserTrader.declarant_id.in_(list(declarant_ids))
        )
    ):
        unit.session.delete(row)
    unit.session.flush()
