"""Resolving a hold on signing (:mod:`.fork_guard`): catch the log up, or accept a fork.

A log whose database was restored from an older backup is behind what it published; while
signing is held it keeps storing appends, which take the indexes the published entries had.
An operator resolves the hold with ``smartcustoms ledger reconcile`` in one of two ways:

* **Catch up** (:func:`catch_up`) from a later backup, a ledger export (``smartcustoms ledger
  export``) or the database of the instance that went on: the export's checkpoints are checked
  against the keys this instance holds and its entries against the signed roots; then, in one
  transaction, the entries stored while signing was held (never signed, so never published)
  are cut off, the published entries appended in their place, the held entries appended after
  them, the published checkpoints and cosignatures stored, and the queue's indexes moved with
  them. The log then extends everything it published and signs again with the same key.
* **Accept a fork** (:func:`accept_fork`), when no later copy exists: the decision, its reason
  and the sizes are recorded in the ledger as a privileged action, and the log key is rotated
  in the same transaction; the old key is marked in the guard file as never to sign again, so
  the new history is never signed by the key that signed the old one. Verifiers and witnesses
  must be given the new key (and witnesses told to forget the old history).

The export is JSON Lines: a header (``format``, ``origin``, ``first``, ``size``, ``root``), the
log's keys, every checkpoint beyond ``first`` with its cosignatures, then the entries from
``first`` on, base64, 256 to a line.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, func, insert, select, update

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.db import Database
from smartcustoms.core.errors import BadRequest, Conflict, ServiceUnavailable
from smartcustoms.core.events import AdminAction
from smartcustoms.ledger.checkpoints import SignedCheckpoint, latest_checkpoint
from smartcustoms.ledger.errors import PRODUCT_ERRORS, LedgerError, MalformedError, TlogError
from smartcustoms.ledger.fork_guard import (
    GUARD_FILE,
    Fork,
    GuardState,
    Hold,
    Mark,
    evaluate,
    guard_path,
    hold_in,
    latest_checkpoint_size,
    read_state,
    update_state,
    write_state,
)
from smartcustoms.ledger.keystore import (
    LOG_KEY_FILE,
    current_log_key,
    key_dir,
    key_label,
    load_log_signer,
    log_verifiers,
    retire_and_replace,
    write_new_log_key,
)
from smartcustoms.ledger.leader import lease_for
from smartcustoms.ledger.store import (
    BLOCK,
    StoreHashReader,
    TreeWriter,
    read_entries,
    read_tree_head,
    truncate_unsigned,
)
from smartcustoms.ledger.tables import (
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerKey,
    LedgerPending,
)
from smartcustoms.ledger.tlog.checkpoint import parse_checkpoint
from smartcustoms.ledger.tlog.compact import CompactRange
from smartcustoms.ledger.tlog.cosignature import parse_witness_verifier_key, verify_cosignature_line
from smartcustoms.ledger.tlog.keys import Ed25519Signer, Ed25519Verifier, parse_signer_key
from smartcustoms.ledger.tlog.note import open_note
from smartcustoms.ledger.tlog.rfc6962 import hash_leaves

__all__ = [
    "EXPORT_FORMAT",
    "AcceptedFork",
    "CaughtUp",
    "Export",
    "LedgerStatus",
    "ReconcileError",
    "accept_fork",
    "catch_up",
    "export_database",
    "ledger_status",
    "open_source",
    "write_export",
]

EXPORT_FORMAT = "smartcustoms-ledger-export/1"
_LINE = BLOCK  # entries per line of an export
_CHUNK = 64 * BLOCK  # entries per write when rewriting
MAX_REASON = 1000


class ReconcileError(LedgerError, Conflict):
    """The catch-up or fork cannot be done as asked; the message says why and what to do."""

    status_code = 409
    code = "reconcile_refused"


# -- export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSummary:
    first: int
    size: int
    checkpoints: int


def write_export(db: Database, out: IO[str], *, origin: str, first: int = 0) -> ExportSummary:
    """Write the ledger from entry ``first`` on (and every checkpoint beyond it) to ``out``,
    from one consistent snapshot; safe beside a running sequencer."""
    with db.engine.connect() as base:
        conn = base if db.is_sqlite else base.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            head = read_tree_head(conn)
            if not 0 <= first <= head.size:
                raise BadRequest(
                    f"the ledger holds {head.size} entries: cannot export from {first}"
                )
            header = {
                "format": EXPORT_FORMAT,
                "origin": origin,
                "first": first,
                "size": head.size,
                "root": head.root_hash.hex(),
                "created_at": clock.now().isoformat(timespec="seconds"),
            }
            out.write(json.dumps(header, sort_keys=True) + "\n")
            for key, vkey, created, retired in conn.execute(
                select(LedgerKey.key, LedgerKey.vkey, LedgerKey.created_at, LedgerKey.retired_at)
            ):
                row = {
                    "key": key,
                    "vkey": vkey,
                    "created_at": created.isoformat(),
                    "retired_at": None if retired is None else retired.isoformat(),
                }
                out.write(json.dumps({"key": row}, sort_keys=True) + "\n")
            checkpoints = conn.execute(
                select(LedgerCheckpoint.size, LedgerCheckpoint.note, LedgerCheckpoint.quorum)
                .where(LedgerCheckpoint.size > first)
                .order_by(LedgerCheckpoint.size)
            ).all()
            for size, note, quorum in checkpoints:
                cp = {"size": int(size), "note": note, "quorum": int(quorum)}
                out.write(json.dumps({"checkpoint": cp}, sort_keys=True) + "\n")
            for size, witness, vkey, line, timestamp in conn.execute(
                select(
                    LedgerCosignature.checkpoint_size,
                    LedgerCosignature.witness,
                    LedgerCosignature.vkey,
                    LedgerCosignature.line,
                    LedgerCosignature.timestamp,
                )
                .where(LedgerCosignature.checkpoint_size > first)
                .order_by(LedgerCosignature.checkpoint_size, LedgerCosignature.witness)
            ):
                cosig = {
                    "size": int(size),
                    "witness": witness,
                    "vkey": vkey,
                    "line": line,
                    "timestamp": int(timestamp),
                }
                out.write(json.dumps({"cosignature": cosig}, sort_keys=True) + "\n")
            for start in range(first, head.size, _LINE):
                count = min(_LINE, head.size - start)
                entries = read_entries(conn, start, count, head.size)
                line_ = [base64.b64encode(e).decode("ascii") for e in entries]
                out.write(json.dumps({"entries": line_}) + "\n")
    return ExportSummary(first, head.size, len(checkpoints))


@dataclass(frozen=True)
class ExportedCheckpoint:
    size: int
    root: bytes
    note: str
    quorum: int


@dataclass
class Export:
    """A ledger export read from ``path``: everything but the entries, which
    :meth:`entries` streams (as often as needed)."""

    path: Path
    origin: str
    first: int
    size: int
    root: bytes
    keys: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[ExportedCheckpoint] = field(default_factory=list)
    cosignatures: list[dict[str, Any]] = field(default_factory=list)
    label: str = ""  # what the operator named

    @classmethod
    def read(cls, path: Path, label: str = "") -> Export:
        """Read the header, keys, checkpoints and cosignatures. Raises MalformedError naming
        the line at fault."""
        with path.open(encoding="utf-8") as fh:
            first_line = fh.readline()
            try:
                header = json.loads(first_line)
                if header.get("format") != EXPORT_FORMAT:
                    raise ValueError(f"format is not {EXPORT_FORMAT}")
                export = cls(
                    path,
                    str(header["origin"]),
                    int(header["first"]),
                    int(header["size"]),
                    bytes.fromhex(header["root"]),
                    label=label or str(path),
                )
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise MalformedError(
                    f"{path}: line 1 is not a ledger export header: {exc}"
                ) from None
            for n, line in enumerate(fh, 2):
                try:
                    item = json.loads(line)
                    if "entries" in item:
                        break
                    if "key" in item:
                        export.keys.append(dict(item["key"]))
                    elif "checkpoint" in item:
                        cp = item["checkpoint"]
                        parsed = parse_checkpoint(cp["note"][: cp["note"].index("\n\n") + 1])
                        export.checkpoints.append(
                            ExportedCheckpoint(
                                int(cp["size"]),
                                parsed.root_hash,
                                str(cp["note"]),
                                int(cp["quorum"]),
                            )
                        )
                    elif "cosignature" in item:
                        export.cosignatures.append(dict(item["cosignature"]))
                    else:
                        raise ValueError("unknown line")
                except (ValueError, KeyError, TypeError, *PRODUCT_ERRORS) as exc:
                    why = exc.message if isinstance(exc, PRODUCT_ERRORS) else str(exc)
                    raise MalformedError(
                        f"{path}: line {n}: {why}", details=[{"line": n}]
                    ) from None
        export.checkpoints.sort(key=lambda c: c.size)
        return export

    def entries(self, start: int | None = None) -> Iterator[tuple[int, bytes]]:
        """Yield ``(index, entry)`` from ``start`` (default: the first) to the end."""
        start = self.first if start is None else start
        index = self.first
        with self.path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.startswith('{"entries"'):
                    continue
                try:
                    items = json.loads(line)["entries"]
                except (ValueError, KeyError) as exc:
                    raise MalformedError(f"{self.path}: line {n}: {exc}") from None
                if index + len(items) <= start:
                    index += len(items)
                    continue
                for item in items:
                    if index >= start:
                        try:
                            yield index, base64.b64decode(item, validate=True)
                        except ValueError:
                            raise MalformedError(
                                f"{self.path}: line {n}: entry {index} is not base64"
                            ) from None
                    index += 1
        if index != self.size:
            raise MalformedError(
                f"{self.path}: holds entries up to {index}, its header says {self.size}: it was "
                "cut short"
            )


@contextmanager
def open_source(source: str, origin: str) -> Iterator[Export]:
    """The export to catch up from: an export file, or a database URL (a database a later
    backup was restored into), exported to a temporary file. (A backup folder is turned into
    an export by :func:`smartcustoms.backup.ledger_export`.) Raises ReconcileError or
    MalformedError."""
    if "://" in source:
        with tempfile.TemporaryDirectory() as folder:
            yield export_database(source, Path(folder) / "export.jsonl", origin, source)
        return
    path = Path(source)
    if not path.is_file():
        raise ReconcileError(f"{source}: no such export file, backup folder or database URL")
    yield Export.read(path, source)


def export_database(url: str, target: Path, origin: str, label: str) -> Export:
    """Export the ledger of the database at ``url`` to ``target`` and read it back."""
    db = Database(url)
    try:
        with target.open("w", encoding="utf-8") as fh:
            write_export(db, fh, origin=origin)
    finally:
        db.dispose()
    return Export.read(target, label)


# -- keys this instance trusts ------------------------------------------------------------------


def _local_signers(data_dir: Path, origin: str) -> dict[str, tuple[Path, Ed25519Signer]]:
    """Every log key of ``origin`` in the key directory (current, retired, set aside)."""
    found: dict[str, tuple[Path, Ed25519Signer]] = {}
    for path in sorted(key_dir(data_dir).iterdir()):
        if not path.is_file() or not path.name.startswith("log."):
            continue
        try:
            signer = parse_signer_key(path.read_text(encoding="ascii").strip())
        except (*PRODUCT_ERRORS, OSError, UnicodeDecodeError):
            continue
        if signer.name == origin:
            found.setdefault(key_label(signer.name, signer.key_id), (path, signer))
    return found


def _trusted(conn: Connection, data_dir: Path, origin: str) -> dict[str, Ed25519Verifier]:
    trusted = {key_label(v.name, v.key_id): v for v in log_verifiers(conn) if v.name == origin}
    for label, (_, signer) in _local_signers(data_dir, origin).items():
        trusted.setdefault(label, signer.verifier())
    return trusted


# -- catching up --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaughtUp:
    kept: int  # entries of ours that are the published log's (the rewrite started there)
    added: int  # published entries added
    moved: int  # entries stored while signing was held, now after the published ones
    size: int  # the tree's size now
    checkpoint: int  # the newest checkpoint now stored
    source: str


@contextmanager
def _lease(db: Database) -> Iterator[None]:
    lease = lease_for(db)
    if not lease.try_acquire():
        raise ServiceUnavailable(
            "the ledger's sequencer is running (smartcustoms serve, a worker or a replica): "
            "stop every smartcustoms process on this database first",
            code="ledger_busy",
        )
    try:
        yield
    finally:
        lease.release()


def catch_up(ctx: AppContext, source: Export, *, actor: str) -> CaughtUp:
    """Catch the log up from ``source`` (see the module documentation), in one transaction that
    also records the action. Needs the sequencer lease (every other process stopped). Raises
    ReconcileError naming what does not fit, MalformedError for a damaged export."""
    settings = ctx.settings
    origin, data_dir = settings.ledger_origin, settings.data_dir
    if source.origin != origin:
        raise ReconcileError(f"the export is of log {source.origin!r}, this log is {origin!r}")
    with _lease(ctx.db), ctx.unit() as unit:
        conn = unit.session.connection()
        state = read_state(data_dir, origin)
        head = read_tree_head(conn)
        plan = _plan(conn, data_dir, origin, state, head.size, source)
        newest = plan.newest
        moved = truncate_unsigned(conn, plan.kept)
        writer = TreeWriter.load(conn)
        chunk: list[bytes] = []
        for _, entry in source.entries(plan.kept):
            chunk.append(entry)
            if len(chunk) >= _CHUNK:
                writer.write(conn, chunk, hash_leaves(chunk))
                chunk = []
        chunk.extend(moved)
        for start in range(0, len(chunk), _CHUNK):
            part = chunk[start : start + _CHUNK]
            writer.write(conn, part, hash_leaves(part))
        _store_published(conn, source, plan.verifiers)
        shift = source.size - plan.kept
        if moved and shift:
            conn.execute(
                update(LedgerPending)
                .where(LedgerPending.idx >= plan.kept, LedgerPending.idx < head.size)
                .values(idx=LedgerPending.idx + shift)
            )
        _install_current_key(conn, data_dir, origin)
        after = replace(
            state,
            mark=_higher(state.mark, newest, plan.newest_key),
            witnesses=tuple(w for w in state.witnesses if w.size > newest.size),
        )
        tree = read_tree_head(conn)
        current = current_log_key(conn)
        hold = evaluate(
            after,
            conn,
            tree.size,
            tree.root_hash,
            key=None if current is None else current.key,
            checkpoint_size=latest_checkpoint_size(conn),
        )
        if hold is not None and hold.code != "restore_unconfirmed":
            raise ReconcileError(f"after catching up from {source.label}: {hold.message}")
        unit.emit(
            AdminAction(
                actor=actor,
                action="ledger_caught_up",
                target=(
                    f"{source.size - plan.kept} published entries ({plan.kept}..{source.size - 1})"
                    f" from {source.label}, checkpoint {newest.size}; {len(moved)} entries stored"
                    f" while signing was held moved from {plan.kept} to {source.size}"
                ),
            )
        )
    update_state(
        data_dir,
        origin,
        lambda s: replace(
            s,
            mark=_higher(s.mark, newest, plan.newest_key),
            witnesses=tuple(w for w in s.witnesses if w.size > newest.size),
            held_from=None,
        ),
    )
    return CaughtUp(
        plan.kept, source.size - plan.kept, len(moved), tree.size, newest.size, source.label
    )


@dataclass(frozen=True)
class _Plan:
    kept: int
    newest: ExportedCheckpoint
    newest_key: str
    verifiers: dict[str, Ed25519Verifier]


def _higher(mark: Mark | None, cp: ExportedCheckpoint, key: str) -> Mark:
    if mark is not None and mark.size >= cp.size:
        return mark
    return Mark(cp.size, cp.root, key, clock.now().isoformat(timespec="seconds"))


def _plan(
    conn: Connection,
    data_dir: Path,
    origin: str,
    state: GuardState,
    size: int,
    source: Export,
) -> _Plan:
    """Check the export against this log and what it published; say where they part."""
    ours = latest_checkpoint(conn)
    signed = 0 if ours is None else ours.size
    if not source.checkpoints or source.checkpoints[-1].size <= signed:
        raise ReconcileError(
            f"{source.label} has no checkpoint beyond this log's latest ({signed}): nothing to "
            "catch up from"
        )
    trusted = _trusted(conn, data_dir, origin)
    key_of: dict[int, str] = {}
    for cp in source.checkpoints:
        try:
            opened = open_note(cp.note, trusted.values())
            parsed = parse_checkpoint(opened.text)
        except PRODUCT_ERRORS as exc:
            raise ReconcileError(
                f"{source.label}: checkpoint {cp.size} is not signed by a key of this log that "
                f"this instance holds ({exc.message})"
            ) from None
        if (parsed.origin, parsed.size, parsed.root_hash) != (origin, cp.size, cp.root):
            raise ReconcileError(f"{source.label}: checkpoint {cp.size} does not say what it holds")
        sig = opened.verified[0]
        key_of[cp.size] = key_label(sig.name, sig.key_id)
    if state.mark is not None and state.mark.size > source.size:
        raise ReconcileError(
            f"this instance signed size {state.mark.size}; {source.label} ends at "
            f"{source.size}: catch up from a later backup or export"
        )
    # Where our entries stop being the published log's: at the first entry that differs, and
    # at the latest where signing was held (entries from there were stored while it was).
    limit = min(size, source.size)
    if state.held_from is not None:
        limit = min(limit, max(state.held_from, signed))
    if source.first > limit:
        raise ReconcileError(
            f"{source.label} starts at entry {source.first}, but this log parts from what it "
            f"published at entry {limit} or before: export from entry {signed} or earlier "
            f"(`smartcustoms ledger export --from {signed}`)"
        )
    expected = {cp.size: cp.root for cp in source.checkpoints if cp.size > source.first}
    if state.mark is not None and state.mark.size > source.first:
        expected.setdefault(state.mark.size, state.mark.root)
        if expected[state.mark.size] != state.mark.root:
            raise ReconcileError(
                f"{source.label} has another root at size {state.mark.size} than the "
                "checkpoint this instance signed there: it is not this log's history"
            )
    compact = CompactRange.from_reader(source.first, StoreHashReader(conn))
    kept: int | None = None
    batch: list[bytes] = []
    mine: list[bytes] = []

    def flush() -> None:
        leaves = hash_leaves(batch)
        done = 0
        while done < len(leaves):
            nxt = min(
                [s for s in expected if s > compact.size] + [compact.size + len(leaves) - done]
            )
            take = nxt - compact.size
            compact.append(leaves[done : done + take])
            done += take
            want = expected.get(compact.size)
            if want is not None and compact.root() != want:
                raise ReconcileError(
                    f"{source.label}: its entries and this log's first {source.first} do not "
                    f"give the signed root at size {compact.size}: not this log's history"
                )
        batch.clear()

    for index, entry in source.entries():
        if kept is None:
            if index >= limit:
                kept = limit
            else:
                if not mine:
                    mine = read_entries(conn, index, min(_CHUNK, limit - index), size)[::-1]
                if mine.pop() != entry:
                    kept = index
        batch.append(entry)
        if len(batch) >= _CHUNK:
            flush()
    flush()
    kept = limit if kept is None else kept
    if compact.root() != source.root:
        raise ReconcileError(f"{source.label}: its entries do not give the root its header names")
    if kept < signed:
        raise ReconcileError(
            f"this log's entry {kept} differs from {source.label}'s, before this log's "
            f"checkpoint at {signed}: not the same history"
        )
    newest = source.checkpoints[-1]
    return _Plan(kept, newest, key_of[newest.size], trusted)


def _store_published(conn: Connection, source: Export, trusted: dict[str, Ed25519Verifier]) -> None:
    """Store the export's checkpoints, cosignatures and keys this log's database lacks."""
    have = set(conn.execute(select(LedgerCheckpoint.size)).scalars())
    now = clock.now()
    added = []
    for cp in source.checkpoints:
        if cp.size in have:
            continue
        opened = open_note(cp.note, trusted.values())
        sig = opened.verified[0]
        conn.execute(
            insert(LedgerCheckpoint).values(
                size=cp.size,
                root_hash=cp.root,
                note=cp.note,
                key=key_label(sig.name, sig.key_id),
                created_at=now,
                cosigned=0,
                quorum=cp.quorum,
                quorum_met=False,
            )
        )
        added.append(cp)
    notes = {cp.size: cp for cp in added}
    counts: dict[int, int] = {}
    for cosig in source.cosignatures:
        cp_ = notes.get(int(cosig["size"]))
        if cp_ is None:
            continue
        try:
            verifier = parse_witness_verifier_key(cosig["vkey"])
            body = cp_.note[: cp_.note.index("\n\n") + 1]
            timestamp = verify_cosignature_line(body, cosig["line"], verifier)
        except (*PRODUCT_ERRORS, ValueError, KeyError):
            continue  # a cosignature that does not verify is not kept
        conn.execute(
            insert(LedgerCosignature).values(
                checkpoint_size=cp_.size,
                witness=key_label(verifier.name, verifier.key_id),
                vkey=verifier.key_string(),
                line=cosig["line"],
                timestamp=timestamp,
                created_at=now,
            )
        )
        counts[cp_.size] = counts.get(cp_.size, 0) + 1
    for cp in added:
        count = counts.get(cp.size, 0)
        conn.execute(
            update(LedgerCheckpoint)
            .where(LedgerCheckpoint.size == cp.size)
            .values(cosigned=count, quorum_met=count >= cp.quorum)
        )
    known = set(conn.execute(select(LedgerKey.key)).scalars())
    for key in source.keys:
        label = str(key["key"])
        vouched = trusted.get(label)
        if vouched is None or vouched.key_string() != key["vkey"]:
            continue  # a key this instance cannot vouch for is not taken from an export
        retired = key.get("retired_at")
        when = datetime.fromisoformat(retired) if retired else None
        if label not in known:
            conn.execute(
                insert(LedgerKey).values(
                    key=label,
                    vkey=key["vkey"],
                    created_at=datetime.fromisoformat(key["created_at"]),
                    retired_at=when,
                )
            )
        elif when is not None:
            conn.execute(
                update(LedgerKey)
                .where(LedgerKey.key == label, LedgerKey.retired_at.is_(None))
                .values(retired_at=when)
            )


def _install_current_key(conn: Connection, data_dir: Path, origin: str) -> None:
    """Make ``log.key`` the log's current key when the export brought a rotation this
    instance's key directory holds under another name."""
    current = current_log_key(conn)
    if current is None:
        return
    local = _local_signers(data_dir, origin)
    folder = key_dir(data_dir)
    in_use = next((label for label, (path, _) in local.items() if path.name == LOG_KEY_FILE), None)
    if in_use == current.key:
        return
    found = local.get(current.key)
    if found is None:
        raise ReconcileError(
            f"the log's key was rotated to {current.key} after the backup, and this instance "
            f"holds no file of it: copy log.key from the instance that rotated it into {folder} "
            "(under any name starting with 'log.') and run again"
        )
    signer = found[1]
    if in_use is not None:
        old = local[in_use][1]
        retired = folder / f"log.{old.key_id:08x}.retired"
        if not retired.exists():
            os.replace(folder / LOG_KEY_FILE, retired)
    tmp = folder / (LOG_KEY_FILE + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(signer.key_string() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / LOG_KEY_FILE)


# -- accepting a fork ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptedFork:
    size: int  # the log's size, from which the new key goes on
    published: int  # the size the log had published
    old_key: str
    new_key: str
    vkey: str  # the new verifier key, to hand out


def accept_fork(ctx: AppContext, *, reason: str, actor: str) -> AcceptedFork:
    """Let the log go on from what it holds although it published more (or otherwise), under a
    new key; record it. Raises BadRequest without a reason, ReconcileError when nothing holds
    signing."""
    reason = " ".join(reason.split())
    if not reason:
        raise BadRequest("say why the fork is accepted (--reason)", code="reason_required")
    if len(reason) > MAX_REASON:
        raise BadRequest(f"the reason is {len(reason)} characters, above {MAX_REASON}")
    settings = ctx.settings
    origin, data_dir = settings.ledger_origin, settings.data_dir
    with ctx.unit() as unit:
        conn = unit.session.connection()
        hold = hold_in(conn, data_dir, origin)
        if hold is None:
            raise ReconcileError(
                "the log extends everything it published: there is no fork to accept",
                code="no_fork",
            )
        try:
            state = read_state(data_dir, origin)
        except TlogError:  # damaged: keep it aside, start a new record from the fork
            damaged = guard_path(data_dir)
            os.replace(damaged, damaged.with_name(f"{GUARD_FILE}.damaged-{_stamp()}"))
            state = GuardState(origin)
        head = read_tree_head(conn)
        current = current_log_key(conn)
        old = load_log_signer(data_dir, origin, create=False)
        old_label = key_label(old.name, old.key_id)
        if current is not None and current.key != old_label:
            raise ReconcileError(
                f"log.key holds {old_label} but the log's current key is {current.key}: put "
                "the current key back in log.key (see `ledger fsck`) and run again"
            )
        new, new_path = write_new_log_key(data_dir, origin)
        new_label = key_label(new.name, new.key_id)
        now = clock.now().isoformat(timespec="seconds")
        published = max(state.published, hold.published)
        fork = Fork(head.size, published, old_label, new_label, reason, actor, now)
        write_state(
            data_dir,
            replace(
                state,
                mark=Mark(head.size, head.root_hash, new_label, now),
                witnesses=(),
                forks=(*state.forks, fork),
                restored=None,
                held_from=None,
            ),
        )
        retire_and_replace(conn, data_dir, old, new, new_path)
        unit.emit(
            AdminAction(
                actor=actor,
                action="ledger_fork_accepted",
                target=(
                    f"{hold.code}: the log goes on from {head.size} entries although it "
                    f"published {published}; key {old_label} -> {new_label}; reason: {reason}"
                ),
            )
        )
    return AcceptedFork(head.size, published, old_label, new_label, new.verifier().key_string())


def _stamp() -> str:
    return clock.now().strftime("%Y%m%dT%H%M%SZ")


# -- status -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerStatus:
    size: int
    checkpoint: SignedCheckpoint | None
    key: str | None
    state: GuardState | None
    state_error: str | None
    hold: Hold | None
    queued: int


def ledger_status(db: Database, data_dir: Path, origin: str) -> LedgerStatus:
    """Where the log stands: stored, signed, published, and whether it may sign."""
    with db.engine.connect() as conn:
        head = read_tree_head(conn)
        cp = latest_checkpoint(conn)
        current = current_log_key(conn)
        queued = int(
            conn.execute(
                select(func.count()).select_from(LedgerPending).where(LedgerPending.idx.is_(None))
            ).scalar_one()
        )
        hold = hold_in(conn, data_dir, origin)
    try:
        state: GuardState | None = read_state(data_dir, origin)
        error = None
    except TlogError as exc:
        state, error = None, exc.message
    return LedgerStatus(
        head.size, cp, None if current is None else current.key, state, error, hold, queued
    )
