"""Access is what each role grants, unioned: holding more roles never opens what none of them
grants.

For any set of roles (hypothesis draws them), over every route the application serves:

- a route answers 403 exactly when none of the caller's roles is among the route's declared
  roles (so a non-403 answer implies one of them is);
- reads scoped to traders return what the union of the roles grants: every declaration or
  transit when one role grants all, only those of the caller's own trader identity when only
  the declarant role reaches them, and nothing otherwise.

The expected grants are written out here, independently of ``smartcustoms.web.scopes``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from smartcustoms.core.context import AppContext
from smartcustoms.core.principal import Principal
from smartcustoms.core.roles import Role
from smartcustoms.core.tokens import create_token
from smartcustoms.core.traders import grant_traders
from smartcustoms.core.users import create_user, get_user
from smartcustoms.tracking.transits import TransitRequest, create_transit
from smartcustoms.web.policy import routes_of
from smartcustoms.web.scopes import (
    DECLARATION_LODGING,
    DECLARATION_READING,
    TRANSIT_CREATION,
    TRANSIT_READING,
    DataAccess,
    Grant,
)
from tests.conftest import PASSWORD
from tests.tracking.helpers import import_packaged, store_declaration
from tests.web.conftest import bearer

MINE, THEIRS = "BRK001", "BRK999"

# What each role grants, written independently of the code under test.
DECLARATIONS_ALL = {Role.EXAMINING_OFFICER, Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR}
TRANSITS_ALL = {
    Role.EXAMINING_OFFICER,
    Role.COMMAND_CENTRE_OPERATOR,
    Role.SUPERVISOR,
    Role.AUDITOR,
    Role.ADMINISTRATOR,
}
# A partner administration reaches only transits handed over to the partner its account is
# linked to (tests/federation/test_partner_access.py); these users are linked to none.
OWN = {Role.DECLARANT}

role_sets = st.frozensets(st.sampled_from(sorted(Role)), min_size=1)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


@dataclass
class World:
    client: TestClient
    routes: list[tuple[str, str, frozenset[Role]]]
    declaration: dict[str, int]  # trader -> declaration id
    transit: dict[str, int]  # trader -> transit id
    headers: Callable[[frozenset[Role]], dict[str, str]]


def _transit(ctx: AppContext, declaration_id: int, device: str) -> int:
    with ctx.unit() as unit:
        row = create_transit(
            unit,
            TransitRequest(
                declaration_id=declaration_id,
                device_id=device,
                vehicle="KBX 123A",
                corridor="northern",
                origin="KEMBA",
                destination="UGKLA",
                deadline=datetime.now(UTC) + timedelta(hours=48),
            ),
            actor="officer",
            administration="Kenya Revenue Authority",
        )
        return row.id


@pytest.fixture
def world(ctx: AppContext, app: FastAPI, client: TestClient) -> World:
    """A declaration and a transit of our trader (BRK001) and of another (BRK999); users are
    made on demand for each set of roles, all bound to BRK001."""
    import_packaged(ctx)
    declarations = {
        MINE: store_declaration(ctx, "D-MINE"),
        THEIRS: store_declaration(ctx, "D-THEIRS", declarant=THEIRS),
    }
    transits = {
        MINE: _transit(ctx, store_declaration(ctx, "T-MINE"), "SEAL-MINE"),
        THEIRS: _transit(ctx, store_declaration(ctx, "T-THEIRS", declarant=THEIRS), "SEAL-B"),
    }
    routes = []
    for route in routes_of(app):
        if route.kind != "api" or route.public:
            continue
        assert route.roles
        for method in sorted(route.methods - {"HEAD"}):
            routes.append((method, route.path, route.roles))
    tokens: dict[frozenset[Role], str] = {}

    def headers(roles: frozenset[Role]) -> dict[str, str]:
        if roles not in tokens:
            name = "u-" + "".join("1" if r in roles else "0" for r in sorted(Role))
            with ctx.unit() as unit:
                create_user(unit, username=name, password=PASSWORD, roles=roles, actor="t")
                grant_traders(unit, name, [MINE], actor="t")
                user = get_user(unit.session, name)
                tokens[roles] = create_token(
                    unit, user, name="t", days=1, max_days=10, actor="t"
                ).secret
        return bearer(tokens[roles])

    return World(client, routes, declarations, transits, headers)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(roles=role_sets)
@example(roles=frozenset({Role.DECLARANT, Role.PARTNER_ADMINISTRATION}))
@example(roles=frozenset({Role.DECLARANT, Role.IMAGE_ANALYST}))
@example(roles=frozenset(Role))
@example(roles=frozenset({Role.TRACKING_GATEWAY, Role.DECLARANT}))
def test_a_route_answers_only_the_roles_it_declares(world: World, roles: frozenset[Role]) -> None:
    headers = world.headers(roles)
    for method, path, declared in world.routes:
        response = world.client.request(method, concrete(path), headers=headers)
        refused = response.status_code == 403
        assert refused == (not roles & declared), (method, path, sorted(roles), response.text)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(roles=role_sets)
@example(roles=frozenset({Role.DECLARANT, Role.PARTNER_ADMINISTRATION}))
@example(roles=frozenset({Role.DECLARANT, Role.COMMAND_CENTRE_OPERATOR}))
@example(roles=frozenset({Role.DECLARANT}))
@example(roles=frozenset({Role.TRACKING_GATEWAY}))
def test_scoped_reads_return_what_the_union_grants(world: World, roles: frozenset[Role]) -> None:
    client, headers = world.client, world.headers(roles)

    def reaches(all_roles: set[Role], trader: str) -> bool:
        return bool(roles & all_roles) or (trader == MINE and bool(roles & OWN))

    for trader, declaration_id in world.declaration.items():
        got = client.get(f"/api/declarations/{declaration_id}", headers=headers).status_code
        assert got == (200 if reaches(DECLARATIONS_ALL, trader) else 403), (trader, roles)
    for trader, transit_id in world.transit.items():
        for url in (f"/api/tracking/transits/{transit_id}", f"/tracking/transits/{transit_id}"):
            got = client.get(url, headers=headers).status_code
            assert got == (200 if reaches(TRANSITS_ALL, trader) else 403), (url, roles)
    listed = client.get("/api/tracking/transits", params={"status": "created"}, headers=headers)
    if not roles & (TRANSITS_ALL | OWN | {Role.PARTNER_ADMINISTRATION}):
        assert listed.status_code == 403
    else:
        seen = {t["id"] for t in listed.json()}
        expected = {tid for trader, tid in world.transit.items() if reaches(TRANSITS_ALL, trader)}
        assert seen == expected, roles


def _subsets() -> list[frozenset[Role]]:
    roles = sorted(Role)
    return [
        frozenset(combo)
        for size in range(len(roles) + 1)
        for combo in itertools.combinations(roles, size)
    ]


class _Session:
    """Enough of a session for DataAccess.scope: the trader identities of any user."""

    def scalars(self, _query: Any) -> list[str]:
        return [MINE]


@pytest.mark.parametrize(
    "access", [DECLARATION_LODGING, DECLARATION_READING, TRANSIT_READING, TRANSIT_CREATION]
)
def test_every_role_set_gets_the_union_of_its_grants(access: DataAccess) -> None:
    """All 2^n sets of the n roles: the scope is the union of each role's grant, so adding a role
    never narrows it and never opens beyond what some role grants."""
    session: Any = _Session()

    def scope_of(roles: frozenset[Role]) -> tuple[bool, frozenset[str]]:
        principal = Principal(1, "u", "u", roles, None, "token")
        found = access.scope(session, principal)
        return found.everything, found.traders

    for roles in _subsets():
        everything, traders = scope_of(roles)
        singles = [scope_of(frozenset({r})) for r in roles]
        assert everything == any(e for e, _ in singles)
        if not everything:
            assert traders == frozenset().union(*(t for _, t in singles))
        for extra in set(Role) - roles:
            more, more_traders = scope_of(roles | {extra})
            assert more or not everything  # never narrower
            assert more or traders <= more_traders
        granting_all = {r for r, g in access.grants.items() if g is Grant.ALL}
        granting_own = {r for r, g in access.grants.items() if g is Grant.OWN_TRADERS}
        assert everything == bool(roles & granting_all)
        assert bool(traders) == (not everything and bool(roles & granting_own))
