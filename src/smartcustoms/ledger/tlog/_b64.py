"""Strict standard base64 (RFC 4648 §4), shared by every text format of the ledger.

Only the canonical encoding is accepted — padding present, pad bits zero — so each value has
exactly one text form and a signed or hashed text cannot be varied without changing its bytes.
"""

from __future__ import annotations

import base64
import binascii

__all__ = ["decode", "encode"]


def encode(data: bytes) -> str:
    """Return the standard base64 of ``data``."""
    return base64.b64encode(data).decode("ascii")


def decode(text: str) -> bytes:
    """Return the bytes of canonical standard base64 ``text``; raise ValueError otherwise."""
    if not isinstance(text, str) or not text.isascii() or len(text) % 4:
        raise ValueError("not canonical base64")
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError("not canonical base64") from exc
    if base64.b64encode(data).decode("ascii") != text:
        raise ValueError("not canonical base64 (non-zero pad bits)")
    return data
