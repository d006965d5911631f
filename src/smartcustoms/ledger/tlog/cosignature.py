"""Timestamped Ed25519 witness cosignatures, C2SP tlog-cosignature v1 (signature type 0x04).

A cosignature is a note signature line on a checkpoint. Its signature bytes are
``timestamp (8 bytes, big-endian POSIX seconds) || Ed25519 signature`` over the message::

    cosignature/v1
    time <timestamp>
    <the checkpoint body, every line, final newline included>

The key ID uses type byte 0x04, so a witness key never collides with the same key used for
plain (0x01) note signatures. Verifier keys are ``name+id+base64(0x04 || public key)``; signer
keys use Go's plain Ed25519 form (``PRIVATE+KEY+name+id+base64(0x01 || seed)``), which
transparency-dev's ``NewSignerForCosignatureV1`` also accepts.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from smartcustoms.ledger.tlog.checkpoint import parse_checkpoint
from smartcustoms.ledger.tlog.errors import (
    InvalidArgument,
    MalformedCheckpoint,
    MalformedKey,
    MalformedNote,
    SignatureError,
)
from smartcustoms.ledger.tlog.keys import (
    ALG_ED25519,
    Ed25519Signer,
    Ed25519VerifierBase,
    check_key_name,
    decode_signer_key,
    decode_verifier_key,
    key_id,
)
from smartcustoms.ledger.tlog.note import NoteSignature, parse_note

__all__ = [
    "ALG_COSIGNATURE_V1",
    "MAX_TIMESTAMP",
    "CosignatureSigner",
    "CosignatureVerifier",
    "cosign",
    "cosignature_message",
    "cosignature_timestamp",
    "generate_witness_key",
    "parse_witness_signer_key",
    "parse_witness_verifier_key",
    "verify_cosignature_line",
]

ALG_COSIGNATURE_V1 = 0x04
MAX_TIMESTAMP = (1 << 63) - 1
"""The spec's bound on a cosignature timestamp."""

_TIMESTAMP_SIZE = 8
_ED25519_SIGNATURE_SIZE = 64
_KEY_SIZE = 32


def cosignature_message(body: str, timestamp: int) -> bytes:
    """Return the bytes a v1 cosignature signs for checkpoint ``body`` at ``timestamp``.

    Raises MalformedCheckpoint if ``body`` is not a checkpoint, InvalidArgument if the
    timestamp is outside 0..2**63-1.
    """
    parse_checkpoint(body)
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise InvalidArgument(f"timestamp must be an integer, got {type(timestamp).__name__}")
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise InvalidArgument(f"timestamp {timestamp} is outside 0..{MAX_TIMESTAMP}")
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosignature_timestamp(sig: NoteSignature) -> int:
    """Return the timestamp a cosignature claims (not verified). Raises MalformedNote if the
    signature is not 8 + 64 bytes."""
    if len(sig.signature) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
        raise MalformedNote(
            f"cosignature by {sig.name} is {len(sig.signature)} bytes, "
            f"want {_TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE}",
            details=[{"key": f"{sig.name}+{sig.key_id:08x}"}],
        )
    return int.from_bytes(sig.signature[:_TIMESTAMP_SIZE], "big")


class CosignatureVerifier(Ed25519VerifierBase):
    """Verifies a witness's v1 cosignatures; usable wherever a note ``Verifier`` is."""

    __slots__ = ()

    ALG = ALG_COSIGNATURE_V1

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Return whether ``sig`` (timestamp || signature) cosigns checkpoint body ``msg``."""
        if len(sig) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
            return False
        timestamp = int.from_bytes(sig[:_TIMESTAMP_SIZE], "big")
        try:
            signed = cosignature_message(msg.decode("utf-8"), timestamp)
        except (UnicodeDecodeError, MalformedCheckpoint, InvalidArgument):
            return False
        return self._verify_ed25519(sig[_TIMESTAMP_SIZE:], signed)


class CosignatureSigner:
    """Makes v1 cosignatures. ``clock`` returns the current POSIX time in seconds."""

    __slots__ = ("_clock", "_key", "_name", "_seed", "_verifier")

    def __init__(self, name: str, seed: bytes, *, clock: Callable[[], float] = time.time) -> None:
        check_key_name(name)
        if not isinstance(seed, bytes) or len(seed) != _KEY_SIZE:
            raise MalformedKey(f"an Ed25519 seed is {_KEY_SIZE} bytes")
        self._name = name
        self._seed = seed
        self._clock = clock
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._verifier = CosignatureVerifier(name, public)

    @classmethod
    def generate(cls, name: str, *, clock: Callable[[], float] = time.time) -> CosignatureSigner:
        """Return a cosigner with a fresh random key."""
        return cls(name, Ed25519Signer.generate(name).seed, clock=clock)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._verifier.key_id

    @property
    def seed(self) -> bytes:
        """The secret 32-byte Ed25519 seed."""
        return self._seed

    def sign(self, msg: bytes) -> bytes:
        """Cosign checkpoint body ``msg`` now (by ``clock``)."""
        return self.sign_at(msg, int(self._clock()))

    def sign_at(self, msg: bytes, timestamp: int) -> bytes:
        """Cosign checkpoint body ``msg`` at ``timestamp``: return timestamp || signature.

        Raises MalformedCheckpoint if ``msg`` is not a checkpoint body.
        """
        try:
            body = msg.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedCheckpoint("checkpoint is not valid UTF-8") from None
        signed = cosignature_message(body, timestamp)
        return timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + self._key.sign(signed)

    def verifier(self) -> CosignatureVerifier:
        """Return the verifier of this cosigner's key."""
        return self._verifier

    def key_string(self) -> str:
        """Return the secret signer key in Go's plain Ed25519 form (type 0x01 key ID)."""
        return Ed25519Signer(self._name, self._seed).key_string()

    def __repr__(self) -> str:
        return f"CosignatureSigner(name={self._name!r}, key_id={self.key_id:08x})"


def parse_witness_verifier_key(vkey: str) -> CosignatureVerifier:
    """Return the verifier for a cosignature v1 (type 0x04) verifier key string.

    A plain Ed25519 (0x01) key is refused: its key ID names a different key, and silently
    converting it (as transparency-dev's Go code does) hides a configuration mistake.
    Raises MalformedKey.
    """
    k = decode_verifier_key(vkey)
    if k.alg != ALG_COSIGNATURE_V1:
        raise MalformedKey(
            f"witness key type is 0x{k.alg:02x}, want 0x{ALG_COSIGNATURE_V1:02x} (cosignature/v1)",
            details=[{"field": "alg", "got": k.alg, "want": ALG_COSIGNATURE_V1}],
        )
    if len(k.key) != _KEY_SIZE:
        raise MalformedKey(
            f"witness public key is {len(k.key)} bytes, want {_KEY_SIZE}",
            details=[{"field": "key", "got": len(k.key), "want": _KEY_SIZE}],
        )
    return CosignatureVerifier(k.name, k.key)


def parse_witness_signer_key(
    skey: str, *, clock: Callable[[], float] = time.time
) -> CosignatureSigner:
    """Return a cosigner from a Go signer key string of type 0x01 (key ID of the 0x01 key, as
    Go writes it) or 0x04 (key ID of the 0x04 key). Raises MalformedKey."""
    k = decode_signer_key(skey)
    if k.alg not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise MalformedKey(f"witness signer key type 0x{k.alg:02x} is not 0x01 or 0x04")
    if len(k.key) != _KEY_SIZE:
        raise MalformedKey(f"witness seed is {len(k.key)} bytes, want {_KEY_SIZE}")
    signer = CosignatureSigner(k.name, k.key, clock=clock)
    want = key_id(k.name, k.alg, signer.verifier().public_key)
    if k.key_id != want:
        raise MalformedKey(
            f"signer key ID is {k.key_id:08x}, want {want:08x} (the hash of its public key)",
            details=[{"field": "key_id", "got": f"{k.key_id:08x}", "want": f"{want:08x}"}],
        )
    return signer


def generate_witness_key(name: str) -> tuple[str, str]:
    """Return a new witness ``(signer key, cosignature verifier key)`` pair of strings."""
    signer = CosignatureSigner.generate(name)
    return signer.key_string(), signer.verifier().key_string()


def cosign(body: str, signer: CosignatureSigner, timestamp: int | None = None) -> str:
    """Return the cosignature line (with its newline) a witness adds to checkpoint ``body``.

    ``body`` is the checkpoint text without signatures; ``timestamp`` defaults to the signer's
    clock. This checks neither the log's signature nor consistency: a witness does that first.
    """
    if not isinstance(body, str):
        raise MalformedCheckpoint(f"checkpoint must be text, got {type(body).__name__}")
    raw = body.encode("utf-8")
    sig = signer.sign(raw) if timestamp is None else signer.sign_at(raw, timestamp)
    return NoteSignature(signer.name, signer.key_id, sig).line()


def verify_cosignature_line(body: str, line: str, verifier: CosignatureVerifier) -> int:
    """Verify one cosignature line (ending in a newline) on checkpoint ``body``; return its
    timestamp.

    Raises MalformedCheckpoint or MalformedNote if either does not parse or the line is by
    another key, SignatureError if it does not verify.
    """
    parse_checkpoint(body)
    if not isinstance(line, str) or not line.endswith("\n") or line.count("\n") != 1:
        raise MalformedNote("a cosignature line is one line ending in a newline")
    (sig,) = parse_note(body + "\n" + line).signatures
    if (sig.name, sig.key_id) != (verifier.name, verifier.key_id):
        raise MalformedNote(
            f"cosignature is by {sig.name}+{sig.key_id:08x}, "
            f"want {verifier.name}+{verifier.key_id:08x}"
        )
    if not verifier.verify(body.encode("utf-8"), sig.signature):
        raise SignatureError(
            f"cosignature by {verifier.name}+{verifier.key_id:08x} does not verify",
            details=[{"key": f"{verifier.name}+{verifier.key_id:08x}"}],
        )
    return cosignature_timestamp(sig)
