"""Shared by the administration tests: the ledger's records, roles that are not administrator."""

from __future__ import annotations

from typing import Any

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.ledger.service import ledger_of

#: Every role but the administrator's: each must be refused every administration route.
NOT_ADMIN = [r for r in Role if r is not Role.ADMINISTRATOR]


def records(ctx: AppContext, type_: str) -> list[dict[str, Any]]:
    ledger = ledger_of(ctx)
    ledger.flush()
    return [r for r in (ledger.record(i) for i in range(ledger.size())) if r["type"] == type_]


def sign_in(ctx: AppContext, client: Any, role: Role, username: str = "someone") -> str:
    """A user holding only ``role``, signed in on ``client``; returns the CSRF token. A machine
    role cannot open a session: it calls with its API token (set on the client) instead."""
    from smartcustoms.core.tokens import create_token
    from smartcustoms.core.users import get_user
    from tests.conftest import add_user, login

    add_user(ctx, username, role)
    if role is Role.TRACKING_GATEWAY:
        with ctx.unit() as unit:
            user = get_user(unit.session, username)
            secret = create_token(unit, user, name="t", days=1, max_days=10, actor="t").secret
        client.headers["Authorization"] = f"Bearer {secret}"
        return ""
    return login(client, username)
