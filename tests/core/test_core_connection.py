"""``core_connection``: Core statements on a session's connection see what the session holds."""

from __future__ import annotations

from sqlalchemy import func, select

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.db import core_connection
from smartcustoms.core.tables import User

_COUNT = select(func.count()).select_from(User.__table__).where(User.__table__.c.username == "ada")


def _user() -> User:
    return User(username="ada", display_name="Ada", created_at=clock.now())


def test_a_pending_row_is_flushed_before_the_statement(ctx: AppContext) -> None:
    with ctx.unit() as unit:
        unit.session.add(_user())
        assert core_connection(unit.session).scalar(_COUNT) == 1
        # The bare connection is the same one, now that the row is written in the transaction.
        assert unit.session.connection().scalar(_COUNT) == 1


def test_without_autoflush_the_session_keeps_its_rows(ctx: AppContext) -> None:
    with ctx.unit() as unit, unit.session.no_autoflush:
        unit.session.add(_user())
        assert core_connection(unit.session).scalar(_COUNT) == 0  # as session.execute would
        assert unit.session.scalar(_COUNT) == 0
        unit.session.flush()
        assert core_connection(unit.session).scalar(_COUNT) == 1


def test_a_bare_connection_does_not_flush(ctx: AppContext) -> None:
    """Why the helper exists: the connection alone misses what the session holds."""
    with ctx.unit() as unit:
        unit.session.add(_user())
        assert unit.session.connection().scalar(_COUNT) == 0
