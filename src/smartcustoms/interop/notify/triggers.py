"""Which ledger records call for someone on duty, and which end the wait.

    tracking.alert_raised (severity critical) ─▶ alert_critical, watched until acknowledged,
                                                 escalated or resolved
    tracking.alert_escalated                  ─▶ alert_escalated (told once)
    admin.action risk_rule_proposed           ─▶ rule_approval, watched until approved/rejected
    scans.reviewed → awaiting_recheck         ─▶ scan_recheck, watched until re-checked

A *matter* is one thing to tell people about; its ``dedup`` key is the same for the same thing
happening again (an alert of the same type on the same transit), so a burst is told once.
Offices come from the database (the transit's origin and destination, the declaration's
office): a record that names none reaches the people of every office.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.scans.tables import ScanRow
from smartcustoms.tracking.tables import AlertRow, TransitRow, ZoneRow

__all__ = ["TRIGGERS", "URGENT", "Matter", "Reading", "read_record"]

TRIGGERS = ("alert_critical", "alert_escalated", "rule_approval", "scan_recheck")
#: Urgent matters override quiet hours: a cut seal cannot wait for the morning; a rule
#: approval or a scan re-check can (see quiet.py).
URGENT = frozenset({"alert_critical", "alert_escalated", "test"})


@dataclass(frozen=True)
class Matter:
    trigger: str
    subject: str  # what it is about: "alert:12", "scan:3", "rule:Name@2"
    dedup: str  # the same thing again, within the window, is told once
    params: dict[str, Any]
    offices: tuple[str, ...]
    watch: bool  # the escalation chain runs until the wait ends

    @property
    def urgent(self) -> bool:
        return self.trigger in URGENT


@dataclass
class Reading:
    matters: list[Matter] = field(default_factory=list)
    closes: list[tuple[str, str]] = field(default_factory=list)  # (trigger, subject)


def _alert_offices(session: Session, transit_id: Any) -> tuple[str, ...]:
    if not isinstance(transit_id, int):
        return ()
    transit = session.get(TransitRow, transit_id)
    if transit is None:
        return ()
    codes = {transit.origin, transit.destination}
    offices = session.scalars(select(ZoneRow.office).where(ZoneRow.code.in_(codes))).all()
    return tuple(sorted(codes | {o for o in offices if o}))


def _alert_context(session: Session, alert_id: Any) -> tuple[dict[str, Any], tuple[str, ...]]:
    if not isinstance(alert_id, int):
        return {}, ()
    alert = session.get(AlertRow, alert_id)
    if alert is None:
        return {}, ()
    transit = session.get(TransitRow, alert.transit_id)
    params = {"alert_type": alert.type, "severity": alert.severity}
    if transit is not None:
        params["reference"] = transit.reference
    return params, _alert_offices(session, alert.transit_id)


def _scan_offices(session: Session, scan_id: Any) -> tuple[str, ...]:
    if not isinstance(scan_id, int):
        return ()
    office = session.scalar(
        select(DeclarationRow.office)
        .join(ScanRow, ScanRow.declaration_id == DeclarationRow.id)
        .where(ScanRow.id == scan_id)
    )
    return (office,) if office else ()


def read_record(session: Session, record: Mapping[str, Any]) -> Reading:
    """What ``record`` (a ledger record) means for the people on duty."""
    kind = record.get("type")
    out = Reading()
    params = {k: v for k, v in record.items() if isinstance(v, str | int | bool)}
    if kind == "tracking.alert_raised" and record.get("severity") == "critical":
        alert = record.get("alert_id")
        out.matters.append(
            Matter(
                "alert_critical",
                f"alert:{alert}",
                f"transit:{record.get('transit_id')}:{record.get('alert_type')}",
                params,
                _alert_offices(session, record.get("transit_id")),
                watch=True,
            )
        )
    elif kind in ("tracking.alert_acknowledged", "tracking.alert_resolved"):
        out.closes.append(("alert_critical", f"alert:{record.get('alert_id')}"))
    elif kind == "tracking.alert_escalated":
        alert = record.get("alert_id")
        out.closes.append(("alert_critical", f"alert:{alert}"))
        extra, offices = _alert_context(session, alert)
        out.matters.append(
            Matter(
                "alert_escalated",
                f"alert:{alert}",
                f"alert:{alert}:{record.get('team')}",
                {**params, **extra},
                offices,
                watch=False,
            )
        )
    elif kind == "admin.action":
        target = str(record.get("target", ""))
        action = record.get("action")
        if action == "risk_rule_proposed":
            out.matters.append(
                Matter("rule_approval", f"rule:{target}", f"rule:{target}", params, (), True)
            )
        elif action in ("risk_rule_approved", "risk_rule_rejected"):
            out.closes.append(("rule_approval", f"rule:{target}"))
    elif kind == "scans.reviewed" and record.get("status") == "awaiting_recheck":
        scan = record.get("scan_id")
        out.matters.append(
            Matter(
                "scan_recheck",
                f"scan:{scan}",
                f"scan:{scan}",
                params,
                _scan_offices(session, scan),
                watch=True,
            )
        )
    elif kind == "scans.rechecked":
        out.closes.append(("scan_recheck", f"scan:{record.get('scan_id')}"))
    return out
