"""The users page: a temporary password set by an administrator (the user's sessions end, the
old password stops working), trader identities bound and unbound, a refused form shown again
with what was typed and the field named; other roles refused; each change in the ledger."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.web.app import create_app
from tests.conftest import PASSWORD, add_user, login
from tests.web.admin_helpers import NOT_ADMIN, records, sign_in

NEW_PASSWORD = "temporary-Passw0rd"


def test_temporary_password_ends_the_users_sessions(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    add_user(ctx, "officer", Role.EXAMINING_OFFICER)
    with TestClient(create_app(ctx, check_schema=False)) as other:
        login(other, "officer")
        assert other.get("/", headers={"accept": "text/html"}).status_code == 200
        csrf = login(client, "admin")

        short = client.post(
            "/admin/users/officer/password", data={"csrf_token": csrf, "password": "short"}
        )
        assert short.status_code == 422
        assert 'data-username="officer" data-field="password"' in short.text

        done = client.post(
            "/admin/users/officer/password", data={"csrf_token": csrf, "password": NEW_PASSWORD}
        )
        assert done.status_code == 200
        assert 'data-testid="password-set"' in done.text
        # The officer's session has ended; the old password no longer opens one.
        assert other.get(
            "/", headers={"accept": "text/html"}, follow_redirects=False
        ).status_code in (
            303,
            401,
        )
    with TestClient(create_app(ctx, check_schema=False)) as fresh:
        page = fresh.get("/login")
        assert page.status_code == 200
        login(fresh, "officer", NEW_PASSWORD)
    with pytest.raises(AssertionError), TestClient(create_app(ctx, check_schema=False)) as stale:
        login(stale, "officer", PASSWORD)
    changed = records(ctx, "admin.password_reset")
    assert [(r["username"], r["actor"]) for r in changed] == [("officer", "admin")]
    assert not any(NEW_PASSWORD in str(r) for r in records(ctx, "admin.password_reset"))


def test_bind_and_unbind_trader_identities(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    add_user(ctx, "broker", Role.DECLARANT)
    csrf = login(client, "admin")
    bound = client.post(
        "/admin/users/broker/traders",
        data={"csrf_token": csrf, "declarant_ids": "BRK001, BRK002"},
        follow_redirects=True,
    )
    assert bound.status_code == 200
    assert "<code>BRK001</code>" in bound.text and "<code>BRK002</code>" in bound.text

    blank = client.post(
        "/admin/users/broker/traders", data={"csrf_token": csrf, "declarant_ids": " "}
    )
    assert blank.status_code == 422
    assert 'data-field="declarant_ids"' in blank.text
    too_long = client.post(
        "/admin/users/broker/traders", data={"csrf_token": csrf, "declarant_ids": "X" * 30}
    )
    assert too_long.status_code == 422

    unbound = client.post(
        "/admin/users/broker/traders/revoke",
        data={"csrf_token": csrf, "declarant_id": "BRK001"},
        follow_redirects=True,
    )
    assert unbound.status_code == 200
    assert "<code>BRK001</code>" not in unbound.text and "<code>BRK002</code>" in unbound.text
    not_bound = client.post(
        "/admin/users/broker/traders/revoke", data={"csrf_token": csrf, "declarant_id": "BRK001"}
    )
    assert not_bound.status_code == 404
    assert 'data-field="declarant_ids"' in not_bound.text

    granted = records(ctx, "admin.traders_granted")
    revoked = records(ctx, "admin.traders_revoked")
    assert [r["declarant_ids"] for r in granted] == [["BRK001", "BRK002"]]
    assert [r["declarant_ids"] for r in revoked] == [["BRK001"]]


def test_a_refused_new_user_keeps_what_was_typed(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    csrf = login(client, "admin")
    hostile = '"><script>alert(1)</script>'
    refused = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "username": "new.officer",
            "display_name": hostile,
            "password": "short",
            "roles": ["examining_officer", "supervisor"],
        },
    )
    assert refused.status_code == 422
    assert 'data-field="password"' in refused.text
    assert 'value="new.officer"' in refused.text
    assert str(escape(hostile)) in refused.text and "<script>alert(1)" not in refused.text
    assert 'value="supervisor" checked' in refused.text
    assert 'value="examining_officer" checked' in refused.text
    assert "new.officer" not in [r["username"] for r in records(ctx, "admin.user_created")]


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_every_other_role_is_refused(ctx: AppContext, client: TestClient, role: Role) -> None:
    add_user(ctx, "victim", Role.DECLARANT)
    csrf = sign_in(ctx, client, role)
    assert client.get("/admin/users").status_code == 403
    for path, data in (
        ("/admin/users/victim/password", {"password": NEW_PASSWORD}),
        ("/admin/users/victim/traders", {"declarant_ids": "BRK001"}),
        ("/admin/users/victim/traders/revoke", {"declarant_id": "BRK001"}),
    ):
        assert client.post(path, data={"csrf_token": csrf, **data}).status_code == 403
    assert records(ctx, "admin.password_reset") == []
    assert records(ctx, "admin.traders_granted") == []
