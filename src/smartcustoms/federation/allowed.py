"""Whether a partner may exchange a kind of thing with this instance: the directory's choice
(the kinds an administrator gave it from those its card accepts) and its state."""

from __future__ import annotations

from smartcustoms.core.errors import Conflict, Forbidden
from smartcustoms.federation.directory import kinds_of
from smartcustoms.federation.tables import ACTIVE, PartnerRow

__all__ = ["check_allowed"]


def check_allowed(partner: PartnerRow, kind: str, *, field: str = "partner") -> None:
    """``partner`` is active and may exchange ``kind`` (sent to it, or received from it);
    else a typed error naming ``field``."""
    if partner.state != ACTIVE:
        raise Conflict(
            f"partner {partner.name!r} is suspended",
            details=[{"field": field, "value": partner.name}],
            code="partner_suspended",
        )
    if kind not in kinds_of(partner):
        raise Forbidden(
            f"partner {partner.name!r} may not exchange {kind} with this instance",
            details=[{"field": field, "value": partner.name}],
            code="partner_not_allowed",
        )
