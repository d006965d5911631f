"""This instance as a witness of partners' ledgers: C2SP tlog-witness ``add-checkpoint``.

A partner administration's log submits each new checkpoint with a consistency proof from the
last one this witness cosigned. The witness cosigns only if the checkpoint is signed by a key
it was told to trust for that origin and extends what it cosigned before, so two different
views of one log can never both carry its cosignature. Checks and statuses follow the spec
(https://c2sp.org/tlog-witness), in its order:

* the body does not parse → 400; the origin is not witnessed → 404;
* no signature by a trusted key of that origin verifies → 403;
* the old size is above the checkpoint's size → 400;
* the old size is not the size this witness last cosigned → 409, body ``<size>\\n``
  (``text/x.tlog.size``), so the log can retry from there;
* same size, different root (a split view) → 409;
* the consistency proof does not verify → 422.

The latest cosigned checkpoint is updated with a compare-and-set (``WHERE size = old``), so
two concurrent requests can never roll it back, and committed before the cosignature is
returned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from smartcustoms.core import clock
from smartcustoms.core.db import Database
from smartcustoms.ledger.errors import (
    InvalidArgument,
    MalformedCheckpoint,
    MalformedError,
    MalformedKey,
    MalformedNote,
    ProofError,
    SignatureError,
    UnknownKey,
    UnknownLog,
    UntrustedCheckpoint,
    WitnessConflict,
)
from smartcustoms.ledger.tables import LedgerWitnessedLog
from smartcustoms.ledger.tlog import _b64
from smartcustoms.ledger.tlog.checkpoint import Checkpoint, parse_checkpoint, parse_decimal
from smartcustoms.ledger.tlog.cosignature import CosignatureSigner, cosign
from smartcustoms.ledger.tlog.keys import parse_verifier_key
from smartcustoms.ledger.tlog.note import MAX_NOTE_SIZE, open_note, parse_note
from smartcustoms.ledger.tlog.rfc6962 import HASH_SIZE
from smartcustoms.ledger.tlog.verify import verify_consistency

__all__ = [
    "MAX_PROOF_LINES",
    "AddCheckpoint",
    "WitnessedLog",
    "add_checkpoint",
    "add_log",
    "list_logs",
    "parse_add_checkpoint",
]

log = logging.getLogger("smartcustoms.ledger.witness")

MAX_PROOF_LINES = 63
MAX_REQUEST_SIZE = MAX_NOTE_SIZE + 8192

#: Called with (origin, checkpoint this witness cosigned, the conflicting signed note).
ConflictHandler = Callable[[str, str | None, str], None]


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed add-checkpoint request body."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str


@dataclass(frozen=True)
class WitnessedLog:
    origin: str
    vkeys: tuple[str, ...]
    size: int
    root_hash: bytes | None
    checkpoint: str | None  # the signed note last cosigned


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse ``old <size>``, up to 63 proof lines, an empty line, a signed checkpoint.

    Raises MalformedError naming the line at fault.
    """
    if len(body) > MAX_REQUEST_SIZE:
        raise MalformedError(f"request is {len(body)} bytes, above {MAX_REQUEST_SIZE}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedError(f"request is not valid UTF-8 at byte {exc.start}") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise MalformedError("request has no empty line before the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise MalformedError("line 1 is not 'old <size>'", details=[{"line": 1}])
    try:
        old = parse_decimal(lines[0][4:], "old size")
    except ValueError as exc:
        raise MalformedError(f"line 1: {exc}", details=[{"line": 1}]) from None
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise MalformedError(f"request has {len(lines) - 1} proof lines, above {MAX_PROOF_LINES}")
    proof = []
    for n, line in enumerate(lines[1:], 2):
        try:
            h = _b64.decode(line)
        except ValueError:
            raise MalformedError(
                f"line {n}: proof hash is not canonical base64", details=[{"line": n}]
            ) from None
        if len(h) != HASH_SIZE:
            raise MalformedError(f"line {n}: proof hash is {len(h)} bytes, want {HASH_SIZE}")
        proof.append(h)
    return AddCheckpoint(old, tuple(proof), note)


def add_checkpoint(
    db: Database,
    signer: CosignatureSigner,
    body: bytes,
    *,
    on_conflict: ConflictHandler | None = None,
) -> str:
    """Handle one add-checkpoint request; return the cosignature line(s) to answer with.

    Raises MalformedError (400), UnknownLog (404), UntrustedCheckpoint (403), InvalidArgument
    (400), WitnessConflict (409) or ProofError (422).
    """
    request = parse_add_checkpoint(body)
    try:
        body_text = parse_note(request.note).text
        cp = parse_checkpoint(body_text)
    except (MalformedNote, MalformedCheckpoint) as exc:
        raise MalformedError(f"checkpoint: {exc.message}", details=exc.details) from None
    with db.engine.connect() as conn:
        state = _load(conn, cp.origin)
    if state is None:
        raise UnknownLog(f"this witness does not witness a log with origin {cp.origin!r:.200}")
    try:
        open_note(request.note, [parse_verifier_key(k) for k in state.vkeys])
    except (UnknownKey, SignatureError, MalformedKey) as exc:
        raise UntrustedCheckpoint(
            f"no trusted key of {cp.origin} signed this checkpoint: {exc.message}"
        ) from None
    _check_extends(request, cp, state, on_conflict)
    with db.writer.begin() as conn:
        moved = conn.execute(
            update(LedgerWitnessedLog)
            .where(
                LedgerWitnessedLog.origin == cp.origin,
                LedgerWitnessedLog.size == state.size,
                # NULL never equals NULL in SQL: compare the root only once there is one.
                *(
                    ()
                    if state.root_hash is None
                    else (LedgerWitnessedLog.root_hash == state.root_hash,)
                ),
            )
            .values(
                size=cp.size,
                root_hash=cp.root_hash,
                checkpoint=request.note,
                updated_at=clock.now(),
            )
        )
        if moved.rowcount != 1:
            now = _load(conn, cp.origin)
            size = now.size if now else 0
            raise WitnessConflict(
                f"another request moved {cp.origin} to size {size} meanwhile", size=size
            )
    return cosign(body_text, signer)


def _check_extends(
    request: AddCheckpoint,
    cp: Checkpoint,
    state: WitnessedLog,
    on_conflict: ConflictHandler | None,
) -> None:
    if request.old_size > cp.size:
        raise InvalidArgument(
            f"old size {request.old_size} is above the checkpoint's size {cp.size}",
            details=[{"field": "old", "got": request.old_size, "want": f"<= {cp.size}"}],
        )
    if request.old_size != state.size:
        raise WitnessConflict(
            f"old size is {request.old_size}, this witness last cosigned size {state.size}",
            size=state.size,
        )
    if request.old_size == 0:
        if request.proof:
            raise InvalidArgument("a request from old size 0 must carry no proof")
        return
    assert state.root_hash is not None
    if request.old_size == cp.size:
        if cp.root_hash != state.root_hash:
            _conflict(on_conflict, state, request.note)
            raise WitnessConflict(
                f"{cp.origin} at size {cp.size} has root {cp.root_hash.hex()}, but this witness "
                f"cosigned root {state.root_hash.hex()} at that size: a split view"
            )
        return
    try:
        verify_consistency(request.old_size, cp.size, request.proof, state.root_hash, cp.root_hash)
    except ProofError as exc:
        _conflict(on_conflict, state, request.note)
        raise ProofError(
            f"{cp.origin} at size {cp.size} is not consistent with size {state.size} cosigned "
            f"before: {exc.message}",
            details=exc.details,
        ) from None


def _conflict(handler: ConflictHandler | None, state: WitnessedLog, offered: str) -> None:
    log.warning("log %s offered a checkpoint inconsistent with the one cosigned", state.origin)
    if handler is not None:
        handler(state.origin, state.checkpoint, offered)


def _load(conn: Connection, origin: str) -> WitnessedLog | None:
    row = conn.execute(
        select(*LedgerWitnessedLog.__table__.columns).where(LedgerWitnessedLog.origin == origin)
    ).first()
    if row is None:
        return None
    root = None if row.root_hash is None else bytes(row.root_hash)
    return WitnessedLog(row.origin, tuple(row.vkeys.split()), int(row.size), root, row.checkpoint)


def add_log(conn: Connection, vkey: str, origin: str | None = None) -> WitnessedLog:
    """Witness the log whose checkpoints ``vkey`` signs (origin: the key's name by default).

    Adding a second key to a witnessed origin (the partner rotated its key) keeps its state.
    Raises MalformedKey.
    """
    verifier = parse_verifier_key(vkey.strip())
    origin = origin or verifier.name
    if not origin or any(c.isspace() for c in origin):
        raise MalformedKey(f"origin {origin!r:.80} must be non-empty with no spaces")
    key_text = verifier.key_string()
    state = _load(conn, origin)
    if state is None:
        conn.execute(
            insert(LedgerWitnessedLog).values(
                origin=origin, vkeys=key_text, size=0, updated_at=clock.now()
            )
        )
    elif key_text not in state.vkeys:
        conn.execute(
            update(LedgerWitnessedLog)
            .where(LedgerWitnessedLog.origin == origin)
            .values(vkeys="\n".join([*state.vkeys, key_text]))
        )
    result = _load(conn, origin)
    assert result is not None
    return result


def list_logs(conn: Connection) -> list[WitnessedLog]:
    rows = conn.execute(select(LedgerWitnessedLog.origin).order_by(LedgerWitnessedLog.origin))
    return [log_ for origin in rows.scalars() if (log_ := _load(conn, origin)) is not None]
