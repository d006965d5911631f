"""Fixtures shared by the whole suite: databases (SQLite and PostgreSQL), contexts, web clients."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from smartcustoms.core.context import AppContext
from smartcustoms.core.events import Event
from smartcustoms.core.orm import Base
from smartcustoms.core.roles import Role
from smartcustoms.core.schema import target_metadata, upgrade
from smartcustoms.core.settings import Settings, load_settings
from smartcustoms.core.users import create_user
from smartcustoms.web.app import create_app
from tests.services import POSTGRES_ADMIN_URL, unavailable

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's real settings, data directory or database."""
    import os

    for name in list(os.environ):
        if name.startswith("SMARTCUSTOMS_") and name not in (
            "SMARTCUSTOMS_REQUIRE_SERVICES",
            "SMARTCUSTOMS_TEST_POSTGRES_URL",
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SMARTCUSTOMS_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(autouse=True)
def _no_leaked_ledger_threads() -> Iterator[None]:
    """A test that starts a ledger (any web app, any context that appends) must close it."""
    import threading
    import time

    yield
    deadline = time.monotonic() + 5
    while True:
        alive = [t.name for t in threading.enumerate() if t.name.startswith("smartcustoms-ledger")]
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not alive, f"threads left running (close the AppContext): {alive}"


# -- databases ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is much faster)."""
    from smartcustoms.core.db import Database

    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this run, migrated, dropped at the end."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        unavailable("PostgreSQL", f"{make_url(POSTGRES_ADMIN_URL).host}: {exc.__class__.__name__}")
    name = f"smartcustoms_test_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    from smartcustoms.core.db import Database

    db = Database(url)
    upgrade(db)
    db.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _reset_postgres(url: str) -> None:
    """Empty every table and put the schema revision back (some tests change it)."""
    from smartcustoms.core.db import Database
    from smartcustoms.core.schema import schema_state

    db = Database(url)
    head = schema_state(db).head
    tables = ", ".join(f'"{t.name}"' for t in target_metadata().sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
    db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that uses a database runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "smartcustoms.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        None,
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=secrets.token_urlsafe(48),
    )


@pytest.fixture
def ctx(settings: Settings) -> Iterator[AppContext]:
    context = AppContext.from_settings(settings)
    yield context
    context.close()


@pytest.fixture
def events(ctx: AppContext) -> list[Event]:
    """Every event published on the context's bus during the test."""
    seen: list[Event] = []
    ctx.bus.subscribe(Event, seen.append)
    return seen


# -- users and web clients ---------------------------------------------------------------------


def add_user(ctx: AppContext, username: str, *roles: Role, password: str = PASSWORD) -> None:
    with ctx.unit() as unit:
        create_user(unit, username=username, password=password, roles=roles, actor="test")


@pytest.fixture
def app(ctx: AppContext) -> Any:
    return create_app(ctx)


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the real form; returns the session's CSRF token (read from the page)."""
    import re

    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "login form has a CSRF token"
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get("/", headers={"accept": "text/html"})
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', home.text)
    assert csrf, "pages carry the session's CSRF token"
    return csrf.group(1)


__all__ = ["PASSWORD", "Base", "add_user", "login"]
