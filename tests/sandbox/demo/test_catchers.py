"""The demo's catchers: the receiver trusts only deliveries signed with the subscription's secret,
and their pages show hostile text as text."""

from __future__ import annotations

import json
import smtplib
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage

import httpx2
import pytest
from standardwebhooks.webhooks import Webhook

from smartcustoms.interop.webhooks.signing import headers as product_headers
from smartcustoms.interop.webhooks.signing import new_secret
from smartcustoms.sandbox.demo.catchers import Catchers, start_catchers, verify_signature
from tests.waiting import wait_for

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;'


@pytest.fixture(scope="module")
def catchers() -> Iterator[Catchers]:
    started = start_catchers(0)
    try:
        yield started
    finally:
        started.stop()


def _signed(secret: str, body: bytes, *, at: int | None = None) -> dict[str, str]:
    """Headers as the reference implementation (the standardwebhooks package) signs them."""
    stamp = int(time.time()) if at is None else at
    signature = Webhook(secret).sign("msg_1", datetime.fromtimestamp(stamp, UTC), body.decode())
    return {"webhook-id": "msg_1", "webhook-timestamp": str(stamp), "webhook-signature": signature}


def test_verify_signature_accepts_good_and_names_what_is_wrong() -> None:
    secret, other = new_secret(), new_secret()
    body = b'{"type":"declaration.lane_decided","data":{"lane":"red"}}'
    good = _signed(secret, body)
    assert verify_signature(secret, good, body) == "ok"
    # The product's own signer agrees with the reference implementation.
    assert verify_signature(secret, product_headers(secret, "m", int(time.time()), body), body)
    assert verify_signature(secret, good, body.replace(b"red", b"green")) == "bad signature"
    assert verify_signature(other, good, body) == "bad signature"
    assert verify_signature(None, good, body) == "no secret"
    stale = _signed(secret, body, at=int(time.time()) - 600)
    assert verify_signature(secret, stale, body) == "timestamp outside 5 minutes"
    assert verify_signature(secret, {**good, "webhook-timestamp": "soon"}, body) == "bad timestamp"
    missing = {k: v for k, v in good.items() if k != "webhook-signature"}
    assert verify_signature(secret, missing, body) == "missing webhook headers"
    # A sender rotating its secret signs with both: one match is enough.
    rotating = {**good, "webhook-signature": "v1,AAAA " + good["webhook-signature"]}
    assert verify_signature(secret, rotating, body) == "ok"
    assert verify_signature(secret, {**good, "webhook-signature": "v1,AAAA"}, body) != "ok"


def test_receiver_page_shows_verified_and_bad_deliveries_escaped(catchers: Catchers) -> None:
    secret = new_secret()
    catchers.hooks.trust(secret)
    good = json.dumps({"type": "alert.raised", "subject": "alert:7", "data": {"ref": HOSTILE}})
    bad = json.dumps({"type": "scan.decided", "subject": "scan:9", "data": {}})
    assert catchers.hooks.url.startswith("http://127.0.0.1:")
    with httpx2.Client() as http:
        sent = http.post(catchers.hooks.url, content=good, headers=_signed(secret, good.encode()))
        assert sent.status_code == 204
        forged = _signed(new_secret(), bad.encode())
        assert http.post(catchers.hooks.url, content=bad, headers=forged).status_code == 204
        checks = {
            d["subject"]: d["signature"] for d in http.get(catchers.url + "/api/webhooks").json()
        }
        assert checks["alert:7"] == "ok" and checks["scan:9"] == "bad signature"
        page = http.get(catchers.url + "/webhooks")
        # A forged type, hostile itself, is a filter link: escaped in the href and the text.
        evil = json.dumps({"type": HOSTILE, "subject": "x:1"})
        http.post(catchers.hooks.url, content=evil, headers=_signed(secret, evil.encode()))
        filtered = http.get(catchers.url + "/webhooks", params={"type": "alert.raised"})
    assert filtered.status_code == 200
    assert "alert:7" in filtered.text and "scan:9" not in filtered.text
    assert "<script>" not in filtered.text and "<img" not in filtered.text
    assert "%3Cscript%3E" in filtered.text
    assert page.status_code == 200
    assert "BAD: bad signature" in page.text
    assert "<script>" not in page.text and "<img" not in page.text
    assert "&lt;script&gt;" in page.text and "&amp;amp;" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_mailbox_page_escapes_a_hostile_subject(catchers: Catchers) -> None:
    message = EmailMessage()
    message["From"] = "alerts@customs.example"
    message["To"] = "operator@customs.example"
    message["Subject"] = "Seal opened " + HOSTILE
    message.set_content("Transit " + HOSTILE + "\nsecond line")
    with smtplib.SMTP("127.0.0.1", catchers.mail.port, timeout=10) as smtp:
        smtp.send_message(message)
    wait_for(lambda: catchers.mail.latest(), message="the catcher got no mail")
    caught = catchers.mail.latest()[0]
    assert caught.subject == "Seal opened " + HOSTILE
    assert caught.to == ("operator@customs.example",)
    assert caught.body.startswith("Transit " + HOSTILE)
    page = httpx2.get(catchers.url + "/mail")
    assert page.status_code == 200
    assert "<script>" not in page.text and "<img" not in page.text
    assert "Seal opened &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page.text
    assert "operator@customs.example" in page.text and "alerts@customs.example" in page.text


def test_receiver_refuses_what_is_not_a_delivery(catchers: Catchers) -> None:
    with httpx2.Client() as http:
        assert http.get(catchers.hooks.url).status_code == 405  # the pages are read-only
        huge = b"x" * (1024 * 1024 + 1)
        assert http.post(catchers.hooks.url, content=huge).status_code == 413
        assert http.post(catchers.url + "/mail").status_code == 405
