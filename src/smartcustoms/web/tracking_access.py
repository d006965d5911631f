"""Who may do what with transits and alerts (the role groups tracking's routes declare)."""

from __future__ import annotations

from typing import Final

from sqlalchemy.orm import Session

from smartcustoms.core.principal import Principal
from smartcustoms.core.roles import Role
from smartcustoms.tracking.queries import declarant_of
from smartcustoms.tracking.tables import TransitRow
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


def check_transit(session: Session, principal: Principal, row: TransitRow) -> None:
    """Refuse (403) reading a transit of a declarant the principal does not act for."""
    scope = transit_scope(session, principal)
    if not scope.everything:
        scope.check(declarant_of(session, row), what=f"transit {row.id}", field="transit_id")
