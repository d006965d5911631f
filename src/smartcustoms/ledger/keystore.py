"""The ledger's private keys on disk, and the history of its public keys in the database.

Keys live in ``<data dir>/ledger/`` (mode 0700), one Go-format signer key string per file
(mode 0600), created on first use:

* ``log.key``: the log's Ed25519 key, named by the ledger origin; it signs checkpoints;
* ``witness.key``: this instance's witness key; it cosigns partners' checkpoints.

A file readable by anyone but its owner is refused, as ssh refuses a private key. The log's
public keys are also recorded in ``ledger_keys``: the key without ``retired_at`` is the one
checkpoints are signed with now; the others verify older checkpoints. Replicas that may become
the sequencer (PostgreSQL) need a copy of ``log.key``; one whose key is not the current one will
not sign.
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, insert, select, update

from smartcustoms.core import clock
from smartcustoms.core.errors import ConfigurationError
from smartcustoms.core.files import create_private_file
from smartcustoms.ledger.errors import LedgerError, MalformedKey
from smartcustoms.ledger.tables import LedgerKey
from smartcustoms.ledger.tlog.cosignature import CosignatureSigner, parse_witness_signer_key
from smartcustoms.ledger.tlog.keys import (
    Ed25519Signer,
    Ed25519Verifier,
    parse_signer_key,
    parse_verifier_key,
)

__all__ = [
    "LOG_KEY_FILE",
    "WITNESS_KEY_FILE",
    "StoredKey",
    "current_log_key",
    "key_dir",
    "key_label",
    "load_log_signer",
    "load_witness_signer",
    "log_verifiers",
    "register_log_key",
    "retire_and_replace",
    "write_new_log_key",
]

LOG_KEY_FILE = "log.key"
WITNESS_KEY_FILE = "witness.key"


def key_dir(data_dir: Path) -> Path:
    """Return ``<data dir>/ledger``, created with mode 0700 if missing."""
    path = Path(data_dir) / "ledger"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def key_label(name: str, key_id: int) -> str:
    """``name+keyid``: how the ledger names a key in its tables and messages."""
    return f"{name}+{key_id:08x}"


def _read_private(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"ledger key {path} is readable by others (mode {stat.S_IMODE(mode):o}): "
            f"run `chmod 600 {path}`",
            details=[{"file": str(path), "problem": "permissions too open"}],
        )
    return path.read_text(encoding="ascii").strip()


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 and ``text``, durably; never overwrite."""
    if not create_private_file(path, text):
        raise FileExistsError(path)


def load_log_signer(data_dir: Path, origin: str, *, create: bool = True) -> Ed25519Signer:
    """Return the log's signer from ``log.key``, generating it on first use.

    Raises ConfigurationError if the key is for another origin or its file is readable by
    others, LedgerError (``bad_key_file``) if the file does not hold a valid key.
    """
    path = key_dir(data_dir) / LOG_KEY_FILE
    if not path.exists():
        if not create:
            raise ConfigurationError(f"no ledger key in {path}")
        # Another process may create it first: then use theirs.
        with contextlib.suppress(FileExistsError):
            _write_private(path, Ed25519Signer.generate(origin).key_string())
    try:
        signer = parse_signer_key(_read_private(path))
    except MalformedKey as exc:
        raise LedgerError(
            f"ledger key file {path} is damaged: {exc.message}",
            details=[{"file": str(path)}, *exc.details],
            code="bad_key_file",
        ) from None
    if signer.name != origin:
        raise ConfigurationError(
            f"the ledger key in {path} is for origin {signer.name!r}, but "
            f"SMARTCUSTOMS_LEDGER_ORIGIN is {origin!r}: a ledger's origin never changes",
            details=[{"setting": "SMARTCUSTOMS_LEDGER_ORIGIN", "value": origin}],
        )
    return signer


def load_witness_signer(data_dir: Path, name: str) -> CosignatureSigner:
    """Return this instance's witness cosigner from ``witness.key``, generating it on first use."""
    path = key_dir(data_dir) / WITNESS_KEY_FILE
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            _write_private(path, CosignatureSigner.generate(name).key_string())
    try:
        signer = parse_witness_signer_key(_read_private(path))
    except MalformedKey as exc:
        raise LedgerError(
            f"witness key file {path} is damaged: {exc.message}",
            details=[{"file": str(path)}, *exc.details],
            code="bad_key_file",
        ) from None
    if signer.name != name:
        raise ConfigurationError(
            f"the witness key in {path} is named {signer.name!r}, but the witness name is "
            f"{name!r} (SMARTCUSTOMS_LEDGER_WITNESS_NAME)",
            details=[{"setting": "SMARTCUSTOMS_LEDGER_WITNESS_NAME", "value": name}],
        )
    return signer


@dataclass(frozen=True)
class StoredKey:
    key: str  # name+keyid
    vkey: str


def current_log_key(conn: Connection) -> StoredKey | None:
    """The log key checkpoints are signed with now, or None before the first start."""
    row = conn.execute(
        select(LedgerKey.key, LedgerKey.vkey)
        .where(LedgerKey.retired_at.is_(None))
        .order_by(LedgerKey.created_at)
    ).first()
    return StoredKey(row.key, row.vkey) if row else None


def log_verifiers(conn: Connection) -> list[Ed25519Verifier]:
    """Every public key the log has signed with, current first. Raises MalformedKey (naming
    the key) if a stored key string is damaged."""
    rows = conn.execute(
        select(LedgerKey.key, LedgerKey.vkey).order_by(
            LedgerKey.retired_at.is_not(None), LedgerKey.created_at.desc()
        )
    ).all()
    out = []
    for label, vkey in rows:
        try:
            out.append(parse_verifier_key(vkey))
        except MalformedKey as exc:
            raise MalformedKey(
                f"stored log key {label}: {exc.message}", details=[{"key": label}, *exc.details]
            ) from None
    return out


def register_log_key(conn: Connection, signer: Ed25519Signer) -> None:
    """Record ``signer`` as the log's key on first start; refuse a key that is not current.

    Raises LedgerError (``not_current_key``) if the database names another current key: this
    replica's ``log.key`` is stale or foreign, and signing with it would fork the log's identity.
    """
    label = key_label(signer.name, signer.key_id)
    current = current_log_key(conn)
    if current is None:
        known = conn.execute(select(LedgerKey.key).where(LedgerKey.key == label)).first()
        if known is None:
            conn.execute(
                insert(LedgerKey).values(
                    key=label, vkey=signer.verifier().key_string(), created_at=clock.now()
                )
            )
            return
    elif current.key == label:
        return
    want = current.key if current else "none"
    raise LedgerError(
        f"this instance's ledger key {label} is not the log's current key ({want}): copy "
        "log.key from the instance that rotated it, or rotate here",
        details=[{"key": label, "current": want}],
        code="not_current_key",
    )


def write_new_log_key(data_dir: Path, origin: str) -> tuple[Ed25519Signer, Path]:
    """Generate the next log key into ``log.key.new`` (0600) and return it with the path."""
    path = key_dir(data_dir) / (LOG_KEY_FILE + ".new")
    path.unlink(missing_ok=True)  # left over by an interrupted rotation, never used
    signer = Ed25519Signer.generate(origin)
    _write_private(path, signer.key_string())
    return signer, path


def retire_and_replace(
    conn: Connection, data_dir: Path, old: Ed25519Signer, new: Ed25519Signer, new_path: Path
) -> Path:
    """Make ``new`` the log's key: retire ``old`` in the database (caller's transaction), keep
    the old file as ``log.<keyid>.retired`` and move ``new_path`` to ``log.key``. Returns the
    retired file's path.

    The caller commits after this returns; the files move first so that a failed commit leaves
    a key file whose public key the database can be told about by running rotation again.
    """
    now = clock.now()
    old_label = key_label(old.name, old.key_id)
    done = conn.execute(
        update(LedgerKey)
        .where(LedgerKey.key == old_label, LedgerKey.retired_at.is_(None))
        .values(retired_at=now)
    )
    if done.rowcount != 1:
        raise LedgerError(f"{old_label} is not the log's current key", code="not_current_key")
    conn.execute(
        insert(LedgerKey).values(
            key=key_label(new.name, new.key_id), vkey=new.verifier().key_string(), created_at=now
        )
    )
    folder = key_dir(data_dir)
    retired = folder / f"log.{old.key_id:08x}.retired"
    os.replace(folder / LOG_KEY_FILE, retired)
    os.replace(new_path, folder / LOG_KEY_FILE)
    return retired
