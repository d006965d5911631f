"""What an import must remember about the whole file, kept in bounded memory: small in a dict,
large in a temporary SQLite file beside nothing else (``tempfile``'s folder, removed on close).

- :class:`KeyLog`: the (declarant, LRN) pairs seen so far and where each was first seen, so a
  declaration repeated anywhere in a file of any size is named with its first place.
- :class:`RowGroups`: the rows of a flat CSV grouped by (declarant, LRN) in the order each
  declaration first appears, wherever its other rows are in the file.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["KeyLog", "RowGroups"]

SPILL_AT = 50_000  # keys held in memory before they move to disk (about 10 MB)


class _Scratch:
    """A throwaway SQLite file: no journal, no fsync, a small page cache."""

    def __init__(self) -> None:
        self._dir: str | None = tempfile.mkdtemp(prefix="smartcustoms-import-")
        self.db = sqlite3.connect(Path(self._dir) / "scratch.db", isolation_level=None)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -16000"):
            self.db.execute(f"PRAGMA {pragma}")  # 16 MB of cache at most
        self.db.execute("PRAGMA temp_store = FILE")

    def close(self) -> None:
        self.db.close()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


class KeyLog:
    """Where each key was first seen. ``first(key, where)`` returns the earlier place of a
    key seen before, else records ``where`` and returns None."""

    def __init__(self, spill_at: int | None = None) -> None:
        self._memory: dict[tuple[str, str], str] = {}
        self._spill_at = spill_at or SPILL_AT
        self._scratch: _Scratch | None = None

    def first(self, key: tuple[str, str], where: str) -> str | None:
        if self._scratch is None:
            seen = self._memory.get(key)
            if seen is not None:
                return seen
            self._memory[key] = where
            if len(self._memory) >= self._spill_at:
                self._spill()
            return None
        db = self._scratch.db
        row = db.execute("SELECT place FROM keys WHERE a = ? AND b = ?", key).fetchone()
        if row is not None:
            return str(row[0])
        db.execute("INSERT INTO keys VALUES (?, ?, ?)", (*key, where))
        return None

    def _spill(self) -> None:
        self._scratch = _Scratch()
        db = self._scratch.db
        db.execute("CREATE TABLE keys (a TEXT, b TEXT, place TEXT, PRIMARY KEY (a, b))")
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO keys VALUES (?, ?, ?)", ((*k, w) for k, w in self._memory.items())
        )
        db.execute("COMMIT")
        self._memory.clear()

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.close()
            self._scratch = None
        self._memory.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class RowGroups:
    """Rows grouped by key, on disk. :meth:`add` a row (any JSON-able list) under its key and
    line; :meth:`groups` gives each key's first line and its rows, keys in order of first
    appearance and rows in file order."""

    _BATCH = 2000

    def __init__(self) -> None:
        self._scratch = _Scratch()
        db = self._scratch.db
        db.execute("CREATE TABLE keys (grp INTEGER PRIMARY KEY, a TEXT, b TEXT, line INTEGER)")
        db.execute("CREATE UNIQUE INDEX keys_ab ON keys (a, b)")
        db.execute(
            "CREATE TABLE rows (grp INTEGER, seq INTEGER, cells TEXT, PRIMARY KEY (grp, seq))"
            " WITHOUT ROWID"
        )
        db.execute("BEGIN")
        self._last: tuple[tuple[str, str], int] | None = None
        self._pending: list[tuple[int, int, str]] = []
        self._seq = 0

    def add(self, key: tuple[str, str], line: int, cells: list[str]) -> None:
        if self._last is not None and self._last[0] == key:
            group = self._last[1]
        else:
            db = self._scratch.db
            found = db.execute("SELECT grp FROM keys WHERE a = ? AND b = ?", key).fetchone()
            if found is None:
                cursor = db.execute("INSERT INTO keys (a, b, line) VALUES (?, ?, ?)", (*key, line))
                group = int(cursor.lastrowid or 0)
            else:
                group = int(found[0])
            self._last = (key, group)
        self._seq += 1
        self._pending.append((group, self._seq, json.dumps(cells, ensure_ascii=False)))
        if len(self._pending) >= self._BATCH:
            self._flush()

    def _flush(self) -> None:
        self._scratch.db.executemany("INSERT INTO rows VALUES (?, ?, ?)", self._pending)
        self._pending.clear()

    def groups(self) -> Iterator[tuple[int, list[list[str]]]]:
        self._flush()
        db = self._scratch.db
        db.execute("COMMIT")
        lines = db.execute("SELECT grp, line FROM keys ORDER BY grp")
        rows = db.execute("SELECT grp, cells FROM rows ORDER BY grp, seq")
        pending = rows.fetchone()
        for group, line in lines:
            cells: list[list[str]] = []
            while pending is not None and pending[0] == group:
                cells.append(json.loads(pending[1]))
                pending = rows.fetchone()
            yield int(line), cells

    def close(self) -> None:
        self._scratch.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
