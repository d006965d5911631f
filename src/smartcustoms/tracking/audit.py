"""Tracking's auditor for ``smartcustoms ledger fsck``: every alert and every transit has the
ledger records of its life so far, and the latest of them is the state the row is in.

* ``tracking_alerts``: ``tracking.alert_raised`` (transit, type, severity, device) for each
  alert, and its status — open, acknowledged, escalated (with the team), resolved (with the
  outcome) — against the latest of ``alert_raised``, ``alert_acknowledged``,
  ``alert_escalated``, ``alert_resolved``. Assigning and commenting change no status.
* ``tracking_transits``: ``tracking.transit_created`` (reference, declaration, device) for each
  transit, and its status — created, armed, handed over (with the administration now
  responsible), discharged, cancelled — against the latest lifecycle record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select

from smartcustoms.ledger.audit import Audit, Auditor, Latest, Position, differences, fingerprint
from smartcustoms.tracking.tables import AlertRow, TransitRow

__all__ = ["AlertAuditor", "TransitAuditor", "auditors"]

_ALERT = "tracking.alert_"
_TRANSIT = "tracking.transit_"

# Record type → the status it leaves the alert in; and how far along the workflow that is.
_ALERT_STATUS = {
    "tracking.alert_raised": "open",
    "tracking.alert_acknowledged": "acknowledged",
    "tracking.alert_escalated": "escalated",
    "tracking.alert_resolved": "resolved",
}
_ALERT_RANK = {"open": 0, "acknowledged": 1, "escalated": 2, "resolved": 3}
_ALERT_DETAIL = {"escalated": ("team", "team"), "resolved": ("outcome", "outcome")}

_TRANSIT_STATUS = {
    "tracking.transit_created": "created",
    "tracking.transit_armed": "armed",
    "tracking.transit_handed_over": "handed_over",
    "tracking.transit_discharged": "discharged",
    "tracking.transit_cancelled": "cancelled",
}
_TRANSIT_RANK = {"created": 0, "armed": 1, "handed_over": 2, "discharged": 3, "cancelled": 3}
# The detail a status carries: (column in the table, field of the record).
_TRANSIT_DETAIL = {"handed_over": ("responsible", "to_administration")}


def _state_of(
    record: Mapping[str, Any],
    statuses: Mapping[str, str],
    details: Mapping[str, tuple[str, str]],
) -> tuple[Any, ...]:
    status = statuses.get(str(record.get("type")))
    detail = details.get(status or "")
    return (status,) if detail is None else (status, record.get(detail[1]))


def _row_state(row: Any, details: Mapping[str, tuple[str, str]]) -> tuple[Any, ...]:
    detail = details.get(row.status)
    return (row.status,) if detail is None else (row.status, getattr(row, detail[0]))


def _compare_state(
    audit: Audit,
    what: str,
    row: Any,
    seen: tuple[Position, int] | None,
    *,
    prefix: str,
    statuses: Mapping[str, str],
    ranks: Mapping[str, int],
    details: Mapping[str, tuple[str, str]],
) -> None:
    """Report where the row's status (and its detail) is not what its latest record says."""
    table = _row_state(row, details)
    if seen is None or seen[1] == fingerprint(*table):
        return
    at = seen[0]
    recorded = _state_of(audit.record(at), statuses, details)
    where = audit.where(at)
    if recorded[0] != row.status:
        if ranks.get(row.status, -1) > ranks.get(str(recorded[0]), -1):
            audit.problem(
                f"{what} is {row.status} but the ledger has no {prefix}{row.status} record for "
                f"it (the latest, {where}, says {recorded[0]})"
            )
        else:
            audit.problem(f"{what} is {row.status} in the table but {recorded[0]} in {where}")
        return
    name = details[row.status][0]
    audit.problem(f"{what}: {differences([(name, table[1], recorded[1])], where)}")


def _leftovers(
    audit: Audit, table: str, noun: str, *maps: Latest, describe: Callable[[Any], str]
) -> None:
    """Report once per id the records whose row is not in the table."""
    reported: set[Any] = set()
    for latest in maps:
        for key, at in latest.remaining():
            if key not in reported:
                reported.add(key)
                audit.problem(
                    f"{audit.where(at)} records {noun} {key}{describe(audit.record(at))}, which "
                    f"{table} does not have"
                )


class AlertAuditor(Auditor):
    types = frozenset(_ALERT_STATUS)

    def __init__(self) -> None:
        self.raised = Latest()
        self.state = Latest()

    def see(self, record: dict[str, Any], at: Position) -> None:
        alert = int(record["alert_id"])
        if record["type"] == "tracking.alert_raised":
            self.raised.put(
                alert,
                at,
                int(record["transit_id"]),
                record.get("alert_type"),
                record.get("severity"),
                record.get("device_id"),
            )
        self.state.put(alert, at, *_state_of(record, _ALERT_STATUS, _ALERT_DETAIL))

    def check(self, audit: Audit) -> None:
        query = select(
            AlertRow.id,
            AlertRow.transit_id,
            AlertRow.type,
            AlertRow.severity,
            AlertRow.device_id,
            AlertRow.status,
            AlertRow.team,
            AlertRow.outcome,
        )
        for rows in audit.chunks(query, AlertRow.id):
            for row in rows:
                audit.checked("alerts")
                what = f"alert {row.id}"
                raised = self.raised.take(row.id)
                state = self.state.take(row.id)
                table = (int(row.transit_id), row.type, row.severity, row.device_id)
                if raised is None:
                    audit.problem(
                        f"{what} ({row.type} on transit {row.transit_id}) has no "
                        "tracking.alert_raised record in the ledger"
                    )
                elif raised[1] != fingerprint(*table):
                    record = audit.record(raised[0])
                    fields = list(
                        zip(
                            ("transit", "type", "severity", "device"),
                            table,
                            (
                                record.get("transit_id"),
                                record.get("alert_type"),
                                record.get("severity"),
                                record.get("device_id"),
                            ),
                            strict=True,
                        )
                    )
                    audit.problem(f"{what}: {differences(fields, audit.where(raised[0]))}")
                _compare_state(
                    audit,
                    what,
                    row,
                    state,
                    prefix=_ALERT,
                    statuses=_ALERT_STATUS,
                    ranks=_ALERT_RANK,
                    details=_ALERT_DETAIL,
                )
        _leftovers(
            audit,
            "tracking_alerts",
            "alert",
            self.state,
            self.raised,
            describe=lambda r: f" ({r.get('type')})",
        )


# A transit not armed yet may take another seal (tracking.devices.assign_device): the record
# repeats reference and declaration, so the transit's identity is the latest of it and created.
_DEVICE_ASSIGNED = "tracking.transit_device_assigned"


class TransitAuditor(Auditor):
    types = frozenset(_TRANSIT_STATUS) | {_DEVICE_ASSIGNED}

    def __init__(self) -> None:
        self.created = Latest()
        self.state = Latest()

    def see(self, record: dict[str, Any], at: Position) -> None:
        transit = int(record["transit_id"])
        if record["type"] == _DEVICE_ASSIGNED:
            self.created.put(
                transit,
                at,
                record.get("reference"),
                record.get("declaration_id"),
                record.get("device_id"),
            )
            return  # the status is unchanged
        if record["type"] == "tracking.transit_created":
            self.created.put(
                transit,
                at,
                record.get("reference"),
                record.get("declaration_id"),
                record.get("device_id"),
            )
        self.state.put(transit, at, *_state_of(record, _TRANSIT_STATUS, _TRANSIT_DETAIL))

    def check(self, audit: Audit) -> None:
        query = select(
            TransitRow.id,
            TransitRow.reference,
            TransitRow.declaration_id,
            TransitRow.device_id,
            TransitRow.status,
            TransitRow.responsible,
        )
        for rows in audit.chunks(query, TransitRow.id):
            for row in rows:
                audit.checked("transits")
                what = f"transit {row.id} ({row.reference})"
                created = self.created.take(row.id)
                state = self.state.take(row.id)
                table = (row.reference, int(row.declaration_id), row.device_id)
                if created is None:
                    audit.problem(f"{what} has no tracking.transit_created record in the ledger")
                elif created[1] != fingerprint(*table):
                    record = audit.record(created[0])
                    fields = list(
                        zip(
                            ("reference", "declaration", "device"),
                            table,
                            (
                                record.get("reference"),
                                record.get("declaration_id"),
                                record.get("device_id"),
                            ),
                            strict=True,
                        )
                    )
                    audit.problem(f"{what}: {differences(fields, audit.where(created[0]))}")
                _compare_state(
                    audit,
                    what,
                    row,
                    state,
                    prefix=_TRANSIT,
                    statuses=_TRANSIT_STATUS,
                    ranks=_TRANSIT_RANK,
                    details=_TRANSIT_DETAIL,
                )
        _leftovers(
            audit,
            "tracking_transits",
            "transit",
            self.state,
            self.created,
            describe=lambda r: f" ({r.get('reference')}, {r.get('type')})",
        )


def auditors() -> list[Auditor]:
    """Tracking's auditors, fresh for one run of ``ledger fsck``."""
    return [AlertAuditor(), TransitAuditor()]
