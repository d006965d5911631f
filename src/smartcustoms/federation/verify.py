"""Checking a partner's signed request: key → partner → signature, digest, time, nonce.

In order, each failure a :class:`~.errors.RequestRefused` (401) with its own code:

1. ``signature_missing``: no ``Signature-Input``/``Signature`` with our tag;
2. ``unknown_key``: the ``keyid`` names no partner; ``partner_suspended``: a suspended one;
3. ``stale_request``: ``created`` further than the window from our clock (either way);
4. ``signature_invalid``: the signature does not verify, or does not cover ``@method``,
   ``@target-uri``, ``content-type`` and ``content-digest``;
5. ``digest_mismatch``: the body is not the one the signed digest names;
6. ``nonce_missing`` / ``nonce_replayed``: no nonce, or one already accepted with this key.

Only then is the request the partner's. The caller records every refusal in the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.federation.errors import RequestRefused
from smartcustoms.federation.nonces import remember_nonce
from smartcustoms.federation.signing import REQUIRED, TAG, Message
from smartcustoms.federation.tables import ACTIVE, PartnerRow
from smartcustoms.ledger.tlog.keys import parse_verifier_key

__all__ = ["MAX_NONCE", "claimed_key_id", "verify_request"]

MAX_NONCE = 64


def _refused(code: str, message: str, **detail: object) -> RequestRefused:
    return RequestRefused(message, details=[detail] if detail else [], code=code)


class _PartnerKeys(HTTPSignatureKeyResolver):
    """Resolves a keyid to the partner whose request key it is; remembers who, or why not."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.partner: PartnerRow | None = None
        self.refusal: RequestRefused | None = None

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey:
        partner = self.session.scalars(
            select(PartnerRow).where(PartnerRow.key_id == key_id)
        ).first()
        if partner is None:
            self.refusal = _refused(
                "unknown_key", f"no partner signs with key {key_id!r}", field="keyid"
            )
            raise self.refusal
        if partner.state != ACTIVE:
            self.refusal = _refused(
                "partner_suspended", f"partner {partner.name!r} is suspended", field="keyid"
            )
            raise self.refusal
        self.partner = partner
        return Ed25519PublicKey.from_public_bytes(
            parse_verifier_key(partner.request_vkey).public_key
        )

    def resolve_private_key(self, key_id: str) -> None:  # pragma: no cover - verify only
        # The library's resolver interface has both halves; this one only verifies, and holds
        # no private key of anyone's (signing uses federation.signing with our own key).
        raise LookupError(f"a verifier holds no private key (asked for {key_id[:200]!r})")


def claimed_key_id(headers: Mapping[str, str]) -> str:
    """The keyid a request claims (for the refusal's record; never trusted), or ''."""
    text = headers.get("signature-input", "")
    start = text.find('keyid="')
    if start < 0:
        return ""
    end = text.find('"', start + 7)
    return text[start + 7 : end][:200] if end > 0 else ""


def verify_request(
    session: Session,
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    window_s: int,
) -> PartnerRow:
    """The partner that signed this request, after every check above (``headers`` with
    lower-case names); its nonce is recorded in ``session``'s transaction."""
    if "signature-input" not in headers or "signature" not in headers:
        raise _refused("signature_missing", "the request is not signed (RFC 9421)")
    keys = _PartnerKeys(session)
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=keys)
    # The library refuses a created time in the future beyond this skew; past times are ours.
    verifier.max_clock_skew = timedelta(seconds=window_s)
    message = Message(method.upper(), url, dict(headers))
    try:
        results = verifier.verify(
            message, max_age=None, expect_tag=TAG, require_components=REQUIRED, body=body
        )
    except (InvalidSignature, HTTPMessageSignaturesException) as exc:
        if keys.refusal is not None:
            raise keys.refusal from None
        text = str(exc)
        if "in the future" in text:
            raise _refused(
                "stale_request", f"signed in the future: {text}", field="created"
            ) from None
        if "Content-Digest" in text and keys.partner is not None:
            raise _refused("digest_mismatch", text, field="content-digest") from None
        if "No signatures found" in text or "Expected" in text:
            raise _refused("signature_missing", text, field="signature") from None
        raise _refused("signature_invalid", text, field="signature") from None
    result = results[0]
    partner = keys.partner
    assert partner is not None  # verify() resolved the key
    created = result.parameters.get("created")
    now = clock.now().timestamp()
    if not isinstance(created, int) or abs(now - created) > window_s:
        raise _refused(
            "stale_request",
            f"signed at {created}, more than {window_s} s from now",
            field="created",
        )
    nonce = result.nonce
    if not isinstance(nonce, str) or not 16 <= len(nonce) <= MAX_NONCE:
        raise _refused("nonce_missing", "a signed nonce of 16 to 64 characters is required")
    if not remember_nonce(session, partner.key_id, nonce, keep=timedelta(seconds=2 * window_s)):
        raise _refused("nonce_replayed", "this request was accepted before", field="nonce")
    return partner
