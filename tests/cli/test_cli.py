"""The `smartcustoms` command as an operator uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.main import get_command
from typer.testing import CliRunner

from smartcustoms import __version__
from smartcustoms.cli import app
from smartcustoms.cli.lazy import LazyGroup
from smartcustoms.core.db import Database
from smartcustoms.core.errors import Conflict, NotFound, ValidationFailed

runner = CliRunner()


def run(args: list[str], database_url: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, args, env={"SMARTCUSTOMS_DATABASE_URL": database_url}, input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def console_script(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smartcustoms", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )


def subcommands(command: Any) -> dict[str, Any]:
    """A group's commands; the root's are loaded on demand (smartcustoms.cli.lazy)."""
    if isinstance(command, LazyGroup):
        return {name: command.load(name) for name in command.entries}
    return dict(getattr(command, "commands", {}))  # a group (Typer carries its own click)


def all_commands(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, sub in subcommands(command).items():
        found += all_commands(sub, (*prefix, name))
    return found


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.output.strip() == f"smartcustoms {__version__}"


def test_every_command_explains_itself() -> None:
    root = get_command(app)
    commands = all_commands(root)
    assert ("users", "set-role") in commands and ("tokens", "revoke") in commands
    for path in commands:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage:" in result.output
        command = root
        for part in path:
            command = subcommands(command)[part]
        assert command.help or not path, f"{' '.join(path)} has no help text"


def test_user_and_token_lifecycle(database_url: str) -> None:
    code, out = run(["db", "upgrade"], database_url)
    assert code == 0, out
    code, out = run(
        ["users", "add", "amina", "--role", "administrator", "--role", "risk-analyst",
         "--name", "Amina Otieno", "--password-stdin"],
        database_url,
        stdin="a very good password\n",
    )  # fmt: skip
    assert code == 0, out
    assert "administrator, risk_analyst" in out
    # The last administrator keeps the role, and stays enabled.
    with pytest.raises(Conflict, match="amina is the last enabled administrator"):
        run(["users", "set-role", "amina", "--role", "supervisor"], database_url)
    with pytest.raises(Conflict, match="last enabled administrator"):
        run(["users", "disable", "amina"], database_url)
    code, out = run(
        ["users", "add", "root", "--role", "administrator", "--password-stdin"],
        database_url,
        stdin="another good password\n",
    )
    assert code == 0, out
    code, out = run(["users", "set-role", "amina", "--role", "supervisor"], database_url)
    assert "now has roles supervisor" in out
    code, out = run(["users", "list"], database_url)
    assert "Amina Otieno" in out and "supervisor" in out
    code, out = run(["tokens", "create", "--user", "amina", "--name", "CMS link"], database_url)
    assert code == 0
    token = out.strip().splitlines()[-1]
    assert token.startswith("sct_")
    code, out = run(["tokens", "revoke", token.split("_")[1]], database_url)
    assert "revoked" in out
    code, out = run(["users", "disable", "amina"], database_url)
    assert code == 0
    code, out = run(["users", "list"], database_url)
    assert "disabled" in out


def test_bad_input_gives_a_message_not_a_trace(tmp_path: Path) -> None:
    env = {"SMARTCUSTOMS_DATA_DIR": str(tmp_path)}
    unknown_role = console_script("users", "add", "bob", "--role", "wizard", env=env)
    assert unknown_role.returncode == 1
    assert "unknown role 'wizard'" in unknown_role.stderr
    bad_setting = console_script("db", "upgrade", env={**env, "SMARTCUSTOMS_PORT": "abc"})
    assert bad_setting.returncode == 2
    assert "SMARTCUSTOMS_PORT='abc'" in bad_setting.stderr
    for result in (unknown_role, bad_setting):
        assert "Traceback" not in result.stderr + result.stdout


def test_serve_refuses_production_without_secret(tmp_path: Path) -> None:
    result = console_script(
        "serve", env={"SMARTCUSTOMS_DATA_DIR": str(tmp_path), "SMARTCUSTOMS_PRODUCTION": "1"}
    )
    assert result.returncode == 2
    assert "SMARTCUSTOMS_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_an_outdated_schema(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'smartcustoms.db'}")
    from smartcustoms.core.schema import upgrade

    upgrade(db)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
    db.dispose()
    result = console_script("serve", env={"SMARTCUSTOMS_DATA_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert "run `smartcustoms db upgrade`" in result.stderr
    status = console_script("db", "status", env={"SMARTCUSTOMS_DATA_DIR": str(tmp_path)})
    assert status.returncode == 3


@pytest.mark.parametrize("args", [["users", "add", "x"], ["tokens", "create"]])
def test_missing_arguments_exit_2(args: list[str]) -> None:
    assert runner.invoke(app, args).exit_code == 2


def test_trader_identities_from_the_console(database_url: str) -> None:
    assert run(["db", "upgrade"], database_url)[0] == 0
    code, out = run(
        ["users", "add", "coast", "--role", "declarant", "--password-stdin"],
        database_url,
        stdin="a very good password\n",
    )
    assert code == 0, out
    code, out = run(["users", "traders", "list", "coast"], database_url)
    assert code == 0 and "acts for no trader identity" in out
    code, out = run(["users", "traders", "grant", "coast", "BRK001", "BRK002"], database_url)
    assert code == 0, out
    assert "granted BRK001, BRK002" in out
    code, out = run(["users", "traders", "grant", "coast", "BRK002"], database_url)
    assert "granted nothing new" in out
    code, out = run(["users", "traders", "list", "coast"], database_url)
    assert "BRK001" in out and "BRK002" in out and "cli:" in out
    code, out = run(["users", "traders", "revoke", "coast", "BRK001"], database_url)
    assert code == 0 and "revoked BRK001" in out
    with pytest.raises(NotFound, match="not bound to declarant 'BRK001'"):
        run(["users", "traders", "revoke", "coast", "BRK001"], database_url)
    with pytest.raises(ValidationFailed, match="1 to 17 characters"):
        run(["users", "traders", "grant", "coast", "TOO-LONG-A-TRADER-ID"], database_url)
    with pytest.raises(NotFound, match="no user named 'ghost'"):
        run(["users", "traders", "grant", "ghost", "BRK001"], database_url)
