"""Our side of a transit a partner handed over to us: its open alerts and its clocks.

* :func:`recreate_alerts`: the alerts open at the origin when it handed the transit over are
  raised here on the handed-in transit, in the hand-over's transaction, marked as the origin's
  (``federation_handed_alerts``: the partner, its alert id; the alert's details say so too;
  raised by ``partner:<name>``, a ``tracking.alert_raised`` record like any alert, so ``ledger
  fsck`` holds them to the same account). Each keeps its type's open key, so while it is open
  our own rules add their repeats to it rather than raising a second one of the same type; once
  our officer resolves it, our rules raise their own.
* :func:`sweep_handed_in`: the clock rules (signal lost, deadline passed) for handed-in
  transits. The ingest writers' sweeps skip them (their memory is not fed by the inbox, which
  stores these positions), so the federation deliverer, one per database by lease, runs this
  every :data:`SWEEP_EVERY` seconds on the inbox's pipeline memory, the live state read again
  from the database first.
* :data:`PIPELINE`: that memory (one per process), shared with the ``transit.positions``
  handler.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import insert, select

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.unit import Unit
from smartcustoms.federation.handover_tables import HandedAlertRow
from smartcustoms.federation.tables import PartnerRow
from smartcustoms.tracking.events import AlertRaised
from smartcustoms.tracking.feed import alert_payload, append_feed
from smartcustoms.tracking.monitor import Monitor
from smartcustoms.tracking.pipeline import run_clock_rules
from smartcustoms.tracking.tables import AlertRow, AlertStepRow, TransitRow
from smartcustoms.tracking.thresholds import AlertType, Severity
from smartcustoms.tracking.transit_status import MONITORED

__all__ = ["PIPELINE", "SWEEP_EVERY", "recreate_alerts", "sweep_handed_in"]

#: Seconds between two sweeps of handed-in transits (the ingest writer's default too).
SWEEP_EVERY: Final = 15.0
_MAX_ALERTS: Final = 50


class _Pipeline:
    """Our pipeline's memory for handed-in transits (one per process, one batch at a time)."""

    def __init__(self) -> None:
        self.monitor = Monitor()
        self.lock = threading.Lock()
        self.live_interval = timedelta(seconds=2)


PIPELINE = _Pipeline()


def _invalid(field: str, problem: str) -> ValidationFailed:
    return ValidationFailed(f"message: {field}: {problem}", details=[{"field": field}])


def _choice(alert: dict[str, Any], key: str, where: str, allowed: type[Any]) -> str:
    value = alert.get(key)
    choices = [v.value for v in allowed]
    if value not in choices:
        raise _invalid(f"{where}.{key}", f"one of {', '.join(choices)}")
    return str(value)


def _when(alert: dict[str, Any], key: str, where: str, default: datetime) -> datetime:
    value = alert.get(key)
    if value is None:
        return default
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise _invalid(f"{where}.{key}", "an ISO 8601 time with its zone")
    return parsed


def _number(alert: dict[str, Any], key: str, where: str) -> float | None:
    value = alert.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid(f"{where}.{key}", "a number")
    return float(value)


def recreate_alerts(
    unit: Unit, row: TransitRow, partner: PartnerRow, alerts: list[Any]
) -> list[int]:
    """Raise the origin's open ``alerts`` (the hand-over's ``open_alerts``) on ``row``; the
    new alerts' ids. Checked first, all of them: a bad one refuses the hand-over."""
    if len(alerts) > _MAX_ALERTS:
        raise _invalid("body.open_alerts", f"at most {_MAX_ALERTS} alerts")
    now = clock.now()
    checked: dict[str, dict[str, Any]] = {}
    for n, alert in enumerate(alerts):
        where = f"body.open_alerts[{n}]"
        if not isinstance(alert, dict):
            raise _invalid(where, "an object")
        kind = _choice(alert, "type", where, AlertType)
        origin_id = alert.get("id", 0)
        if not isinstance(origin_id, int) or isinstance(origin_id, bool) or origin_id < 0:
            raise _invalid(f"{where}.id", "the origin's alert id")
        details = alert.get("details")
        raised_at = _when(alert, "raised_at", where, now)
        checked.setdefault(  # one open alert per type and transit, as our own rules keep
            kind,
            {
                "type": kind,
                "severity": _choice(alert, "severity", where, Severity),
                "origin_id": origin_id,
                "occurred_at": _when(alert, "occurred_at", where, raised_at),
                "raised_at": raised_at,
                "latitude": _number(alert, "latitude", where),
                "longitude": _number(alert, "longitude", where),
                "count": alert.get("count") if isinstance(alert.get("count"), int) else 1,
                "details": {
                    "raised_by": partner.name,
                    "origin_alert_id": origin_id,
                    "origin_status": str(alert.get("status") or "open")[:16],
                    "origin_details": details if isinstance(details, dict) else {},
                },
            },
        )
    actor = f"partner:{partner.name}"[:64]
    created: list[int] = []
    for alert in checked.values():
        record = AlertRow(
            transit_id=row.id,
            device_id=row.device_id,
            type=alert["type"],
            severity=alert["severity"],
            status="open",
            open_key=f"{row.id}:{alert['type']}",
            raised_at=now,
            received_at=alert["raised_at"],
            occurred_at=alert["occurred_at"],
            last_occurred_at=alert["occurred_at"],
            count=max(1, min(int(alert["count"]), 2**31 - 1)),
            latitude=alert["latitude"],
            longitude=alert["longitude"],
            details=alert["details"],
        )
        unit.session.add(record)
        unit.session.flush()
        unit.session.add(
            AlertStepRow(
                alert_id=record.id,
                action="raised",
                at=now,
                actor=actor,
                elapsed_s=0.0,
                value=alert["severity"],
            )
        )
        unit.session.execute(
            insert(HandedAlertRow).values(
                alert_id=record.id,
                partner_id=partner.id,
                origin_alert_id=alert["origin_id"],
                raised_by=partner.name,
            )
        )
        append_feed(unit.session, [("alert", row.id, alert_payload(record, row.reference))], now)
        unit.emit(
            AlertRaised(
                actor=actor,
                at=now,
                alert_id=record.id,
                transit_id=row.id,
                reference=row.reference,
                device_id=row.device_id,
                alert_type=alert["type"],
                severity=alert["severity"],
                occurred_at=alert["occurred_at"].isoformat(),
            )
        )
        created.append(record.id)
    return created


def sweep_handed_in(ctx: AppContext, now: datetime | None = None) -> int:
    """The clock rules for every monitored handed-in transit, in one transaction; how many
    alerts they raised."""
    with ctx.db.engine.connect() as conn:
        any_handed_in = conn.scalar(
            select(TransitRow.id)
            .where(TransitRow.handed_in_from.is_not(None), TransitRow.status.in_(MONITORED))
            .limit(1)
        )
    if any_handed_in is None:
        return 0  # nothing to judge: no write transaction (SQLite's lock) taken
    now = now or clock.now()
    writer = ctx.db.engine.execution_options(sqlite_immediate=True)
    with PIPELINE.lock:
        monitor = PIPELINE.monitor
        try:
            with writer.begin() as conn:
                monitor.refresh(conn, now)
                result = run_clock_rules(conn, monitor, now, handed_in=True)
                ctx.bus.record(conn, result.events)  # the alerts' records commit with them
        except Exception:
            monitor.loaded = False  # memory unsure: loaded again next time
            raise
    ctx.bus.publish_all(result.events)
    return result.alerts_raised
