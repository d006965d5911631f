"""Web fixtures: one user and one API token per role."""

from __future__ import annotations

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.tokens import create_token
from smartcustoms.core.users import create_user, get_user
from tests.conftest import PASSWORD


@pytest.fixture
def role_tokens(ctx: AppContext) -> dict[Role, str]:
    """A bearer token for a user holding exactly one role, for every role."""
    tokens = {}
    with ctx.unit() as unit:
        for role in Role:
            name = role.value.replace("_", "-")
            create_user(unit, username=name, password=PASSWORD, roles=[role], actor="test")
            user = get_user(unit.session, name)
            tokens[role] = create_token(
                unit, user, name="test", days=1, max_days=10, actor="test"
            ).secret
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
