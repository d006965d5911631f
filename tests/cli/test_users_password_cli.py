"""``smartcustoms users set-password``: a temporary password the user must change at next login
(``--no-change-required`` for one only the person at the console knows), recorded in the
ledger as ``admin.password_reset``."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from smartcustoms.core.db import Database
from smartcustoms.core.errors import ValidationFailed
from tests.cli.test_cli import run

PASSWORD = "first-long-password"
TEMPORARY = "temporary-long-password"


def _must_change(database_url: str, username: str) -> bool:
    db = Database(database_url)
    try:
        with db.engine.connect() as conn:
            flag = conn.execute(
                text("SELECT must_change_password FROM users WHERE username = :u"), {"u": username}
            ).scalar()
    finally:
        db.dispose()
    return bool(flag)


def test_set_password_forces_a_change_unless_told_not_to(database_url: str) -> None:
    code, out = run(
        ["users", "add", "amina", "--role", "supervisor", "--password-stdin"],
        database_url,
        stdin=PASSWORD + "\n",
    )
    assert code == 0, out
    assert not _must_change(database_url, "amina")  # created users are not forced

    code, out = run(
        ["users", "set-password", "amina", "--password-stdin"], database_url, stdin=TEMPORARY
    )
    assert code == 0, out
    assert "must choose a new one at next login" in out
    assert _must_change(database_url, "amina")

    code, out = run(
        ["users", "set-password", "amina", "--password-stdin", "--no-change-required"],
        database_url,
        stdin=TEMPORARY,
    )
    assert code == 0, out
    assert not _must_change(database_url, "amina")

    with pytest.raises(ValidationFailed, match="too short"):
        run(["users", "set-password", "amina", "--password-stdin"], database_url, stdin="short")

    # Queued for the ledger in the command's own transaction (the sequencer stores it later).
    db = Database(database_url)
    try:
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT data FROM ledger_pending")).scalars()
            queued = [bytes(d).decode() for d in rows]
    finally:
        db.dispose()
    resets = [r for r in queued if '"admin.password_reset"' in r]
    assert len(resets) == 2 and '"must_change":true' in resets[0].replace(" ", "")
    assert not any(TEMPORARY in r for r in queued)
