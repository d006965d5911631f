"""The ledger's keys and witnesses, for administrators only (/api/admin/keys, /admin/keys);
rotating the key from the page or the API does what ``smartcustoms ledger rotate-key`` does:
the old key stays as retired, the rotation is an ``admin.action`` record."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.ledger.service import ledger_of
from tests.conftest import add_user, login
from tests.web.admin_helpers import NOT_ADMIN, records, sign_in
from tests.web.conftest import bearer


def test_keys_and_rotation_through_the_api(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    ledger = ledger_of(ctx)
    ledger.flush()
    before = client.get("/api/admin/keys", headers=admin)
    assert before.status_code == 200, before.text
    body = before.json()
    assert body["rotate_command"] == "smartcustoms ledger rotate-key"
    assert body["witnesses"] == [] and body["witnessed_logs"] == []
    assert body["witness_vkey"]
    old_vkey = ledger.vkey()

    rotated = client.post("/api/admin/keys/rotate", headers=admin)
    assert rotated.status_code == 200, rotated.text
    result = rotated.json()
    assert result["vkey"] != old_vkey and result["vkey"] == ledger.vkey()
    (record,) = [r for r in records(ctx, "admin.action") if r["action"] == "ledger_key_rotated"]
    assert record["target"] == f"{result['old']} -> {result['new']}"
    assert record["actor"] == "administrator"

    after = client.get("/api/admin/keys", headers=admin).json()
    current = [k["vkey"] for k in after["keys"] if k["current"]]
    assert current == [result["vkey"]]
    assert old_vkey in [k["vkey"] for k in after["keys"] if not k["current"]]


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_every_other_role_is_refused(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str], role: Role
) -> None:
    headers = bearer(role_tokens[role])
    vkey = ledger_of(ctx).vkey()
    assert client.get("/api/admin/keys", headers=headers).status_code == 403
    assert client.post("/api/admin/keys/rotate", headers=headers).status_code == 403
    assert ledger_of(ctx).vkey() == vkey


def test_the_page_shows_keys_and_rotates_only_when_confirmed(
    ctx: AppContext, client: TestClient
) -> None:
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    csrf = login(client, "admin")
    ledger = ledger_of(ctx)
    ledger.flush()
    vkey = ledger.vkey()
    page = client.get("/admin/keys")
    assert page.status_code == 200
    assert "smartcustoms ledger rotate-key" in page.text
    assert 'data-testid="witness-vkey"' in page.text

    unconfirmed = client.post("/admin/keys/rotate", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 422
    assert 'data-field="confirm"' in unconfirmed.text
    assert ledger.vkey() == vkey

    rotated = client.post("/admin/keys/rotate", data={"csrf_token": csrf, "confirm": "true"})
    assert rotated.status_code == 200
    shown = re.search(r'data-testid="new-vkey">([^<]+)<', rotated.text)
    assert shown and shown.group(1) == ledger.vkey() != vkey
    assert [
        r["actor"] for r in records(ctx, "admin.action") if r["action"] == "ledger_key_rotated"
    ] == ["admin"]


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_the_page_refuses_every_other_role(ctx: AppContext, client: TestClient, role: Role) -> None:
    csrf = sign_in(ctx, client, role)
    assert client.get("/admin/keys").status_code == 403
    refused = client.post("/admin/keys/rotate", data={"csrf_token": csrf, "confirm": "true"})
    assert refused.status_code == 403
