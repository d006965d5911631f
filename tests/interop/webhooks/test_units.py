"""The pieces without a database: what goes out (and what never does), signing and sealing,
URL checks, and the lean HTTP client against real servers (chunked, close-framed, refused)."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from standardwebhooks import Webhook

from smartcustoms.core.errors import ConfigurationError, ValidationFailed
from smartcustoms.core.events import AdminAction
from smartcustoms.interop.webhooks import transport
from smartcustoms.interop.webhooks.catalogue import CATALOGUE, EVENT_TYPES, match
from smartcustoms.interop.webhooks.signing import Sealer, headers, new_secret
from smartcustoms.interop.webhooks.urls import check_url
from smartcustoms.ledger.outbox import CONFIDENTIAL_FIELDS
from smartcustoms.tracking.events import AlertRaised, TransitHandedOver
from tests.interop.webhooks.conftest import lane_event


def test_no_confidential_field_can_go_out() -> None:
    for spec in EVENT_TYPES.values():
        assert not set(spec.fields) & CONFIDENTIAL_FIELDS, spec.name
        assert "actor" not in spec.fields and "address" not in spec.fields


def test_events_map_to_public_types_and_subjects() -> None:
    name, subject, data = match("risk.lane_assigned", vars(lane_event(42, 3))) or ("", "", {})
    assert (name, subject) == ("declaration.lane_decided", "declaration:42")
    assert data["rules"] == ["HS 8703 undervalued"] and data["model_version"] == "m3"
    alert = AlertRaised(
        actor="ingest", alert_id=9, transit_id=4, reference="T-1", device_id="SEAL-1",
        alert_type="geofence", severity="high", occurred_at="2026-12-06T10:00:00+00:00",
    )  # fmt: skip
    assert match(alert.type, vars(alert))[:2] == ("alert.raised", "alert:9")  # type: ignore[index]
    handed = TransitHandedOver(
        actor="x", transit_id=4, reference="T-1", border="Malaba", to_administration="UG",
        from_administration="KE",
    )  # fmt: skip
    assert match(handed.type, vars(handed))[:2] == ("transit.handed_over", "transit:4")  # type: ignore[index]
    approved = AdminAction(actor="sup", action="risk_rule_approved", target="undervalued@3")
    assert match(approved.type, vars(approved)) == (
        "rule.approved",
        "rule:undervalued",
        {"rule": "undervalued", "version": 3},
    )
    other = AdminAction(actor="sup", action="risk_rule_rejected", target="undervalued@3")
    assert match(other.type, vars(other)) is None
    assert match("security.login", {"address": "10.0.0.1"}) is None
    assert set(CATALOGUE) >= {"risk.lane_assigned", "scans.reviewed", "tracking.alert_resolved"}


def test_signature_verifies_with_the_standardwebhooks_package() -> None:
    secret = new_secret()
    body = b'{"type":"alert.raised"}'
    now = int(datetime.now(UTC).timestamp())
    sent = headers(secret, "msg_1", now, body)
    assert Webhook(secret).verify(body, sent) == {"type": "alert.raised"}
    with pytest.raises(Exception, match="signature"):
        Webhook(new_secret()).verify(body, sent)


def test_sealed_secrets_need_the_instance_key() -> None:
    secret = new_secret()
    sealed = Sealer("k" * 48).seal(secret)
    assert secret.encode() not in sealed
    assert Sealer("k" * 48).unseal(sealed) == secret
    with pytest.raises(ConfigurationError) as refused:
        Sealer("other" * 10).unseal(sealed)
    assert refused.value.code == "webhook_secret_unreadable"


@pytest.mark.parametrize(
    "url", ["http://cms.internal/hooks", "https://cms.example.ke:8443/a?b=c", "http://[::1]:9/x"]
)
def test_good_urls(url: str) -> None:
    assert check_url(f"  {url} ") == url


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("", "url_length"),
        ("http://x/" + "a" * 2048, "url_length"),
        ("file:///etc/passwd", "url_scheme"),
        ("https://a@b.example/", "url_credentials"),
        ("http://b.example/\x00", "url_chars"),
        ("http://b.example/#frag", "url_fragment"),
        ("http://b.example:0/", "url_port"),
    ],
)
def test_bad_urls_name_the_field(url: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_url(url)
    assert refused.value.code == code and refused.value.details == [{"field": "url"}]


def test_lean_client_reads_chunked_and_close_framed_answers() -> None:
    answers = [
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\nok",
        b"HTTP/1.0 500 Oops\r\n\r\nclose framed body",
    ]
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    served: list[int] = []

    def serve() -> None:
        for keep_open in (True, False):
            conn, _ = listener.accept()
            with conn:
                while answers:
                    data = b""
                    while not data.endswith(b"{}"):
                        data += conn.recv(65536)
                    served.append(1)
                    conn.sendall(answers.pop(0))
                    if keep_open and len(answers) == 1:
                        break  # the third request comes on a new connection
            if not answers:
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    conn = transport.Connection(urlsplit(f"http://127.0.0.1:{port}/"), timeout=5)
    assert conn.post("/a", {"content-type": "application/json"}, b"{}") == 200
    assert conn.post("/a", {}, b"{}") == 202
    conn.close()
    assert conn.post("/a", {}, b"{}") == 500
    thread.join(5)
    listener.close()
    assert len(served) == 3


def test_lean_client_refused_and_garbage_are_errors() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    conn = transport.Connection(urlsplit(f"http://127.0.0.1:{port}/"), timeout=2)
    with pytest.raises(ConnectionRefusedError):
        conn.post("/", {}, b"{}")
    listener = socket.create_server(("127.0.0.1", 0))

    def garbage() -> None:
        c, _ = listener.accept()
        with c:
            c.recv(65536)
            c.sendall(b"SSH-2.0-OpenSSH\r\n\r\n")

    threading.Thread(target=garbage, daemon=True).start()
    conn = transport.Connection(urlsplit(f"http://127.0.0.1:{listener.getsockname()[1]}/"), 2)
    with pytest.raises(transport.ProtocolError):
        conn.post("/", {}, b"{}")
    listener.close()
