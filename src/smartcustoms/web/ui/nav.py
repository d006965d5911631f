"""The navigation: each item names the roles that may use it, so each role sees only its own.

Modules add their pages here when they land; an item whose roles the user lacks is not shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartcustoms.core.i18n import N_
from smartcustoms.core.principal import Principal
from smartcustoms.core.roles import ALL_ROLES, Role

__all__ = ["NAV", "NavItem", "nav_for"]


@dataclass(frozen=True)
class NavItem:
    label: str  # an untranslated message id; templates translate it
    path: str
    roles: frozenset[Role]


NAV: tuple[NavItem, ...] = (
    NavItem(N_("Home"), "/", ALL_ROLES),
    NavItem(N_("Users"), "/admin/users", frozenset({Role.ADMINISTRATOR})),
    NavItem(N_("Customs offices"), "/admin/offices", frozenset({Role.ADMINISTRATOR})),
    NavItem(N_("Devices"), "/admin/devices", frozenset({Role.ADMINISTRATOR})),
    NavItem(N_("Corridors"), "/admin/corridors", frozenset({Role.ADMINISTRATOR})),
    NavItem(N_("Ledger keys"), "/admin/keys", frozenset({Role.ADMINISTRATOR})),
    NavItem(
        N_("Partners"),
        "/partners",
        frozenset({Role.ADMINISTRATOR, Role.SUPERVISOR, Role.AUDITOR}),  # web.api.routes.partners
    ),
    NavItem(
        N_("Notices"),
        "/partners/notices",
        frozenset({Role.EXAMINING_OFFICER, Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR}),
    ),
    NavItem(
        N_("Declarations"),
        "/declarations",
        frozenset({Role.EXAMINING_OFFICER, Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR}),
    ),
    NavItem(
        N_("Import declarations"),
        "/declarations/import",
        frozenset({Role.DECLARANT, Role.ADMINISTRATOR}),  # web.scopes.DECLARATION_LODGING
    ),
    NavItem(
        N_("Targeting rules"),
        "/risk/rules",
        frozenset({Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR}),
    ),
    NavItem(
        N_("Risk models"),
        "/risk/models",
        frozenset({Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR}),
    ),
    NavItem(
        N_("Lane overrides"),
        "/risk/overrides",
        frozenset({Role.EXAMINING_OFFICER, Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR}),
    ),
    NavItem(
        N_("Selectivity"),
        "/risk/selectivity",
        frozenset({Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR}),
    ),
    NavItem(
        N_("Ledger"),
        "/ledger",
        frozenset({Role.AUDITOR, Role.PARTNER_ADMINISTRATION, Role.ADMINISTRATOR, Role.DECLARANT}),
    ),
    NavItem(
        N_("Command centre"),
        "/tracking",
        frozenset(
            {Role.COMMAND_CENTRE_OPERATOR, Role.SUPERVISOR, Role.AUDITOR, Role.ADMINISTRATOR}
        ),
    ),
    NavItem(
        N_("Alert queue"),
        "/tracking/alerts",
        frozenset(
            {Role.COMMAND_CENTRE_OPERATOR, Role.SUPERVISOR, Role.AUDITOR, Role.ADMINISTRATOR}
        ),
    ),
    NavItem(
        N_("Transits"),
        "/tracking/transits",
        frozenset(
            {
                Role.DECLARANT,
                Role.EXAMINING_OFFICER,
                Role.COMMAND_CENTRE_OPERATOR,
                Role.SUPERVISOR,
                Role.AUDITOR,
                Role.PARTNER_ADMINISTRATION,
                Role.ADMINISTRATOR,
            }
        ),
    ),
    NavItem(
        N_("Scans"),
        "/scans",
        frozenset({Role.IMAGE_ANALYST, Role.SUPERVISOR, Role.EXAMINING_OFFICER, Role.AUDITOR}),
    ),
    NavItem(
        N_("Reports"),
        "/reports",
        frozenset(
            {Role.SUPERVISOR, Role.RISK_ANALYST, Role.AUDITOR, Role.ADMINISTRATOR}
        ),  # smartcustoms.reports.READERS
    ),
    NavItem(N_("Webhooks"), "/webhooks", frozenset({Role.ADMINISTRATOR})),
    NavItem(
        N_("Notifications"),
        "/notifications",
        ALL_ROLES - {Role.DECLARANT, Role.PARTNER_ADMINISTRATION},
    ),
    NavItem(N_("API tokens"), "/tokens", ALL_ROLES),
    NavItem(N_("API documentation"), "/api/docs", ALL_ROLES),
)


def nav_for(principal: Principal) -> list[NavItem]:
    return [item for item in NAV if principal.has_any(item.roles)]
