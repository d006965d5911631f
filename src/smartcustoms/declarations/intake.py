"""Taking declarations in, from the API or a file: check everything, then store all or nothing.

By default one invalid declaration stops the whole batch and nothing is written; with
``skip_invalid`` the valid ones are stored and each invalid one is returned with its reasons
(the CLI writes them to a rejects file). A declaration whose (declarant, LRN) is already stored,
or appears twice in the batch, is never stored twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.model import Declaration
from smartcustoms.declarations.store import Stored, store_declarations
from smartcustoms.declarations.validate import parse_declaration

__all__ = ["Checked", "ImportReport", "Rejection", "check_records", "import_records"]

MAX_REPORTED = 100  # problems listed in one error; the rejects file has them all


@dataclass(frozen=True)
class Rejection:
    where: str
    problems: list[dict[str, Any]]

    def flat(self) -> list[dict[str, Any]]:
        return [{"where": self.where, **p} for p in self.problems]


@dataclass(frozen=True)
class Checked:
    record: SourceRecord
    declaration: Declaration


@dataclass
class ImportReport:
    read: int = 0
    stored: list[Stored] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    outcomes: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(s.created for s in self.stored)

    @property
    def existing(self) -> int:
        return len(self.stored) - self.created


def check_records(
    records: Iterable[SourceRecord],
    *,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Checked], list[Rejection]]:
    good: list[Checked] = []
    bad: list[Rejection] = []
    first_seen: dict[tuple[str, str], str] = {}
    for record in records:
        if progress:
            progress(1)
        if record.problems or record.data is None:
            bad.append(Rejection(record.where, record.problems))
            continue
        try:
            declaration = parse_declaration(record.data, today=today)
        except ValidationFailed as exc:
            bad.append(Rejection(record.where, exc.details))
            continue
        key = (declaration.declarant.id, declaration.lrn)
        if key in first_seen:
            problem = f"declarant {key[0]} LRN {key[1]} repeats {first_seen[key]}"
            bad.append(Rejection(record.where, [{"field": "lrn", "problem": problem}]))
            continue
        first_seen[key] = record.where
        good.append(Checked(record, declaration))
    return good, bad


def import_records(
    session: Session,
    records: Iterable[SourceRecord],
    *,
    source: str,
    submitted_by: str,
    skip_invalid: bool = False,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Check every record, then store the valid ones in ``session``'s transaction."""
    good, bad = check_records(records, today=today, progress=progress)
    report = ImportReport(read=len(good) + len(bad), rejected=bad)
    if bad and not skip_invalid:
        details = [d for r in bad for d in r.flat()][:MAX_REPORTED]
        first = details[0] if details else {"where": bad[0].where, "problem": "invalid"}
        where = f"{first['where']}: {first.get('field') or ''}".rstrip(": ")
        raise ValidationFailed(
            f"{len(bad)} of {report.read} declarations are invalid; nothing was imported "
            f"(first: {where}: {first.get('problem')})",
            details=details,
        )
    result = store_declarations(
        session,
        [c.declaration for c in good],
        source=source,
        submitted_by=submitted_by,
        today=today,
    )
    report.stored = result.stored
    for checked, stored in zip(good, result.stored, strict=True):
        if checked.record.outcome is not None and stored.created:
            report.outcomes.append((stored.id, checked.record.outcome))
    return report
