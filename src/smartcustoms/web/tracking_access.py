"""Who may do what with transits and alerts (the role groups tracking's routes declare)."""

from __future__ import annotations

from typing import Final

from sqlalchemy.orm import Session

from smartcustoms.core.errors import Forbidden
from smartcustoms.core.principal import Principal
from smartcustoms.core.roles import Role
from smartcustoms.tracking.queries import owner_of
from smartcustoms.tracking.tables import TransitRow

__all__ = [
    "ALERT_HANDLERS",
    "COMMAND_CENTRE",
    "CORRIDOR_ADMINS",
    "HANDOVER",
    "OFFICERS",
    "TRANSIT_CREATORS",
    "TRANSIT_READERS",
    "check_owner",
    "only_own",
]

#: Watch the map, the alert queue and the live stream.
COMMAND_CENTRE: Final = frozenset(
    {Role.COMMAND_CENTRE_OPERATOR, Role.SUPERVISOR, Role.AUDITOR, Role.ADMINISTRATOR}
)
#: Act on alerts: acknowledge, assign, comment, escalate, resolve.
ALERT_HANDLERS: Final = frozenset({Role.COMMAND_CENTRE_OPERATOR, Role.SUPERVISOR})
#: Read transits (a declarant only those of the declarations it lodged).
TRANSIT_READERS: Final = frozenset(
    {
        Role.DECLARANT,
        Role.EXAMINING_OFFICER,
        Role.COMMAND_CENTRE_OPERATOR,
        Role.SUPERVISOR,
        Role.AUDITOR,
        Role.PARTNER_ADMINISTRATION,
        Role.ADMINISTRATOR,
    }
)
#: Create a transit from a declaration (a declarant only from its own declarations).
TRANSIT_CREATORS: Final = frozenset(
    {Role.DECLARANT, Role.EXAMINING_OFFICER, Role.COMMAND_CENTRE_OPERATOR, Role.ADMINISTRATOR}
)
#: Arm at origin, discharge at destination, cancel: customs officers.
OFFICERS: Final = frozenset({Role.EXAMINING_OFFICER})
#: Hand over at a border: our officer there, or the partner administration's.
HANDOVER: Final = frozenset({Role.EXAMINING_OFFICER, Role.PARTNER_ADMINISTRATION})
#: Import corridors and zones, register devices.
CORRIDOR_ADMINS: Final = frozenset({Role.ADMINISTRATOR})


def only_own(principal: Principal) -> str | None:
    """The username whose declarations bound what ``principal`` sees; None: everything."""
    return principal.username if principal.roles <= {Role.DECLARANT} else None


def check_owner(session: Session, principal: Principal, row: TransitRow) -> None:
    own = only_own(principal)
    if own is not None and owner_of(session, row) != own:
        raise Forbidden("this transit's declaration was lodged by someone else")
