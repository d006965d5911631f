"""Standard Webhooks signing, and the subscription secrets it uses.

A message is signed as the Standard Webhooks specification says: HMAC-SHA256, keyed with the
subscription's secret, over ``{webhook-id}.{webhook-timestamp}.{body}``; the signature header is
``v1,<base64>``. The secret is shown once as ``whsec_<base64 of 32 random bytes>``.

At rest the secret is *sealed*: AES-256-GCM under a key derived (HKDF-SHA256) from the instance's
secret key, which every process of the instance already shares and which is never stored in the
database. A copy of the database alone (a backup, a leaked dump) therefore cannot sign messages;
the server, which must sign, can unseal. Changing the instance secret key makes the sealed
secrets unreadable: those subscriptions must be created again.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from smartcustoms.core.errors import ConfigurationError

__all__ = ["SECRET_PREFIX", "Sealer", "headers", "new_secret", "signature"]

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix the specification gives secrets
_SEAL_VERSION = b"\x01"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@functools.lru_cache(maxsize=256)  # decoded once per secret, not once per message
def _key_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


class Sealer:
    """Seals and unseals subscription secrets with a key derived from the instance secret."""

    def __init__(self, instance_secret: str) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"smartcustoms/webhook-secrets"
        ).derive(instance_secret.encode())
        self._aead = AESGCM(key)

    def seal(self, secret: str) -> bytes:
        nonce = os.urandom(12)
        return _SEAL_VERSION + nonce + self._aead.encrypt(nonce, secret.encode(), _SEAL_VERSION)

    def unseal(self, sealed: bytes) -> str:
        if sealed[:1] != _SEAL_VERSION:
            raise ConfigurationError("a webhook secret is sealed in an unknown format")
        try:
            return self._aead.decrypt(sealed[1:13], sealed[13:], _SEAL_VERSION).decode()
        except InvalidTag as exc:
            raise ConfigurationError(
                "a webhook secret cannot be unsealed: the instance secret key changed since "
                "the subscription was created; create the subscription again",
                code="webhook_secret_unreadable",
            ) from exc
