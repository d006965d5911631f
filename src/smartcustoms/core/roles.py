"""The roles people hold in smartcustoms. A user may hold several.

Labels are marked for translation with ``N_`` and translated where they are shown.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ALL_ROLES", "N_", "Role"]


def N_(message: str) -> str:
    """Mark a string for extraction into the catalogue without translating it now."""
    return message


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
}

_SUMMARIES = {
    Role.DECLARANT: N_("Submits declarations, reads its own lanes and transit status."),
    Role.EXAMINING_OFFICER: N_("Sees lanes and reasons, records examination results."),
    Role.RISK_ANALYST: N_(
        "Trains and validates models, writes targeting rules, watches hit rates."
    ),
    Role.SUPERVISOR: N_("Approves rules and lane overrides written by someone else."),
    Role.COMMAND_CENTRE_OPERATOR: N_("Watches sealed trucks live, handles alerts."),
    Role.IMAGE_ANALYST: N_("Reviews X-ray scans beside the declaration, records a decision."),
    Role.AUDITOR: N_("Reads everything, verifies the ledger, changes nothing."),
    Role.PARTNER_ADMINISTRATION: N_("Witnesses ledger checkpoints, verifies transit hand-overs."),
    Role.ADMINISTRATOR: N_("Manages users, roles, devices, corridors, offices and keys."),
}

ALL_ROLES: frozenset[Role] = frozenset(Role)
