"""Backing up one instance into a folder, and restoring it from one.

A backup folder holds::

    manifest.json          what, when, the ledger's size and checkpoint, every file's SHA-256
    database.sqlite3       SQLite (online backup API), or
    database.pgdump        PostgreSQL (pg_dump custom format, from one snapshot)
    ledger/                the ledger key directory (log and witness keys, the signing
                           record published.json), 0700 with files 0600
    scans/ab/ab12….tif     the scan store (received files and sidecars; not the viewer caches)
    secret.key             the generated secret, when there is one

**Order matters for the ledger.** The key directory is copied *before* the database snapshot,
so the signing record in the backup never claims more than the database it travels with; key
files that changed meanwhile (a rotation) are copied again after it.

**Restore** checks every file against the manifest first, refuses a target that holds data
unless ``force``, refuses while a smartcustoms process holds the database's sequencer lease,
then puts the database back, merges the key directory and copies the scan files. The key
directory is *merged*, never rolled back: a key file that differs is kept aside
(``<name>.replaced-<time>``) and the signing record keeps the larger mark
(:func:`~smartcustoms.ledger.fork_guard.merge_restored`), so a restored database that is
behind what the log published is held from signing instead of forking the log. Scan files not
in the backup are left where they are (files are named by their SHA-256; the restored
database simply does not refer to them).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from smartcustoms import __version__
from smartcustoms.backup.database import (
    PG_FILE,
    SQLITE_FILE,
    dump_postgres,
    dump_sqlite,
    non_empty_tables,
    restore_postgres,
    restore_sqlite,
)
from smartcustoms.backup.errors import BackupDamaged, BackupRefused
from smartcustoms.backup.manifest import (
    FileEntry,
    Manifest,
    copy_file,
    fsync_dir,
    hash_file,
    read_manifest,
    verify_files,
    write_manifest,
)
from smartcustoms.core import clock
from smartcustoms.core.db import Database
from smartcustoms.core.errors import ServiceUnavailable
from smartcustoms.core.settings import SECRET_KEY_FILE, Settings
from smartcustoms.ledger.errors import TlogError
from smartcustoms.ledger.fork_guard import (
    GUARD_FILE,
    GuardState,
    Hold,
    current_hold,
    merge_restored,
    read_state,
    write_state,
)
from smartcustoms.ledger.keystore import key_dir
from smartcustoms.ledger.leader import lease_for
from smartcustoms.ledger.reconcile import Export, export_database
from smartcustoms.scans.storage import store_for

__all__ = ["Restored", "create_backup", "ledger_export", "restore_backup", "scans_root"]

Progress = Callable[[str], None]

_SKIP_KEYS = {"published.lock"}  # a lock, not state
_SKIP_SCAN_DIRS = {"tmp"}  # uploads being read


def scans_root(settings: Settings) -> Path:
    """The scan store's folder."""
    return store_for(settings).root


def _key_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.name not in _SKIP_KEYS and not p.name.endswith((".tmp", ".part"))
    )


def _scan_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == root:
            dirnames[:] = [d for d in dirnames if d not in _SKIP_SCAN_DIRS]
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith((".view.npz", ".part")) or name.startswith("."):
                continue
            out.append(here / name)
    return out


def create_backup(settings: Settings, dest: Path, *, progress: Progress | None = None) -> Manifest:
    """Back the instance up into ``dest`` (a new or empty folder), consistently, while it runs.

    Raises BackupRefused if ``dest`` holds files, BackupFailed if the database copy fails.
    """
    say = progress or (lambda _: None)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupRefused(f"{dest} exists and is not an empty folder: back up into a new one")
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(dest, 0o700)
    db = Database(settings.sqlalchemy_url)
    files: list[FileEntry] = []
    try:
        # 1. The key directory first: its signing record then trails the database snapshot.
        keys = key_dir(settings.data_dir)
        copied: dict[str, str] = {}
        for path in _key_files(keys):
            entry = copy_file(path, dest / "ledger" / path.name)
            copied[path.name] = entry.sha256
            files.append(replace(entry, path=f"ledger/{path.name}"))
        if (dest / "ledger").is_dir():
            os.chmod(dest / "ledger", 0o700)
        # 2. The database, from one snapshot.
        say("copying the database")
        name = SQLITE_FILE if db.is_sqlite else PG_FILE
        origin = settings.ledger_origin
        if db.is_sqlite:
            ledger, revision = dump_sqlite(db, dest / name, origin)
        else:
            ledger, revision = dump_postgres(db, dest / name, origin)
        files.append(replace(hash_file(dest / name), path=name))
        # 3. Key files that changed meanwhile (a rotation), except the signing record.
        for path in _key_files(keys):
            if path.name == GUARD_FILE or copied.get(path.name) == hash_file(path).sha256:
                continue
            entry = copy_file(path, dest / "ledger" / path.name)
            files = [f for f in files if f.path != f"ledger/{path.name}"]
            files.append(replace(entry, path=f"ledger/{path.name}"))
        # 4. The scan store.
        root = scans_root(settings)
        scans = _scan_files(root)
        if scans:
            say(f"copying {len(scans)} scan files")
        for path in scans:
            relative = path.relative_to(root).as_posix()
            entry = copy_file(path, dest / "scans" / relative)
            files.append(replace(entry, path=f"scans/{relative}"))
        # 5. The generated secret (sessions and forms signed with it stay valid).
        secret = settings.data_dir / SECRET_KEY_FILE
        if secret.is_file():
            files.append(replace(copy_file(secret, dest / SECRET_KEY_FILE), path=SECRET_KEY_FILE))
    finally:
        db.dispose()
    manifest = Manifest(
        created_at=clock.now().isoformat(timespec="seconds"),
        version=__version__,
        backend="sqlite" if name == SQLITE_FILE else "postgresql",
        database_file=name,
        schema_revision=revision,
        ledger=ledger,
        files=files,
    )
    for folder in {dest, *(dest / f.path for f in files)}:
        if folder.is_dir():
            fsync_dir(folder)
    write_manifest(dest, manifest)  # last: a folder with a manifest is a whole backup
    return manifest


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    files: int
    scan_files: int
    set_aside: list[str]  # key files that differed, kept beside under another name
    hold: Hold | None  # the ledger's hold on signing after the restore


def _target_data(settings: Settings, db: Database) -> list[str]:
    """What the target already holds (empty list: nothing to overwrite)."""
    found = []
    tables = non_empty_tables(db)
    if tables:
        found.append(f"the database {db.display_url()} holds data ({', '.join(tables[:5])} …)")
    if (key_dir(settings.data_dir) / "log.key").exists():
        found.append(f"{key_dir(settings.data_dir)} holds a ledger key")
    if _scan_files(scans_root(settings)):
        found.append(f"the scan store {scans_root(settings)} holds files")
    return found


def restore_backup(
    settings: Settings, src: Path, *, force: bool = False, progress: Progress | None = None
) -> Restored:
    """Restore the backup in ``src`` into the instance ``settings`` name (see the module
    documentation). Raises BackupDamaged, BackupRefused, ServiceUnavailable (a smartcustoms
    process uses the database), BackupFailed."""
    say = progress or (lambda _: None)
    manifest = read_manifest(src)
    say(f"checking {len(manifest.files)} files against the manifest")
    verify_files(src, manifest)
    if manifest.ledger.origin != settings.ledger_origin:
        raise BackupRefused(
            f"the backup is of ledger {manifest.ledger.origin!r}, this instance's is "
            f"{settings.ledger_origin!r} (SMARTCUSTOMS_LEDGER_ORIGIN)"
        )
    db = Database(settings.sqlalchemy_url)
    backend = "sqlite" if db.is_sqlite else "postgresql"
    try:
        if manifest.backend != backend:
            raise BackupRefused(
                f"the backup is of a {manifest.backend} database; this instance uses {backend}"
            )
        lease = lease_for(db)
        if not lease.try_acquire():
            raise ServiceUnavailable(
                "a smartcustoms process is using this database (it holds the ledger sequencer "
                "lease): stop the server, its workers and replicas first",
                code="database_busy",
            )
        try:
            there = _target_data(settings, db)
            if there and not force:
                raise BackupRefused(
                    "the target is not empty: " + "; ".join(there) + ". Restore with --force "
                    "to replace it (key files that differ are kept aside)",
                    details=[{"target": t} for t in there],
                )
            say("restoring the database")
            source = src / manifest.database_file
            if db.is_sqlite:
                restore_sqlite(db, source)
            else:
                restore_postgres(db, source, clear=bool(there))
            set_aside = _restore_keys(settings, src, manifest)
            scans = _restore_scans(settings, src, manifest)
            secret = [f for f in manifest.files if f.path == SECRET_KEY_FILE]
            if secret:
                _put(src / SECRET_KEY_FILE, settings.data_dir / SECRET_KEY_FILE, secret[0])
        finally:
            lease.release()
        hold = current_hold(db, settings.data_dir, settings.ledger_origin)
    finally:
        db.dispose()
    return Restored(manifest, len(manifest.files), scans, set_aside, hold)


def _stamp() -> str:
    return clock.now().strftime("%Y%m%dT%H%M%SZ")


def _put(source: Path, target: Path, entry: FileEntry, *, aside: list[str] | None = None) -> None:
    """Put a backed-up file at ``target``; a different file there is kept aside (when
    ``aside`` collects them) or replaced."""
    if target.is_file():
        if hash_file(target).sha256 == entry.sha256:
            return
        if aside is not None:
            kept = target.with_name(f"{target.name}.replaced-{_stamp()}")
            os.replace(target, kept)
            aside.append(kept.name)
    copy_file(source, target)


def _restore_keys(settings: Settings, src: Path, manifest: Manifest) -> list[str]:
    folder = key_dir(settings.data_dir)
    os.chmod(folder, 0o700)
    origin = settings.ledger_origin
    aside: list[str] = []
    for entry in manifest.files:
        if not entry.path.startswith("ledger/"):
            continue
        name = entry.path.removeprefix("ledger/")
        if name == GUARD_FILE:
            continue
        _put(src / entry.path, folder / name, entry, aside=aside)
    try:
        target: GuardState | None = (
            read_state(settings.data_dir, origin) if (folder / GUARD_FILE).exists() else None
        )
    except TlogError:  # damaged, or another log's: keep it aside, as for a key file
        kept = folder / f"{GUARD_FILE}.replaced-{_stamp()}"
        os.replace(folder / GUARD_FILE, kept)
        aside.append(kept.name)
        target = None
    backup_file = src / "ledger" / GUARD_FILE
    backup = GuardState.from_json(backup_file.read_text("utf-8")) if backup_file.is_file() else None
    if backup is not None and backup.origin != origin:
        raise BackupRefused(f"the backup's signing record is for ledger {backup.origin!r}")
    merged = merge_restored(
        target,
        backup,
        origin=origin,
        backup_created_at=manifest.created_at,
        backup_size=manifest.ledger.size,
        backup_checkpoint=manifest.ledger.checkpoint_size,
    )
    if merged is not None and merged != target:
        write_state(settings.data_dir, merged)
    return aside


def _restore_scans(settings: Settings, src: Path, manifest: Manifest) -> int:
    root = scans_root(settings)
    folders: set[Path] = set()
    for entry in manifest.files:
        if not entry.path.startswith("scans/"):
            continue
        target = root / entry.path.removeprefix("scans/")
        _put(src / entry.path, target, entry)
        folders.add(target.parent)
    for folder in folders:
        fsync_dir(folder)
    return sum(1 for f in manifest.files if f.path.startswith("scans/"))


def ledger_export(src: Path, origin: str, folder: Path) -> Export:
    """The ledger of the backup in ``src`` as an export (``smartcustoms ledger reconcile --from
    BACKUP``), written into ``folder``. The database file is checked against the manifest and
    exported from a copy (opening the backup's own file would change it). Raises
    BackupDamaged, BackupRefused (a PostgreSQL backup: restore it into a scratch database and
    catch up from its URL)."""
    manifest = read_manifest(src)
    entry = next(f for f in manifest.files if f.path == manifest.database_file)
    if manifest.backend != "sqlite":
        raise BackupRefused(
            f"{src} is a backup of a {manifest.backend} database: restore it into a scratch "
            "database (`smartcustoms restore` with SMARTCUSTOMS_DATABASE_URL naming it) and "
            "catch up from that database's URL"
        )
    copy = folder / SQLITE_FILE
    got = copy_file(src / entry.path, copy)
    if (got.size, got.sha256) != (entry.size, entry.sha256):
        raise BackupDamaged(f"the backup's {entry.path} was changed or damaged")
    return export_database(f"sqlite:///{copy}", folder / "export.jsonl", origin, str(src))
