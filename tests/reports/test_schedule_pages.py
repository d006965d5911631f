"""The report e-mails page (/reports/schedules) through the real app: administrators and
supervisors list, schedule, pause, resume and remove; the same refusals as the API, told as
sentences naming the field with the form keeping what was typed; times in the office's time
zone; every change a ledger record; a paused schedule is never due. Also the API's pause and
resume."""

# ruff: noqa: F811 - role_tokens is a fixture imported from tests.web.conftest

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.reports.schedules import ReportScheduleRow, claim, due_schedules
from smartcustoms.web.ui.formatting import format_when
from tests.conftest import add_user, login
from tests.web.admin_helpers import records, sign_in
from tests.web.conftest import bearer, role_tokens  # noqa: F401 - a token per role

FORM = {
    "report": "transits",
    "format": "xlsx",
    "period": "monthly",
    "language": "fr",
    "office": "kemba",
    "corridor": "",
    "recipients": "chief@customs.example\nDeputy@Customs.example, audit@customs.example",
}
NOT_SCHEDULERS = [r for r in Role if r not in (Role.ADMINISTRATOR, Role.SUPERVISOR)]


def _stored(ctx: AppContext) -> list[ReportScheduleRow]:
    with ctx.db.read_session() as session:
        rows = list(session.query(ReportScheduleRow).order_by(ReportScheduleRow.id))
        session.expunge_all()
    return rows


def _refusal(page: str) -> tuple[str, str]:
    found = re.search(r'data-testid="form-error" data-field="([^"]*)">([^<]*)<', page)
    assert found, page
    return found.group(1), html.unescape(found.group(2))


def test_schedule_pause_resume_and_remove_from_the_page(
    ctx: AppContext, client: TestClient
) -> None:
    add_user(ctx, "chief", Role.SUPERVISOR)
    csrf = login(client, "chief")
    assert 'href="/reports/schedules"' in client.get("/reports").text
    empty = client.get("/reports/schedules")
    assert empty.status_code == 200 and 'data-testid="no-schedules"' in empty.text

    made = client.post(
        "/reports/schedules", data={"csrf_token": csrf, **FORM}, follow_redirects=False
    )
    assert made.status_code == 303, made.text
    (row,) = _stored(ctx)
    assert (row.report, row.format, row.period, row.language, row.office) == (
        "transits",
        "xlsx",
        "monthly",
        "fr",
        "KEMBA",
    )
    assert row.recipients == [
        "audit@customs.example",
        "chief@customs.example",
        "deputy@customs.example",
    ]
    page = client.get(made.headers["location"])
    assert 'data-testid="done"' in page.text
    # The next send, as the |datetime filter writes it in the instance's zone (no KEMBA office
    # is registered, so the instance's zone is the office's).
    due = format_when(row.next_send_at, "en", ctx.settings.time_zone)
    assert html.unescape(page.text).count(due) == 1
    assert "Not sent yet" in page.text and "Running" in page.text
    assert [
        (r["actor"], r["report"], r["format"]) for r in records(ctx, "reports.schedule_saved")
    ] == [("chief", "transits", "xlsx")]

    paused = client.post(
        f"/reports/schedules/{row.id}/pause", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert paused.status_code == 303
    page = client.get("/reports/schedules").text
    assert "Paused since" in page and "None while paused" in page
    assert f'action="/reports/schedules/{row.id}/resume"' in page
    # Paused: not due even long after its send time.
    with ctx.db.read_session() as session:
        assert due_schedules(session, row.next_send_at + timedelta(days=90)) == []
    # Nor taken by a worker that listed it due just before the pause.
    with ctx.db.session() as session:
        assert not claim(session, row.id, row.next_send_at, clock.now())
    # A second pause is no second decision.
    client.post(f"/reports/schedules/{row.id}/pause", data={"csrf_token": csrf})
    assert [r["schedule_id"] for r in records(ctx, "reports.schedule_paused")] == [row.id]

    # Resumed after its send time went by (moved back here, as weeks of pause would): the
    # missed send is not made up, the next one is set after now.
    with ctx.unit() as unit:
        unit.session.get(ReportScheduleRow, row.id).next_send_at = clock.now() - timedelta(days=3)
    resumed = client.post(
        f"/reports/schedules/{row.id}/resume", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert resumed.status_code == 303
    (after,) = _stored(ctx)
    assert after.paused_at is None and after.next_send_at > clock.now()
    with ctx.db.read_session() as session:
        assert due_schedules(session, after.next_send_at) == [(row.id, after.next_send_at)]
    (record,) = records(ctx, "reports.schedule_resumed")
    assert record["actor"] == "chief" and record["next_send_at"] == after.next_send_at.isoformat()

    removed = client.post(
        f"/reports/schedules/{row.id}/delete", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert removed.status_code == 303 and _stored(ctx) == []
    again = client.post(f"/reports/schedules/{row.id}/delete", data={"csrf_token": csrf})
    assert again.status_code == 404
    assert _refusal(again.text) == (
        "schedule_id",
        "This schedule no longer exists: someone removed it.",
    )
    assert [r["actor"] for r in records(ctx, "reports.schedule_removed")] == ["chief"]


@pytest.mark.parametrize(
    ("change", "field", "status", "sentence"),
    [
        (
            {"recipients": "chief@customs.example\nnot an address"},
            "recipients",
            422,
            "Recipients: “not an address” is not an e-mail address such as officer@customs.example",
        ),
        (
            {"recipients": " \n "},
            "recipients",
            422,
            "Recipients: 1 to 20 e-mail addresses, one per line.",
        ),
        ({"office": "no spaces allowed"}, "office", 422, "Office: a code of 1 to 32 letters"),
        ({"corridor": "north ern"}, "corridor", 422, "Corridor: a code of 1 to 32 letters"),
        ({"period": "daily"}, "period", 422, "Period: weekly or monthly."),
        ({"format": "docx"}, "format", 422, "Format: CSV, XLSX or PDF."),
        ({"language": "de"}, "language", 422, "Language: English, French or Arabic."),
        ({"report": "everything"}, "report", 422, "Report: choose one of the reports listed."),
        # An administrator reads the transits report, not selectivity: refused as the API does.
        ({"report": "selectivity"}, "report", 403, "Report: your roles do not read this report."),
    ],
)
def test_a_refused_field_is_named_and_the_form_keeps_the_input(
    ctx: AppContext,
    client: TestClient,
    change: dict[str, str],
    field: str,
    status: int,
    sentence: str,
) -> None:
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    csrf = login(client, "admin")
    typed = {**FORM, "office": "KEMBA", **change}
    refused = client.post("/reports/schedules", data={"csrf_token": csrf, **typed})
    assert refused.status_code == status, refused.text
    named, text = _refusal(refused.text)
    assert named == field and text.startswith(sentence), text
    page = html.unescape(refused.text)
    assert 'aria-invalid="true"' in page
    assert f">{typed['recipients']}</textarea>" in page  # what was typed, kept
    assert f'name="office" maxlength="32" value="{typed["office"]}"' in page
    assert _stored(ctx) == [] and records(ctx, "reports.schedule_saved") == []


def test_refused_to_every_other_role(ctx: AppContext, client: TestClient) -> None:
    for n, role in enumerate(NOT_SCHEDULERS):
        client.cookies.clear()
        client.headers.pop("Authorization", None)
        csrf = sign_in(ctx, client, role, username=f"u{n}")
        assert client.get("/reports/schedules").status_code in (401, 403), role
        answer = client.post("/reports/schedules", data={"csrf_token": csrf, **FORM})
        assert answer.status_code in (401, 403), role
    assert _stored(ctx) == []


def test_the_page_in_french(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "chef", Role.SUPERVISOR)
    csrf = login(client, "chef")
    client.headers["accept-language"] = "fr"
    client.post("/reports/schedules", data={"csrf_token": csrf, **FORM})
    refused = client.post(
        "/reports/schedules", data={"csrf_token": csrf, **FORM, "period": "daily"}
    )
    assert _refusal(refused.text)[1] == "Période\u00a0: hebdomadaire ou mensuelle."
    page = html.unescape(client.get("/reports/schedules").text)
    assert "Rapports par e-mail" in page and "Mensuel, le 1er" in page
    (row,) = _stored(ctx)
    assert format_when(row.next_send_at, "fr", ctx.settings.time_zone) in page


def test_the_api_pauses_and_resumes(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    made = client.post(
        "/api/reports/schedules",
        headers=admin,
        json={
            "report": "alerts",
            "format": "pdf",
            "period": "weekly",
            "recipients": ["a@b.example"],
        },
    ).json()
    assert made["paused_at"] is None
    paused = client.post(f"/api/reports/schedules/{made['id']}/pause", headers=admin)
    assert paused.status_code == 200 and paused.json()["paused_at"] is not None
    resumed = client.post(f"/api/reports/schedules/{made['id']}/resume", headers=admin)
    assert resumed.status_code == 200 and resumed.json()["paused_at"] is None
    assert client.post("/api/reports/schedules/999/pause", headers=admin).status_code == 404
    supervisor_only = bearer(role_tokens[Role.AUDITOR])
    assert (
        client.post(
            f"/api/reports/schedules/{made['id']}/pause", headers=supervisor_only
        ).status_code
        == 403
    )
    assert [r["actor"] for r in records(ctx, "reports.schedule_paused")] == ["administrator"]
    assert [r["actor"] for r in records(ctx, "reports.schedule_resumed")] == ["administrator"]
