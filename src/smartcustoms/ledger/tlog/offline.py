"""Verifying a proof bundle with nothing but the bundle and keys (no database, no network).

Bundles made by :meth:`Ledger.proof_bundle` carry the entry itself in their ``extra`` line.
``extra`` is not signed, but it need not be: the inclusion proof binds the leaf hash of the
entry to the signed root, so a changed ``extra`` fails verification like a changed proof.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from smartcustoms.ledger.tlog.errors import InvalidArgument, TlogError
from smartcustoms.ledger.tlog.proof_bundle import BundleVerification, parse_bundle, verify_bundle
from smartcustoms.ledger.tlog.records import parse_record

__all__ = ["CheckedBundle", "check_bundle"]


@dataclass(frozen=True)
class CheckedBundle:
    """A verified bundle: what it proves, the entry it proves, and that entry as a record
    (None if the entry is not a canonical ledger record)."""

    verification: BundleVerification
    entry: bytes
    record: dict[str, Any] | None


def check_bundle(
    bundle: str | bytes,
    log_vkey: str,
    witness_vkeys: Sequence[str] = (),
    *,
    quorum: int | None = None,
    entry: bytes | None = None,
) -> CheckedBundle:
    """Verify ``bundle`` for ``entry`` (default: the entry in its ``extra`` line) against the
    log key and witness keys; ``quorum`` (default: all of them) witnesses must have cosigned.

    Raises the ledger's typed errors: MalformedBundle, MalformedKey, SignatureError,
    UnknownKey, ProofError, QuorumNotMet, VerificationError, InvalidArgument.
    """
    if entry is None:
        entry = parse_bundle(bundle).extra
        if entry is None:
            raise InvalidArgument(
                "the bundle does not carry its entry (no 'extra' line): give the entry too"
            )
    result = verify_bundle(
        bundle,
        log_vkey.strip(),
        [k.strip() for k in witness_vkeys if k.strip()],
        len([k for k in witness_vkeys if k.strip()]) if quorum is None else quorum,
        entry=entry,
    )
    try:
        record: dict[str, Any] | None = parse_record(entry)
    except TlogError:
        record = None
    return CheckedBundle(result, entry, record)
