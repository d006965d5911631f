"""What the demo's instance sends, caught on this machine: a mail catcher and a webhook receiver.

The demo points its notifications at :class:`MailCatcher` (plain SMTP on 127.0.0.1, an aiosmtpd
server) and subscribes :class:`WebhookReceiver` to every webhook event type. Both keep the latest
messages in memory and show them on two read-only pages served by one small ASGI app on its own
loopback port (:func:`start_catchers`). They are the demo's pages, not the product's: no login,
so they bind to 127.0.0.1 only, and they escape everything they show, because what they show
(alert references, webhook bodies) is data a hostile declarant or device may have typed.

The receiver checks each delivery as a real one would (Standard Webhooks: HMAC-SHA256 over
``{id}.{timestamp}.{body}`` with the subscription's secret, a timestamp within five minutes),
written here with hmac and base64 so the product never depends on a test library.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email.policy
import hashlib
import hmac
import json
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from html import escape
from typing import Any, Final
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

__all__ = [
    "Catchers",
    "CaughtMail",
    "CaughtWebhook",
    "MailCatcher",
    "WebhookReceiver",
    "catchers_app",
    "start_catchers",
    "verify_signature",
]

HOST: Final = "127.0.0.1"  # never another interface: the pages have no login
KEEP: Final = 500  # latest messages of each kind kept (the demo lodges 400 at start)
TOLERANCE_S: Final = 5 * 60  # the specification's replay window
MAX_BODY: Final = 1024 * 1024  # a delivery larger than this is refused (413), not kept
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the prefix the specification gives secrets
# The pages load nothing and run nothing: even a string that escaped escaping could not act.
_HEADERS: Final = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


# -- signatures ----------------------------------------------------------------------------------


def verify_signature(
    secret: str | None, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> str:
    """``"ok"``, or why the delivery is not trusted (the page shows it).

    ``headers`` are lower-case names. The signature header may hold several space-separated
    ``v1,<base64>`` values (a sender rotating its secret signs with both); one match is enough.
    """
    if not secret:
        return "no secret"
    message_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not message_id or not stamp or not signatures:
        return "missing webhook headers"
    try:
        timestamp = int(stamp)
    except ValueError:
        return "bad timestamp"
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_S:
        return "timestamp outside 5 minutes"
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return "unreadable secret"
    signed = f"{message_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return "ok"
    return "bad signature"


# -- what is kept --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaughtMail:
    at: datetime
    mail_from: str
    to: tuple[str, ...]
    subject: str
    body: str


@dataclass(frozen=True)
class CaughtWebhook:
    at: datetime
    message_id: str
    type: str
    subject: str
    check: str  # "ok" or why not
    body: str

    @property
    def signature_ok(self) -> bool:
        return self.check == "ok"


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        return str(part.get_content())
    except (LookupError, ValueError):  # an unknown charset: show the bytes as best we can
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""


class MailCatcher:
    """An SMTP server on 127.0.0.1 that accepts every message and keeps the latest."""

    def __init__(self, keep: int = KEEP) -> None:
        self.messages: deque[CaughtMail] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._controller: Controller | None = None
        self.port = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode()
        parsed = BytesParser(policy=email.policy.default).parsebytes(data)
        assert isinstance(parsed, EmailMessage)  # the default policy's message class
        caught = CaughtMail(
            at=datetime.now(UTC),
            mail_from=str(envelope.mail_from or ""),
            to=tuple(str(a) for a in envelope.rcpt_tos),
            subject=str(parsed.get("subject", "")).strip(),  # unfolded, less the fold
            body=_body_text(parsed),
        )
        with self._lock:
            self.messages.append(caught)
        return "250 Message accepted"

    def latest(self) -> list[CaughtMail]:
        with self._lock:
            return list(reversed(self.messages))

    def start(self) -> None:
        # aiosmtpd checks its server by connecting to the port it was given, so it needs a
        # real port number rather than 0; a port taken in between is tried again.
        for _ in range(5):
            port = _free_port()
            controller = Controller(self, hostname=HOST, port=port, ready_timeout=10)
            try:
                controller.start()
            except (OSError, RuntimeError):
                continue
            self._controller, self.port = controller, port
            return
        raise OSError("the demo's mail catcher found no free port on 127.0.0.1")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


class WebhookReceiver:
    """Keeps the latest deliveries with the result of checking their signature."""

    def __init__(self, keep: int = KEEP) -> None:
        self.deliveries: deque[CaughtWebhook] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._secret: str | None = None
        self.url = ""  # set once the pages' server has its port

    def trust(self, secret: str) -> None:
        """The subscription's secret, as the instance showed it once."""
        with self._lock:
            self._secret = secret

    def receive(self, headers: Mapping[str, str], body: bytes) -> CaughtWebhook:
        with self._lock:
            secret = self._secret
        check = verify_signature(secret, headers, body)
        kind = subject = ""
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            parsed = json.loads(body)
            if isinstance(parsed, dict):
                kind, subject = str(parsed.get("type", "")), str(parsed.get("subject", ""))
        caught = CaughtWebhook(
            at=datetime.now(UTC),
            message_id=headers.get("webhook-id", "")[:200],
            type=kind[:200],
            subject=subject[:200],
            check=check,
            body=body.decode("utf-8", "replace"),
        )
        with self._lock:
            self.deliveries.append(caught)
        return caught

    def latest(self) -> list[CaughtWebhook]:
        with self._lock:
            return list(reversed(self.deliveries))


# -- the pages -----------------------------------------------------------------------------------


def _page(
    title: str,
    head: list[str],
    rows: list[list[str]],
    note: str,
    links: Sequence[tuple[str, str]] = (),
) -> HTMLResponse:
    filters = " · ".join(f'<a href="{escape(href)}">{escape(text)}</a>' for href, text in links)
    cells = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="5">'
        f"<title>{escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #ccc;padding:.3em;vertical-align:top;text-align:left}"
        "td:last-child{white-space:pre-wrap;font-family:monospace;font-size:.85em}"
        "</style></head><body>"
        '<nav><a href="/mail">Mail</a> · <a href="/webhooks">Webhooks</a></nav>'
        f"<h1>{escape(title)}</h1><p>{escape(note)}</p><p>{filters}</p>"
        f"<table><thead><tr>{header}</tr></thead><tbody>{cells}</tbody></table>"
        "</body></html>"
    )
    return HTMLResponse(html, headers=_HEADERS)


def _time(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def catchers_app(mail: MailCatcher, hooks: WebhookReceiver) -> Starlette:
    """The pages (``/mail``, ``/webhooks``, their JSON under ``/api/``) and the receiver's
    endpoint (``POST /hooks``)."""

    async def index(request: Request) -> Response:
        return Response(status_code=303, headers={"location": "/webhooks"})

    async def mail_page(request: Request) -> Response:
        messages = mail.latest()
        rows = [[_time(m.at), m.mail_from, ", ".join(m.to), m.subject, m.body] for m in messages]
        note = f"The latest {len(rows)} e-mails the demo's instance sent (newest first)."
        return _page("Mail caught", ["time", "from", "to", "subject", "body"], rows, note)

    async def webhooks_page(request: Request) -> Response:
        latest = hooks.latest()
        # Lane decisions arrive every few seconds; a filter finds the rarer alerts among them.
        wanted = request.query_params.get("type")
        counts = Counter(d.type for d in latest)
        links = [("/webhooks", f"all ({len(latest)})")] + [
            (f"/webhooks?type={quote(t, safe='')}", f"{t} ({n})") for t, n in sorted(counts.items())
        ]
        rows = [
            [_time(d.at), d.type, d.subject, "ok" if d.signature_ok else f"BAD: {d.check}", d.body]
            for d in latest
            if wanted is None or d.type == wanted
        ]
        note = f"The latest {len(rows)} webhook deliveries received (newest first)."
        head = ["time", "type", "subject", "signature", "body"]
        return _page("Webhooks received", head, rows, note, links)

    async def mail_json(request: Request) -> Response:
        return JSONResponse(
            [
                {"at": m.at.isoformat(), "from": m.mail_from, "to": list(m.to),
                 "subject": m.subject, "body": m.body}
                for m in mail.latest()
            ],
            headers=_HEADERS,
        )  # fmt: skip

    async def webhooks_json(request: Request) -> Response:
        return JSONResponse(
            [
                {"at": d.at.isoformat(), "id": d.message_id, "type": d.type,
                 "subject": d.subject, "signature": d.check, "body": d.body}
                for d in hooks.latest()
            ],
            headers=_HEADERS,
        )  # fmt: skip

    async def receive(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return Response(status_code=413)
        hooks.receive({k.lower(): v for k, v in request.headers.items()}, body)
        # Accepted even when the signature is bad: the page is there to show it, and a 4xx
        # would only make the instance retry a message that will never verify.
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/", index),
            Route("/mail", mail_page),
            Route("/webhooks", webhooks_page),
            Route("/api/mail", mail_json),
            Route("/api/webhooks", webhooks_json),
            Route("/hooks", receive, methods=["POST"]),
        ]
    )


# -- together ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _listen(port: int) -> socket.socket:
    """A listening socket on ``port`` if it is free, else on any free port."""
    for wanted in (port, 0):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, wanted))
        except (OSError, OverflowError):  # taken, or past 65535 (the demo on the last port)
            sock.close()
            continue
        sock.listen(128)
        return sock
    raise OSError("the demo's catchers found no free port on 127.0.0.1")


@dataclass
class Catchers:
    mail: MailCatcher
    hooks: WebhookReceiver
    port: int
    _server: Any  # uvicorn.Server
    _thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.mail.stop()


def start_catchers(port: int = 0) -> Catchers:
    """Start the mail catcher and the pages' server (on ``port`` if free, else any port)."""
    import uvicorn

    mail = MailCatcher()
    hooks = WebhookReceiver()
    sock = _listen(port)
    bound = int(sock.getsockname()[1])
    hooks.url = f"http://{HOST}:{bound}/hooks"
    config = uvicorn.Config(
        catchers_app(mail, hooks), log_level="warning", server_header=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    # A thread of the demo's process: uvicorn leaves signal handling to the main thread's
    # server (the demo's), whose Ctrl+C ends the demo and, with it, this one.
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="demo-catchers", daemon=True
    )
    mail.start()
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)  # start-up handshake with the server thread, not a fixed wait
    if not server.started:
        mail.stop()
        server.should_exit = True
        raise OSError("the demo's catchers page server did not start")
    return Catchers(mail, hooks, bound, server, thread)
