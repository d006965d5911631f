"""E-mail through an SMTP server: STARTTLS with the server's certificate verified (against the
system's CAs or ``notify_smtp_ca_file``), then login if configured; plain SMTP only when
``notify_smtp_starttls`` is off (a mail catcher on the same machine, the demo's).

The ``Message-ID`` is derived from the notification's key, so a message re-sent after a crash
(at-least-once delivery) is recognisably the same message to mail servers and clients.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from smartcustoms.core import clock
from smartcustoms.core.errors import ConfigurationError
from smartcustoms.core.settings import Settings
from smartcustoms.interop.notify.errors import DeliveryFailed
from smartcustoms.interop.notify.secrets import resolve_secret

__all__ = ["Attachment", "SmtpConfig", "send_email", "smtp_config"]


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    starttls: bool = True
    ca_file: Path | None = None
    user: str | None = None
    password: str | None = None
    timeout_s: float = 20.0


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (a scheduled report)."""

    filename: str
    media_type: str  # "application/pdf"
    data: bytes


def smtp_config(settings: Settings) -> SmtpConfig | None:
    """The SMTP settings, or None when no server is configured."""
    if not settings.notify_smtp_host:
        return None
    if not settings.notify_smtp_from:
        raise ConfigurationError(
            "SMARTCUSTOMS_NOTIFY_SMTP_FROM: the sender address of notification e-mails",
            details=[{"setting": "SMARTCUSTOMS_NOTIFY_SMTP_FROM", "problem": "missing"}],
        )
    return SmtpConfig(
        host=settings.notify_smtp_host,
        port=settings.notify_smtp_port,
        sender=settings.notify_smtp_from,
        starttls=settings.notify_smtp_starttls,
        ca_file=settings.notify_smtp_ca_file,
        user=settings.notify_smtp_user,
        password=resolve_secret(
            settings.notify_smtp_password,
            settings.notify_smtp_password_file,
            "notify_smtp_password",
        ),
    )


def _one_line(text: str) -> str:
    return " ".join(text.split())


def build_message(
    config: SmtpConfig,
    *,
    to: str,
    subject: str,
    body: str,
    key: str,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = _one_line(subject)  # a line break in a header would start another
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = f"<{key[:40]}@notify.smartcustoms>"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    message.set_content(body)
    for item in attachments:
        main, _, sub = item.media_type.partition("/")
        message.add_attachment(item.data, maintype=main, subtype=sub, filename=item.filename)
    return message


def send_email(
    config: SmtpConfig,
    *,
    to: str,
    subject: str,
    body: str,
    key: str,
    attachments: Sequence[Attachment] = (),
) -> None:
    """Hand one message to the SMTP server. Raises DeliveryFailed (``permanent`` when the
    server refused the address or the message itself)."""
    message = build_message(
        config, to=to, subject=subject, body=body, key=key, attachments=attachments
    )
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
            if config.starttls:
                tls = ssl.create_default_context(
                    cafile=str(config.ca_file) if config.ca_file else None
                )
                smtp.starttls(context=tls)
            if config.user:
                smtp.login(config.user, config.password or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise DeliveryFailed(
            f"the SMTP server refused {to}: {codes}", permanent=all(c >= 500 for c in codes)
        ) from None
    except smtplib.SMTPResponseException as exc:
        raw = exc.smtp_error
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw or "")
        raise DeliveryFailed(
            f"SMTP {exc.smtp_code}: {_one_line(text)[:160]}",
            # A 5xx about the message or the sender will not change on a retry; a refused
            # login might once the operator fixes it, so it is retried until the last try.
            permanent=exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError),
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise DeliveryFailed(
            f"{config.host}:{config.port} does not offer STARTTLS (set notify_smtp_starttls "
            "false only for a mail catcher on this machine)"
        ) from None
    except ssl.SSLError as exc:
        raise DeliveryFailed(f"TLS with {config.host}:{config.port}: {exc.reason or exc}") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(
            f"cannot reach SMTP server {config.host}:{config.port}: "
            f"{type(exc).__name__}: {_one_line(str(exc))[:120]}"
        ) from None
