"""Who is making a request: a user, the roles they hold, and how they got in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from smartcustoms.core.roles import Role

__all__ = ["Principal"]


class UserFields(Protocol):
    """What a principal is made of: a ``User`` row, or the columns read for one (an API call's
    token check reads columns, not objects)."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def language(self) -> str | None: ...
    @property
    def must_change_password(self) -> bool: ...


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    roles: frozenset[Role]
    language: str | None
    via: Literal["session", "token"]
    # Set for web sessions only: the token every unsafe request must carry.
    csrf_token: str | None = None
    token_id: str | None = None
    # An administrator reset the password: nothing but choosing a new one is allowed.
    must_change_password: bool = False

    @classmethod
    def of(
        cls,
        user: UserFields,
        via: Literal["session", "token"],
        *,
        roles: Iterable[str],
        csrf_token: str | None = None,
        token_id: str | None = None,
    ) -> Principal:
        return cls(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            roles=cls.known_roles(roles),
            language=user.language,
            via=via,
            csrf_token=csrf_token,
            token_id=token_id,
            must_change_password=user.must_change_password,
        )

    @staticmethod
    def known_roles(names: Iterable[str]) -> frozenset[Role]:
        """The roles among ``names`` that this version knows (a role left by a newer one is
        ignored, not an error)."""
        return frozenset(Role(r) for r in names if r in Role._value2member_map_)

    def has_any(self, roles: frozenset[Role]) -> bool:
        return bool(self.roles & roles)
