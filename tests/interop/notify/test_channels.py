"""The channels against real peers: SMTP with STARTTLS (aiosmtpd) and Kannel (fakesmsc)."""

from __future__ import annotations

import email
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from smartcustoms.interop.notify.email import SmtpConfig, send_email
from smartcustoms.interop.notify.errors import DeliveryFailed
from smartcustoms.interop.notify.sms_kannel import KannelConfig, send_sms
from tests.interop.notify.servers import REFUSED, Kannel, free_port, kannel, smtp_server
from tests.waiting import wait_for


@pytest.fixture(scope="module")
def sms_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kannel]:
    with kannel(tmp_path_factory.mktemp("kannel")) as gateway:
        yield gateway


def test_starttls_mail_is_verified_and_delivered(tmp_path: Path) -> None:
    with smtp_server(tmp_path, starttls=True) as server:
        config = SmtpConfig(
            "127.0.0.1", server.port, "alerts@customs.example", ca_file=server.ca_file
        )
        send_email(
            config,
            to="officer@customs.example",
            subject="Critical alert\r\nBcc: evil@example.com",
            body="Seal opened at Malaba — acknowledge it.",
            key="ab" * 32,
        )
        assert len(server.mailbox.messages) == 1
        envelope = server.mailbox.messages[0]
        assert envelope.rcpt_tos == ["officer@customs.example"]
        message = email.message_from_bytes(bytes(envelope.content or b""))
        assert message["Subject"] == "Critical alert Bcc: evil@example.com"  # one header line
        assert message["Bcc"] is None
        assert message["Message-ID"] == f"<{'ab' * 20}@notify.smartcustoms>"
        assert "Malaba" in message.get_payload(decode=True).decode()


def test_starttls_refuses_an_unknown_certificate(tmp_path: Path) -> None:
    with smtp_server(tmp_path, starttls=True) as server:
        config = SmtpConfig("127.0.0.1", server.port, "alerts@customs.example")  # system CAs
        with pytest.raises(DeliveryFailed, match="TLS") as caught:
            send_email(config, to="officer@customs.example", subject="s", body="b", key="k")
        assert not caught.value.permanent  # an operator fixes the CA file; it is retried
        assert server.mailbox.messages == []


def test_refused_address_is_permanent_and_plain_smtp_works(tmp_path: Path) -> None:
    with smtp_server(tmp_path, starttls=False) as server:
        config = SmtpConfig("127.0.0.1", server.port, "alerts@customs.example", starttls=False)
        with pytest.raises(DeliveryFailed, match="refused") as caught:
            send_email(config, to=REFUSED, subject="s", body="b", key="k")
        assert caught.value.permanent
        send_email(config, to="catcher@customs.example", subject="s", body="b", key="k")
        assert len(server.mailbox.messages) == 1


def test_unreachable_smtp_server_is_a_transient_failure() -> None:
    config = SmtpConfig("127.0.0.1", free_port(), "alerts@customs.example", timeout_s=2)
    with pytest.raises(DeliveryFailed, match="cannot reach") as caught:
        send_email(config, to="officer@customs.example", subject="s", body="b", key="k")
    assert not caught.value.permanent


def test_sms_reaches_the_sms_centre(sms_gateway: Kannel) -> None:
    config = KannelConfig(sms_gateway.sendsms_url, sms_gateway.user, sms_gateway.password, "SC")
    answer = send_sms(config, to="+254700000001", text="Alerte critique : scellé ouvert T-42")
    assert answer.startswith(("0:", "3:"))
    wait_for(
        lambda: (
            "+254700000001" in sms_gateway.received()
            and "scellé ouvert T-42" in sms_gateway.received()
        ),
        10,
        message="the SMS did not reach fakesmsc",
    )


def test_sms_with_wrong_password_is_refused_for_good(sms_gateway: Kannel) -> None:
    config = KannelConfig(sms_gateway.sendsms_url, sms_gateway.user, "wrong")
    with pytest.raises(DeliveryFailed, match="HTTP 403") as caught:
        send_sms(config, to="+254700000001", text="never sent")
    assert caught.value.permanent
    assert "never sent" not in sms_gateway.received()


def test_text_outside_gsm_goes_as_ucs2(sms_gateway: Kannel) -> None:
    """« » and ô are not in the GSM alphabet: sent as GSM they would arrive as '?'."""
    config = KannelConfig(sms_gateway.sendsms_url, sms_gateway.user, sms_gateway.password, "SC")
    text = "Contrôle «T-43» requis"
    send_sms(config, to="+225070000043", text=text)
    sent_as = "ucs-2 " + urllib.parse.quote_plus(text.encode("utf-16-be"))
    wait_for(lambda: sent_as in sms_gateway.received(), 10, message="no UCS-2 SMS arrived")
