"""The notifications API and page: roles, validation naming the field, both languages,
hostile strings escaped."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.tokens import create_token
from smartcustoms.core.users import create_user, get_user
from smartcustoms.interop.notify.tables import NotificationRow
from smartcustoms.ledger.service import ledger_of
from tests.conftest import PASSWORD, add_user, login
from tests.web.conftest import bearer

_ROLES = (Role.ADMINISTRATOR, Role.COMMAND_CENTRE_OPERATOR, Role.AUDITOR)


@pytest.fixture
def few_tokens(ctx: AppContext) -> dict[Role, str]:
    """A token for a user holding exactly one role, for the roles these tests need (named
    as in tests.web.conftest.role_tokens; fewer users: password hashing is slow)."""
    tokens = {}
    with ctx.unit() as unit:
        for role in _ROLES:
            name = role.value.replace("_", "-")
            create_user(unit, username=name, password=PASSWORD, roles=[role], actor="test")
            user = get_user(unit.session, name)
            tokens[role] = create_token(
                unit, user, name="test", days=1, max_days=10, actor="test"
            ).secret
    return tokens


def test_rules_and_contacts_are_the_administrators(
    ctx: AppContext, client: TestClient, few_tokens: dict[Role, str]
) -> None:
    admin = bearer(few_tokens[Role.ADMINISTRATOR])
    operator = bearer(few_tokens[Role.COMMAND_CENTRE_OPERATOR])
    rule = {"trigger": "alert_critical", "role": "command_centre_operator", "channels": ["sms"]}
    assert client.post("/api/notifications/rules", json=rule, headers=operator).status_code == 403
    created = client.post("/api/notifications/rules", json=rule, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["channels"] == ["sms"]
    bad = client.post(
        "/api/notifications/rules", json={**rule, "after_minutes": 5, "trigger": "alert_escalated"},
        headers=admin,
    )  # fmt: skip
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "after_minutes"
    auditor = bearer(few_tokens[Role.AUDITOR])
    assert len(client.get("/api/notifications/rules", headers=auditor).json()) == 1
    assert client.get("/api/notifications/contacts", headers=auditor).status_code == 403

    contact = {"email": "ops@customs.example", "phone": "+254 700 000 001", "quiet_start": "22:00",
               "quiet_end": "06:00", "timezone": "Africa/Nairobi"}  # fmt: skip
    saved = client.put(
        "/api/notifications/contacts/command-centre-operator", json=contact, headers=admin
    )
    assert saved.status_code == 200 and saved.json()["phone"] == "+254700000001"
    wrong = client.put(
        "/api/notifications/contacts/command-centre-operator",
        json={**contact, "phone": "0700"},
        headers=admin,
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["details"][0]["field"] == "phone"
    injected = client.put(
        "/api/notifications/contacts/command-centre-operator",
        json={**contact, "email": "a@b.example\r\nBcc: x@y.example"},
        headers=admin,
    )
    assert injected.status_code == 422

    # Each change is a ledger record (admin.action), never the address itself.
    ledger = ledger_of(ctx)
    ledger.flush()
    records = [ledger.record(i) for i in range(ledger.size())]
    actions = [r.get("action") for r in records if r["type"] == "admin.action"]
    assert "notify_rule_added" in actions and "notify_contact_set" in actions
    assert not any("ops@customs.example" in str(r) for r in records)

    removed = client.delete(f"/api/notifications/rules/{created.json()['id']}", headers=admin)
    assert removed.status_code == 200
    assert client.delete("/api/notifications/rules/999", headers=admin).status_code == 404


def test_each_reads_their_own_and_admins_retry_and_test(
    ctx: AppContext, client: TestClient, few_tokens: dict[Role, str]
) -> None:
    admin = bearer(few_tokens[Role.ADMINISTRATOR])
    operator = bearer(few_tokens[Role.COMMAND_CENTRE_OPERATOR])
    none = client.post(
        "/api/notifications/test",
        json={"username": "command-centre-operator", "channel": "email"},
        headers=admin,
    )
    assert none.status_code == 409  # no address on file yet
    client.put(
        "/api/notifications/contacts/command-centre-operator",
        json={"email": "ops@customs.example"},
        headers=admin,
    )
    queued = client.post(
        "/api/notifications/test",
        json={"username": "command-centre-operator", "channel": "email"},
        headers=admin,
    )
    assert queued.status_code == 202 and queued.json()["state"] in ("queued", "sending", "failed")
    mine = client.get("/api/notifications", headers=operator).json()
    assert [n["id"] for n in mine] == [queued.json()["id"]]
    assert client.get("/api/notifications?everyone=true", headers=operator).status_code == 403
    other = client.get("/api/notifications?username=administrator", headers=operator)
    assert other.status_code == 403
    assert len(client.get("/api/notifications?everyone=true", headers=admin).json()) == 1
    # No SMTP server is configured: the notifier records the failure, the request never waits.
    with ctx.db.session() as session:
        row = session.scalars(select(NotificationRow)).one()
        row.state, row.tries = "dead", 8
    retried = client.post(f"/api/notifications/{queued.json()['id']}/retry", headers=admin)
    assert retried.status_code == 200 and retried.json()["tries"] == 0
    refused = client.post(f"/api/notifications/{queued.json()['id']}/retry", headers=operator)
    assert refused.status_code == 403


def test_page_in_english_and_french_escapes_hostile_text(
    ctx: AppContext, client: TestClient
) -> None:
    add_user(ctx, "boss", Role.ADMINISTRATOR)
    add_user(ctx, "op", Role.COMMAND_CENTRE_OPERATOR)
    csrf = login(client, "boss")
    form = {"csrf_token": csrf, "trigger": "alert_critical", "who": "role:command_centre_operator",
            "channels": ["email"], "office": "KEMBA", "after_minutes": "0"}  # fmt: skip
    assert client.post("/notifications/rules", data=form, follow_redirects=False).status_code == 303
    bad = client.post("/notifications/rules", data={**form, "office": "<script>x</script>"})
    assert bad.status_code == 422 and "&lt;script&gt;" in bad.text and "<script>x" not in bad.text
    saved = client.post(
        "/notifications/contacts",
        data={"csrf_token": csrf, "username": "op", "email": "op@customs.example",
              "quiet_start": "22:00", "quiet_end": "06:00", "timezone": "Africa/Nairobi"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    page = client.get("/notifications")
    assert "Notification rules" in page.text and "KEMBA" in page.text
    assert "op@customs.example" in page.text and "22:00–06:00" in page.text
    french = client.post("/lang", data={"language": "fr", "next": "/notifications",
                                        "csrf_token": csrf})  # fmt: skip
    assert "Règles de notification" in french.text and "Coordonnées" in french.text


def test_operator_sees_only_their_own(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "op", Role.COMMAND_CENTRE_OPERATOR)
    login(client, "op")
    page = client.get("/notifications")
    assert page.status_code == 200 and "Sent to me" in page.text
    assert "Notification rules" not in page.text and "Set contact details" not in page.text
    assert client.post("/notifications/rules", data={}).status_code in (403, 422)
