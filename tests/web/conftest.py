"""Web fixtures: one user and one API token per role."""

from __future__ import annotations

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.tokens import create_token
from smartcustoms.core.traders import grant_traders
from smartcustoms.core.users import create_user, get_user
from tests.conftest import PASSWORD

#: The declarant ID of the test declarations (tests.declarations.helpers, tests.tracking.helpers).
DECLARANT_ID = "BRK001"


@pytest.fixture
def role_tokens(ctx: AppContext) -> dict[Role, str]:
    """A bearer token for a user holding exactly one role, for every role. The declarant acts
    for the trader the test declarations name (BRK001)."""
    tokens = {}
    with ctx.unit() as unit:
        for role in Role:
            name = role.value.replace("_", "-")
            create_user(unit, username=name, password=PASSWORD, roles=[role], actor="test")
            user = get_user(unit.session, name)
            if role is Role.DECLARANT:
                grant_traders(unit, name, [DECLARANT_ID], actor="test")
            tokens[role] = create_token(
                unit, user, name="test", days=1, max_days=10, actor="test"
            ).secret
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
