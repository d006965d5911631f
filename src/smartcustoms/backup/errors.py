"""The errors a backup or a restore reports: each names the file, folder or database at fault.

SmartCustomsError
├── BackupDamaged (BadRequest 422 backup_damaged)   a file is missing or does not match
│                                                   the manifest's SHA-256, or the
│                                                   manifest does not parse
├── BackupRefused (Conflict 409 backup_refused)     the target is not empty (no --force),
│                                                   the backup is of another database kind
│                                                   or ledger
└── BackupFailed (500 backup_failed)                pg_dump or pg_restore failed (their
                                                    message is kept), a tool is missing
"""

from __future__ import annotations

from smartcustoms.core.errors import Conflict, SmartCustomsError, ValidationFailed

__all__ = ["BackupDamaged", "BackupFailed", "BackupRefused"]


class BackupDamaged(ValidationFailed):
    code = "backup_damaged"


class BackupRefused(Conflict):
    code = "backup_refused"


class BackupFailed(SmartCustomsError):
    code = "backup_failed"
