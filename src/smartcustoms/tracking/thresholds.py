"""Alert types, their default severities, and the thresholds each corridor may change.

A corridor's ``thresholds`` is a JSON object with any of the :class:`Thresholds` fields and an
optional ``severity`` object mapping alert types to ``critical``, ``high``, ``medium`` or
``low``; whatever it does not set keeps the defaults below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.i18n import N_

__all__ = [
    "ALERT_LABELS",
    "DEFAULT_SEVERITY",
    "SEVERITY_LABELS",
    "AlertType",
    "Severity",
    "Thresholds",
]


class AlertType(StrEnum):
    SEAL_OPENED = "seal_opened"  # opened or unlocked outside an authorised zone
    CABLE_CUT = "cable_cut"
    TAMPER = "tamper"  # casing, removal, power or antenna cut
    ROUTE_DEVIATION = "route_deviation"
    LONG_STOP = "long_stop"
    DEADLINE_PASSED = "deadline_passed"
    SIGNAL_LOST = "signal_lost"
    LOW_BATTERY = "low_battery"
    GPS_JAMMING = "gps_jamming"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3}

DEFAULT_SEVERITY: Mapping[AlertType, Severity] = {
    AlertType.SEAL_OPENED: Severity.CRITICAL,
    AlertType.CABLE_CUT: Severity.CRITICAL,
    AlertType.TAMPER: Severity.CRITICAL,
    AlertType.ROUTE_DEVIATION: Severity.HIGH,
    AlertType.GPS_JAMMING: Severity.HIGH,
    AlertType.SIGNAL_LOST: Severity.HIGH,
    AlertType.LONG_STOP: Severity.MEDIUM,
    AlertType.DEADLINE_PASSED: Severity.MEDIUM,
    AlertType.LOW_BATTERY: Severity.LOW,
}

ALERT_LABELS: Mapping[AlertType, str] = {
    AlertType.SEAL_OPENED: N_("Seal opened"),
    AlertType.CABLE_CUT: N_("Cable cut"),
    AlertType.TAMPER: N_("Tampering"),
    AlertType.ROUTE_DEVIATION: N_("Route deviation"),
    AlertType.LONG_STOP: N_("Long stop"),
    AlertType.DEADLINE_PASSED: N_("Deadline passed"),
    AlertType.SIGNAL_LOST: N_("Signal lost"),
    AlertType.LOW_BATTERY: N_("Low battery"),
    AlertType.GPS_JAMMING: N_("GPS jamming"),
}

SEVERITY_LABELS: Mapping[Severity, str] = {
    Severity.CRITICAL: N_("critical"),
    Severity.HIGH: N_("high"),
    Severity.MEDIUM: N_("medium"),
    Severity.LOW: N_("low"),
}


@dataclass(frozen=True)
class Thresholds:
    """When the rules fire. Times in minutes, distances in metres, speeds in km/h."""

    deviation_minutes: float = 10.0  # outside the corridor buffer this long
    long_stop_minutes: float = 120.0  # stopped outside an authorised stop zone this long
    stop_speed_kmh: float = 5.0  # at or below: stopped
    stop_radius_m: float = 300.0  # creeping further than this ends a stop
    signal_lost_minutes: float = 30.0  # nothing heard from the device this long
    low_battery_percent: float = 20.0  # battery level at or below
    severity: Mapping[str, str] = field(default_factory=dict)

    def severity_of(self, alert: AlertType) -> Severity:
        return Severity(self.severity.get(alert.value, DEFAULT_SEVERITY[alert]))

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = dict(self.severity)
        return data

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None) -> Thresholds:
        """Thresholds from a corridor's JSON; ValidationFailed names the bad key."""
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            where = f"thresholds.{key}"
            if key not in known:
                raise ValidationFailed(
                    f"{where}: unknown threshold; known: {', '.join(sorted(known))}",
                    details=[{"field": where, "problem": "unknown"}],
                )
            if key == "severity":
                values[key] = _severities(value)
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValidationFailed(
                    f"{where}: expected a positive number, got {value!r}",
                    details=[{"field": where, "found": repr(value)}],
                )
            values[key] = float(value)
        return cls(**values)


def _severities(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValidationFailed(
            "thresholds.severity: expected an object of alert type → severity",
            details=[{"field": "thresholds.severity"}],
        )
    out = {}
    for key, level in value.items():
        where = f"thresholds.severity.{key}"
        if key not in AlertType._value2member_map_:
            raise ValidationFailed(f"{where}: unknown alert type", details=[{"field": where}])
        if level not in Severity._value2member_map_:
            raise ValidationFailed(
                f"{where}: expected critical, high, medium or low, got {level!r}",
                details=[{"field": where, "found": repr(level)}],
            )
        out[str(key)] = str(level)
    return out
