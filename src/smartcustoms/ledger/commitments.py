"""Confidential values in ledger records: salted commitments whose openings stay with us.

A record carries only ``sha256:<hex>`` (see :func:`smartcustoms.ledger.tlog.records.commit`); the
value and its 32-byte salt are kept in ``ledger_commitments``. :func:`reveal` hands both to an
administrator who may show them to someone entitled to the value; that person checks them
against the record with :func:`smartcustoms.ledger.tlog.records.check_commitment` (or
``smartcustoms ledger check-commitment``), trusting nothing we say.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select

from smartcustoms.core import clock
from smartcustoms.core.errors import NotFound
from smartcustoms.ledger.errors import LedgerError, TlogError
from smartcustoms.ledger.tables import LedgerCommitment
from smartcustoms.ledger.tlog.records import canonical_json, commit, open_commitment

__all__ = ["commit_and_keep", "reveal"]


def commit_and_keep(conn: Connection, value: Any) -> str:
    """Commit to ``value`` with a fresh salt, keep the opening (caller's transaction) and return
    the commitment text to put in the record."""
    made = commit(value)
    conn.execute(
        insert(LedgerCommitment).values(
            commitment=made.text,
            salt=made.salt,
            value=canonical_json(value).decode("utf-8"),
            created_at=clock.now(),
        )
    )
    return made.text


def reveal(conn: Connection, commitment: str) -> tuple[Any, bytes]:
    """Return the ``(value, salt)`` that open ``commitment``.

    Raises NotFound if we hold no opening for it, LedgerError (``commitment_damaged``) if the
    stored opening no longer matches (the table was altered).
    """
    row = conn.execute(
        select(LedgerCommitment.value, LedgerCommitment.salt).where(
            LedgerCommitment.commitment == commitment
        )
    ).first()
    if row is None:
        raise NotFound(f"no opening is kept for commitment {commitment!r:.80}")
    value = json.loads(row.value)
    salt = bytes(row.salt)
    try:
        open_commitment(commitment, value, salt)
    except TlogError as exc:
        raise LedgerError(
            f"the kept opening of {commitment} does not match it: {exc.message}",
            code="commitment_damaged",
        ) from None
    return value, salt
