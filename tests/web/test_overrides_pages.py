"""Lane overrides on the pages: the declaration's "propose a lane change" form (kept on error,
CSRF-checked), the supervisor's queue, the override history, hostile reasons shown as text; the
selectivity page with expected and actual rates."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings
from tests.conftest import add_user, login
from tests.web.conftest import bearer
from tests.web.test_overrides_api import lodge

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"risk_random_control_share": 0.0, "risk_exploration_share": 0.0}
    )


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_propose_on_the_page_then_approve_in_the_queue(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    declaration_id = lodge(client, role_tokens)
    add_user(ctx, "olive", Role.EXAMINING_OFFICER)
    add_user(ctx, "sam", Role.SUPERVISOR)
    csrf = login(client, "olive")
    url = f"/declarations/{declaration_id}"
    page = client.get(url)
    assert 'data-testid="override-form"' in page.text
    assert "The lane has not been changed." in page.text

    # No CSRF token: refused, nothing stored.
    assert client.post(f"{url}/override", data={"lane": "red", "reason": "r"}).status_code == 403
    # An error keeps what was typed.
    kept = client.post(f"{url}/override", data={"lane": "red", "reason": "  ", "csrf_token": csrf})
    assert kept.status_code == 422
    assert 'value="red" selected' in kept.text
    long_reason = "x" * 501
    kept = client.post(
        f"{url}/override", data={"lane": "scan", "reason": long_reason, "csrf_token": csrf}
    )
    assert kept.status_code == 422 and long_reason in kept.text
    assert 'value="scan" selected' in kept.text

    made = client.post(
        f"{url}/override",
        data={"lane": "red", "reason": HOSTILE, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    page = client.get(url)
    assert HOSTILE not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "waiting for a supervisor" in page.text
    assert 'data-testid="override-form"' not in page.text  # one open proposal at a time
    assert 'data-lane="green"' in page.text  # unchanged until approved
    assert "Withdraw" in page.text

    client.post("/logout", data={"csrf_token": csrf})
    csrf = login(client, "sam")
    queue = client.get("/risk/overrides")
    assert queue.status_code == 200
    assert HOSTILE not in queue.text and "&lt;img src=x onerror=alert(1)&gt;" in queue.text
    (override_id,) = re.findall(r'data-override="(\d+)"', queue.text)
    assert 'href="/risk/overrides"' in queue.text  # in the supervisor's menu
    done = client.post(
        f"/risk/overrides/{override_id}/review",
        data={"decision": "approve", "note": "<b>ok</b>", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert "No lane change is waiting." in client.get("/risk/overrides").text
    page = client.get(url)
    assert 'data-lane="red"' in page.text
    assert 'data-testid="original-lane"' in page.text
    assert "&lt;b&gt;ok&lt;/b&gt;" in page.text and "by sam on" in page.text
    red_queue = client.get("/declarations?lane=todo")
    assert f'data-testid="open-{declaration_id}"' in red_queue.text  # now awaits examination


def test_own_proposal_refused_on_the_page(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    declaration_id = lodge(client, role_tokens)
    add_user(ctx, "pat", Role.EXAMINING_OFFICER, Role.SUPERVISOR)
    csrf = login(client, "pat")
    client.post(
        f"/declarations/{declaration_id}/override",
        data={"lane": "yellow", "reason": "documents look altered", "csrf_token": csrf},
    )
    queue = client.get("/risk/overrides")
    assert "Your own proposal: another supervisor decides." in queue.text
    (override_id,) = re.findall(r'data-override="(\d+)"', queue.text)
    refused = client.post(
        f"/risk/overrides/{override_id}/review",
        data={"decision": "approve", "csrf_token": csrf},
    )
    assert refused.status_code == 403
    assert "someone other than who proposed it" in refused.text


def test_officer_cannot_review_and_supervisor_cannot_propose(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    declaration_id = lodge(client, role_tokens)
    officer = bearer(role_tokens[Role.EXAMINING_OFFICER])
    made = client.post(
        f"/api/declarations/{declaration_id}/overrides",
        headers=officer,
        json={"lane": "red", "reason": "Tip-off"},
    ).json()
    add_user(ctx, "olive", Role.EXAMINING_OFFICER)
    csrf = login(client, "olive")
    refused = client.post(
        f"/risk/overrides/{made['id']}/review", data={"decision": "approve", "csrf_token": csrf}
    )
    assert refused.status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    add_user(ctx, "sam", Role.SUPERVISOR)
    csrf = login(client, "sam")
    page = client.get(f"/declarations/{declaration_id}")
    assert 'data-testid="override-form"' not in page.text
    refused = client.post(
        f"/declarations/{declaration_id}/override",
        data={"lane": "scan", "reason": "r", "csrf_token": csrf},
    )
    assert refused.status_code == 403


def test_selectivity_page(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    lodge(client, role_tokens)
    add_user(ctx, "ana", Role.RISK_ANALYST)
    add_user(ctx, "olive", Role.EXAMINING_OFFICER)
    csrf = login(client, "olive")
    assert client.get("/risk/selectivity").status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    csrf = login(client, "ana")
    page = client.get("/risk/selectivity")
    assert page.status_code == 200
    assert 'data-testid="lane-hit-rates"' in page.text and 'data-testid="selection-*"' in page.text
    bad = client.post(
        "/risk/selectivity/expected",
        data={"office": "KEMBA", "lane": "yellow", "share": "lots", "csrf_token": csrf},
    )
    assert bad.status_code == 422 and 'value="lots"' in bad.text
    ok = client.post(
        "/risk/selectivity/expected",
        data={"office": "KEMBA", "lane": "yellow", "share": "15", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    page = client.get("/risk/selectivity?days=7")
    assert 'data-testid="selection-KEMBA"' in page.text
    assert "15.0%" in page.text
