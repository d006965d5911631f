"""Editing a report e-mail schedule: on the page (``/reports/schedules?edit=<id>``, its form
filled with what the schedule holds) and over the API (``PUT`` and ``PATCH
/api/reports/schedules/{id}``). The same checks as creating, each refusal naming its field
with the form keeping what was typed and nothing changed; a ``reports.schedule_updated``
ledger record per change (none for the same values again); only administrators and
supervisors, and only for a report their roles read."""

# ruff: noqa: F811 - role_tokens is a fixture imported from tests.web.conftest

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.reports.schedule_periods import Period, next_send
from smartcustoms.reports.schedules import ReportScheduleRow
from tests.conftest import add_user, login
from tests.web.admin_helpers import records, sign_in
from tests.web.conftest import bearer, role_tokens  # noqa: F401 - a token per role

FORM = {
    "report": "transits",
    "format": "pdf",
    "period": "weekly",
    "language": "en",
    "office": "KEMBA",
    "corridor": "",
    "recipients": "chief@customs.example\naudit@customs.example",
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


def _edit_form(page: str) -> str:
    found = re.search(r'<form[^>]*data-testid="edit-form">(.*?)</form>', page, re.S)
    assert found, page
    return html.unescape(found.group(1))


def _schedule(client: TestClient, csrf: str, **change: str) -> None:
    made = client.post(
        "/reports/schedules",
        data={"csrf_token": csrf, **FORM, **change},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text


def test_edit_from_the_page(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "chief", Role.SUPERVISOR)
    csrf = login(client, "chief")
    _schedule(client, csrf)
    (row,) = _stored(ctx)
    page = client.get("/reports/schedules").text
    assert f'href="/reports/schedules?edit={row.id}#edit"' in page
    assert 'data-testid="edit-form"' not in page  # closed until asked for

    opened = client.get(f"/reports/schedules?edit={row.id}")
    assert opened.status_code == 200
    form = _edit_form(opened.text)
    # Filled with what the schedule holds (recipients as stored: sorted, one per line).
    assert ">audit@customs.example\nchief@customs.example</textarea>" in form
    assert '<option value="weekly" selected>' in form
    assert 'name="office" maxlength="32" value="KEMBA"' in form
    assert f'action="/reports/schedules/{row.id}/edit"' in opened.text

    # Paused first: an edit keeps it paused.
    client.post(f"/reports/schedules/{row.id}/pause", data={"csrf_token": csrf})
    before = clock.now()
    changed = client.post(
        f"/reports/schedules/{row.id}/edit",
        data={
            "csrf_token": csrf,
            **FORM,
            "period": "monthly",
            "format": "csv",
            "office": "",
            "recipients": "New.Chief@customs.example; audit@customs.example",
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303, changed.text
    assert changed.headers["location"] == "/reports/schedules?done=updated"
    assert "The report e-mail is changed." in client.get(changed.headers["location"]).text
    (after,) = _stored(ctx)
    assert (after.period, after.format, after.office) == ("monthly", "csv", None)
    assert after.recipients == ["audit@customs.example", "new.chief@customs.example"]
    assert after.paused_at is not None and after.created_by == "chief"
    # A new period: the next send is that period's next start.
    zone = ZoneInfo(ctx.settings.time_zone)
    assert after.next_send_at in {
        next_send(Period.MONTHLY, before, zone),
        next_send(Period.MONTHLY, clock.now(), zone),
    }
    (record,) = records(ctx, "reports.schedule_updated")
    assert record["actor"] == "chief" and record["schedule_id"] == row.id
    assert record["changed"] == ["format", "office", "period", "recipients"]
    assert record["recipients"] == ["audit@customs.example", "new.chief@customs.example"]
    assert record["next_send_at"] == after.next_send_at.isoformat()

    # The same values again: nothing changes, nothing is recorded.
    again = client.post(
        f"/reports/schedules/{row.id}/edit",
        data={
            "csrf_token": csrf,
            **FORM,
            "period": "monthly",
            "format": "csv",
            "office": "",
            "recipients": "audit@customs.example\nnew.chief@customs.example",
        },
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert len(records(ctx, "reports.schedule_updated")) == 1
    # Only the recipients changed: the next send stays where it was.
    client.post(
        f"/reports/schedules/{row.id}/edit",
        data={**FORM, "csrf_token": csrf, "period": "monthly", "format": "csv", "office": ""},
    )
    (last,) = _stored(ctx)
    assert last.next_send_at == after.next_send_at
    assert records(ctx, "reports.schedule_updated")[-1]["changed"] == ["recipients"]


@pytest.mark.parametrize(
    ("change", "field", "status", "sentence"),
    [
        (
            {"recipients": "chief@customs.example\nchief at customs"},
            "recipients",
            422,
            "Recipients: “chief at customs” is not an e-mail address",
        ),
        ({"recipients": ""}, "recipients", 422, "Recipients: 1 to 20 e-mail addresses"),
        ({"period": "hourly"}, "period", 422, "Period: weekly or monthly."),
        ({"office": "two words"}, "office", 422, "Office: a code of 1 to 32 letters"),
        ({"language": "xx"}, "language", 422, "Language: English, French or Arabic."),
        # Administrators do not read the selectivity report: they cannot turn one into it.
        ({"report": "selectivity"}, "report", 403, "Report: your roles do not read this report."),
    ],
)
def test_a_refused_edit_names_the_field_keeps_the_input_and_changes_nothing(
    ctx: AppContext,
    client: TestClient,
    change: dict[str, str],
    field: str,
    status: int,
    sentence: str,
) -> None:
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    csrf = login(client, "admin")
    _schedule(client, csrf)
    (row,) = _stored(ctx)
    typed = {**FORM, "format": "xlsx", **change}
    refused = client.post(f"/reports/schedules/{row.id}/edit", data={"csrf_token": csrf, **typed})
    assert refused.status_code == status, refused.text
    named, text = _refusal(refused.text)
    assert named == field and text.startswith(sentence), text
    form = _edit_form(refused.text)
    assert f">{typed['recipients']}</textarea>" in form  # what was typed, kept
    assert f'name="office" maxlength="32" value="{typed["office"]}"' in form
    assert 'aria-invalid="true"' in form
    assert '<option value="xlsx" selected>' in form
    (unchanged,) = _stored(ctx)
    assert (unchanged.format, unchanged.recipients, unchanged.period) == (
        row.format,
        row.recipients,
        row.period,
    )
    assert records(ctx, "reports.schedule_updated") == []


def test_a_removed_schedule_or_one_of_a_report_not_read_is_not_edited(
    ctx: AppContext, client: TestClient
) -> None:
    add_user(ctx, "chief", Role.SUPERVISOR)
    csrf = login(client, "chief")
    _schedule(client, csrf, report="selectivity")
    (row,) = _stored(ctx)
    client.post("/logout", data={"csrf_token": csrf})

    # An administrator may pause or remove it, not redirect a report they do not read.
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    csrf = login(client, "admin")
    page = client.get("/reports/schedules").text
    assert f"?edit={row.id}" not in page and f"/reports/schedules/{row.id}/pause" in page
    opened = client.get(f"/reports/schedules?edit={row.id}")
    assert opened.status_code == 403
    assert _refusal(opened.text)[0] == "schedule_id"
    assert 'data-testid="edit-form"' not in opened.text
    refused = client.post(
        f"/reports/schedules/{row.id}/edit",
        data={"csrf_token": csrf, **FORM, "recipients": "me@elsewhere.example"},
    )
    assert refused.status_code == 403
    assert _refusal(refused.text) == (
        "schedule_id",
        "Your roles do not read the report this schedule sends: you may pause or remove it, "
        "not change it.",
    )
    (kept,) = _stored(ctx)
    assert kept.recipients == row.recipients

    client.post(f"/reports/schedules/{row.id}/delete", data={"csrf_token": csrf})
    gone = client.post(f"/reports/schedules/{row.id}/edit", data={"csrf_token": csrf, **FORM})
    assert gone.status_code == 404
    assert _refusal(gone.text)[0] == "schedule_id"
    assert client.get(f"/reports/schedules?edit={row.id}").status_code == 404
    assert client.get("/reports/schedules?edit=0").status_code == 422
    assert records(ctx, "reports.schedule_updated") == []


def test_other_roles_are_refused(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "chief", Role.SUPERVISOR)
    csrf = login(client, "chief")
    _schedule(client, csrf)
    (row,) = _stored(ctx)
    for n, role in enumerate(NOT_SCHEDULERS):
        client.cookies.clear()
        client.headers.pop("Authorization", None)
        csrf = sign_in(ctx, client, role, username=f"u{n}")
        assert client.get(f"/reports/schedules?edit={row.id}").status_code in (401, 403), role
        answer = client.post(
            f"/reports/schedules/{row.id}/edit",
            data={"csrf_token": csrf, **FORM, "recipients": "x@y.example"},
        )
        assert answer.status_code in (401, 403), role
    (kept,) = _stored(ctx)
    assert kept.recipients == row.recipients
    assert records(ctx, "reports.schedule_updated") == []


def test_the_api_replaces_and_patches(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    body = {"report": "alerts", "format": "pdf", "period": "weekly", "recipients": ["a@b.example"]}
    made = client.post("/api/reports/schedules", headers=admin, json=body).json()
    url = f"/api/reports/schedules/{made['id']}"

    put = client.put(
        url,
        headers=admin,
        json={**body, "format": "xlsx", "recipients": ["C@D.example", "a@b.example"]},
    )
    assert put.status_code == 200, put.text
    assert put.json()["format"] == "xlsx"
    assert put.json()["recipients"] == ["a@b.example", "c@d.example"]
    assert put.json()["next_send_at"] == made["next_send_at"]  # same period: same next send

    patched = client.patch(url, headers=admin, json={"period": "monthly", "office": "KEMBA"})
    assert patched.status_code == 200, patched.text
    got = patched.json()
    assert (got["period"], got["office"], got["format"]) == ("monthly", "KEMBA", "xlsx")
    assert got["next_send_at"] != made["next_send_at"]
    cleared = client.patch(url, headers=admin, json={"office": None}).json()
    assert cleared["office"] is None and cleared["period"] == "monthly"

    # Refusals: each names its field, and nothing changes.
    bad = client.patch(url, headers=admin, json={"recipients": ["not an address"]})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "recipients[0]"
    null = client.patch(url, headers=admin, json={"report": None})
    assert null.status_code == 422 and null.json()["error"]["details"][0]["field"] == "report"
    unknown = client.patch(url, headers=admin, json={"cadence": "daily"})
    assert unknown.status_code == 422
    assert client.put(url, headers=admin, json={**body, "period": "daily"}).status_code == 422
    assert client.put(url, headers=admin, json={"format": "pdf"}).status_code == 422  # not whole
    forbidden = client.patch(url, headers=admin, json={"report": "selectivity"})
    assert forbidden.status_code == 403
    assert client.patch("/api/reports/schedules/999", headers=admin, json={}).status_code == 404
    auditor = bearer(role_tokens[Role.AUDITOR])
    assert client.patch(url, headers=auditor, json={"format": "csv"}).status_code == 403
    assert client.put(url, headers=auditor, json=body).status_code == 403
    final = client.get("/api/reports/schedules", headers=admin).json()[0]
    assert (final["format"], final["recipients"]) == ("xlsx", ["a@b.example", "c@d.example"])

    updates = records(ctx, "reports.schedule_updated")
    assert [r["changed"] for r in updates] == [
        ["format", "recipients"],
        ["office", "period"],
        ["office"],
    ]
    assert {r["actor"] for r in updates} == {"administrator"}


def test_a_paused_schedule_edited_to_a_new_period_is_not_due_until_resumed(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    from smartcustoms.reports.schedules import due_schedules

    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    body = {"report": "alerts", "format": "pdf", "period": "weekly", "recipients": ["a@b.example"]}
    made = client.post("/api/reports/schedules", headers=admin, json=body).json()
    client.post(f"/api/reports/schedules/{made['id']}/pause", headers=admin)
    client.patch(f"/api/reports/schedules/{made['id']}", headers=admin, json={"period": "monthly"})
    (row,) = _stored(ctx)
    assert row.paused_at is not None
    with ctx.db.read_session() as session:
        assert due_schedules(session, row.next_send_at + timedelta(days=90)) == []


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.SUPERVISOR, Role.AUDITOR])
def test_the_edit_operations_keep_their_contract(
    app: object, client: TestClient, role_tokens: dict[Role, str], role: Role
) -> None:
    """Generated bodies (valid, edge, invalid) for PUT and PATCH on a schedule that exists and
    on ids that do not: never a 5xx, only documented statuses, the documented answer."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import positive_data_acceptance

    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    body = {"report": "alerts", "format": "pdf", "period": "weekly", "recipients": ["a@b.example"]}
    assert client.post("/api/reports/schedules", headers=admin, json=body).status_code == 201
    schema = schemathesis.openapi.from_asgi(
        "/api/openapi.json", app, headers=bearer(role_tokens[Role.AUDITOR])
    )
    walked = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        if operation.path != "/api/reports/schedules/{schedule_id}":
            continue
        if operation.method.upper() not in ("PUT", "PATCH"):
            continue
        walked.append(operation.method.upper())

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            case.call_and_validate(
                headers=bearer(role_tokens[role]), excluded_checks=[positive_data_acceptance]
            )

        run()
    assert sorted(walked) == ["PATCH", "PUT"]
