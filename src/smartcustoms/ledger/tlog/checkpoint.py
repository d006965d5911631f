"""C2SP transparency-log checkpoints (https://c2sp.org/tlog-checkpoint).

A checkpoint is the text of a signed note made of at least three non-empty lines:

    <origin>                 the log's identity, non-empty
    <tree size>              ASCII decimal, no leading zero (unless 0)
    <root hash>              standard base64 of the 32-byte RFC 6962 root
    [<extension line> ...]   optional, opaque, non-empty

Parsing is strict: exactly one text form per checkpoint is accepted, so a checkpoint's bytes —
which its signatures cover — are a function of its fields.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from smartcustoms.ledger.tlog import _b64
from smartcustoms.ledger.tlog.errors import (
    MalformedCheckpoint,
    UnknownKey,
    VerificationError,
)
from smartcustoms.ledger.tlog.keys import Signer, Verifier
from smartcustoms.ledger.tlog.note import OpenedNote, open_note, sign_note
from smartcustoms.ledger.tlog.rfc6962 import HASH_SIZE

__all__ = [
    "MAX_TREE_SIZE",
    "Checkpoint",
    "OpenedCheckpoint",
    "format_checkpoint",
    "open_checkpoint",
    "parse_checkpoint",
    "parse_decimal",
    "sign_checkpoint",
]

MAX_TREE_SIZE = (1 << 64) - 1
"""Largest tree size (and leaf index bound) the text formats accept: an unsigned 64-bit size."""

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_CONTROL = re.compile(r"[\x00-\x1f]")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size and root hash (plus rarely used extension lines)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class OpenedCheckpoint:
    """A checkpoint whose log signature, and every signature by another known key, verified."""

    checkpoint: Checkpoint
    note: OpenedNote


def parse_decimal(text: str, field: str, *, maximum: int = MAX_TREE_SIZE) -> int:
    """Return the value of an ASCII decimal with no leading zero, at most ``maximum``.

    Raises ValueError naming ``field``; callers turn it into their own typed error.
    """
    if not isinstance(text, str) or not _DECIMAL.fullmatch(text) or len(text) > 20:
        raise ValueError(f"{field} {text!r:.40} is not a decimal number without leading zeros")
    value = int(text)
    if value > maximum:
        raise ValueError(f"{field} {value} is above the maximum {maximum}")
    return value


def parse_checkpoint(text: str | bytes) -> Checkpoint:
    """Parse a checkpoint body (the note text, without signatures). Raises MalformedCheckpoint
    naming the line at fault."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedCheckpoint(
                f"checkpoint is not valid UTF-8 at byte {exc.start}",
                details=[{"offset": exc.start}],
            ) from None
    if not isinstance(text, str):
        raise MalformedCheckpoint(f"checkpoint must be text, got {type(text).__name__}")
    if not text.endswith("\n"):
        raise MalformedCheckpoint("checkpoint does not end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedCheckpoint(
            f"checkpoint has {len(lines)} lines, want at least 3 (origin, size, root hash)",
            details=[{"got": len(lines), "want": ">= 3"}],
        )
    for n, line in enumerate(lines, 1):
        if not line:
            raise MalformedCheckpoint(f"checkpoint line {n} is empty", details=[{"line": n}])
        if _CONTROL.search(line):
            raise MalformedCheckpoint(
                f"checkpoint line {n} has a control character", details=[{"line": n}]
            )
    try:
        size = parse_decimal(lines[1], "tree size")
    except ValueError as exc:
        raise MalformedCheckpoint(f"checkpoint line 2: {exc}", details=[{"line": 2}]) from None
    try:
        root = _b64.decode(lines[2])
    except ValueError:
        raise MalformedCheckpoint(
            "checkpoint line 3: root hash is not canonical base64", details=[{"line": 3}]
        ) from None
    if len(root) != HASH_SIZE:
        raise MalformedCheckpoint(
            f"checkpoint line 3: root hash is {len(root)} bytes, want {HASH_SIZE}",
            details=[{"line": 3, "got": len(root), "want": HASH_SIZE}],
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedCheckpoint("checkpoint is not valid UTF-8") from None
    return Checkpoint(lines[0], size, root, tuple(lines[3:]))


def format_checkpoint(cp: Checkpoint) -> str:
    """Return the checkpoint body. Raises MalformedCheckpoint if a field cannot be written so
    that it parses back unchanged."""
    if (
        isinstance(cp.size, bool)
        or not isinstance(cp.size, int)
        or not 0 <= cp.size <= (MAX_TREE_SIZE)
    ):
        raise MalformedCheckpoint(f"tree size {cp.size!r:.40} is not in 0..{MAX_TREE_SIZE}")
    if not isinstance(cp.root_hash, bytes) or len(cp.root_hash) != HASH_SIZE:
        raise MalformedCheckpoint(f"root hash must be {HASH_SIZE} bytes")
    text = "".join(
        f"{line}\n" for line in (cp.origin, str(cp.size), _b64.encode(cp.root_hash), *cp.extensions)
    )
    if parse_checkpoint(text) != cp:
        raise MalformedCheckpoint("checkpoint origin or extension lines cannot be formatted")
    return text


def sign_checkpoint(cp: Checkpoint, signer: Signer) -> str:
    """Return the checkpoint as a note signed by the log's ``signer``."""
    return sign_note(format_checkpoint(cp), [signer])


def open_checkpoint(
    msg: bytes | str,
    log_verifier: Verifier,
    others: Sequence[Verifier] = (),
    *,
    origin: str | None = None,
) -> OpenedCheckpoint:
    """Verify a signed checkpoint and return it.

    The log's signature must be present and valid, and so must every signature by a key in
    ``others`` (e.g. witnesses); other signatures are ignored. The origin line must equal
    ``origin``, which defaults to the log key's name (the spec's recommended practice).
    Raises MalformedNote, MalformedCheckpoint, SignatureError, UnknownKey or VerificationError
    (origin mismatch).
    """
    opened = open_note(msg, [log_verifier, *others])
    if opened.signed_by(log_verifier.name, log_verifier.key_id) is None:
        raise UnknownKey(
            f"checkpoint is not signed by the log key {log_verifier.name}+"
            f"{log_verifier.key_id:08x}",
            details=[{"key": f"{log_verifier.name}+{log_verifier.key_id:08x}"}],
        )
    cp = parse_checkpoint(opened.text)
    want = log_verifier.name if origin is None else origin
    if cp.origin != want:
        raise VerificationError(
            f"checkpoint origin is {cp.origin!r:.200}, want {want!r:.200}",
            details=[{"field": "origin", "got": cp.origin, "want": want}],
            code="origin_mismatch",
        )
    return OpenedCheckpoint(cp, opened)
