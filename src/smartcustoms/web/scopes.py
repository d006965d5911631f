"""What of traders' data each role grants, unioned over the roles a principal holds.

The route policy (:mod:`smartcustoms.web.policy`) says who may call a route. Reads and writes
of data that belongs to a trader — declarations, their lanes, their transits — are scoped
further: each role *grants* everything or only the principal's own trader identities (the
declarant IDs bound to the user, :mod:`smartcustoms.core.traders`), and a principal gets the
union of what its roles grant. Holding one more role can only open more, never less, and never
what none of the roles grants: a declarant who is also a partner administration sees every
transit handed over to its administration (the partner's grant) but still only its own
declarations (a partner administration grants none).

A partner administration's account is linked to one partner of the directory
(:mod:`smartcustoms.federation.accounts`); its grant reaches the transits handed over to that
administration, and nothing when the account is linked to none.

Each :class:`DataAccess` is one such table; routes declare its roles with
``@requires(ACCESS.roles)`` so the route policy and the data scope cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Final

from sqlalchemy.orm import Session

from smartcustoms.core.errors import Forbidden
from smartcustoms.core.principal import Principal
from smartcustoms.core.roles import Role
from smartcustoms.core.traders import trader_ids
from smartcustoms.federation.accounts import partner_names_of

__all__ = [
    "DECLARATION_LODGING",
    "DECLARATION_READING",
    "TRANSIT_CREATION",
    "TRANSIT_READING",
    "DataAccess",
    "Grant",
    "Scope",
]


class Grant(Enum):
    """What one role grants of one kind of data."""

    ALL = "all"
    OWN_TRADERS = "own_traders"
    #: What was handed over to the partner administration the account is linked to.
    HANDED_TO_PARTNER = "handed_to_partner"


@dataclass(frozen=True)
class Scope:
    """The traders' data a principal may reach: everything, or that of ``traders`` only, plus
    what was handed over to the administrations named in ``partners``."""

    everything: bool
    traders: frozenset[str] = frozenset()
    partners: frozenset[str] = frozenset()

    def allows(self, declarant_id: str | None) -> bool:
        return self.everything or (declarant_id is not None and declarant_id in self.traders)

    @property
    def declarant_ids(self) -> frozenset[str] | None:
        """For queries: None means no restriction, else only these declarant IDs."""
        return None if self.everything else self.traders

    def check(
        self,
        declarant_id: str | None,
        *,
        what: str,
        field: str = "declarant.id",
        reveal: bool = False,
    ) -> None:
        """Refuse (403) ``what`` unless this scope reaches ``declarant_id``. The refusal names
        the declarant only when ``reveal`` (the caller gave it): a refused read must not tell
        whose the declaration is."""
        if not self.allows(declarant_id):
            if reveal:
                message = f"{what}: you do not act for declarant {declarant_id!r}"
                detail = {"field": field, "value": declarant_id}
            else:
                message = f"{what}: not one of the traders you act for"
                detail = {"field": field}
            raise Forbidden(message, details=[detail])


NOTHING: Final = Scope(everything=False)
EVERYTHING: Final = Scope(everything=True)


@dataclass(frozen=True)
class DataAccess:
    """One kind of access (reading declarations, creating transits …): what each role grants.
    A role absent from ``grants`` grants nothing."""

    name: str
    grants: Mapping[Role, Grant] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "grants", MappingProxyType(dict(self.grants)))

    @property
    def roles(self) -> frozenset[Role]:
        """The roles that grant something: the ones its routes declare."""
        return frozenset(self.grants)

    def granted(self, roles: frozenset[Role]) -> frozenset[Grant]:
        return frozenset(self.grants[r] for r in roles if r in self.grants)

    def scope(
        self, session: Session, principal: Principal, *, among: Collection[str] | None = None
    ) -> Scope:
        """The union of what ``principal``'s roles grant. Trader identities are read from the
        database only when no role grants everything, and only those ``among`` the given ones
        when the caller knows which it will check (lodging a batch): the scope then allows
        nothing outside them."""
        granted = self.granted(principal.roles)
        if Grant.ALL in granted:
            return EVERYTHING
        traders: frozenset[str] = frozenset()
        partners: frozenset[str] = frozenset()
        if Grant.OWN_TRADERS in granted:
            traders = trader_ids(session, principal.user_id, among)
        if Grant.HANDED_TO_PARTNER in granted:
            partners = partner_names_of(session, principal.user_id)
        return Scope(everything=False, traders=traders, partners=partners)


def _access(name: str, own: frozenset[Role], everything: frozenset[Role]) -> DataAccess:
    grants = {r: Grant.OWN_TRADERS for r in own}
    grants.update({r: Grant.ALL for r in everything})
    return DataAccess(name, grants)


#: Lodging declarations: a declarant under its own trader identities; an administrator under
#: any (a back-office load on a trader's behalf).
DECLARATION_LODGING: Final = _access(
    "lodge declarations", frozenset({Role.DECLARANT}), frozenset({Role.ADMINISTRATOR})
)
#: Reading a declaration with its lane: a declarant its own traders'; officers every one.
DECLARATION_READING: Final = _access(
    "read declarations",
    frozenset({Role.DECLARANT}),
    frozenset({Role.EXAMINING_OFFICER, Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR}),
)
#: Reading transits (list, detail, track): a declarant those of its own traders' declarations;
#: a partner administration those handed over to it; customs, the command centre and auditors
#: every one.
TRANSIT_READING: Final = DataAccess(
    "read transits",
    {
        **_access(
            "read transits",
            frozenset({Role.DECLARANT}),
            frozenset(
                {
                    Role.EXAMINING_OFFICER,
                    Role.COMMAND_CENTRE_OPERATOR,
                    Role.SUPERVISOR,
                    Role.AUDITOR,
                    Role.ADMINISTRATOR,
                }
            ),
        ).grants,
        Role.PARTNER_ADMINISTRATION: Grant.HANDED_TO_PARTNER,
    },
)
#: Creating a transit from a declaration: a declarant from its own traders' declarations.
TRANSIT_CREATION: Final = _access(
    "create transits",
    frozenset({Role.DECLARANT}),
    frozenset({Role.EXAMINING_OFFICER, Role.COMMAND_CENTRE_OPERATOR, Role.ADMINISTRATOR}),
)
