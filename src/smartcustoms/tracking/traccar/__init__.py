"""Traccar as a front end: its JSON position and event forwarding, taken into our pipeline.

==============  ==============================================================================
``forwarded``   Traccar's ``PositionData`` / ``EventData`` JSON read into :class:`Position`
                records (the mapping tables are there)
``intake``      the write path for forwards: the ingest writer, acknowledged after the commit
``config``      the ``traccar.xml`` entries an operator pastes
==============  ==============================================================================

HTTP in ``web/api/routes/traccar.py``; the CLI in ``cli/tracking_traccar.py``.
"""

from __future__ import annotations

from smartcustoms.tracking.traccar.config import EVENTS_PATH, POSITIONS_PATH, traccar_entries
from smartcustoms.tracking.traccar.forwarded import (
    ALARMS,
    EVENT_TYPES,
    Forwarded,
    TraccarFieldError,
    read_event,
    read_position,
)
from smartcustoms.tracking.traccar.intake import TraccarIntake, UnknownDevice, intake_of

__all__ = [
    "ALARMS",
    "EVENTS_PATH",
    "EVENT_TYPES",
    "POSITIONS_PATH",
    "Forwarded",
    "TraccarFieldError",
    "TraccarIntake",
    "UnknownDevice",
    "intake_of",
    "read_event",
    "read_position",
    "traccar_entries",
]
