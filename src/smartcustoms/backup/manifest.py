"""The manifest of a backup: what it holds, when it was made, and the SHA-256 of every file.

``manifest.json`` is written last (temporary file, fsync, rename), so a folder with one is a
complete backup. A restore checks every file against it before it touches anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from smartcustoms.backup.errors import BackupDamaged

__all__ = [
    "FORMAT",
    "MANIFEST",
    "FileEntry",
    "LedgerAt",
    "Manifest",
    "copy_file",
    "hash_file",
    "read_manifest",
    "verify_files",
    "write_manifest",
]

FORMAT = "smartcustoms-backup/1"
MANIFEST = "manifest.json"
_BLOCK = 1 << 20

# What a backup may hold, and where: nothing a manifest names can land outside the target.
_ALLOWED = re.compile(
    r"^(database\.sqlite3|database\.pgdump|secret\.key|ledger/[A-Za-z0-9._+-]+"
    r"|scans/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*)$"
)


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative, with /
    size: int
    sha256: str


@dataclass(frozen=True)
class LedgerAt:
    """The ledger as the database snapshot holds it."""

    origin: str
    size: int
    root: str  # hex
    checkpoint_size: int  # 0 when none was signed
    checkpoint: str | None  # the signed note, with its cosignatures
    checkpoint_key: str | None


@dataclass(frozen=True)
class Manifest:
    created_at: str
    version: str
    backend: str  # sqlite | postgresql
    database_file: str
    schema_revision: str | None
    ledger: LedgerAt
    files: list[FileEntry] = field(default_factory=list)

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "format": FORMAT,
            "created_at": self.created_at,
            "smartcustoms_version": self.version,
            "database": {
                "backend": self.backend,
                "file": self.database_file,
                "schema_revision": self.schema_revision,
            },
            "ledger": asdict(self.ledger),
            "files": [asdict(f) for f in self.files],
        }
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def read_manifest(folder: Path) -> Manifest:
    """Read ``folder/manifest.json``. Raises BackupDamaged naming what is wrong."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BackupDamaged(f"{folder}: no such backup folder", code="backup_missing")
    if not path.is_file():
        raise BackupDamaged(
            f"{folder} has no {MANIFEST}: not a smartcustoms backup, or one that did not finish"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, not {FORMAT!r}")
        database, ledger = data["database"], data["ledger"]
        files = [FileEntry(str(f["path"]), int(f["size"]), str(f["sha256"])) for f in data["files"]]
        manifest = Manifest(
            created_at=str(data["created_at"]),
            version=str(data.get("smartcustoms_version", "")),
            backend=str(database["backend"]),
            database_file=str(database["file"]),
            schema_revision=database.get("schema_revision"),
            ledger=LedgerAt(**ledger),
            files=files,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupDamaged(f"{path} does not parse: {exc}") from None
    for entry in manifest.files:
        if not _ALLOWED.match(entry.path) or ".." in entry.path.split("/"):
            raise BackupDamaged(f"{path} names a file outside a backup's layout: {entry.path!r}")
    if manifest.database_file not in {f.path for f in manifest.files}:
        raise BackupDamaged(f"{path} does not list its database file {manifest.database_file}")
    return manifest


def write_manifest(folder: Path, manifest: Manifest) -> None:
    tmp = folder / (MANIFEST + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(manifest.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / MANIFEST)
    fsync_dir(folder)


def hash_file(path: Path) -> FileEntry:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
            size += len(block)
    return FileEntry(path.name, size, digest.hexdigest())


def copy_file(source: Path, target: Path, *, mode: int = 0o600) -> FileEntry:
    """Copy ``source`` to ``target`` (through a temporary name, fsynced) and return the copy's
    size and SHA-256, computed from the bytes written."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    size = 0
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with source.open("rb") as src, os.fdopen(fd, "wb") as dst:
        while block := src.read(_BLOCK):
            digest.update(block)
            size += len(block)
            dst.write(block)
        dst.flush()
        os.fsync(dst.fileno())
    os.chmod(tmp, mode)  # the umask may have narrowed it; never widen a key file's mode
    os.replace(tmp, target)
    return FileEntry(target.name, size, digest.hexdigest())


def verify_files(folder: Path, manifest: Manifest) -> None:
    """Check every file the manifest lists: present, of its size and SHA-256. Raises
    BackupDamaged naming the first that is not."""
    for entry in manifest.files:
        path = folder / entry.path
        if not path.is_file():
            raise BackupDamaged(f"the backup's {entry.path} is missing", details=[asdict(entry)])
        got = hash_file(path)
        if (got.size, got.sha256) != (entry.size, entry.sha256):
            raise BackupDamaged(
                f"the backup's {entry.path} was changed or damaged: {got.size} bytes with "
                f"SHA-256 {got.sha256}, the manifest says {entry.size} bytes, {entry.sha256}",
                details=[asdict(entry)],
            )


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def disk_free(folder: Path) -> int:
    return shutil.disk_usage(folder).free
