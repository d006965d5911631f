"""Notifications: how fast the notifier turns critical alerts into e-mails, beside a raw loop.

    .venv/bin/python bench/notify.py [--alerts 1000] [--operators 5] [--database URL]

A throwaway database (SQLite, or the PostgreSQL URL given), ``--operators`` command-centre
operators with an e-mail address, one rule (every critical alert to every operator by e-mail),
and ``--alerts`` critical alerts recorded in the ledger. Then, timed apart:

- *queue*: the notifier reads the ledger with its cursor and queues one notification per alert
  and operator (in the transaction that moves the cursor);
- *send*: the notifier delivers the queued rows to a local SMTP server (aiosmtpd, plain SMTP),
  recording each one's state;
- *baseline*: in the same run, against the same server, a bare ``smtplib`` loop sending as many
  messages — what the SMTP exchange itself costs on this machine. The ratio is what our
  bookkeeping (claim, send, record, one message per connection) costs on top.
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import smtplib
import socket
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from fresh_database import fresh_database

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.schema import upgrade
from smartcustoms.core.settings import load_settings
from smartcustoms.core.users import create_user
from smartcustoms.interop.notify.contacts import set_contact
from smartcustoms.interop.notify.delivery import deliver_due
from smartcustoms.interop.notify.notifier import Notifier
from smartcustoms.interop.notify.rules import add_rule
from smartcustoms.ledger.service import attach_ledger, ledger_of
from smartcustoms.tracking.events import AlertRaised


class Mailbox:
    """An aiosmtpd handler that only counts what it accepts."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def baseline(port: int, n: int) -> float:
    """Seconds a bare smtplib loop takes to send ``n`` messages, one connection each (as the
    notifier does)."""
    started = time.perf_counter()
    for i in range(n):
        message = EmailMessage()
        message["From"] = "smartcustoms@customs.example"
        message["To"] = f"op{i % 5}@customs.example"
        message["Subject"] = f"Critical alert T{i}"
        message.set_content("A tamper alert on transit T{i}.")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(message)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--operators", type=int, default=5)
    parser.add_argument(
        "--database", help="a PostgreSQL server URL: the run uses a new database there"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="sc-bench-notify-"))
    stack = contextlib.ExitStack()
    mailbox = Mailbox()
    with socket.socket() as probe:  # aiosmtpd's controller wants a fixed port to check on
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings = load_settings(
        None,
        data_dir=tmp,
        database_url=stack.enter_context(fresh_database(tmp, args.database)),
        secret_key=secrets.token_urlsafe(48),
        notify_smtp_host="127.0.0.1",
        notify_smtp_port=port,
        notify_smtp_starttls=False,
        notify_smtp_from="smartcustoms@customs.example",
    )
    ctx = AppContext.from_settings(settings)
    try:
        upgrade(ctx.db)
        attach_ledger(ctx)
        with ctx.unit() as unit:
            for i in range(args.operators):
                create_user(
                    unit,
                    username=f"op{i}",
                    password=secrets.token_urlsafe(16),
                    roles=[Role.COMMAND_CENTRE_OPERATOR],
                    actor="bench",
                )
        with ctx.unit() as unit:
            for i in range(args.operators):
                set_contact(
                    unit,
                    f"op{i}",
                    email=f"op{i}@customs.example",
                    phone=None,
                    office=None,
                    quiet_start=None,
                    quiet_end=None,
                    actor="bench",
                )
            add_rule(
                unit,
                trigger="alert_critical",
                role=Role.COMMAND_CENTRE_OPERATOR.value,
                channels=["email"],
                actor="bench",
            )
        for start in range(0, args.alerts, 100):
            ctx.record(
                *[
                    AlertRaised(
                        actor="pipeline",
                        alert_id=i,
                        transit_id=i,
                        reference=f"T{i}",
                        device_id="SEAL-1",
                        alert_type="tamper",
                        severity="critical",
                        occurred_at="2026-12-06T10:00:00+00:00",
                    )
                    for i in range(start, min(start + 100, args.alerts))
                ]
            )
        ledger_of(ctx).flush()

        notifier = Notifier(ctx)
        started = time.perf_counter()
        queued = 0
        while True:
            read, count, _ = notifier.read_ledger()
            queued += count
            if not read:
                break
        queue_s = time.perf_counter() - started

        started = time.perf_counter()
        sent = 0
        while True:
            done = deliver_due(ctx.db, settings, notifier.senders)
            sent += done.sent
            if not done.sent and not done.failed:
                break
        send_s = time.perf_counter() - started
        received = mailbox.count
        raw_s = baseline(port, sent)
    finally:
        ctx.close()
        controller.stop()
        stack.close()

    print(f"# bench/notify.py: {args.alerts} critical alerts × {args.operators} operators")
    print(f"database:  {ctx.db.dialect}")
    print(f"queued:    {queued} notifications in {queue_s:.2f} s ({queued / queue_s:,.0f}/s)")
    print(f"sent:      {sent} e-mails in {send_s:.2f} s ({sent / send_s:,.0f}/s)", end="")
    print(f"; the server got {received}")
    print(f"baseline:  bare smtplib loop, {sent} e-mails in {raw_s:.2f} s ({sent / raw_s:,.0f}/s)")
    print(f"ratio:     notifier sending / bare loop = {send_s / raw_s:.2f}×")


if __name__ == "__main__":
    main()
