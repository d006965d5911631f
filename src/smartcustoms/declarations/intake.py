"""Taking declarations in, from the API or a file: check everything, store all or nothing.

By default one invalid declaration stops the whole batch and nothing is written; with
``skip_invalid`` the valid ones are stored and each invalid one is returned with its reasons
(the CLI writes them to a rejects file). A declaration whose (declarant, LRN) is already stored,
or appears twice in the batch, is never stored twice.

Records stream through in chunks (:func:`import_stream`): each chunk is checked, stored in the
caller's transaction and handed to ``on_stored`` (the CLI assesses it there), then dropped; the
keys seen so far are kept in bounded memory (:class:`KeyLog`). So a file of any size is
imported in bounded memory and still all or nothing: an invalid declaration anywhere (without
``skip_invalid``) raises ValidationFailed once the rest of the file is checked (so the error
counts and names every problem), and the unit of work, which rolls back on any exception, takes
every chunk already stored with it. A batch of one chunk or less (any API lodging up to
:data:`CHUNK` declarations) is refused before anything of it is written.

(No savepoint around the chunks: SQLite keeps a savepoint's journal in memory here —
``temp_store=MEMORY`` — and it would grow with the file.)
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
from smartcustoms.declarations.spill import KeyLog
from smartcustoms.declarations.store import Stored, store_declarations
from smartcustoms.declarations.validate import parse_declaration

__all__ = [
    "CHUNK",
    "Checked",
    "ImportReport",
    "Rejection",
    "StoredChunk",
    "check_batch",
    "check_records",
    "import_records",
    "import_stream",
]

MAX_REPORTED = 100  # problems listed in one error; the rejects file has them all
CHUNK = 1000  # declarations checked, stored (and assessed by the CLI) at a time


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


@dataclass(frozen=True)
class StoredChunk:
    """One chunk as stored: every declaration (new or known) and the past inspection results
    of the new ones, as ``(declaration id, outcome)``."""

    stored: list[Stored]
    outcomes: list[tuple[int, dict[str, Any]]]


@dataclass
class ImportReport:
    """What an import did. ``stored``, ``rejected`` and ``outcomes`` are filled by
    :func:`import_records` only; a streamed import counts."""

    read: int = 0
    created: int = 0
    existing: int = 0
    rejected_count: int = 0
    stored: list[Stored] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    outcomes: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


class _Checker:
    """Checks records one at a time, naming a repeated (declarant, LRN) by its first place."""

    def __init__(self, keys: KeyLog, today: date | None) -> None:
        self.keys = keys
        self.today = today

    def check(self, record: SourceRecord) -> Checked | Rejection:
        if record.problems or record.data is None:
            return Rejection(record.where, record.problems)
        try:
            declaration = parse_declaration(record.data, today=self.today)
        except ValidationFailed as exc:
            return Rejection(record.where, exc.details)
        key = (declaration.declarant.id, declaration.lrn)
        first = self.keys.first(key, record.where)
        if first is not None:
            problem = f"declarant {key[0]} LRN {key[1]} repeats {first}"
            return Rejection(record.where, [{"field": "lrn", "problem": problem}])
        return Checked(record, declaration)


def check_records(
    records: Iterable[SourceRecord],
    *,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[Checked], list[Rejection]]:
    """Check every record (in memory: for a batch; files go through :func:`import_stream`)."""
    good: list[Checked] = []
    bad: list[Rejection] = []
    with KeyLog() as keys:
        checker = _Checker(keys, today)
        for record in records:
            if progress:
                progress(1)
            result = checker.check(record)
            if isinstance(result, Checked):
                good.append(result)
            else:
                bad.append(result)
    return good, bad


def _refusal(bad: int, read: int, details: list[dict[str, Any]], first: str) -> ValidationFailed:
    head = details[0] if details else {"where": first, "problem": "invalid"}
    where = f"{head['where']}: {head.get('field') or ''}".rstrip(": ")
    return ValidationFailed(
        f"{bad} of {read} declarations are invalid; nothing was imported "
        f"(first: {where}: {head.get('problem')})",
        details=details,
    )


def check_batch(
    records: Iterable[SourceRecord], *, skip_invalid: bool = False, today: date | None = None
) -> tuple[list[Checked], ImportReport]:
    """Check a batch of at most :data:`CHUNK` records as :func:`import_records` would, storing
    nothing: the valid declarations, and a report that counts what was read and rejected (and
    keeps each rejection, with ``skip_invalid``). Without ``skip_invalid`` an invalid record
    raises the ValidationFailed that :func:`import_records` raises for it."""
    report = ImportReport()
    details: list[dict[str, Any]] = []
    first_bad = ""
    good: list[Checked] = []
    with KeyLog() as keys:
        checker = _Checker(keys, today)
        for record in records:
            report.read += 1
            if report.read > CHUNK:
                raise ValueError(f"check_batch takes at most {CHUNK} records")
            result = checker.check(record)
            if isinstance(result, Checked):
                if not report.rejected_count or skip_invalid:
                    good.append(result)
                continue
            report.rejected_count += 1
            if not skip_invalid:
                first_bad = first_bad or result.where
                if len(details) < MAX_REPORTED:
                    details.extend(result.flat()[: MAX_REPORTED - len(details)])
                good.clear()
            else:
                report.rejected.append(result)
    if report.rejected_count and not skip_invalid:
        raise _refusal(report.rejected_count, report.read, details, first_bad)
    return good, report


def import_stream(
    session: Session,
    records: Iterable[SourceRecord],
    *,
    source: str,
    submitted_by: str,
    skip_invalid: bool = False,
    today: date | None = None,
    progress: Callable[[int], None] | None = None,
    on_rejected: Callable[[Rejection], None] | None = None,
    on_stored: Callable[[StoredChunk], None] | None = None,
    chunk: int | None = None,
) -> ImportReport:
    """Check and store ``records`` a chunk at a time in ``session``'s transaction.

    Each invalid record goes to ``on_rejected`` (with ``skip_invalid``); each stored chunk to
    ``on_stored``, in the same transaction. Without ``skip_invalid``, an invalid record stops
    the storing, the rest is still checked, and ValidationFailed names the first
    :data:`MAX_REPORTED` problems; the caller's transaction must then be rolled back (a unit of
    work does so) to drop the chunks stored before. The report counts; it keeps no declaration.
    """
    size = chunk or CHUNK
    report = ImportReport()
    details: list[dict[str, Any]] = []
    first_bad = ""
    pending: list[Checked] = []

    def flush() -> None:
        result = store_declarations(
            session,
            [c.declaration for c in pending],
            source=source,
            submitted_by=submitted_by,
            today=today,
        )
        outcomes = [
            (s.id, c.record.outcome)
            for c, s in zip(pending, result.stored, strict=True)
            if c.record.outcome is not None and s.created
        ]
        report.created += result.created
        report.existing += result.existing
        pending.clear()
        if on_stored is not None:
            on_stored(StoredChunk(result.stored, outcomes))

    with KeyLog() as keys:
        checker = _Checker(keys, today)
        for record in records:
            if progress:
                progress(1)
            report.read += 1
            result = checker.check(record)
            if isinstance(result, Checked):
                if report.rejected_count and not skip_invalid:
                    continue  # nothing more is stored: only counting what is wrong
                pending.append(result)
                if len(pending) >= size:
                    flush()
                continue
            report.rejected_count += 1
            if not skip_invalid:
                first_bad = first_bad or result.where
                if len(details) < MAX_REPORTED:
                    details.extend(result.flat()[: MAX_REPORTED - len(details)])
                pending.clear()
            elif on_rejected is not None:
                on_rejected(result)
        if report.rejected_count and not skip_invalid:
            raise _refusal(report.rejected_count, report.read, details, first_bad)
        if pending:
            flush()
    return report


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
    """Check every record and store the valid ones in ``session``'s transaction, keeping
    every stored declaration, rejection and outcome in the report (a batch from the API)."""
    kept: ImportReport = ImportReport()

    def stored(part: StoredChunk) -> None:
        kept.stored.extend(part.stored)
        kept.outcomes.extend(part.outcomes)

    report = import_stream(
        session,
        records,
        source=source,
        submitted_by=submitted_by,
        skip_invalid=skip_invalid,
        today=today,
        progress=progress,
        on_rejected=kept.rejected.append,
        on_stored=stored,
    )
    report.stored, report.rejected, report.outcomes = kept.stored, kept.rejected, kept.outcomes
    return report
