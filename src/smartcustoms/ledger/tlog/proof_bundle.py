"""Offline-verifiable proofs that an entry is in the log: C2SP ``c2sp.org/tlog-proof@v1``.

Format (https://c2sp.org/tlog-proof), lines separated by newlines::

    c2sp.org/tlog-proof@v1
    [extra <base64 opaque data>]        optional, NOT authenticated
    index <zero-based leaf index>       ASCII decimal, no leading zero
    <base64 proof hash>                 zero or more: the RFC 6962 inclusion proof, leaf's
    ...                                 sibling first, up to the root's child
    <empty line>
    <the signed checkpoint, verbatim, with the log's signature and any cosignatures>

The bundle does not carry the entry: like a detached signature, it is checked against the entry
(or its leaf hash) the verifier already holds, a trusted log key and a witness policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from smartcustoms.ledger.tlog import _b64
from smartcustoms.ledger.tlog.checkpoint import (
    Checkpoint,
    open_checkpoint,
    parse_checkpoint,
    parse_decimal,
)
from smartcustoms.ledger.tlog.cosignature import (
    CosignatureVerifier,
    cosignature_timestamp,
    parse_witness_verifier_key,
)
from smartcustoms.ledger.tlog.errors import (
    InvalidArgument,
    MalformedBundle,
    MalformedCheckpoint,
    MalformedNote,
    ProofError,
    QuorumNotMet,
)
from smartcustoms.ledger.tlog.keys import Verifier, parse_verifier_key
from smartcustoms.ledger.tlog.note import MAX_NOTE_SIZE, format_note, parse_note
from smartcustoms.ledger.tlog.rfc6962 import HASH_SIZE, hash_leaf
from smartcustoms.ledger.tlog.verify import verify_inclusion

__all__ = [
    "BUNDLE_HEADER",
    "BundleVerification",
    "Cosigner",
    "ProofBundle",
    "format_bundle",
    "parse_bundle",
    "verify_bundle",
]

BUNDLE_HEADER = "c2sp.org/tlog-proof@v1"
MAX_PROOF_HASHES = 64
"""An inclusion proof in a tree of fewer than 2**64 leaves has at most 64 hashes."""
MAX_BUNDLE_SIZE = MAX_NOTE_SIZE + 8192


@dataclass(frozen=True)
class ProofBundle:
    """A parsed proof bundle. ``checkpoint`` is the signed checkpoint note, verbatim."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None


@dataclass(frozen=True)
class Cosigner:
    """A trusted witness whose cosignature on the bundle's checkpoint verified."""

    name: str
    key_id: int
    timestamp: int


@dataclass(frozen=True)
class BundleVerification:
    """What a verified bundle proves: leaf ``index`` with ``leaf_hash`` is in the tree of
    ``checkpoint``, signed by the log and cosigned by ``cosigners`` (at least the quorum)."""

    index: int
    leaf_hash: bytes
    checkpoint: Checkpoint
    log_key: str
    cosigners: tuple[Cosigner, ...]
    extra: bytes | None

    @property
    def witnesses(self) -> tuple[str, ...]:
        """Names of the witnesses that cosigned."""
        return tuple(c.name for c in self.cosigners)


def parse_bundle(text: str | bytes) -> ProofBundle:
    """Parse a proof bundle, checking its syntax and that of the checkpoint note inside it.

    Verifies nothing. Raises MalformedBundle naming the line at fault.
    """
    text = _decode(text)
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise MalformedBundle("bundle has no empty line before its checkpoint")
    lines = head.split("\n")
    if lines[0] != BUNDLE_HEADER:
        raise MalformedBundle(
            f"line 1 is {lines[0]!r:.80}, want {BUNDLE_HEADER!r}", details=[{"line": 1}]
        )
    n = 1
    extra: bytes | None = None
    if n < len(lines) and lines[n].startswith("extra "):
        extra = _decode_b64(lines[n][len("extra ") :], n + 1, "extra data")
        if not extra:
            raise MalformedBundle(f"line {n + 1}: extra data is empty", details=[{"line": n + 1}])
        n += 1
    if n >= len(lines) or not lines[n].startswith("index "):
        raise MalformedBundle(f"line {n + 1} is not 'index <n>'", details=[{"line": n + 1}])
    try:
        index = parse_decimal(lines[n][len("index ") :], "index")
    except ValueError as exc:
        raise MalformedBundle(f"line {n + 1}: {exc}", details=[{"line": n + 1}]) from None
    n += 1
    proof_lines = lines[n:]
    if len(proof_lines) > MAX_PROOF_HASHES:
        raise MalformedBundle(
            f"bundle has {len(proof_lines)} proof hashes, above {MAX_PROOF_HASHES}",
            details=[{"got": len(proof_lines), "want": f"<= {MAX_PROOF_HASHES}"}],
        )
    proof = []
    for i, line in enumerate(proof_lines, n + 1):
        h = _decode_b64(line, i, "proof hash")
        if len(h) != HASH_SIZE:
            raise MalformedBundle(
                f"line {i}: proof hash is {len(h)} bytes, want {HASH_SIZE}",
                details=[{"line": i, "got": len(h), "want": HASH_SIZE}],
            )
        proof.append(h)
    first_note_line = len(lines) + 2
    try:
        parsed = parse_note(note)
        parse_checkpoint(parsed.text)
    except (MalformedNote, MalformedCheckpoint) as exc:
        raise MalformedBundle(
            f"checkpoint (from line {first_note_line}): {exc.message}",
            details=[{"line": first_note_line}, *exc.details],
        ) from None
    return ProofBundle(index, tuple(proof), note, extra)


def _decode(text: str | bytes) -> str:
    if isinstance(text, bytes | bytearray | memoryview):
        raw = bytes(text)
        if len(raw) > MAX_BUNDLE_SIZE:
            raise MalformedBundle(f"bundle is {len(raw)} bytes, above {MAX_BUNDLE_SIZE}")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedBundle(
                f"bundle is not valid UTF-8 at byte {exc.start}", details=[{"offset": exc.start}]
            ) from None
    if not isinstance(text, str):
        raise MalformedBundle(f"bundle must be bytes or text, got {type(text).__name__}")
    if len(text) > MAX_BUNDLE_SIZE:
        raise MalformedBundle(f"bundle is {len(text)} characters, above {MAX_BUNDLE_SIZE}")
    return text


def _decode_b64(s: str, lineno: int, what: str) -> bytes:
    try:
        return _b64.decode(s)
    except ValueError:
        raise MalformedBundle(
            f"line {lineno}: {what} is not canonical base64", details=[{"line": lineno}]
        ) from None


def format_bundle(bundle: ProofBundle) -> str:
    """Return the text of a proof bundle. Raises MalformedBundle if it would not parse back."""
    lines = [BUNDLE_HEADER]
    if bundle.extra is not None:
        lines.append(f"extra {_b64.encode(bundle.extra)}")
    lines.append(f"index {bundle.index}")
    lines.extend(_b64.encode(h) for h in bundle.proof)
    try:
        note = format_note(parse_note(bundle.checkpoint))
    except MalformedNote as exc:
        raise MalformedBundle(f"checkpoint: {exc.message}", details=exc.details) from None
    text = "\n".join(lines) + "\n\n" + note
    if parse_bundle(text) != bundle:
        raise MalformedBundle("bundle fields cannot be formatted so that they parse back")
    return text


def verify_bundle(
    bundle_text: str | bytes,
    log_verifier_key: str | Verifier,
    witness_verifier_keys: Sequence[str | CosignatureVerifier] = (),
    quorum: int = 0,
    *,
    entry: bytes | None = None,
    leaf_hash: bytes | None = None,
    origin: str | None = None,
) -> BundleVerification:
    """Verify a proof bundle offline for an ``entry`` (or its RFC 6962 ``leaf_hash``).

    Checks, in order: the bundle's syntax; the log's signature on the checkpoint (and every
    cosignature by a trusted witness — one that fails rejects the bundle); the checkpoint's
    origin (default: the log key's name); the inclusion proof from the leaf to the checkpoint's
    root; and that at least ``quorum`` trusted witnesses cosigned.

    Raises MalformedBundle, MalformedKey, SignatureError, UnknownKey, ProofError, QuorumNotMet,
    VerificationError (origin) or InvalidArgument (no entry, or quorum above the witnesses).
    """
    if (entry is None) == (leaf_hash is None):
        raise InvalidArgument("give exactly one of entry or leaf_hash")
    if entry is not None:
        if not isinstance(entry, bytes | bytearray):
            raise InvalidArgument(f"entry must be bytes, got {type(entry).__name__}")
        leaf = hash_leaf(bytes(entry))
    else:
        if not isinstance(leaf_hash, bytes | bytearray) or len(leaf_hash) != HASH_SIZE:
            raise InvalidArgument(f"leaf hash must be {HASH_SIZE} bytes")
        leaf = bytes(leaf_hash)
    log_verifier = (
        parse_verifier_key(log_verifier_key)
        if isinstance(log_verifier_key, str)
        else log_verifier_key
    )
    witnesses = [
        parse_witness_verifier_key(k) if isinstance(k, str) else k for k in witness_verifier_keys
    ]
    if isinstance(quorum, bool) or not isinstance(quorum, int) or not 0 <= quorum <= len(witnesses):
        raise InvalidArgument(
            f"quorum {quorum!r:.20} is not between 0 and the {len(witnesses)} witness keys"
        )

    bundle = parse_bundle(bundle_text)
    opened = open_checkpoint(bundle.checkpoint, log_verifier, witnesses, origin=origin)
    cp = opened.checkpoint
    try:
        verify_inclusion(leaf, bundle.index, cp.size, bundle.proof, cp.root_hash)
    except ProofError as exc:
        raise ProofError(
            f"inclusion proof of leaf {bundle.index} in tree {cp.size}: {exc.message}",
            details=exc.details,
        ) from None

    witness_ids = {(w.name, w.key_id) for w in witnesses}
    cosigners = tuple(
        Cosigner(s.name, s.key_id, cosignature_timestamp(s))
        for s in opened.note.verified
        if (s.name, s.key_id) in witness_ids
    )
    if len(cosigners) < quorum:
        have = ", ".join(c.name for c in cosigners) or "none"
        missing = sorted({w.name for w in witnesses} - {c.name for c in cosigners})
        raise QuorumNotMet(
            f"{len(cosigners)} trusted witnesses cosigned ({have}), want at least {quorum}",
            details=[
                {
                    "got": len(cosigners),
                    "want": quorum,
                    "cosigned": [c.name for c in cosigners],
                    "missing": missing,
                }
            ],
        )
    return BundleVerification(
        index=bundle.index,
        leaf_hash=leaf,
        checkpoint=cp,
        log_key=f"{log_verifier.name}+{log_verifier.key_id:08x}",
        cosigners=cosigners,
        extra=bundle.extra,
    )
