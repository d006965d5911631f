"""RFC 9421 HTTP Message Signatures between instances: Ed25519, with an RFC 9530 digest.

Every request to a partner covers ``@method``, ``@target-uri`` (the full URL the sender
aimed at: the partner's published instance URL plus the path), ``content-type`` and
``content-digest`` (sha-256 of the body), with the parameters ``created``, ``keyid`` (our
request key's ``name+keyid``), ``alg``, a random ``nonce`` and the ``tag``
``smartcustoms-federation`` (so a verifier never mistakes another application's signature on
the same request for ours). The signature base is built by ``http-message-signatures``
(pyauth, RFC 9421); this module only supplies the message and the keys.

The receiver rebuilds ``@target-uri`` from *its own* published URL, not from the Host header
or the scheme it was reached by: behind a TLS-terminating proxy those differ, and what the
sender signed is the URL on the receiver's card.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, MutableMapping
from datetime import datetime
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPSignatureKeyResolver,
    algorithms,
)

from smartcustoms.core import clock
from smartcustoms.federation.keys import key_id_of
from smartcustoms.ledger.tlog.keys import Ed25519Signer

__all__ = ["COVERED", "LABEL", "REQUIRED", "TAG", "Message", "new_nonce", "sign_request"]

LABEL: Final = "sc"
TAG: Final = "smartcustoms-federation"
#: What the sender lists; the library adds ``content-digest`` when it is given the body.
COVERED: Final = ("@method", "@target-uri", "content-type")
#: What the receiver requires the signature to cover.
REQUIRED: Final = (*COVERED, "content-digest")
CONTENT_TYPE: Final = "application/json"


class Message:
    """What the library reads of a request: ``method``, ``url`` and ``headers``."""

    def __init__(self, method: str, url: str, headers: MutableMapping[str, str]) -> None:
        self.method = method
        self.url = url
        self.headers = headers


class _OwnKey(HTTPSignatureKeyResolver):
    def __init__(self, signer: Ed25519Signer) -> None:
        self._private = Ed25519PrivateKey.from_private_bytes(signer.seed)
        self._public = Ed25519PublicKey.from_public_bytes(signer.verifier().public_key)

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        return self._private

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey:
        return self._public


def new_nonce() -> str:
    return secrets.token_urlsafe(24)  # 192 bits: never repeats by chance


def sign_request(
    signer: Ed25519Signer,
    method: str,
    url: str,
    body: bytes,
    *,
    created: datetime | None = None,
    nonce: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers that sign ``method url`` with ``body``: Content-Type, Content-Digest,
    Signature-Input, Signature (plus ``extra``, unsigned)."""
    headers: dict[str, str] = {"Content-Type": CONTENT_TYPE, **(extra or {})}
    message = Message(method.upper(), url, headers)
    HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=_OwnKey(signer)).sign(
        message,
        key_id=key_id_of(signer),
        created=created or clock.now(),
        nonce=nonce or new_nonce(),
        label=LABEL,
        tag=TAG,
        covered_component_ids=COVERED,
        body=body,
    )
    return headers
