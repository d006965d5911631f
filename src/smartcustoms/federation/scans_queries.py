"""Reading shared scans for the review station and the API: what was shared of a scan, and
which containers a partner already scanned ("not scanned twice on the same corridor")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.federation.scans_tables import RECEIVED, SharedScanRow
from smartcustoms.federation.tables import PartnerRow

__all__ = ["RECENT", "Shared", "partner_scans", "received_from", "shares_of", "shares_of_transit"]

#: How far back a partner's scan of a container counts as "already scanned": a container is
#: loaded again for another consignment within weeks, so an older scan says nothing of this one.
RECENT: Final = timedelta(days=30)


@dataclass(frozen=True)
class Shared:
    """One shared scan with its partner's name."""

    row: SharedScanRow
    partner: str


def _with_partner(session: Session, query: Select[SharedScanRow, str]) -> list[Shared]:
    return [Shared(row, name) for row, name in session.execute(query).all()]


def _select() -> Select[SharedScanRow, str]:
    return select(SharedScanRow, PartnerRow.name).join(
        PartnerRow, PartnerRow.id == SharedScanRow.partner_id
    )


def shares_of(session: Session, scan_id: int) -> list[Shared]:
    """What was shared of our scan ``scan_id``: to whom (sent) or from whom (received)."""
    query = _select().where(SharedScanRow.scan_id == scan_id).order_by(SharedScanRow.id)
    return _with_partner(session, query)


def received_from(session: Session, scan_ids: Iterable[int]) -> dict[int, str]:
    """Which of these scans a partner shared with us: scan id → the partner's name."""
    ids = sorted(set(scan_ids))
    if not ids:
        return {}
    query = select(SharedScanRow.scan_id, PartnerRow.name).join(
        PartnerRow, PartnerRow.id == SharedScanRow.partner_id
    )
    rows = session.execute(
        query.where(SharedScanRow.direction == RECEIVED, SharedScanRow.scan_id.in_(ids))
    )
    return {int(scan_id): name for scan_id, name in rows}


def shares_of_transit(session: Session, transit_id: int) -> list[Shared]:
    """The scans shared about one of our transits (either way)."""
    query = _select().where(SharedScanRow.transit_id == transit_id).order_by(SharedScanRow.id)
    return _with_partner(session, query)


def partner_scans(
    session: Session, containers: Iterable[str], *, within: timedelta = RECENT
) -> dict[str, list[Shared]]:
    """Per container, the partners' scans of it received in the last ``within``, newest first."""
    wanted = sorted(set(containers))
    if not wanted:
        return {}
    query = (
        _select()
        .where(
            SharedScanRow.direction == RECEIVED,
            SharedScanRow.container_number.in_(wanted),
            SharedScanRow.shared_at >= clock.now() - within,
        )
        .order_by(SharedScanRow.shared_at.desc())
    )
    found: dict[str, list[Shared]] = {}
    for item in _with_partner(session, query):
        found.setdefault(item.row.container_number, []).append(item)
    return found
