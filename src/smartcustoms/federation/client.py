"""Sending a signed message to a partner's inbox, and reading its answer.

One request per call over ``http.client`` (standard library: the web process must not need a
test-only HTTP client). Queued, retried delivery comes with the outbox (next increment); this
is the one send those retries will call.
"""

from __future__ import annotations

import http.client
import json
import ssl
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from smartcustoms.federation.errors import PartnerUnreachable
from smartcustoms.federation.inbox import INBOX_PATH
from smartcustoms.federation.signing import sign_request
from smartcustoms.ledger.tlog.keys import Ed25519Signer

__all__ = ["MAX_ANSWER", "Answer", "envelope", "post_signed", "send_message"]

MAX_ANSWER = 1024 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error_code(self) -> str | None:
        error = self.body.get("error")
        return str(error.get("code")) if isinstance(error, dict) else None


def envelope(kind: str, body: dict[str, Any], message_id: str | None = None) -> bytes:
    doc = {"id": message_id or str(uuid.uuid4()), "kind": kind, "body": body}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def post_signed(url: str, body: bytes, headers: dict[str, str], *, timeout: float = 10.0) -> Answer:
    """POST ``body`` with ``headers`` (already signed) to ``url``; the answer as JSON."""
    parts = urlsplit(url)
    target = parts.path or "/"
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        conn.request("POST", target, body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read(MAX_ANSWER + 1)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        raise PartnerUnreachable(
            f"{url}: {exc.__class__.__name__}: {exc}", details=[{"url": url}]
        ) from None
    finally:
        conn.close()
    try:
        parsed = json.loads(raw) if raw and len(raw) <= MAX_ANSWER else {}
    except ValueError:
        parsed = {}
    return Answer(status, parsed if isinstance(parsed, dict) else {})


def send_message(
    signer: Ed25519Signer,
    base_url: str,
    kind: str,
    body: dict[str, Any],
    *,
    message_id: str | None = None,
    timeout: float = 10.0,
) -> tuple[bytes, Answer]:
    """Sign and send one message to the inbox at ``base_url``; the bytes sent and the answer."""
    payload = envelope(kind, body, message_id)
    url = base_url.rstrip("/") + INBOX_PATH
    headers = sign_request(signer, "POST", url, payload)
    return payload, post_signed(url, payload, headers, timeout=timeout)
