"""Who may do what with transits and alerts (the role groups tracking's routes declare)."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core.errors import Forbidden
from smartcustoms.core.principal import Principal
from smartcustoms.core.roles import Role
from smartcustoms.tracking import queries
from smartcustoms.tracking.queries import declarant_of
from smartcustoms.tracking.tables import CorridorRow, TransitRow, TransitStepRow
from smartcustoms.tracking.transit_status import MONITORED
from smartcustoms.web.scopes import TRANSIT_CREATION, TRANSIT_READING, Scope

__all__ = [
    "ALERT_HANDLERS",
    "COMMAND_CENTRE",
    "CORRIDOR_ADMINS",
    "HANDOVER",
    "OFFICERS",
    "TRANSIT_CREATORS",
    "TRANSIT_READERS",
    "check_transit",
    "handed_to",
    "readable_transits",
    "transit_scope",
]

#: Watch the map, the alert queue and the live stream.
COMMAND_CENTRE: Final = frozenset(
    {Role.COMMAND_CENTRE_OPERATOR, Role.SUPERVISOR, Role.AUDITOR, Role.ADMINISTRATOR}
)
#: Act on alerts: acknowledge, assign, comment, escalate, resolve.
ALERT_HANDLERS: Final = frozenset({Role.COMMAND_CENTRE_OPERATOR, Role.SUPERVISOR})
#: Read transits (a declarant only those of its traders' declarations: see
#: :data:`~smartcustoms.web.scopes.TRANSIT_READING`, which says what each role grants).
TRANSIT_READERS: Final = TRANSIT_READING.roles
#: Create a transit from a declaration (a declarant only from its traders' declarations).
TRANSIT_CREATORS: Final = TRANSIT_CREATION.roles
#: Arm at origin, discharge at destination, cancel: customs officers.
OFFICERS: Final = frozenset({Role.EXAMINING_OFFICER})
#: Hand over at a border: our officer there, or the partner administration's.
HANDOVER: Final = frozenset({Role.EXAMINING_OFFICER, Role.PARTNER_ADMINISTRATION})
#: Import corridors and zones, register devices.
CORRIDOR_ADMINS: Final = frozenset({Role.ADMINISTRATOR})


def transit_scope(session: Session, principal: Principal) -> Scope:
    """The transits ``principal`` may read: the union of what its roles grant."""
    return TRANSIT_READING.scope(session, principal)


def handed_to(session: Session, row: TransitRow) -> frozenset[str]:
    """The administrations ``row`` was handed over to, as its hand-over steps name them (a
    partner's name in the directory is the name a hand-over gives)."""
    steps = session.scalars(
        select(TransitStepRow.details).where(
            TransitStepRow.transit_id == row.id, TransitStepRow.step == "handed_over"
        )
    )
    return frozenset(str(d.get("to")) for d in steps if isinstance(d, dict) and d.get("to"))


def readable_transits(
    session: Session, principal: Principal, *, status: str | None, limit: int
) -> list[dict[str, Any]]:
    """The transits ``principal`` may read, newest first: those its scope reaches through the
    declarations (:func:`smartcustoms.tracking.queries.transits`) and, for a partner
    administration's account, those handed over to its administration."""
    scope = transit_scope(session, principal)
    found = queries.transits(session, status=status, declarant_ids=scope.declarant_ids, limit=limit)
    if scope.everything or not scope.partners:
        return found
    ids = {
        tid
        for tid, details in session.execute(
            select(TransitStepRow.transit_id, TransitStepRow.details).where(
                TransitStepRow.step == "handed_over"
            )
        )
        if isinstance(details, dict) and details.get("to") in scope.partners
    }
    ids -= {t["id"] for t in found}
    if ids:
        query = (
            select(TransitRow, CorridorRow.code)
            .join(CorridorRow, CorridorRow.id == TransitRow.corridor_id)
            .where(TransitRow.id.in_(sorted(ids)))
        )
        if status == "active":
            query = query.where(TransitRow.status.in_(["created", *MONITORED]))
        elif status:
            query = query.where(TransitRow.status == status)
        found += [queries.transit_public(row, code) for row, code in session.execute(query)]
    return sorted(found, key=lambda t: -int(t["id"]))[:limit]


def check_transit(session: Session, principal: Principal, row: TransitRow) -> None:
    """Refuse (403) reading a transit of a declarant the principal does not act for, or, for a
    partner administration's account, one not handed over to its administration."""
    scope = transit_scope(session, principal)
    if scope.everything:
        return
    if scope.partners and scope.partners & handed_to(session, row):
        return
    if scope.partners and not scope.traders:
        raise Forbidden(
            f"transit {row.id}: not handed over to your administration",
            details=[{"field": "transit_id"}],
        )
    scope.check(declarant_of(session, row), what=f"transit {row.id}", field="transit_id")
