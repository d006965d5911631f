"""Helpers for tests of the stored ledger: records, filling, tampering, second instances."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from smartcustoms.core.context import AppContext
from smartcustoms.core.db import Database
from smartcustoms.core.settings import Settings
from smartcustoms.ledger.service import Ledger

FAST_MS = 50  # checkpoint interval in tests: fast, yet slow enough to see batching


def records(n: int, start: int = 0, kind: str = "test.entry") -> list[dict[str, Any]]:
    return [{"type": kind, "v": 1, "n": i, "note": f"record {i}"} for i in range(start, start + n)]


def fill(ledger: Ledger, n: int, batch: int = 97) -> None:
    """Append ``n`` records in uneven batches and wait until a checkpoint covers them all."""
    done = 0
    while done < n:
        take = min(batch, n - done)
        ledger.append_many(records(take, done))
        done += take
    assert ledger.wait_covered(n - 1, 10)


def sql(db: Database, statement: str, **params: Any) -> Any:
    """Run one statement in its own transaction (tampering, inspection)."""
    with db.writer.begin() as conn:
        result = conn.execute(text(statement), params)
        return result.fetchall() if result.returns_rows else None


def flip(data: bytes, offset: int) -> bytes:
    """``data`` with the byte at ``offset`` changed (still printable where it was)."""
    b = bytearray(data)
    b[offset] = b[offset] ^ 0x01 if b[offset] != 0x0A else 0x0B
    return bytes(b)


def second_context(settings: Settings, data_dir: Path, **update: Any) -> AppContext:
    """Another instance on the same database (another worker or replica)."""
    return AppContext.from_settings(settings.model_copy(update={"data_dir": data_dir, **update}))
