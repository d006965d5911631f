"""SMS through Kannel's HTTP ``sendsms`` interface (smsbox's ``sendsms-port``).

One GET with the ``sendsms-user`` credentials, the E.164 number and the text in UTF-8;
Kannel answers 202 (``0: Accepted for delivery`` or ``3: Queued for later delivery``) once it
has the message — from there the SMS centre delivers it. A 4xx is a refusal that a retry
would not change (bad credentials, a bad number, no sender: set ``notify_kannel_from`` unless
Kannel has a ``global-sender``); anything else is retried.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from smartcustoms.core.errors import ConfigurationError
from smartcustoms.core.settings import Settings
from smartcustoms.interop.notify.errors import DeliveryFailed
from smartcustoms.interop.notify.secrets import resolve_secret

__all__ = ["KannelConfig", "kannel_config", "send_sms"]

#: One SMS: 160 GSM characters, or 70 in UCS-2. Longer texts are cut rather than split: a
#: notification's title says it all.
MAX_GSM, MAX_UCS2 = 160, 70
# GSM 03.38: the default alphabet and its extension table. Text outside it (ô, ê, « », most
# non-Latin scripts) is sent as UCS-2 (Kannel's coding=2): coding=0 would replace it by '?'.
_GSM = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


@dataclass(frozen=True)
class KannelConfig:
    url: str
    user: str
    password: str
    sender: str | None = None
    timeout_s: float = 15.0


def kannel_config(settings: Settings) -> KannelConfig | None:
    """The Kannel settings, or None when no sendsms URL is configured."""
    url = settings.notify_kannel_url
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(
            "SMARTCUSTOMS_NOTIFY_KANNEL_URL must be an http(s) URL",
            details=[{"setting": "SMARTCUSTOMS_NOTIFY_KANNEL_URL", "value": url[:80]}],
        )
    password = resolve_secret(
        settings.notify_kannel_password,
        settings.notify_kannel_password_file,
        "notify_kannel_password",
    )
    if not settings.notify_kannel_user or password is None:
        raise ConfigurationError(
            "Kannel needs SMARTCUSTOMS_NOTIFY_KANNEL_USER and a password",
            details=[{"setting": "SMARTCUSTOMS_NOTIFY_KANNEL_USER", "problem": "missing"}],
        )
    return KannelConfig(url, settings.notify_kannel_user, password, settings.notify_kannel_from)


def sms_text(title: str) -> tuple[str, str]:
    """The text of one SMS and Kannel's coding for it ("0": GSM 7-bit, "2": UCS-2)."""
    text = " ".join(title.split())
    gsm = all(c in _GSM for c in text)
    limit = MAX_GSM if gsm else MAX_UCS2
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text, "0" if gsm else "2"


def send_sms(config: KannelConfig, *, to: str, text: str) -> str:
    """Give one SMS to Kannel; return its answer. Raises DeliveryFailed."""
    body, coding = sms_text(text)
    query = {
        "username": config.user,
        "password": config.password,
        "to": to,
        "text": body,
        "charset": "UTF-8",
        "coding": coding,
    }
    if config.sender:
        query["from"] = config.sender
    sep = "&" if "?" in config.url else "?"
    url = config.url + sep + urllib.parse.urlencode(query)
    try:
        # The scheme was checked in kannel_config (http or https only).
        with urllib.request.urlopen(url, timeout=config.timeout_s) as response:  # noqa: S310
            answer = str(response.read(512).decode("utf-8", "replace")).strip()
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        answer = str(exc.read(512).decode("utf-8", "replace")).strip()
        raise DeliveryFailed(
            f"Kannel refused the SMS (HTTP {exc.code}): {answer[:120]}",
            permanent=400 <= exc.code < 500,
        ) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(f"cannot reach Kannel: {type(exc).__name__}: {reason}") from None
    if status not in (200, 202) or not answer.startswith(("0:", "3:")):
        raise DeliveryFailed(f"Kannel answered HTTP {status}: {answer[:120]}")
    return answer
