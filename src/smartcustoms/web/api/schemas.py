"""Request and response bodies of the foundation's API (``XCreate`` / ``XUpdate`` / ``XPublic``).

Request bodies forbid unknown fields: a misspelt field is an error naming it, not silently lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from smartcustoms.core.roles import Role
from smartcustoms.core.traders import MAX_DECLARANT_ID

__all__ = [
    "MePublic",
    "TokenCreate",
    "TokenCreated",
    "TokenPublic",
    "TraderPublic",
    "TradersChange",
    "TradersPublic",
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
    language: str | None = Field(None, pattern="^(en|fr|ar)$")


class UserUpdate(StrictBody):
    roles: list[Role] | None = Field(None, min_length=1)
    disabled: bool | None = None
    password: str | None = Field(None, min_length=10, max_length=1024)
    allow_self_demotion: bool = Field(
        False,
        description="Required to remove your own administrator role or disable yourself; "
        "recorded in the ledger. The last enabled administrator can never be demoted.",
    )


DeclarantId = Annotated[str, Field(min_length=1, max_length=MAX_DECLARANT_ID)]


class TradersChange(StrictBody):
    declarant_ids: list[DeclarantId] = Field(
        max_length=10_000, description="Trader identities: declarant IDs as declarations carry"
    )


class TraderPublic(BaseModel):
    declarant_id: str
    granted_at: datetime
    granted_by: str


class TradersPublic(BaseModel):
    username: str
    traders: list[TraderPublic]


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
