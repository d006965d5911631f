"""Words for what the machine reports, marked for translation (the analyses speak English;
the review station shows these labels in the analyst's language beside the machine's text)."""

from __future__ import annotations

from smartcustoms.core.i18n import N_

__all__ = [
    "CATEGORIES",
    "CHECKS",
    "CHECK_STATUSES",
    "MACHINE_DECISIONS",
    "MASS_SOURCES",
    "MATERIALS",
]

CATEGORIES = {
    "NOT_EMPTY": N_("Object in a container declared empty"),
    "MASS_DISCREPANCY": N_("Mass differs from the declaration"),
    "CONCEALMENT": N_("Unlike the declared goods"),
    "ANOMALY": N_("Unusual region"),
}
CHECKS = {
    "mass": N_("Declared mass"),
    "empty": N_("Empty container"),
    "concealment": N_("Declared goods"),
    "frame": N_("Container frame"),
}
CHECK_STATUSES = {
    "pass": N_("passed"),
    "fail": N_("failed"),
    "unverifiable": N_("cannot tell"),
    "not_applicable": N_("not applicable"),
}
MACHINE_DECISIONS = {
    "ALARM": N_("Alarm"),
    "CLEAR": N_("Clear"),
    "UNKNOWN": N_("Undecided"),
}
MATERIALS = {"organic": N_("organic"), "mixed": N_("mixed"), "metal": N_("metal")}
MASS_SOURCES = {
    "upload": N_("sent with the scan"),
    "declaration": N_("from the declaration"),
    "shared": N_("not compared: the declaration's mass covers several containers"),
}
