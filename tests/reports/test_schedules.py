"""Scheduled report e-mails: when each period is sent and what it covers; the API that creates
them (administrators and supervisors, each only reports their roles read; bad input names the
field); and the job that sends them — a real SMTP server (aiosmtpd) receives the message with
the report attached, each send is a ``reports.sent`` ledger record, a refused send keeps its
error and is tried again."""

# ruff: noqa: F811 - role_tokens is a fixture imported from tests.web.conftest

from __future__ import annotations

import csv
import email
import email.policy
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.reports.schedule_periods import Period, covered, next_send
from smartcustoms.reports.schedules import (
    RETRY_AFTER,
    ReportScheduleRow,
    ScheduleInput,
    create_schedule,
)
from smartcustoms.web.ui.report_files import attach_report_mail
from tests.interop.notify.servers import REFUSED, SmtpServer, smtp_server
from tests.tracking.helpers import import_packaged
from tests.web.admin_helpers import records
from tests.web.conftest import bearer, role_tokens  # noqa: F401 - a token per role

from .builders import discharge, frozen, new_transit, utc

NAIROBI = ZoneInfo("Africa/Nairobi")


# -- periods -------------------------------------------------------------------------------------


def test_weekly_goes_on_monday_morning_and_covers_the_week_before() -> None:
    # Wednesday 2 December 2026, 10:00 in Nairobi: next Monday 06:00 Nairobi, 03:00 UTC.
    after = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    send = next_send(Period.WEEKLY, after, NAIROBI)
    assert send == datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    days = covered(Period.WEEKLY, send, NAIROBI)
    assert (days.date_from, days.date_to) == (date(2026, 11, 30), date(2026, 12, 6))
    # Exactly at a send time, the next one is a week later.
    assert next_send(Period.WEEKLY, send, NAIROBI) == send + timedelta(days=7)


def test_monthly_goes_on_the_first_and_covers_the_month_before() -> None:
    send = next_send(Period.MONTHLY, datetime(2026, 12, 15, tzinfo=UTC), NAIROBI)
    assert send == datetime(2027, 1, 1, 3, 0, tzinfo=UTC)
    days = covered(Period.MONTHLY, send, NAIROBI)
    assert (days.date_from, days.date_to) == (date(2026, 12, 1), date(2026, 12, 31))
    # A short month: 1 March covers all of February.
    march = next_send(Period.MONTHLY, datetime(2027, 2, 10, tzinfo=UTC), NAIROBI)
    assert covered(Period.MONTHLY, march, NAIROBI).date_from == date(2027, 2, 1)
    assert covered(Period.MONTHLY, march, NAIROBI).date_to == date(2027, 2, 28)


# -- the API -------------------------------------------------------------------------------------

GOOD = {
    "report": "transits",
    "format": "csv",
    "period": "weekly",
    "recipients": ["chief@customs.example", "Deputy@Customs.example"],
    "corridor": "northern",
}


def test_supervisors_and_administrators_schedule_what_they_may_read(
    client: TestClient, role_tokens: dict[Role, str], ctx: AppContext
) -> None:
    supervisor = bearer(role_tokens[Role.SUPERVISOR])
    made = client.post("/api/reports/schedules", headers=supervisor, json=GOOD)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["recipients"] == ["chief@customs.example", "deputy@customs.example"]
    assert datetime.fromisoformat(body["next_send_at"]) > clock.now()

    for field, value in (
        ("recipients", ["chief@customs.example", "not an address"]),
        ("report", "everything"),
        ("office", "no spaces allowed"),
        ("period", "daily"),
        ("format", "docx"),
    ):
        refused = client.post(
            "/api/reports/schedules", headers=supervisor, json={**GOOD, field: value}
        )
        assert refused.status_code == 422, field
        named = refused.json()["error"]["details"][0]["field"]
        assert named.startswith(field), (field, named)
    assert (
        client.post(
            "/api/reports/schedules", headers=supervisor, json={**GOOD, "recipients": []}
        ).status_code
        == 422
    )

    # An administrator reads the transits report but not selectivity.
    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    refused = client.post(
        "/api/reports/schedules", headers=admin, json={**GOOD, "report": "selectivity"}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["details"][0]["field"] == "report"
    for role in (Role.RISK_ANALYST, Role.AUDITOR, Role.DECLARANT, Role.EXAMINING_OFFICER):
        answer = client.post("/api/reports/schedules", headers=bearer(role_tokens[role]), json=GOOD)
        assert answer.status_code == 403, role
        assert (
            client.get("/api/reports/schedules", headers=bearer(role_tokens[role])).status_code
            == 403
        )

    listed = client.get("/api/reports/schedules", headers=admin).json()
    assert [s["id"] for s in listed] == [body["id"]]
    removed = client.delete(f"/api/reports/schedules/{body['id']}", headers=admin)
    assert removed.status_code == 204
    assert client.delete(f"/api/reports/schedules/{body['id']}", headers=admin).status_code == 404
    saved = records(ctx, "reports.schedule_saved")
    assert [(r["actor"], r["report"], r["recipients"]) for r in saved] == [
        ("supervisor", "transits", ["chief@customs.example", "deputy@customs.example"])
    ]
    assert [r["actor"] for r in records(ctx, "reports.schedule_removed")] == ["administrator"]


# -- the job, against a real SMTP server ---------------------------------------------------------


@pytest.fixture
def mail(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path / "smtp", starttls=False) as server:
        yield server


@pytest.fixture
def mail_ctx(settings: Settings, mail: SmtpServer) -> Iterator[AppContext]:
    configured = settings.model_copy(
        update={
            "time_zone": "UTC",
            "notify_smtp_host": "127.0.0.1",
            "notify_smtp_port": mail.port,
            "notify_smtp_starttls": False,
            "notify_smtp_from": "reports@customs.example",
        }
    )
    ctx = AppContext.from_settings(configured)
    attach_ledger(ctx)
    try:
        yield ctx
    finally:
        ctx.close()


def _schedule(ctx: AppContext, fmt: str, recipients: list[str], language: str = "en") -> int:
    # Created on Wednesday 25 November: first sent Monday 30 November 06:00 UTC.
    with frozen(utc(2026, 11, 25, 12)), ctx.unit() as unit:
        row = create_schedule(
            unit,
            ScheduleInput(
                report="transits",
                format=fmt,
                period="weekly",
                recipients=recipients,
                language=language,
                corridor="northern",
            ),
            actor="supervisor",
            reports=["transits"],
            languages=["en", "fr", "ar"],
            zone=ZoneInfo("UTC"),
        )
        assert row.next_send_at == utc(2026, 11, 30, 6)
        return row.id


def _attachment(message: Message) -> tuple[str, bytes]:
    (part,) = [p for p in message.walk() if p.get_filename()]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return str(part.get_filename()), payload


def _received(mail: SmtpServer) -> list[Message]:
    return [
        email.message_from_bytes(bytes(m.content or b""), policy=email.policy.default)
        for m in mail.mailbox.messages
    ]


def test_the_report_is_mailed_with_its_file_and_recorded(
    mail_ctx: AppContext, mail: SmtpServer
) -> None:
    ctx = mail_ctx
    import_packaged(ctx)
    transit = new_transit(ctx, "W1", utc(2026, 11, 24, 8))  # inside the week covered
    discharge(ctx, transit, utc(2026, 11, 26, 9))
    schedule_id = _schedule(ctx, "csv", ["chief@customs.example", "deputy@customs.example"])
    mailer = attach_report_mail(ctx, start=False)
    assert mailer is not None

    with frozen(utc(2026, 11, 30, 5, 59)):
        assert mailer.tick() == 0  # not due yet
    assert mail.mailbox.messages == []
    with frozen(utc(2026, 11, 30, 6, 1)):
        assert mailer.tick() == 1
        assert mailer.tick() == 0  # sent once, due again next week

    messages = _received(mail)
    assert sorted(m["To"] for m in messages) == ["chief@customs.example", "deputy@customs.example"]
    first = messages[0]
    assert first["Subject"] == "Transits report, 2026-11-23 to 2026-11-29"
    name, data = _attachment(first)
    assert name == "transits-2026-11-23-2026-11-29.csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert any("northern" in row for row in rows), rows[:6]

    sent = records(ctx, "reports.sent")
    assert [
        (r["schedule_id"], r["format"], r["date_from"], r["date_to"], r["corridor"]) for r in sent
    ] == [(schedule_id, "csv", "2026-11-23", "2026-11-29", "northern")]
    assert sent[0]["recipients"] == ["chief@customs.example", "deputy@customs.example"]
    with ctx.db.session() as session:
        row = session.get(ReportScheduleRow, schedule_id)
        assert row is not None
        assert row.next_send_at == utc(2026, 12, 7, 6) and row.last_error is None


@pytest.mark.parametrize(("fmt", "magic"), [("xlsx", b"PK"), ("pdf", b"%PDF")])
def test_spreadsheet_and_pdf_in_the_schedules_language(
    mail_ctx: AppContext, mail: SmtpServer, fmt: str, magic: bytes
) -> None:
    _schedule(mail_ctx, fmt, ["chief@customs.example"], language="fr")
    mailer = attach_report_mail(mail_ctx, start=False)
    assert mailer is not None
    with frozen(utc(2026, 11, 30, 7)):
        assert mailer.tick() == 1
    (message,) = _received(mail)
    assert message["Subject"] == "Rapport « Transits », du 2026-11-23 au 2026-11-29"
    body = message.get_payload(0).get_payload(decode=True)  # type: ignore[union-attr]
    assert "ci-joint" in body.decode()
    name, data = _attachment(message)
    assert name.endswith(f".{fmt}") and data.startswith(magic)
    if fmt == "xlsx":
        book = load_workbook(io.BytesIO(data), read_only=True)
        assert len(book.sheetnames) >= 2


def test_a_refused_send_keeps_its_error_and_is_tried_again(
    mail_ctx: AppContext, mail: SmtpServer
) -> None:
    schedule_id = _schedule(mail_ctx, "csv", [REFUSED])
    mailer = attach_report_mail(mail_ctx, start=False)
    assert mailer is not None
    with frozen(utc(2026, 11, 30, 7)):
        assert mailer.tick() == 0
    with mail_ctx.db.session() as session:
        row = session.get(ReportScheduleRow, schedule_id)
        assert row is not None
        assert row.last_error and "refused" in row.last_error
        assert row.next_send_at == utc(2026, 11, 30, 7) + RETRY_AFTER
        row.recipients = ["chief@customs.example"]  # the supervisor fixes the address
    with frozen(utc(2026, 11, 30, 7) + RETRY_AFTER):
        assert mailer.tick() == 1
    assert records(mail_ctx, "reports.sent")[0]["date_from"] == "2026-11-23"
