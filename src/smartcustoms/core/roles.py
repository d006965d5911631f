"""The roles people and machine accounts hold in smartcustoms. A user may hold several.

A machine role (:data:`MACHINE_ROLES`) is for a server that calls one narrow API — a Traccar
server forwarding positions — and opens nothing else: it is left out of :data:`ALL_ROLES`, so a
route or page open to "any role" stays closed to it, and only a route that names it admits it.

Labels are marked for translation with ``N_`` (:mod:`smartcustoms.core.i18n`) and translated
where they are shown.
"""

from __future__ import annotations

from enum import StrEnum

from smartcustoms.core.i18n import N_

__all__ = ["ALL_ROLES", "MACHINE_ROLES", "Role"]


class Role(StrEnum):
    DECLARANT = "declarant"
    EXAMINING_OFFICER = "examining_officer"
    RISK_ANALYST = "risk_analyst"
    SUPERVISOR = "supervisor"
    COMMAND_CENTRE_OPERATOR = "command_centre_operator"
    IMAGE_ANALYST = "image_analyst"
    AUDITOR = "auditor"
    PARTNER_ADMINISTRATION = "partner_administration"
    ADMINISTRATOR = "administrator"
    TRACKING_GATEWAY = "tracking_gateway"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def summary(self) -> str:
        return _SUMMARIES[self]


_LABELS = {
    Role.DECLARANT: N_("Declarant"),
    Role.EXAMINING_OFFICER: N_("Examining officer"),
    Role.RISK_ANALYST: N_("Risk analyst"),
    Role.SUPERVISOR: N_("Supervisor"),
    Role.COMMAND_CENTRE_OPERATOR: N_("Command-centre operator"),
    Role.IMAGE_ANALYST: N_("Image analyst"),
    Role.AUDITOR: N_("Auditor"),
    Role.PARTNER_ADMINISTRATION: N_("Partner administration"),
    Role.ADMINISTRATOR: N_("Administrator"),
    Role.TRACKING_GATEWAY: N_("Tracking gateway"),
}

_SUMMARIES = {
    Role.DECLARANT: N_("Submits declarations, reads its own lanes and transit status."),
    Role.EXAMINING_OFFICER: N_(
        "Sees lanes and reasons, records examination results, proposes lane changes."
    ),
    Role.RISK_ANALYST: N_(
        "Trains and validates models, writes targeting rules, proposes lane changes, watches "
        "hit rates and selection rates."
    ),
    Role.SUPERVISOR: N_(
        "Approves targeting rules and lane changes proposed by someone else, sets expected "
        "selection rates and settles image analysts' scan decisions."
    ),
    Role.COMMAND_CENTRE_OPERATOR: N_("Watches sealed trucks live, handles alerts."),
    Role.IMAGE_ANALYST: N_("Reviews X-ray scans beside the declaration, records a decision."),
    Role.AUDITOR: N_("Reads everything, verifies the ledger, changes nothing."),
    Role.PARTNER_ADMINISTRATION: N_("Witnesses ledger checkpoints, verifies transit hand-overs."),
    Role.ADMINISTRATOR: N_("Manages users, roles, devices, corridors, offices and keys."),
    Role.TRACKING_GATEWAY: N_(
        "A tracking server's account: forwards positions and events, opens nothing else."
    ),
}

#: Roles of machine accounts. Each may call only the routes that name it: no page, no route
#: open to any role, no traders' data (``smartcustoms.web.scopes`` grants it none).
MACHINE_ROLES: frozenset[Role] = frozenset({Role.TRACKING_GATEWAY})

#: Every role a person holds: what "any role" means for routes, pages and the menu. Machine
#: roles are left out on purpose (closed by default): a route admits a machine account only
#: when it names its role. Iterate :class:`Role` for every role there is.
ALL_ROLES: frozenset[Role] = frozenset(Role) - MACHINE_ROLES
