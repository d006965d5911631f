"""The errors of the stored ledger, and the transparency-log core's errors it re-exports.

The pure core (:mod:`smartcustoms.ledger.tlog`) raises :class:`~.tlog.errors.TlogError` and its
subclasses (malformed input, failed verification …), which import nothing of the product; they
are re-exported here so callers import every ledger error from one place. What only the stored
ledger raises is a :class:`LedgerError`, which is both a ``TlogError`` and a
:class:`~smartcustoms.core.errors.SmartCustomsError`; where a core class already says what the
status means, the ledger class inherits from it too, so ``except Conflict`` keeps working.
Catch ``TlogError`` to catch every ledger error:

    TlogError (see smartcustoms.ledger.tlog.errors for the core's own tree)
    └── LedgerError (500 ledger_error)
        ├── SigningHeld (503 signing_held)         the log is behind (or off) what it published:
        │                                          entries are stored, no checkpoint is signed
        ├── UnknownLog (404 unknown_log)           no log with the checkpoint's origin is witnessed
        ├── UntrustedCheckpoint (403 untrusted_checkpoint)  no signature by a trusted log key
        └── WitnessConflict (409 witness_conflict) the old size is not the witness's latest size
                                                   (``size`` says which), or a split view

The last three are the statuses the tlog-witness ``add-checkpoint`` spec names.
"""

from __future__ import annotations

from typing import Any

from smartcustoms.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    SmartCustomsError,
)
from smartcustoms.ledger.tlog.errors import (
    CommitmentMismatch,
    InvalidArgument,
    MalformedBundle,
    MalformedCheckpoint,
    MalformedError,
    MalformedKey,
    MalformedNote,
    MalformedRecord,
    MalformedTile,
    MissingHash,
    ProofError,
    QuorumNotMet,
    RecordTooLarge,
    SignatureError,
    TlogError,
    UnknownKey,
    VerificationError,
)

__all__ = [
    "PRODUCT_ERRORS",
    "CommitmentMismatch",
    "InvalidArgument",
    "LedgerError",
    "MalformedBundle",
    "MalformedCheckpoint",
    "MalformedError",
    "MalformedKey",
    "MalformedNote",
    "MalformedRecord",
    "MalformedTile",
    "MissingHash",
    "ProofError",
    "QuorumNotMet",
    "RecordTooLarge",
    "SignatureError",
    "SigningHeld",
    "TlogError",
    "UnknownKey",
    "UnknownLog",
    "UntrustedCheckpoint",
    "VerificationError",
    "WitnessConflict",
]


#: Every error the product raises on purpose: its own, and the transparency-log core's (which
#: import nothing of the product). Catch this where a ledger error may surface among others.
PRODUCT_ERRORS: tuple[type[SmartCustomsError], type[TlogError]] = (SmartCustomsError, TlogError)


class LedgerError(TlogError, SmartCustomsError):
    """Base of every error the stored ledger (not its pure core) raises on purpose."""

    code = "ledger_error"


class SigningHeld(LedgerError, ServiceUnavailable):
    """The log is behind, or inconsistent with, a checkpoint it published (a database restored
    from an older backup): signing now would fork it. ``hold`` says why (see
    :mod:`smartcustoms.ledger.fork_guard`)."""

    status_code = 503
    code = "signing_held"

    def __init__(self, message: str, *, hold: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.hold = hold


class UnknownLog(LedgerError, NotFound):
    status_code = 404
    code = "unknown_log"


class UntrustedCheckpoint(LedgerError, Forbidden):
    status_code = 403
    code = "untrusted_checkpoint"


class WitnessConflict(LedgerError, Conflict):
    """A witness refuses a checkpoint that does not follow the latest one it cosigned.

    ``size`` is the witness's latest cosigned size when the client's old size was wrong (the
    spec's ``text/x.tlog.size`` answer), None for a split view at the same size.
    """

    status_code = 409
    code = "witness_conflict"

    def __init__(self, message: str, *, size: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.size = size
