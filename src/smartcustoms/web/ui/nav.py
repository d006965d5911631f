"""The navigation: each item names the roles that may use it, so each role sees only its own.

Modules add their pages here when they land; an item whose roles the user lacks is not shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartcustoms.core.principal import Principal
from smartcustoms.core.roles import ALL_ROLES, N_, Role

__all__ = ["NAV", "NavItem", "nav_for"]


@dataclass(frozen=True)
class NavItem:
    label: str  # an untranslated message id; templates translate it
    path: str
    roles: frozenset[Role]


NAV: tuple[NavItem, ...] = (
    NavItem(N_("Home"), "/", ALL_ROLES),
    NavItem(N_("Users"), "/admin/users", frozenset({Role.ADMINISTRATOR})),
    NavItem(N_("API tokens"), "/tokens", ALL_ROLES),
    NavItem(N_("API documentation"), "/api/docs", ALL_ROLES),
)


def nav_for(principal: Principal) -> list[NavItem]:
    return [item for item in NAV if principal.has_any(item.roles)]
