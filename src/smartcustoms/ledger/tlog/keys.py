"""Signed-note keys: names, key IDs, Ed25519 signers and verifiers, and their text encodings.

Key strings are byte-compatible with Go's ``golang.org/x/mod/sumdb/note``:

* verifier key (C2SP "vkey"): ``<name>+<key ID as 8 hex digits>+base64(<type byte> || key)``;
* signer key (Go only): ``PRIVATE+KEY+<name>+<key ID>+base64(0x01 || 32-byte Ed25519 seed)``.

A key ID is ``SHA-256(name || 0x0A || type byte || public key)[:4]`` read big-endian
(C2SP signed-note). Only the Ed25519 type 0x01 lives here; the timestamped cosignature type 0x04
is in :mod:`smartcustoms.ledger.tlog.cosignature`.
"""

from __future__ import annotations

import hashlib
import secrets
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from smartcustoms.ledger.tlog import _b64
from smartcustoms.ledger.tlog.errors import MalformedKey

__all__ = [
    "ALG_ED25519",
    "Ed25519Signer",
    "Ed25519Verifier",
    "Ed25519VerifierBase",
    "KeyString",
    "Signer",
    "Verifier",
    "check_key_name",
    "decode_signer_key",
    "decode_verifier_key",
    "generate_key",
    "is_valid_key_name",
    "key_id",
    "parse_signer_key",
    "parse_verifier_key",
]

ALG_ED25519 = 0x01
ED25519_SIZE = 32
ED25519_SIGNATURE_SIZE = 64

# Unicode White_Space, which Go's unicode.IsSpace tests; key names must contain none of it.
_WHITE_SPACE = frozenset(
    [*map(chr, range(0x09, 0x0E)), " ", "\x85", "\xa0", "\u1680"]
    + [chr(c) for c in range(0x2000, 0x200B)]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
)


class Verifier(Protocol):
    """Verifies signatures made by one key, identified by (name, key ID)."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Return whether ``sig`` (without the 4-byte key ID) is a valid signature of ``msg``."""
        ...


class Signer(Protocol):
    """Signs note texts with one key."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, msg: bytes) -> bytes:
        """Return the signature of ``msg`` (without the 4-byte key ID)."""
        ...


def is_valid_key_name(name: object) -> bool:
    """Return whether ``name`` can name a key: non-empty UTF-8 with no Unicode space, no
    ``+`` and no ASCII control character.

    The spec and Go forbid only spaces and ``+``; a name with a control character could never
    appear in a valid note, so it is refused here too, where the mistake is made.
    """
    if not isinstance(name, str) or not name or "+" in name:
        return False
    if any(c in _WHITE_SPACE or c < " " for c in name):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def check_key_name(name: object) -> str:
    """Return ``name`` if :func:`is_valid_key_name`, else raise MalformedKey."""
    if not is_valid_key_name(name):
        raise MalformedKey(
            f"key name {name!r:.80} is not valid: it must be non-empty, "
            "with no spaces, '+' or control characters",
            details=[{"field": "name"}],
        )
    assert isinstance(name, str)
    return name


def key_id(name: str, alg: int, public_key: bytes) -> int:
    """Return SHA-256(name || 0x0A || alg || public_key)[:4] as a big-endian integer."""
    h = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_key).digest()
    return int.from_bytes(h[:4], "big")


@dataclass(frozen=True)
class KeyString:
    """The fields of a decoded key string. ``key`` excludes the type byte ``alg``."""

    name: str
    key_id: int
    alg: int
    key: bytes


def _chop(s: str) -> tuple[str, str]:
    # Go's chop: split at the first "+" only, so base64 key data may itself contain "+".
    before, _, after = s.partition("+")
    return before, after


def _decode_fields(name: str, hash16: str, key64: str, what: str) -> KeyString:
    if len(hash16) != 8 or any(c not in "0123456789abcdefABCDEF" for c in hash16):
        raise MalformedKey(
            f"{what} key ID {hash16!r:.20} is not 8 hexadecimal digits",
            details=[{"field": "key_id"}],
        )
    try:
        data = _b64.decode(key64)
    except ValueError:
        raise MalformedKey(
            f"{what} key data is not canonical base64", details=[{"field": "key"}]
        ) from None
    if not data:
        raise MalformedKey(f"{what} key data is empty", details=[{"field": "key"}])
    check_key_name(name)
    return KeyString(name, int(hash16, 16), data[0], data[1:])


def decode_verifier_key(vkey: str) -> KeyString:
    """Split a verifier key string and check that its key ID matches its key.

    Raises MalformedKey. Does not check that the type is one this module can use.
    """
    if not isinstance(vkey, str):
        raise MalformedKey(f"verifier key must be text, got {type(vkey).__name__}")
    name, rest = _chop(vkey)
    hash16, key64 = _chop(rest)
    k = _decode_fields(name, hash16, key64, "verifier")
    want = key_id(k.name, k.alg, k.key)
    if k.key_id != want:
        raise MalformedKey(
            f"verifier key ID is {k.key_id:08x}, want {want:08x} (the hash of name and key)",
            details=[{"field": "key_id", "got": f"{k.key_id:08x}", "want": f"{want:08x}"}],
        )
    return k


def decode_signer_key(skey: str) -> KeyString:
    """Split a Go ``PRIVATE+KEY+name+id+data`` signer key string. Raises MalformedKey.

    The key ID names the *public* key, so callers check it once they derive that key.
    """
    if not isinstance(skey, str):
        raise MalformedKey(f"signer key must be text, got {type(skey).__name__}")
    priv1, rest = _chop(skey)
    priv2, rest = _chop(rest)
    if priv1 != "PRIVATE" or priv2 != "KEY":
        raise MalformedKey("signer key does not start with PRIVATE+KEY+")
    name, rest = _chop(rest)
    hash16, key64 = _chop(rest)
    return _decode_fields(name, hash16, key64, "signer")


class Ed25519VerifierBase(ABC):
    """An Ed25519 public key named as a note key of type ``ALG``: what the plain (0x01) and
    the cosignature (0x04) verifiers share. Subclasses say what a signature signs
    (:meth:`verify`), using :meth:`_verify_ed25519`."""

    __slots__ = ("_key", "_key_id", "_name", "_public_key")

    ALG: ClassVar[int]

    def __init__(self, name: str, public_key: bytes) -> None:
        self._name = check_key_name(name)
        if not isinstance(public_key, bytes) or len(public_key) != ED25519_SIZE:
            raise MalformedKey(f"an Ed25519 public key is {ED25519_SIZE} bytes")
        self._public_key = public_key
        try:
            self._key = Ed25519PublicKey.from_public_bytes(public_key)
        except ValueError:
            raise MalformedKey("not an Ed25519 public key") from None
        self._key_id = key_id(name, self.ALG, public_key)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def public_key(self) -> bytes:
        return self._public_key

    @abstractmethod
    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Return whether ``sig`` (without the 4-byte key ID) is a valid signature of ``msg``."""

    def _verify_ed25519(self, signature: bytes, signed: bytes) -> bool:
        """Return whether ``signature`` is this key's Ed25519 signature of ``signed``."""
        try:
            self._key.verify(signature, signed)
        except InvalidSignature:
            return False
        return True

    def key_string(self) -> str:
        """Return the verifier key string ``name+id+base64(ALG || key)``."""
        data = _b64.encode(bytes([self.ALG]) + self._public_key)
        return f"{self._name}+{self._key_id:08x}+{data}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key_string()!r})"


class Ed25519Verifier(Ed25519VerifierBase):
    """Verifies plain Ed25519 note signatures (type 0x01)."""

    __slots__ = ()

    ALG = ALG_ED25519

    def verify(self, msg: bytes, sig: bytes) -> bool:
        if len(sig) != ED25519_SIGNATURE_SIZE:
            return False
        return self._verify_ed25519(sig, msg)


class Ed25519Signer:
    """Signs notes with an Ed25519 key (type 0x01). Ed25519 is deterministic: the same text
    and key always give the same signature."""

    __slots__ = ("_key", "_name", "_seed", "_verifier")

    def __init__(self, name: str, seed: bytes) -> None:
        check_key_name(name)
        if not isinstance(seed, bytes) or len(seed) != ED25519_SIZE:
            raise MalformedKey(f"an Ed25519 seed is {ED25519_SIZE} bytes")
        self._name = name
        self._seed = seed
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self._verifier = Ed25519Verifier(name, public)

    @classmethod
    def generate(cls, name: str) -> Ed25519Signer:
        """Return a signer with a fresh random key."""
        return cls(name, secrets.token_bytes(ED25519_SIZE))

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._verifier.key_id

    @property
    def seed(self) -> bytes:
        return self._seed

    def sign(self, msg: bytes) -> bytes:
        return self._key.sign(msg)

    def verifier(self) -> Ed25519Verifier:
        """Return the verifier of this signer's public key."""
        return self._verifier

    def key_string(self) -> str:
        """Return the secret Go signer key string ``PRIVATE+KEY+name+id+base64(0x01||seed)``."""
        data = _b64.encode(bytes([ALG_ED25519]) + self._seed)
        return f"PRIVATE+KEY+{self._name}+{self.key_id:08x}+{data}"

    def __repr__(self) -> str:
        # Never show the seed.
        return f"Ed25519Signer(name={self._name!r}, key_id={self.key_id:08x})"


def parse_verifier_key(vkey: str) -> Ed25519Verifier:
    """Return the verifier for an Ed25519 (type 0x01) verifier key string.

    Raises MalformedKey if the string is malformed, its key ID does not match, or its type is
    not 0x01 (cosignature keys: :func:`smartcustoms.ledger.tlog.cosignature.parse_cosigner_key`).
    """
    k = decode_verifier_key(vkey)
    if k.alg != ALG_ED25519:
        raise MalformedKey(
            f"verifier key type is 0x{k.alg:02x}, want 0x{ALG_ED25519:02x} (Ed25519)",
            details=[{"field": "alg", "got": k.alg, "want": ALG_ED25519}],
        )
    if len(k.key) != ED25519_SIZE:
        raise MalformedKey(
            f"Ed25519 public key is {len(k.key)} bytes, want {ED25519_SIZE}",
            details=[{"field": "key", "got": len(k.key), "want": ED25519_SIZE}],
        )
    return Ed25519Verifier(k.name, k.key)


def parse_signer_key(skey: str) -> Ed25519Signer:
    """Return the signer for a Go-format Ed25519 signer key string. Raises MalformedKey."""
    k = decode_signer_key(skey)
    if k.alg != ALG_ED25519:
        raise MalformedKey(
            f"signer key type is 0x{k.alg:02x}, want 0x{ALG_ED25519:02x} (Ed25519)",
            details=[{"field": "alg", "got": k.alg, "want": ALG_ED25519}],
        )
    if len(k.key) != ED25519_SIZE:
        raise MalformedKey(
            f"Ed25519 seed is {len(k.key)} bytes, want {ED25519_SIZE}",
            details=[{"field": "key", "got": len(k.key), "want": ED25519_SIZE}],
        )
    signer = Ed25519Signer(k.name, k.key)
    if signer.key_id != k.key_id:
        raise MalformedKey(
            f"signer key ID is {k.key_id:08x}, want {signer.key_id:08x} (the hash of its "
            "public key)",
            details=[{"field": "key_id", "got": f"{k.key_id:08x}", "want": f"{signer.key_id:08x}"}],
        )
    return signer


def generate_key(name: str) -> tuple[str, str]:
    """Return a new ``(signer key, verifier key)`` pair of strings for ``name``, as Go's
    ``note.GenerateKey``. The signer key is secret."""
    signer = Ed25519Signer.generate(name)
    return signer.key_string(), signer.verifier().key_string()
