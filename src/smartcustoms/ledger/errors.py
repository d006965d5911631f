"""The errors of the ledger core.

Every ledger error is a :class:`LedgerError`, itself a
:class:`~smartcustoms.core.errors.SmartCustomsError`, so the web layer renders it as one JSON
shape with the class's HTTP status. Where a core class already says what the status means, the
ledger class inherits from it too, so ``except BadRequest`` keeps working:

    LedgerError (500 ledger_error)
    ├── MalformedError (400 malformed)            input bytes or text do not parse
    │   ├── MalformedNote                         a signed note (line n named in details)
    │   ├── MalformedKey                          a verifier or signer key string
    │   ├── MalformedCheckpoint                   a checkpoint body
    │   ├── MalformedTile                         a tile path, tile or entry bundle
    │   ├── MalformedBundle                       a c2sp.org/tlog-proof@v1 bundle
    │   └── MalformedRecord                       a ledger record (canonical JSON)
    ├── RecordTooLarge (413 record_too_large)
    ├── InvalidArgument (400 invalid_argument)    a caller broke a documented precondition
    ├── MissingHash (500 missing_hash)            storage did not give a hash a proof needs
    ├── SigningHeld (503 signing_held)            the log is behind (or off) what it published:
    │                                             entries are stored, no checkpoint is signed
    └── VerificationError (422 verification_failed)
        ├── ProofError (invalid_proof)            an inclusion or consistency proof fails
        ├── SignatureError (invalid_signature)    a known key's signature does not verify
        ├── UnknownKey (unknown_key)              no signature from a trusted key
        ├── QuorumNotMet (quorum_not_met)         too few trusted witnesses cosigned
        └── CommitmentMismatch (commitment_mismatch)

The witness (tlog-witness ``add-checkpoint``) answers with the statuses the spec names:

    LedgerError
    ├── UnknownLog (404 unknown_log)              no log with the checkpoint's origin is witnessed
    ├── UntrustedCheckpoint (403 untrusted_checkpoint)  no signature by a trusted log key verifies
    └── WitnessConflict (409 witness_conflict)    the old size is not the witness's latest size
                                                  (``size`` says which), or a split view

Verification messages state facts as "got X, want Y" so an operator can see what differs.
"""

from __future__ import annotations

from typing import Any

from smartcustoms.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    SmartCustomsError,
)

__all__ = [
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
    "UnknownKey",
    "UnknownLog",
    "UntrustedCheckpoint",
    "VerificationError",
    "WitnessConflict",
]


class LedgerError(SmartCustomsError):
    """Base of every error the ledger raises on purpose."""

    code = "ledger_error"


class MalformedError(LedgerError, BadRequest):
    """Input does not parse. ``details`` name the line, field or byte offset at fault."""

    status_code = 400
    code = "malformed"


class MalformedNote(MalformedError):
    code = "malformed_note"


class MalformedKey(MalformedError):
    code = "malformed_key"


class MalformedCheckpoint(MalformedError):
    code = "malformed_checkpoint"


class MalformedTile(MalformedError):
    code = "malformed_tile"


class MalformedBundle(MalformedError):
    code = "malformed_bundle"


class MalformedRecord(MalformedError):
    code = "malformed_record"


class RecordTooLarge(LedgerError, PayloadTooLarge):
    status_code = 413
    code = "record_too_large"


class InvalidArgument(LedgerError, BadRequest):
    """A caller broke a precondition stated in a docstring (e.g. an index beyond the tree)."""

    status_code = 400
    code = "invalid_argument"


class MissingHash(LedgerError):
    """The hash reader did not return a usable hash: storage is incomplete or corrupt."""

    code = "missing_hash"


class SigningHeld(LedgerError, ServiceUnavailable):
    """The log is behind, or inconsistent with, a checkpoint it published (a database restored
    from an older backup): signing now would fork it. ``hold`` says why (see
    :mod:`smartcustoms.ledger.fork_guard`)."""

    status_code = 503
    code = "signing_held"

    def __init__(self, message: str, *, hold: Any = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.hold = hold


class VerificationError(LedgerError, BadRequest):
    """Something that should verify does not."""

    status_code = 422
    code = "verification_failed"


class ProofError(VerificationError):
    code = "invalid_proof"


class SignatureError(VerificationError):
    code = "invalid_signature"


class UnknownKey(VerificationError):
    code = "unknown_key"


class QuorumNotMet(VerificationError):
    code = "quorum_not_met"


class CommitmentMismatch(VerificationError):
    code = "commitment_mismatch"


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
