"""The job that e-mails scheduled reports (:mod:`smartcustoms.reports.schedules`).

One thread per running instance. Each tick: the schedules due (a read-only look first, so an
idle job never takes SQLite's write lock); for each, a claim in its own transaction (another
worker that claimed it first wins); the report computed and made into its file, then one
message per recipient through the notification SMTP server, with no transaction open; last,
``reports.sent`` recorded and the next send set, in one unit of work. A send that fails keeps
its error on the schedule and is tried again when the claim runs out
(:data:`~smartcustoms.reports.schedules.RETRY_AFTER`). A recipient that got the message before
a failure may get it again on the retry (at-least-once, the same ``Message-ID``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.i18n import N_
from smartcustoms.interop.notify.email import Attachment, SmtpConfig, send_email, smtp_config
from smartcustoms.interop.notify.errors import DeliveryFailed
from smartcustoms.interop.notify.wording import translate
from smartcustoms.reports import Filters, report_kind
from smartcustoms.reports.schedules import (
    ReportScheduleRow,
    claim,
    days_for,
    due_schedules,
    record_failure,
    record_sent,
)

__all__ = ["MakeFile", "ReportMailer", "attach_report_mailer"]

log = logging.getLogger("smartcustoms.notify")

#: (report name, filters, format, language) → the file to attach; made by the web layer,
#: which owns the PDF's page.
MakeFile = Callable[[str, Filters, str, str], Attachment]

_SERVICE = "report_mailer"
SUBJECT = N_("%(report)s report, %(start)s to %(end)s")
BODY = N_(
    "The %(report)s report of %(administration)s for %(start)s to %(end)s is attached.\n\n"
    "You receive it because a schedule sends it to this address; an administrator or a "
    "supervisor can change that."
)


class ReportMailer:
    def __init__(
        self, ctx: AppContext, make_file: MakeFile, config: SmtpConfig, *, poll_s: float = 60.0
    ) -> None:
        self.ctx = ctx
        self.make_file = make_file
        self.config = config
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> int:
        """Send every schedule due now; returns how many were sent."""
        now = clock.now()
        with self.ctx.db.read_session() as session:
            due = due_schedules(session, now)
        sent = 0
        for schedule_id, due_at in due:
            if self._stop.is_set():
                break
            with self.ctx.db.session() as session:
                if not claim(session, schedule_id, due_at, now):
                    continue
                row = session.get(ReportScheduleRow, schedule_id)
                if row is None:
                    continue
                session.expunge(row)
            error: str | None = None
            try:
                filters = self._send(row, due_at)
            except DeliveryFailed as exc:
                log.warning("scheduled report %s not sent: %s", schedule_id, exc)
                error = str(exc)
            except Exception as exc:  # the report or its file: kept for the page, retried
                log.exception("scheduled report %s could not be made", schedule_id)
                error = f"{type(exc).__name__}: {exc}"
            if error is not None:
                with self.ctx.db.session() as session:
                    record_failure(session, schedule_id, error)
                continue
            with self.ctx.unit() as unit:
                record_sent(unit, row, filters, sent_at=clock.now(), zone=self._zone())
            sent += 1
        return sent

    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.ctx.settings.time_zone)

    def _send(self, row: ReportScheduleRow, due_at: datetime) -> Filters:
        filters = days_for(row, due_at, self._zone())
        attachment = self.make_file(row.report, filters, row.format, row.language)

        def gettext(message: str) -> str:
            return translate(message, row.language)

        values = {
            "report": gettext(report_kind(row.report).title),
            "administration": self.ctx.settings.administration_name,
            "start": filters.date_from.isoformat(),
            "end": filters.date_to.isoformat(),
        }
        for recipient in row.recipients:
            key = hashlib.sha256(
                f"report:{row.id}:{filters.date_from}:{recipient}".encode()
            ).hexdigest()
            send_email(
                self.config,
                to=recipient,
                subject=gettext(SUBJECT) % values,
                body=gettext(BODY) % values,
                key=key,
                attachments=[attachment],
            )
        return filters

    # -- the thread ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="smartcustoms-report-mail", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the job must outlive a bad moment of the database
                log.exception("scheduled report tick failed; trying again")
            self._stop.wait(self.poll_s)


def attach_report_mailer(
    ctx: AppContext, make_file: MakeFile, *, start: bool = True
) -> ReportMailer | None:
    """Give ``ctx`` its report mailer (once), stopped when the context closes; None when no
    SMTP server is configured (schedules then wait, due, until one is)."""
    existing = ctx.services.get(_SERVICE)
    if isinstance(existing, ReportMailer):
        return existing
    config = smtp_config(ctx.settings)
    if config is None:
        return None
    mailer = ReportMailer(ctx, make_file, config)
    ctx.services[_SERVICE] = mailer
    ctx.on_close(mailer.stop)
    if start:
        mailer.start()
    return mailer
