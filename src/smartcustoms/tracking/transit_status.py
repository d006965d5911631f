"""The states of a transit, and which of them the pipeline monitors.

created ──arm──▶ armed ──hand over──▶ handed_over ──hand over──▶ handed_over …
   │               │                       │
   └──cancel──▶ cancelled ◀──cancel──┘     └──discharge──▶ discharged ◀── armed
"""

from __future__ import annotations

from enum import StrEnum

from smartcustoms.core.i18n import N_

__all__ = ["MONITORED", "STATUS_LABELS", "TransitStatus"]


class TransitStatus(StrEnum):
    CREATED = "created"  # declared, seal not yet armed
    ARMED = "armed"  # seal armed at origin: monitored
    HANDED_OVER = "handed_over"  # the partner administration took over at a border: monitored
    DISCHARGED = "discharged"  # seal disarmed at destination: ended
    CANCELLED = "cancelled"


MONITORED = frozenset({TransitStatus.ARMED.value, TransitStatus.HANDED_OVER.value})

STATUS_LABELS = {
    TransitStatus.CREATED: N_("created"),
    TransitStatus.ARMED: N_("armed"),
    TransitStatus.HANDED_OVER: N_("handed over"),
    TransitStatus.DISCHARGED: N_("discharged"),
    TransitStatus.CANCELLED: N_("cancelled"),
}
