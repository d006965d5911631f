"""Request and response bodies of the foundation's API (``XCreate`` / ``XUpdate`` / ``XPublic``).

Request bodies forbid unknown fields: a misspelt field is an error naming it, not silently lost.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from smartcustoms.core.roles import Role

__all__ = [
    "MePublic",
    "TokenCreate",
    "TokenCreated",
    "TokenPublic",
    "UserCreate",
    "UserPublic",
    "UserUpdate",
]


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserPublic(BaseModel):
    username: str
    display_name: str
    roles: list[Role]
    disabled: bool
    language: str | None
    created_at: datetime


class MePublic(BaseModel):
    username: str
    display_name: str
    roles: list[Role]
    via: str
    language: str | None


class UserCreate(StrictBody):
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=10, max_length=1024)
    roles: list[Role] = Field(min_length=1)
    display_name: str | None = Field(None, max_length=120)
    language: str | None = Field(None, pattern="^(en|fr)$")


class UserUpdate(StrictBody):
    roles: list[Role] | None = Field(None, min_length=1)
    disabled: bool | None = None
    password: str | None = Field(None, min_length=10, max_length=1024)


class TokenCreate(StrictBody):
    name: str = Field(min_length=1, max_length=120)
    days: int | None = Field(None, ge=1, le=3650)


class TokenPublic(BaseModel):
    id: str
    name: str
    username: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="The token itself. Shown once: store it now.")
