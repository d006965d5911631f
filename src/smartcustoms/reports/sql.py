"""The few SQL expressions SQLite and PostgreSQL spell differently: a timestamp's month,
seconds between two timestamps, and the elements of a JSON array of strings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, cast, func, literal_column
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["month_of", "seconds_between"]


def month_of(column: Any, dialect: str) -> ColumnElement[str]:
    """``YYYY-MM`` of a UTC timestamp (SQLite stores them as ISO text without a zone)."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m", column)
    # PostgreSQL's timestamptz is shown in the session's zone: name UTC explicitly.
    return func.to_char(func.timezone("UTC", column), literal_column("'YYYY-MM'"))


def seconds_between(start: Any, end: Any, dialect: str) -> ColumnElement[float]:
    """``end - start`` in seconds, as a float (NULL when either is NULL)."""
    if dialect == "sqlite":
        return cast((func.julianday(end) - func.julianday(start)) * 86400.0, Float)
    return cast(func.extract("epoch", end - start), Float)
