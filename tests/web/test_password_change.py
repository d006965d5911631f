"""A password an administrator sets is temporary: at next login the user is sent to choose their
own and can do nothing else — pages redirect to /password, API calls answer 403
``password_change_required`` — until they do. Logging out and the change itself stay open.
The reset and the change are ledger records without the passwords."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.password_change import reset_password
from smartcustoms.core.roles import Role
from smartcustoms.core.tokens import create_token
from smartcustoms.core.users import get_user
from smartcustoms.web.app import create_app
from tests.conftest import PASSWORD, add_user, login
from tests.web.admin_helpers import records

TEMPORARY = "handed-over-Passw0rd"
MINE = "my-own-new-passphrase"
HTML = {"accept": "text/html"}


def _csrf(page: str) -> str:
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', page)
    assert found, "the page carries the session's CSRF token"
    return found.group(1)


def test_reset_by_the_admin_page_forces_a_change_at_next_login(
    ctx: AppContext, client: TestClient
) -> None:
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    add_user(ctx, "officer", Role.EXAMINING_OFFICER)
    csrf = login(client, "admin")
    done = client.post(
        "/admin/users/officer/password", data={"csrf_token": csrf, "password": TEMPORARY}
    )
    assert done.status_code == 200

    with TestClient(create_app(ctx, check_schema=False), raise_server_exceptions=False) as user:
        csrf = login(user, "officer", TEMPORARY)
        # Every page sends the user to the change page; the API answers a typed 403.
        for path in ("/", "/declarations", "/tracking/transits", "/scans"):
            page = user.get(path, headers=HTML, follow_redirects=False)
            assert (page.status_code, page.headers.get("location")) == (303, "/password"), path
        api = user.get("/api/tracking/transits")
        assert api.status_code == 403
        assert api.json()["error"]["code"] == "password_change_required"
        refused_post = user.post(
            "/api/me/password",
            json={"current_password": TEMPORARY, "new_password": "short"},
            headers={"X-CSRF-Token": csrf},
        )
        assert refused_post.status_code == 422
        assert refused_post.json()["error"]["details"][0]["field"] == "new_password"

        page = user.get("/password", headers=HTML)
        assert page.status_code == 200
        assert 'data-testid="password-must-change"' in page.text

        # Refusals name the field and change nothing.
        wrong = user.post(
            "/password",
            data={
                "csrf_token": csrf,
                "current_password": "not-the-password",
                "new_password": MINE,
                "repeat_password": MINE,
            },
        )
        assert wrong.status_code == 422
        assert 'data-field="current_password"' in wrong.text
        same = user.post(
            "/password",
            data={
                "csrf_token": csrf,
                "current_password": TEMPORARY,
                "new_password": TEMPORARY,
                "repeat_password": TEMPORARY,
            },
        )
        assert same.status_code == 422 and 'data-field="new_password"' in same.text
        differ = user.post(
            "/password",
            data={
                "csrf_token": csrf,
                "current_password": TEMPORARY,
                "new_password": MINE,
                "repeat_password": MINE + "x",
            },
        )
        assert differ.status_code == 422 and 'data-field="repeat_password"' in differ.text

        changed = user.post(
            "/password",
            data={
                "csrf_token": csrf,
                "current_password": TEMPORARY,
                "new_password": MINE,
                "repeat_password": MINE,
            },
            follow_redirects=False,
        )
        assert (changed.status_code, changed.headers["location"]) == (303, "/")
        # A fresh session: the home page and the API work again.
        home = user.get("/", headers=HTML, follow_redirects=False)
        assert home.status_code == 200
        assert user.get("/api/tracking/transits").status_code == 200

    with ctx.db.session() as session:
        assert get_user(session, "officer").must_change_password is False
    reset = records(ctx, "admin.password_reset")
    assert [(r["actor"], r["username"], r["must_change"]) for r in reset] == [
        ("admin", "officer", True)
    ]
    own = records(ctx, "security.password_changed")
    assert [(r["actor"], r["forced"]) for r in own] == [("officer", True)]
    every = str(reset + own)
    assert TEMPORARY not in every and MINE not in every


def test_api_reset_blocks_the_users_token_until_the_api_change(
    ctx: AppContext, client: TestClient
) -> None:
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    add_user(ctx, "analyst", Role.RISK_ANALYST)
    with ctx.unit() as unit:
        admin = create_token(
            unit, get_user(unit.session, "admin"), name="a", days=1, max_days=10, actor="t"
        ).secret
        mine = create_token(
            unit, get_user(unit.session, "analyst"), name="b", days=1, max_days=10, actor="t"
        ).secret
    as_admin = {"Authorization": f"Bearer {admin}"}
    as_user = {"Authorization": f"Bearer {mine}"}
    assert client.get("/api/risk/rules", headers=as_user).status_code == 200

    reset = client.patch("/api/users/analyst", json={"password": TEMPORARY}, headers=as_admin)
    assert reset.status_code == 200
    blocked = client.get("/api/risk/rules", headers=as_user)
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "password_change_required"
    assert client.get("/api/me", headers=as_user).json()["username"] == "analyst"

    wrong = client.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": MINE},
        headers=as_user,
    )
    assert wrong.status_code == 422
    assert wrong.json()["error"]["details"][0]["field"] == "current_password"
    done = client.post(
        "/api/me/password",
        json={"current_password": TEMPORARY, "new_password": MINE},
        headers=as_user,
    )
    assert done.status_code == 204
    assert client.get("/api/risk/rules", headers=as_user).status_code == 200


def test_users_created_are_not_forced_and_logout_stays_open(
    ctx: AppContext, client: TestClient
) -> None:
    add_user(ctx, "officer", Role.EXAMINING_OFFICER)
    csrf = login(client, "officer")
    assert client.get("/", headers=HTML, follow_redirects=False).status_code == 200
    with ctx.unit() as unit:
        reset_password(unit, "officer", TEMPORARY, actor="cli:test")
    csrf = login(client, "officer", TEMPORARY)
    out = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    with ctx.unit() as unit:
        reset_password(unit, "officer", TEMPORARY, actor="cli:test", must_change=False)
    login(client, "officer", TEMPORARY)
    assert client.get("/", headers=HTML, follow_redirects=False).status_code == 200


def test_a_machine_account_s_reset_never_holds_its_token_back(
    ctx: AppContext, client: TestClient
) -> None:
    """A tracking gateway logs in to no page, so it could never make the change: its reset
    leaves its token working (a forced change would stop the telemetry it feeds)."""
    add_user(ctx, "traccar", Role.TRACKING_GATEWAY)
    with ctx.unit() as unit:
        token = create_token(
            unit, get_user(unit.session, "traccar"), name="t", days=1, max_days=10, actor="t"
        ).secret
        reset_password(unit, "traccar", TEMPORARY, actor="cli:test")
    with ctx.db.session() as session:
        assert get_user(session, "traccar").must_change_password is False
    fed = client.post(
        "/api/tracking/traccar/positions",
        json={"position": {}, "device": {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert fed.json().get("error", {}).get("code") != "password_change_required", fed.text
