"""Partner-administration user accounts linked to the partner they act for.

A user with the ``partner_administration`` role sees only what concerns the partner its account
is linked to (the transits handed over to that administration): an account linked to none sees
none. Administrators link accounts; each change is an event.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.roles import Role
from smartcustoms.core.unit import Unit
from smartcustoms.core.users import get_user
from smartcustoms.federation.directory import get_partner
from smartcustoms.federation.events import PartnerAccountLinked
from smartcustoms.federation.tables import PartnerRow, PartnerUserRow

__all__ = ["link_account", "partner_names_of", "partner_of_user"]


def partner_of_user(session: Session, user_id: int) -> PartnerRow | None:
    return session.scalars(
        select(PartnerRow)
        .join(PartnerUserRow, PartnerUserRow.partner_id == PartnerRow.id)
        .where(PartnerUserRow.user_id == user_id)
    ).first()


def partner_names_of(session: Session, user_id: int) -> frozenset[str]:
    """The administrations (directory names) whose handed-over data ``user_id`` may read."""
    return frozenset(
        session.scalars(
            select(PartnerRow.name)
            .join(PartnerUserRow, PartnerUserRow.partner_id == PartnerRow.id)
            .where(PartnerUserRow.user_id == user_id)
        )
    )


def link_account(unit: Unit, username: str, partner: str | None, *, actor: str) -> None:
    """Link ``username`` (a partner-administration account) to ``partner``, or unlink it."""
    user = get_user(unit.session, username)
    if partner is not None and Role.PARTNER_ADMINISTRATION.value not in user.roles:
        raise ValidationFailed(
            f"{user.username} does not hold the partner_administration role",
            details=[{"field": "username", "value": user.username}],
        )
    existing = unit.session.get(PartnerUserRow, user.id)
    if partner is None:
        if existing is not None:
            unit.session.delete(existing)
    else:
        row = get_partner(unit.session, partner, field="partner")
        if existing is None:
            unit.session.add(
                PartnerUserRow(
                    user_id=user.id, partner_id=row.id, linked_at=clock.now(), linked_by=actor[:64]
                )
            )
        else:
            existing.partner_id = row.id
            existing.linked_at = clock.now()
            existing.linked_by = actor[:64]
    unit.session.flush()
    unit.emit(PartnerAccountLinked(actor=actor, username=user.username, partner=partner))
