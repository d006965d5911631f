"""Names of what seals report (:class:`~smartcustoms.tracking.records.SealEvent`), marked for
the catalogue: the track replay shows them in the reader's language, the API keeps the codes."""

from __future__ import annotations

from smartcustoms.core.i18n import N_
from smartcustoms.tracking.records import SealEvent

__all__ = ["SEAL_EVENT_LABELS"]

SEAL_EVENT_LABELS: dict[SealEvent, str] = {
    SealEvent.LOCKED: N_("locked"),
    SealEvent.UNLOCKED: N_("unlocked"),
    SealEvent.OPENED: N_("opened"),
    SealEvent.CLOSED: N_("closed"),
    SealEvent.CABLE_CUT: N_("cable cut"),
    SealEvent.TAMPER: N_("tampering"),
    SealEvent.LOW_BATTERY: N_("low battery"),
    SealEvent.POWER_CUT: N_("power cut"),
    SealEvent.GPS_JAMMING: N_("GPS jamming"),
    SealEvent.GPS_ANTENNA_CUT: N_("GPS antenna cut"),
    SealEvent.VIBRATION: N_("vibration"),
    SealEvent.SOS: N_("SOS"),
    SealEvent.OVERSPEED: N_("overspeed"),
    SealEvent.GEOFENCE_ENTER: N_("zone entered"),
    SealEvent.GEOFENCE_EXIT: N_("zone left"),
    SealEvent.WRONG_PASSWORD: N_("wrong password"),
    SealEvent.UNAUTHORIZED_CARD: N_("unauthorised card"),
    SealEvent.FAULT: N_("device fault"),
}
