"""The errors of the transparency-log core.

This package imports nothing of the rest of the product, so its errors do not derive from the
product's error classes. They carry the same shape all the same — a stable machine ``code``, a
human ``message``, ``details`` naming the line, field or byte offset at fault, and the HTTP
status that describes them — so the product renders them like its own (the web layer and the
CLI handle :class:`TlogError` beside their own base class):

    TlogError (500 ledger_error)
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
    └── VerificationError (422 verification_failed)
        ├── ProofError (invalid_proof)            an inclusion or consistency proof fails
        ├── SignatureError (invalid_signature)    a known key's signature does not verify
        ├── UnknownKey (unknown_key)              no signature from a trusted key
        ├── QuorumNotMet (quorum_not_met)         too few trusted witnesses cosigned
        └── CommitmentMismatch (commitment_mismatch)

Verification messages state facts as "got X, want Y" so an operator can see what differs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

__all__ = [
    "CommitmentMismatch",
    "InvalidArgument",
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
    "TlogError",
    "UnknownKey",
    "VerificationError",
]


class TlogError(Exception):
    """Base of every error the transparency-log core raises on purpose."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "ledger_error"

    def __init__(
        self,
        message: str,
        *,
        details: Sequence[Mapping[str, Any]] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[dict[str, Any]] = [dict(d) for d in details or ()]
        if code is not None:
            self.code = code  # type: ignore[misc]

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape of this error (the product's own shape)."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class MalformedError(TlogError):
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


class RecordTooLarge(TlogError):
    status_code = 413
    code = "record_too_large"


class InvalidArgument(TlogError):
    """A caller broke a precondition stated in a docstring (e.g. an index beyond the tree)."""

    status_code = 400
    code = "invalid_argument"


class MissingHash(TlogError):
    """The hash reader did not return a usable hash: storage is incomplete or corrupt."""

    code = "missing_hash"


class VerificationError(TlogError):
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
