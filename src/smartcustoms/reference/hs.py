"""The Harmonized System nomenclature, versioned by edition.

Which edition applies depends on the date of the declaration: HS 2022 from 1 January 2022,
HS 2028 from 1 January 2028 (add its file and one line to :data:`EDITIONS`). For dates before
the earliest packaged edition (HS 2017 history, e.g. the KCS data set of 2020–2021) the
product cannot check that a subheading exists: it checks the code's shape and chapter only and
says so (:attr:`HsEdition.verified` is False).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

__all__ = ["EDITIONS", "HsEdition", "HsEntry", "edition_for", "edition_named"]


@dataclass(frozen=True)
class HsEntry:
    code: str  # 2, 4 or 6 digits
    description: str
    section: str
    parent: str | None


@dataclass(frozen=True)
class HsEdition:
    name: str
    valid_from: date
    valid_until: date | None
    file: str | None  # None: not packaged; only the code's shape and chapter can be checked

    @property
    def verified(self) -> bool:
        return self.file is not None

    def lookup(self, code: str) -> HsEntry | None:
        return self._table().get(code)

    def check(self, code: str) -> str | None:
        """None if ``code`` is a valid subheading of this edition, else why it is not."""
        if len(code) != 6 or not code.isdigit():
            return "an HS subheading is 6 digits"
        chapter = int(code[:2])
        if chapter == 0 or chapter > 97 or chapter == 77:
            return f"HS chapter {code[:2]} does not exist"
        if not self.verified:
            return None
        if code not in self._table():
            return f"{code} is not a subheading of {self.name}"
        return None

    def describe(self, code: str) -> str | None:
        entry = self.lookup(code[:6]) or self.lookup(code[:4]) or self.lookup(code[:2])
        return entry.description if entry else None

    def _table(self) -> dict[str, HsEntry]:
        return _load(self.file) if self.file else {}


@cache
def _load(file: str) -> dict[str, HsEntry]:
    path = resources.files("smartcustoms.reference") / "data" / file
    table = {}
    for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")):
        code = row["hscode"]
        if row["level"] in ("2", "4", "6"):
            table[code] = HsEntry(
                code=code,
                description=row["description"],
                section=row["section"],
                parent=None if row["parent"] == "TOTAL" else row["parent"],
            )
    return table


EDITIONS: tuple[HsEdition, ...] = (
    HsEdition("HS2017", date(2017, 1, 1), date(2021, 12, 31), None),
    HsEdition("HS2022", date(2022, 1, 1), None, "hs2022.csv"),
)


def edition_for(day: date) -> HsEdition:
    """The edition in force on ``day`` (the earliest packaged one for older dates)."""
    for edition in reversed(EDITIONS):
        if day >= edition.valid_from:
            return edition
    return EDITIONS[0]


def edition_named(name: str) -> HsEdition:
    for edition in EDITIONS:
        if edition.name.lower() == name.lower().replace(" ", ""):
            return edition
    raise KeyError(name)
