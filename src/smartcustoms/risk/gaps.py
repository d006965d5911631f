"""Ids the history's catch-up skipped, kept until their rows come or can no longer come.

The catch-up reads rows by id, after the highest id it has seen. On PostgreSQL ids are given at
insert, not at commit: a transaction that took id 100 may commit after another one's id 101 was
read. Each run of ids skipped that way is a :class:`Gap`, looked up again at every catch-up.

A gap is dropped on proof, not after a while: every transaction that inserts into a table holds
a ``RowExclusiveLock`` on it from before it takes an id (the lock is taken when the statement is
planned, the id when it runs) until it ends. The transactions holding that lock just after the
read that found the gap are the only ones that can still commit its ids; once none of them holds
it any more, one last look-up sees whatever they committed, and what is still missing was rolled
back. No time limit, no limit on a gap's width: a file imported in one transaction for an hour is
waited for, and a rolled-back one stops being looked for at the next catch-up after it ends.

SQLite has one writer at a time, whose ids are committed in order: nothing is ever skipped there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, text
from sqlalchemy.orm import Session

__all__ = ["Gap", "Gaps", "open_writers"]

#: Rows read per query when a gap is looked up.
LOOKUP_CHUNK = 5000


def open_writers(session: Session, table: str) -> frozenset[str] | None:
    """The transactions (PostgreSQL virtual ids) that may still commit rows into ``table``;
    None where ids commit in order (SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    holders = session.scalars(
        text(
            "SELECT DISTINCT virtualtransaction FROM pg_locks WHERE locktype = 'relation' "
            "AND relation = to_regclass(:table) AND mode = 'RowExclusiveLock' "
            "AND pid <> pg_backend_pid()"
        ),
        {"table": table},
    )
    return frozenset(holders)


@dataclass(frozen=True)
class Gap:
    """Ids ``first`` to ``last`` not seen yet, and who could still commit them."""

    first: int
    last: int
    writers: frozenset[str]

    def without(self, found: Sequence[int]) -> list[Gap]:
        """What is left of this gap once the ascending ids ``found`` (inside it) came."""
        pieces, start = [], self.first
        for found_id in found:
            if start < found_id:
                pieces.append(Gap(start, found_id - 1, self.writers))
            start = found_id + 1
        if start <= self.last:
            pieces.append(Gap(start, self.last, self.writers))
        return pieces


class Gaps:
    """The gaps of one table, in id order."""

    def __init__(self, table: str) -> None:
        self.table = table
        self._gaps: list[Gap] = []

    def __contains__(self, row_id: int) -> bool:
        return any(g.first <= row_id <= g.last for g in self._gaps)

    def __bool__(self) -> bool:
        return bool(self._gaps)

    def __len__(self) -> int:
        return sum(g.last - g.first + 1 for g in self._gaps)

    def note(self, seen: int, ids: Sequence[int], writers: frozenset[str] | None) -> None:
        """Keep the ids missing between ``seen`` and the ascending ``ids`` just read.

        ``writers`` are those that held the table's lock *after* that read (see the module's
        note); None (SQLite) notes nothing.
        """
        if writers is None or not ids:
            return
        expected = seen + 1
        for found in ids:
            if expected < found:
                self._gaps.append(Gap(expected, found - 1, writers))
            expected = found + 1

    def fill(
        self,
        session: Session,
        query: Callable[[int, int], Select[Any]],
        use: Callable[[Sequence[Any]], None],
        writers: frozenset[str] | None,
    ) -> None:
        """Look every gap up; ``use`` the rows found (in id order), and drop the gaps whose
        writers are all gone. ``writers`` must have been read *before* this call, so that
        anything those gone committed is seen here. ``query(first, last)`` selects the rows
        with ids in that range, id first, in id order."""
        kept: list[Gap] = []
        for gap in self._gaps:
            found: list[int] = []
            start = gap.first
            while start <= gap.last:
                rows = session.execute(query(start, gap.last).limit(LOOKUP_CHUNK)).all()
                if not rows:
                    break
                use(rows)
                found.extend(int(r[0]) for r in rows)
                start = int(rows[-1][0]) + 1
            if writers is None or gap.writers & writers:  # one of them may still commit
                kept.extend(gap.without(found))
        self._gaps = kept

    def ids(self) -> Iterable[int]:
        """Every id still missing (for tests and logs: gaps may be wide)."""
        for gap in self._gaps:
            yield from range(gap.first, gap.last + 1)
