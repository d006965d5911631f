"""Authentication only reads: a long write (an import, the ledger) does not hold up requests."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import text

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from tests.web.conftest import bearer


def test_requests_are_served_while_a_writer_holds_the_database(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    headers = bearer(role_tokens[Role.AUDITOR])
    assert client.get("/api/me", headers=headers).status_code == 200
    with ctx.db.session() as writing:  # on SQLite: BEGIN IMMEDIATE, the write lock is held
        writing.execute(text("SELECT 1"))  # begins the transaction
        started = time.monotonic()
        response = client.get("/api/me", headers=headers)
        elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert elapsed < 2.0, f"waited {elapsed:.1f} s for the writer"
