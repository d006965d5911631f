"""Selectivity lanes, from most to least intrusive."""

from __future__ import annotations

from enum import StrEnum

from smartcustoms.core.i18n import N_

__all__ = ["LANE_LABELS", "LANE_NAMES", "Lane", "most_severe"]


class Lane(StrEnum):
    RED = "red"  # physical examination
    SCAN = "scan"  # non-intrusive inspection (X-ray)
    YELLOW = "yellow"  # documentary check
    BLUE = "blue"  # release now, post-clearance audit
    GREEN = "green"  # release

    @property
    def severity(self) -> int:
        return _ORDER.index(self)


_ORDER = [Lane.GREEN, Lane.BLUE, Lane.YELLOW, Lane.SCAN, Lane.RED]

LANE_LABELS = {
    Lane.RED: N_("Red: physical examination"),
    Lane.SCAN: N_("Scan: non-intrusive inspection"),
    Lane.YELLOW: N_("Yellow: documentary check"),
    Lane.BLUE: N_("Blue: post-clearance audit"),
    Lane.GREEN: N_("Green: release"),
}

# The lane's name alone, for badges in lists (translated where shown).
LANE_NAMES = {
    Lane.RED: N_("Red"),
    Lane.SCAN: N_("Scan"),
    Lane.YELLOW: N_("Yellow"),
    Lane.BLUE: N_("Blue"),
    Lane.GREEN: N_("Green"),
}


def most_severe(lanes: list[Lane]) -> Lane:
    return max(lanes, key=lambda lane: lane.severity, default=Lane.GREEN)
