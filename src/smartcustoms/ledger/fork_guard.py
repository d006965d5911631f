"""What this log has published, kept outside its database, and the hold on signing.

Once the log signs a checkpoint it is published: witnesses cosign it, proofs carry it, anyone
may have kept it. If the log later signs a tree that does not extend it — as it would after its
database is restored from an older backup and appends go on — both checkpoints verify under
the same key: the log has forked, and nobody can tell which history is the real one. This
module makes that impossible without an explicit decision that is itself recorded.

The guard file ``<data dir>/ledger/published.json`` (mode 0600, beside the log key and outside
the database, so restoring the database does not roll it back) keeps:

* ``mark``: the largest tree this key directory signed (size, root hash, key), written and
  fsynced *before* each checkpoint is signed;
* ``witnesses``: what witnesses said when they refused a checkpoint of ours: that they cosigned
  a larger size (``ahead``, their tlog-witness 409 answer), or a tree ours does not extend
  (``inconsistent``);
* ``held_from``: the stored size when a hold was first seen (entries from there on were never
  signed, so a catch-up may move them);
* ``restored``: set by ``smartcustoms restore`` on a machine that had no guard file, whose only
  record is the backup's own (perhaps stale) one: witnesses must confirm the restored log
  before it signs;
* ``forks``: the forks an operator accepted (``ledger reconcile --accept-fork``), each with its
  reason; the key each one retired never signs again.

Before every signature :func:`evaluate` answers a :class:`Hold` when the stored tree is smaller
than the mark or does not have the mark's root at the mark's size; when a witness cosigned a
size beyond every checkpoint the database holds, or says our tree is not an extension of what
it cosigned; when the signing key was retired by a fork; or while a restore is unconfirmed. The
sequencer then keeps storing and acknowledging appends but signs nothing
(:class:`~smartcustoms.ledger.errors.SigningHeld`), until an operator catches the log up from a
later backup or export, or accepts a fork (:mod:`.reconcile`).

Each replica that may sequence keeps its own guard file, recording what *it* signed; witnesses
cover what the others signed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from smartcustoms.core import clock
from smartcustoms.core.db import Database
from smartcustoms.core.errors import SmartCustomsError
from smartcustoms.ledger.checkpoints import SignedCheckpoint, sign_and_store
from smartcustoms.ledger.errors import LedgerError, SigningHeld, TlogError
from smartcustoms.ledger.keystore import current_log_key, key_dir, key_label
from smartcustoms.ledger.store import read_tree_head, root_from_store
from smartcustoms.ledger.tables import LedgerCheckpoint
from smartcustoms.ledger.tlog.keys import Signer

__all__ = [
    "GUARD_FILE",
    "Fork",
    "ForkGuard",
    "GuardState",
    "Hold",
    "Mark",
    "Restored",
    "WitnessReport",
    "current_hold",
    "evaluate",
    "merge_restored",
    "read_state",
    "update_state",
    "write_state",
]

log = logging.getLogger("smartcustoms.ledger")

GUARD_FILE = "published.json"
_LOCK_FILE = "published.lock"
_FORMAT = "smartcustoms-ledger-published/1"
_thread_lock = threading.Lock()

AHEAD = "ahead"
INCONSISTENT = "inconsistent"

#: How long a sequencer that just took over waits for the witnesses to answer the start-up probe
#: before its first signature (a witness that is down cannot hold signing for longer).
PROBE_WAIT_S = 5.0


@dataclass(frozen=True)
class Mark:
    """The largest tree this key directory signed (or, after an accepted fork, the tree the new
    key starts from)."""

    size: int
    root: bytes
    key: str
    at: str


@dataclass(frozen=True)
class WitnessReport:
    witness: str  # name+keyid
    size: int  # the size it cosigned (ahead), or the size our tree disagrees at (inconsistent)
    kind: str  # "ahead" | "inconsistent"
    at: str


@dataclass(frozen=True)
class Fork:
    """A fork an operator accepted: the log went on from ``size`` entries although it had
    published up to ``published``; ``old_key`` never signs again."""

    size: int
    published: int
    old_key: str
    new_key: str
    reason: str
    actor: str
    at: str


@dataclass(frozen=True)
class Restored:
    """Restored from a backup onto a machine without a guard file: unconfirmed until enough
    witnesses cosign the restored log's latest checkpoint again."""

    at: str
    backup_created_at: str
    size: int
    confirmed_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuardState:
    origin: str
    mark: Mark | None = None
    witnesses: tuple[WitnessReport, ...] = ()
    forks: tuple[Fork, ...] = ()
    restored: Restored | None = None
    held_from: int | None = None

    @property
    def retired_by_fork(self) -> frozenset[str]:
        return frozenset(f.old_key for f in self.forks)

    @property
    def settled_through(self) -> int:
        """Witness reports up to this size concern the history an accepted fork left."""
        return max((f.published for f in self.forks), default=0)

    @property
    def published(self) -> int:
        """The largest size this log is known to have published (signed here, or cosigned by
        a witness), forks aside."""
        sizes = [w.size for w in self.witnesses if w.kind == AHEAD]
        return max([self.mark.size if self.mark else 0, *sizes, self.settled_through])

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "format": _FORMAT,
            "origin": self.origin,
            "mark": None
            if self.mark is None
            else {**asdict(self.mark), "root": self.mark.root.hex()},
            "held_from": self.held_from,
            "witnesses": [asdict(w) for w in self.witnesses],
            "forks": [asdict(f) for f in self.forks],
            "restored": None if self.restored is None else asdict(self.restored),
        }
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> GuardState:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError(f"not a {_FORMAT} file")
        mark = data.get("mark")
        restored = data.get("restored")
        return cls(
            origin=str(data["origin"]),
            mark=None
            if mark is None
            else Mark(int(mark["size"]), bytes.fromhex(mark["root"]), str(mark["key"]), mark["at"]),
            held_from=None if data.get("held_from") is None else int(data["held_from"]),
            witnesses=tuple(
                WitnessReport(str(w["witness"]), int(w["size"]), str(w["kind"]), str(w["at"]))
                for w in data.get("witnesses", [])
            ),
            forks=tuple(Fork(**f) for f in data.get("forks", [])),
            restored=None
            if restored is None
            else Restored(
                str(restored["at"]),
                str(restored["backup_created_at"]),
                int(restored["size"]),
                tuple(restored.get("confirmed_by", ())),
            ),
        )


# -- the file ---------------------------------------------------------------------------------


def guard_path(data_dir: Path) -> Path:
    return key_dir(data_dir) / GUARD_FILE


def _damaged(path: Path, why: str) -> LedgerError:
    return LedgerError(
        f"the ledger's signing record {path} is unreadable ({why}): the log signs nothing until "
        "it is repaired or replaced by `smartcustoms ledger reconcile --accept-fork`",
        details=[{"file": str(path), "problem": why}],
        code="guard_file_damaged",
    )


def read_state(data_dir: Path, origin: str) -> GuardState:
    """The guard state in ``data_dir`` (an empty one if there is no file). Raises LedgerError
    (``guard_file_damaged``) for a file that does not parse or belongs to another origin."""
    path = guard_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return GuardState(origin)
    except OSError as exc:
        raise _damaged(path, exc.strerror or exc.__class__.__name__) from None
    try:
        state = GuardState.from_json(text)
    except (ValueError, KeyError, TypeError) as exc:
        raise _damaged(path, str(exc) or exc.__class__.__name__) from None
    if state.origin != origin:
        raise _damaged(path, f"it is for origin {state.origin!r}, not {origin!r}")
    return state


def write_state(data_dir: Path, state: GuardState) -> None:
    """Replace the guard file with ``state``, durably (temporary file, fsync, rename, fsync of
    the directory): a crash leaves the old state or the new one, never half of either."""
    folder = key_dir(data_dir)
    path = folder / GUARD_FILE
    tmp = folder / (GUARD_FILE + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(state.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """One writer of the guard file at a time, across threads and processes."""
    with _thread_lock:
        fd = os.open(key_dir(data_dir) / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock


def update_state(
    data_dir: Path, origin: str, change: Callable[[GuardState], GuardState]
) -> GuardState:
    """Read, change and write the guard state under its lock; return the new state. Nothing is
    written when ``change`` returns the state unchanged."""
    with _locked(data_dir):
        state = read_state(data_dir, origin)
        new = change(state)
        if new != state:
            write_state(data_dir, new)
        return new


def merge_restored(
    target: GuardState | None,
    backup: GuardState | None,
    *,
    origin: str,
    backup_created_at: str,
    backup_size: int,
    backup_checkpoint: int,
) -> GuardState | None:
    """The guard state after restoring a backup whose key directory held ``backup``, onto a
    machine whose key directory holds ``target`` (None: no file).

    This machine's record stands: it saw every checkpoint signed here, including those after
    the backup; what the backup knew is added (never lowering the mark). A machine without one
    (a new machine, a lost disk) only has the backup's, which cannot know what was signed after
    it: the restore stays unconfirmed until witnesses confirm it, if the log had published
    anything (``backup_checkpoint`` is the backup's latest checkpoint size).
    """
    now = clock.now().isoformat(timespec="seconds")
    if target is None:
        base = backup or GuardState(origin)
        published = max(base.mark.size if base.mark else 0, backup_checkpoint)
        if not published:
            return backup
        restored = Restored(now, backup_created_at, backup_size)
        return replace(base, restored=restored, held_from=None)
    if backup is None:
        return target
    mark = target.mark
    if backup.mark is not None and (mark is None or backup.mark.size > mark.size):
        mark = backup.mark
    reports = {(w.witness, w.kind): w for w in backup.witnesses}
    for w in target.witnesses:
        seen = reports.get((w.witness, w.kind))
        if seen is None or w.size >= seen.size:
            reports[(w.witness, w.kind)] = w
    forks = target.forks + tuple(f for f in backup.forks if f not in target.forks)
    return replace(target, mark=mark, witnesses=tuple(reports.values()), forks=forks)


# -- the verdict ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hold:
    """Why the log may not sign now."""

    code: str
    message: str
    size: int  # entries stored
    published: int  # the size the log is known to have published (0 if unknown)

    @property
    def remedy(self) -> str:
        if self.code == "key_retired_by_fork":
            return (
                "run `smartcustoms ledger reconcile --accept-fork --reason …` again to finish "
                "the rotation"
            )
        if self.code == "guard_file_damaged":
            return (
                "restore the file from a backup of the key directory, or accept a fork: "
                '`smartcustoms ledger reconcile --accept-fork --reason "…"`'
            )
        return (
            "catch up from a later backup or export: `smartcustoms ledger reconcile --from "
            "PATH`; or accept a fork, which gives the log a new key (tell verifiers and "
            'witnesses): `smartcustoms ledger reconcile --accept-fork --reason "…"`'
        )


def latest_checkpoint_size(conn: Connection) -> int:
    return int(conn.execute(select(func.max(LedgerCheckpoint.size))).scalar() or 0)


def evaluate(
    state: GuardState,
    conn: Connection,
    size: int,
    root: bytes,
    *,
    key: str | None,
    checkpoint_size: int,
    verified: tuple[int, bytes] | None = None,
) -> Hold | None:
    """Whether the stored tree of ``size`` leaves and ``root`` may be signed with ``key`` now.

    ``checkpoint_size`` is the largest checkpoint the database holds; ``verified`` a mark this
    process already found in the stored tree (saves reading it again).
    """
    published = state.published
    if key is not None and key in state.retired_by_fork:
        fork = next(f for f in state.forks if f.old_key == key)
        return Hold(
            "key_retired_by_fork",
            f"key {key} signed the history that the fork accepted on {fork.at} left; it never "
            f"signs again, but it is still the log's current key",
            size,
            published,
        )
    mark = state.mark
    known = checkpoint_size
    if mark is not None and mark.size > 0:
        if mark.size > size:
            return Hold(
                "behind_mark",
                f"the log holds {size} entries, but this instance signed a checkpoint of size "
                f"{mark.size} (root {mark.root.hex()[:16]}…, key {mark.key}, {mark.at}): its "
                "database is older than what it published (restored from an older backup?)",
                size,
                published,
            )
        if verified != (mark.size, mark.root):
            try:
                at_mark = root if mark.size == size else root_from_store(conn, mark.size)
            except SmartCustomsError as exc:
                return Hold(
                    "mark_unverifiable",
                    f"cannot read the stored tree at size {mark.size}, which this instance "
                    f"signed: {exc.message}",
                    size,
                    published,
                )
            if at_mark != mark.root:
                return Hold(
                    "diverged_from_mark",
                    f"the log's first {mark.size} entries are not the tree this instance signed "
                    f"at that size ({mark.at}: root {mark.root.hex()[:16]}…, stored "
                    f"{at_mark.hex()[:16]}…): its database was replaced or changed",
                    size,
                    published,
                )
        known = max(known, mark.size)
    for report in state.witnesses:
        if report.size <= state.settled_through:
            continue
        if report.kind == INCONSISTENT:
            return Hold(
                "witness_inconsistent",
                f"witness {report.witness} said on {report.at} that the tree it cosigned is not "
                f"a prefix of this log's (at size {report.size}): the log forked",
                size,
                published,
            )
        if report.size > known:
            return Hold(
                "behind_witness",
                f"witness {report.witness} cosigned size {report.size} of this log "
                f"({report.at}), but the log holds {size} entries and no checkpoint beyond "
                f"{known}: its database is older than what it published (restored from an "
                "older backup?)",
                size,
                published,
            )
    if state.restored is not None:
        r = state.restored
        return Hold(
            "restore_unconfirmed",
            f"restored on {r.at} from a backup of {r.backup_created_at} (size {r.size}) onto a "
            "machine without this log's signing record: a witness must cosign the restored "
            f"log's latest checkpoint again (confirmed by {len(r.confirmed_by)} so far) before "
            "it signs, so that nothing it published after the backup is contradicted",
            size,
            published,
        )
    return None


def current_hold(db: Database, data_dir: Path, origin: str) -> Hold | None:
    """The hold on signing the stored tree now, from any process (status, health, fsck)."""
    with db.engine.connect() as conn:
        return hold_in(conn, data_dir, origin)


def hold_in(
    conn: Connection, data_dir: Path, origin: str, verified: tuple[int, bytes] | None = None
) -> Hold | None:
    head = read_tree_head(conn)
    try:
        state = read_state(data_dir, origin)
    except TlogError as exc:
        return Hold("guard_file_damaged", exc.message, head.size, 0)
    current = current_log_key(conn)
    return evaluate(
        state,
        conn,
        head.size,
        head.root_hash,
        key=None if current is None else current.key,
        checkpoint_size=latest_checkpoint_size(conn),
        verified=verified,
    )


# -- the sequencer's and the witness client's guard ----------------------------------------------


@dataclass
class ForkGuard:
    """The guard of one running ledger: the sequencer signs through :meth:`sign`, the witness
    client reports what witnesses say, status pages read :meth:`current`."""

    data_dir: Path
    origin: str
    quorum: int = 0
    #: Set by the witness client: witnesses are asked how far they saw the log at start-up.
    witnessed: bool = False
    _verified: tuple[int, bytes] | None = field(default=None, repr=False)
    _hold: Hold | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _probed: bool = field(default=False, repr=False)
    _probe_done: threading.Event = field(default_factory=threading.Event, repr=False)
    _probe_until: float = field(default=0.0, repr=False)  # time.monotonic()

    @property
    def hold(self) -> Hold | None:
        """Why this process's sequencer last refused to sign (None once it signed)."""
        return self._hold

    def state(self) -> GuardState:
        return read_state(self.data_dir, self.origin)

    def current(self, db: Database) -> Hold | None:
        """The hold on signing the stored tree now (cheap: a mark already found in the tree
        is not read again)."""
        with db.engine.connect() as conn:
            return hold_in(conn, self.data_dir, self.origin, self._verified)

    # -- the sequencer --------------------------------------------------------------------------

    def on_start(self, conn: Connection, size: int, root: bytes) -> Hold | None:
        """A sequencer took over at ``size``: say whether it may sign, and note where a hold
        began (entries stored from here on were never signed). With witnesses, its first
        signature waits (at most :data:`PROBE_WAIT_S`) for their answer to the start-up probe:
        a database and key directory both rolled back are caught before anything is signed."""
        self._verified = None
        if self.witnessed and not self._probed:
            self._probe_until = time.monotonic() + PROBE_WAIT_S
        try:
            state = read_state(self.data_dir, self.origin)
        except TlogError as exc:
            self._note(Hold("guard_file_damaged", exc.message, size, 0))
            return self._hold
        current = current_log_key(conn)
        try:
            hold = evaluate(
                state,
                conn,
                size,
                root,
                key=None if current is None else current.key,
                checkpoint_size=latest_checkpoint_size(conn),
            )
        except Exception as exc:  # never keep the sequencer from storing: _sign checks again
            log.error("cannot check the ledger against what it published: %s", exc)
            return None
        self._note(hold)
        if hold is not None and state.held_from is None:
            self._held_from(size)
        return hold

    def check(
        self, conn: Connection, size: int, root: bytes, signers: Sequence[Signer]
    ) -> list[Signer]:
        """The signers allowed to sign the tree (``size``, ``root``): ``signers`` less any key
        retired by a fork. Raises SigningHeld if the tree may not be signed at all."""
        if time.monotonic() < self._probe_until:
            raise SigningHeld(
                "not signing yet: asking the witnesses how far they saw the log",
                hold=Hold(
                    "awaiting_witnesses", "asking the witnesses how far they saw the log", size, 0
                ),
            )
        labels = [key_label(s.name, s.key_id) for s in signers]
        checkpoint_size = latest_checkpoint_size(conn)
        try:
            state = read_state(self.data_dir, self.origin)
        except TlogError as exc:
            self._note(Hold("guard_file_damaged", exc.message, size, 0))
            raise SigningHeld(f"not signing: {exc.message}", hold=self._hold) from None
        hold = evaluate(
            state,
            conn,
            size,
            root,
            key=labels[0] if labels else None,
            checkpoint_size=checkpoint_size,
            verified=self._verified,
        )
        self._note(hold)
        if hold is not None:
            if state.held_from is None:
                self._held_from(checkpoint_size)
            raise SigningHeld(f"not signing: {hold.message}", hold=hold)
        if state.mark is not None:
            self._verified = (state.mark.size, state.mark.root)
        retired = state.retired_by_fork
        return [s for s, label in zip(signers, labels, strict=True) if label not in retired]

    def sign(
        self,
        conn: Connection,
        origin: str,
        size: int,
        root: bytes,
        signers: Sequence[Signer],
        quorum: int = 0,
    ) -> SignedCheckpoint:
        """Check, record the mark durably, then sign and store the checkpoint in ``conn``'s
        transaction (:func:`~smartcustoms.ledger.checkpoints.sign_and_store`). Raises
        SigningHeld when signing would fork the log."""
        allowed = self.check(conn, size, root, signers)
        key = key_label(allowed[0].name, allowed[0].key_id)
        self.record_signed(size, root, key)
        return sign_and_store(conn, origin, size, root, allowed, quorum)

    def record_signed(self, size: int, root: bytes, key: str) -> None:
        """Raise the mark to (``size``, ``root``) before that tree is signed (never lowers it)."""
        now = clock.now().isoformat(timespec="seconds")

        def raise_mark(state: GuardState) -> GuardState:
            if state.mark is not None and state.mark.size >= size:
                return replace(state, held_from=None)
            return replace(state, mark=Mark(size, root, key, now), held_from=None)

        update_state(self.data_dir, self.origin, raise_mark)
        self._verified = (size, root)

    def _held_from(self, size: int) -> None:
        def note(state: GuardState) -> GuardState:
            return state if state.held_from is not None else replace(state, held_from=size)

        try:
            update_state(self.data_dir, self.origin, note)
        except (TlogError, OSError) as exc:
            log.error("cannot note where the ledger's hold began: %s", exc)

    def _note(self, hold: Hold | None) -> None:
        with self._lock:
            before, self._hold = self._hold, hold
        if hold is not None and (before is None or before.code != hold.code):
            log.error(
                "ledger signing held (%s): %s. To resolve: %s", hold.code, hold.message, hold.remedy
            )
        elif hold is None and before is not None:
            log.warning("ledger signing resumed (was held: %s)", before.code)

    # -- the witness client ---------------------------------------------------------------------

    def witness_report(self, witness: str, size: int, kind: str) -> None:
        """A witness refused our checkpoint: it cosigned ``size`` (``ahead``), or our tree is not
        an extension of what it cosigned at ``size`` (``inconsistent``)."""
        now = clock.now().isoformat(timespec="seconds")

        def add(state: GuardState) -> GuardState:
            same = [w for w in state.witnesses if w.witness == witness]
            if any(w.kind == kind and w.size == size for w in same):
                return state
            others = [w for w in state.witnesses if w.witness != witness or w.kind != kind]
            return replace(state, witnesses=(*others, WitnessReport(witness, size, kind, now)))

        log.error("witness %s refused our checkpoint: %s at size %d", witness, kind, size)
        update_state(self.data_dir, self.origin, add)

    def witness_confirmed(self, witness: str) -> None:
        """A witness cosigned our checkpoint: what it said before no longer stands, and it
        counts towards confirming a restore."""

        def confirm(state: GuardState) -> GuardState:
            witnesses = tuple(w for w in state.witnesses if w.witness != witness)
            restored = state.restored
            if restored is not None and witness not in restored.confirmed_by:
                restored = replace(restored, confirmed_by=(*restored.confirmed_by, witness))
            if restored is not None and len(restored.confirmed_by) >= max(1, self.quorum):
                log.warning("restored ledger confirmed by witnesses %s", restored.confirmed_by)
                restored = None
            return replace(state, witnesses=witnesses, restored=restored)

        update_state(self.data_dir, self.origin, confirm)

    def probed(self) -> None:
        """Every witness was asked once since start-up (answered or not): signing may go on."""
        self._probed = True
        self._probe_until = 0.0
        self._probe_done.set()

    def wait_probed(self) -> None:
        """Wait (at most until the deadline :meth:`on_start` set) for the start-up probe."""
        left = self._probe_until - time.monotonic()
        if left > 0 and not self._probed:
            self._probe_done.wait(left)

    def awaiting_confirmation(self) -> bool:
        """Whether a restore waits for witnesses to confirm it."""
        try:
            return self.state().restored is not None
        except TlogError:
            return False
