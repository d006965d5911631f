"""Storing declarations: batched, idempotent on (declarant, LRN), in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, tuple_
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.db import core_connection, insert_returning_ids, inserted_ids, table_of
from smartcustoms.declarations.model import Declaration
from smartcustoms.declarations.tables import DeclarationItemRow, DeclarationRow
from smartcustoms.declarations.validate import hs_edition

__all__ = [
    "StoreResult",
    "Stored",
    "existing_ids",
    "get_declaration",
    "store_declarations",
    "stored_document",
]

CHUNK = 500  # rows per query: well under SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True)
class Stored:
    id: int
    declaration: Declaration
    created: bool  # False: the same (declarant, LRN) was already stored


@dataclass
class StoreResult:
    stored: list[Stored] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(s.created for s in self.stored)

    @property
    def existing(self) -> int:
        return len(self.stored) - self.created


# Built once: a lodging of one declaration runs it on every request, and building and caching
# the statement cost more than running it. A lone key is looked up by equality (what the API
# sends, one declaration a request), a batch by tuple IN.
_headers = table_of(DeclarationRow)
_items = table_of(DeclarationItemRow)
_ONE_EXISTING = select(_headers.c.declarant_id, _headers.c.lrn, _headers.c.id).where(
    _headers.c.declarant_id == bindparam("declarant"), _headers.c.lrn == bindparam("lrn")
)
_EXISTING = select(_headers.c.declarant_id, _headers.c.lrn, _headers.c.id).where(
    tuple_(_headers.c.declarant_id, _headers.c.lrn).in_(bindparam("keys", expanding=True))
)
_INSERT_HEADERS = insert_returning_ids(DeclarationRow)
_INSERT_ITEMS = insert(_items)


def stored_document(declaration: Declaration) -> dict[str, Any]:
    """The declaration as its ``document`` column stores it."""
    return declaration.model_dump(mode="json", exclude_defaults=True)


def existing_ids(session: Session, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """The ids of the (declarant, LRN) keys already stored."""
    found: dict[tuple[str, str], int] = {}
    connection = core_connection(session)
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        if len(chunk) == 1:
            rows = connection.execute(_ONE_EXISTING, {"declarant": chunk[0][0], "lrn": chunk[0][1]})
        else:
            rows = connection.execute(_EXISTING, {"keys": list(chunk)})
        for declarant, lrn, row_id in rows:
            found[(declarant, lrn)] = row_id
    return found


def store_declarations(
    session: Session,
    declarations: Sequence[Declaration],
    *,
    source: str,
    submitted_by: str,
    today: date | None = None,
    received_at: datetime | None = None,
    documents: Sequence[dict[str, Any]] | None = None,
) -> StoreResult:
    """Insert the declarations not stored yet; report the ids of all, new and existing.

    The caller has checked them (:func:`~smartcustoms.declarations.validate.parse_declaration`)
    and owns the transaction: a failure part-way leaves nothing written. ``received_at``
    (default: now) and ``documents`` (each declaration's :func:`stored_document`, in order)
    are for a caller that assessed the declarations before storing them, from those values.
    """
    keys = [(d.declarant.id, d.lrn) for d in declarations]
    existing = existing_ids(session, keys)
    now = received_at or clock.now()
    if documents is not None and len(documents) != len(declarations):
        raise ValueError("one document per declaration")
    new = [
        (k, d, stored_document(d) if documents is None else documents[i])
        for i, (k, d) in enumerate(zip(keys, declarations, strict=True))
        if k not in existing
    ]
    ids: dict[tuple[str, str], int] = dict(existing)
    # Core inserts on the session's connection: the ORM's bulk path cost a lodging more CPU
    # than the inserts themselves, and rows are not needed as objects here.
    connection = core_connection(session)
    for start in range(0, len(new), CHUNK):
        chunk = new[start : start + CHUNK]
        header_rows = [
            {
                "declarant_id": d.declarant.id,
                "lrn": d.lrn,
                "mrn": d.mrn,
                "function_code": d.function_code,
                "type_code": d.type_code,
                "office": d.office_of_declaration,
                "importer_id": d.importer.id,
                "issue_datetime": d.issue_datetime,
                "received_at": now,
                "hs_edition": hs_edition(d, today).name,
                "source": source,
                "submitted_by": submitted_by,
                "document": document,
            }
            for _, d, document in chunk
        ]
        new_ids = inserted_ids(session, _INSERT_HEADERS, header_rows)
        item_rows = []
        for (key, d, _), row_id in zip(chunk, new_ids, strict=True):
            ids[key] = row_id
            for item in d.items:
                item_rows.append(
                    {
                        "declaration_id": row_id,
                        "sequence": item.sequence,
                        "hs_code": item.hs_code,
                        "origin_country": item.origin_country,
                        "customs_value": item.customs_value.value,
                        "currency": item.customs_value.currency,
                        "net_mass_kg": item.net_mass_kg,
                        "gross_mass_kg": item.gross_mass_kg,
                        "description": item.description,
                    }
                )
        connection.execute(_INSERT_ITEMS, item_rows)
    result = StoreResult()
    for key, d in zip(keys, declarations, strict=True):
        result.stored.append(Stored(id=ids[key], declaration=d, created=key not in existing))
    return result


def get_declaration(session: Session, declaration_id: int) -> DeclarationRow | None:
    return session.get(DeclarationRow, declaration_id)
