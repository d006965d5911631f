"""The community: per partner, what each side does for the other, in figures.

Witnessing both ways — the latest of our checkpoints the partner cosigned as our witness and
how far behind our latest it is (entries and seconds), and the latest of its checkpoints we
cosigned as its witness —, transits handed out and in, scans sent and received, rules offered
and adopted each way, notices sent and received. Each figure is one grouped count over the
tables that hold the fact, read in one session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from smartcustoms.federation.directory import kinds_of, list_partners
from smartcustoms.federation.exchange_tables import (
    ADOPTED,
    NoticeRecipientRow,
    NoticeRow,
    RuleOfferRow,
    RuleReceivedRow,
)
from smartcustoms.federation.scans_tables import RECEIVED, SENT, SharedScanRow
from smartcustoms.federation.tables import ForwardingRow, PartnerRow
from smartcustoms.ledger.errors import MalformedKey
from smartcustoms.ledger.keystore import key_label
from smartcustoms.ledger.tables import LedgerCheckpoint, LedgerCosignature, LedgerWitnessedLog
from smartcustoms.ledger.tlog.cosignature import parse_witness_verifier_key
from smartcustoms.ledger.tlog.keys import parse_verifier_key
from smartcustoms.tracking.tables import TransitRow

__all__ = ["PartnerFigures", "community"]


@dataclass(frozen=True)
class PartnerFigures:
    name: str
    country: str
    state: str
    kinds: list[str]
    #: Our log, witnessed by the partner: the latest checkpoint size it cosigned, when, and
    #: how far our latest checkpoint is ahead of it (None: it never cosigned one).
    cosigned_size: int | None
    cosigned_at: datetime | None
    lag_entries: int | None
    lag_s: float | None
    #: The partner's log, witnessed by us: the latest size we cosigned and when.
    witnessed_size: int | None
    witnessed_at: datetime | None
    transits_out: int
    transits_in: int
    scans_sent: int
    scans_received: int
    rules_offered: int
    rules_adopted_there: int
    rules_received: int
    rules_adopted_here: int
    notices_sent: int
    notices_received: int

    def public(self) -> dict[str, Any]:
        return asdict(self)


def _counts(
    session: Session, key: InstrumentedAttribute[Any], *where: ColumnElement[bool]
) -> dict[Any, int]:
    rows = session.execute(select(key, func.count()).where(*where).group_by(key))
    return {k: int(n) for k, n in rows}


def _witness_label(vkey: str) -> str | None:
    try:
        verifier = parse_witness_verifier_key(vkey)
    except (MalformedKey, ValueError):
        return None
    return key_label(verifier.name, verifier.key_id)


def _log_origin(vkey: str) -> str | None:
    try:
        return parse_verifier_key(vkey).name
    except (MalformedKey, ValueError):
        return None


def community(session: Session) -> list[PartnerFigures]:
    """Every partner in the directory, by name, with its figures."""
    partners: Sequence[PartnerRow] = list_partners(session)
    latest = session.execute(
        select(LedgerCheckpoint.size, LedgerCheckpoint.created_at)
        .order_by(LedgerCheckpoint.size.desc())
        .limit(1)
    ).first()
    out = _counts(session, ForwardingRow.partner_id)
    handed_in = _counts(session, TransitRow.handed_in_from, TransitRow.handed_in_from.is_not(None))
    scans_sent = _counts(session, SharedScanRow.partner_id, SharedScanRow.direction == SENT)
    scans_in = _counts(session, SharedScanRow.partner_id, SharedScanRow.direction == RECEIVED)
    offered = _counts(session, RuleOfferRow.partner_id)
    adopted_there = _counts(session, RuleOfferRow.partner_id, RuleOfferRow.state == ADOPTED)
    received = _counts(session, RuleReceivedRow.partner_id)
    adopted_here = _counts(session, RuleReceivedRow.partner_id, RuleReceivedRow.state == ADOPTED)
    notices_sent = _counts(session, NoticeRecipientRow.partner_id)
    notices_in = _counts(session, NoticeRow.partner_id, NoticeRow.partner_id.is_not(None))
    found = []
    for p in partners:
        cosigned = _cosigned(session, _witness_label(p.witness_vkey))
        witnessed = session.execute(
            select(LedgerWitnessedLog.size, LedgerWitnessedLog.updated_at).where(
                LedgerWitnessedLog.origin == _log_origin(p.ledger_vkey)
            )
        ).first()
        lag_entries = lag_s = None
        if cosigned is not None and latest is not None:
            lag_entries = max(0, int(latest.size) - cosigned[0])
            lag_s = max(0.0, (latest.created_at - cosigned[2]).total_seconds())
        found.append(
            PartnerFigures(
                name=p.name,
                country=p.country,
                state=p.state,
                kinds=kinds_of(p),
                cosigned_size=None if cosigned is None else cosigned[0],
                cosigned_at=None if cosigned is None else cosigned[1],
                lag_entries=lag_entries,
                lag_s=lag_s,
                witnessed_size=None if witnessed is None or not witnessed.size else witnessed.size,
                witnessed_at=None if witnessed is None or not witnessed.size else witnessed[1],
                transits_out=out.get(p.id, 0),
                transits_in=handed_in.get(p.name, 0),
                scans_sent=scans_sent.get(p.id, 0),
                scans_received=scans_in.get(p.id, 0),
                rules_offered=offered.get(p.id, 0),
                rules_adopted_there=adopted_there.get(p.id, 0),
                rules_received=received.get(p.id, 0),
                rules_adopted_here=adopted_here.get(p.id, 0),
                notices_sent=notices_sent.get(p.id, 0),
                notices_received=notices_in.get(p.id, 0),
            )
        )
    return found


def _cosigned(session: Session, label: str | None) -> tuple[int, datetime, datetime] | None:
    """The latest checkpoint ``label`` cosigned: its size, when the cosignature came, and when
    we signed that checkpoint."""
    if label is None:
        return None
    row = session.execute(
        select(
            LedgerCosignature.checkpoint_size,
            LedgerCosignature.created_at,
            LedgerCheckpoint.created_at,
        )
        .join(LedgerCheckpoint, LedgerCheckpoint.size == LedgerCosignature.checkpoint_size)
        .where(LedgerCosignature.witness == label)
        .order_by(LedgerCosignature.checkpoint_size.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), row[1], row[2])
