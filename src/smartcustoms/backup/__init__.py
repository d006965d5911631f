"""Backing up and restoring one instance: database, ledger key directory, scan store.

``smartcustoms backup DEST`` and ``smartcustoms restore SRC`` (:mod:`smartcustoms.cli.backup`)
call :func:`create_backup` and :func:`restore_backup` (:mod:`.archive`); :mod:`.database` makes
consistent database copies while the server runs (SQLite online backup API, ``pg_dump`` from an
exported snapshot) and puts them back; :mod:`.manifest` lists every file with its SHA-256.

A restored database may be behind what its ledger published: the ledger then stores appends but
signs nothing until an operator resolves it (:mod:`smartcustoms.ledger.fork_guard`,
``smartcustoms ledger reconcile``).
"""

from smartcustoms.backup.archive import (
    Restored,
    create_backup,
    ledger_export,
    restore_backup,
    scans_root,
)
from smartcustoms.backup.errors import BackupDamaged, BackupFailed, BackupRefused
from smartcustoms.backup.manifest import Manifest, read_manifest

__all__ = [
    "BackupDamaged",
    "BackupFailed",
    "BackupRefused",
    "Manifest",
    "Restored",
    "create_backup",
    "ledger_export",
    "read_manifest",
    "restore_backup",
    "scans_root",
]
