"""Which events go out as webhooks, under which public name, about which subject, with what data.

An event is matched by its ledger record type (``risk.lane_assigned`` …), so this package needs
none of the modules that emit them. Each webhook type names an *allow-list* of record fields:
a field added to an event later stays inside until someone adds it here, so nothing
confidential (client addresses, see ``ledger.outbox.CONFIDENTIAL_FIELDS``; free text, which
events carry only as SHA-256) leaves by accident. The acting user is not sent either: a
receiver learns what was decided, not who clicked.

The *subject* is what order is kept for: every delivery about ``declaration:42`` reaches a
receiver in the order the changes committed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from smartcustoms.core.i18n import N_

__all__ = ["CATALOGUE", "EVENT_TYPES", "WebhookType", "describe", "match"]


@dataclass(frozen=True)
class WebhookType:
    name: str  # the public event type a subscription names
    label: str  # for pages, translated at display
    fields: tuple[str, ...]
    subject: Callable[[Mapping[str, Any]], str]


def _declaration(r: Mapping[str, Any]) -> str:
    return f"declaration:{r['declaration_id']}"


def _scan(r: Mapping[str, Any]) -> str:
    return f"scan:{r['scan_id']}"


def _alert(r: Mapping[str, Any]) -> str:
    return f"alert:{r['alert_id']}"


def _transit(r: Mapping[str, Any]) -> str:
    return f"transit:{r['transit_id']}"


def _rule(r: Mapping[str, Any]) -> str:
    return f"rule:{str(r['target']).rsplit('@', 1)[0]}"


_LANE = WebhookType(
    "declaration.lane_decided",
    N_("Lane decided"),
    (
        "declaration_id",
        "lane",
        "score",
        "threshold",
        "model_version",
        "rules",
        "random_control",
        "exploration",
        "document_sha256",
    ),
    _declaration,
)
_SCAN = WebhookType(
    "scan.decided",
    N_("Scan decided"),
    ("scan_id", "decision", "machine_decision", "analyst_decision", "agrees", "status"),
    _scan,
)
_EXAMINATION = WebhookType(
    "examination.recorded",
    N_("Examination recorded"),
    ("declaration_id", "scan_id", "irregular", "codes", "revenue_raised", "seizure", "found_kg"),
    _declaration,
)
_ALERT_FIELDS = (
    "alert_id",
    "transit_id",
    "reference",
    "device_id",
    "alert_type",
    "severity",
    "occurred_at",
    "team",
    "outcome",
    "elapsed_ms",
)
_TRANSIT_FIELDS = (
    "transit_id",
    "reference",
    "device_id",
    "office",
    "border",
    "from_administration",
    "to_administration",
    "at_destination",
    "seal_intact",
)

#: Ledger record type → webhook type. Scans: the analyst's review and a supervisor's recheck
#: are both decisions; an examination is recorded by risk (inspection) or scans (label).
CATALOGUE: dict[str, WebhookType] = {
    "risk.lane_assigned": _LANE,
    "scans.reviewed": _SCAN,
    "scans.rechecked": _SCAN,
    # An approved lane override: the customs system learns the declaration's new final lane.
    "risk.lane_override_approved": WebhookType(
        "declaration.lane_overridden",
        N_("Lane overridden"),
        ("declaration_id", "override_id", "original_lane", "from_lane", "to_lane"),
        _declaration,
    ),
    "risk.inspection_recorded": _EXAMINATION,
    "scans.examined": _EXAMINATION,
    "tracking.alert_raised": WebhookType("alert.raised", N_("Alert raised"), _ALERT_FIELDS, _alert),
    "tracking.alert_escalated": WebhookType(
        "alert.escalated", N_("Alert escalated"), _ALERT_FIELDS, _alert
    ),
    "tracking.alert_resolved": WebhookType(
        "alert.resolved", N_("Alert resolved"), _ALERT_FIELDS, _alert
    ),
    "tracking.transit_armed": WebhookType(
        "transit.armed", N_("Transit armed"), _TRANSIT_FIELDS, _transit
    ),
    "tracking.transit_handed_over": WebhookType(
        "transit.handed_over", N_("Transit handed over"), _TRANSIT_FIELDS, _transit
    ),
    "tracking.transit_discharged": WebhookType(
        "transit.discharged", N_("Transit discharged"), _TRANSIT_FIELDS, _transit
    ),
}

_RULE_APPROVED = WebhookType("rule.approved", N_("Rule approved"), ("rule", "version"), _rule)

#: Every public event type, in the order pages list them.
EVENT_TYPES: dict[str, WebhookType] = {t.name: t for t in [*CATALOGUE.values(), _RULE_APPROVED]}


def describe(name: str) -> WebhookType:
    return EVENT_TYPES[name]


def _plain(value: Any) -> Any:
    """A value as the ledger record has it: ISO times, sorted lists for sets, lists for tuples."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def match(kind: str, fields: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """``(webhook type, subject, data)`` for an event of record type ``kind`` whose fields are
    ``fields`` (an event's attributes, or a ledger record), or None if it is not sent out.

    Reads the attributes directly rather than through ``Event.as_record`` (a deep copy of
    every field): this runs in the lodging transaction, once per decision."""
    if kind == "admin.action":
        if fields.get("action") != "risk_rule_approved":
            return None
        name, _, version = str(fields.get("target", "")).rpartition("@")
        data: dict[str, Any] = {
            "rule": name,
            "version": int(version) if version.isdigit() else version,
        }
        return _RULE_APPROVED.name, _rule(fields), data
    spec = CATALOGUE.get(kind)
    if spec is None:
        return None
    data = {k: _plain(fields[k]) for k in spec.fields if k in fields}
    return spec.name, spec.subject(fields), data
