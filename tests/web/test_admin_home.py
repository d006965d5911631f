"""The home page by role: each role sees the work waiting for it — an examining officer the
declarations to examine, a command-centre operator the critical alerts, an image analyst the
scans to review, a supervisor the overrides to approve — and only administrators see users,
sessions and tokens counts (the status panel polled by HTMX too)."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import ALL_ROLES, Role
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.overrides import propose
from smartcustoms.risk.tables import LaneDecisionRow
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.records import SealEvent
from tests.conftest import add_user, login
from tests.tracking.helpers import (
    VOI,
    import_packaged,
    incoming,
    make_transit,
    position,
    store_declaration,
)

HTML = {"accept": "text/html"}


def _decide(ctx: AppContext, lrn: str, lane: str) -> int:
    """A stored declaration with a lane decision (as the engine stores it)."""
    declaration = store_declaration(ctx, lrn)
    with ctx.unit() as unit:
        unit.session.add(
            LaneDecisionRow(
                declaration_id=declaration,
                lane=lane,
                score=0.9,
                threshold=0.5,
                model_version=None,
                rules_fired=[],
                reasons=[],
                random_control=False,
                exploration=False,
                decided_at=datetime.now(UTC),
            )
        )
    return declaration


def _work(text: str, key: str) -> int:
    found = re.search(rf'data-work="{key}" data-count="(\d+)"', text)
    assert found, f"no {key} on the page"
    return int(found.group(1))


@pytest.fixture
def busy(ctx: AppContext) -> dict[str, int]:
    """Two declarations to examine (red, yellow), one green; an override proposed; a critical
    alert open (the seal opened on the road, through the real ingest writer)."""
    red = _decide(ctx, "H-RED", "red")
    _decide(ctx, "H-YELLOW", "yellow")
    _decide(ctx, "H-GREEN", "green")
    with ctx.unit() as unit:
        propose(
            unit,
            red,
            lane=Lane.GREEN,
            reason="known trader",
            actor="o",
            roles=[Role.EXAMINING_OFFICER],
        )
    import_packaged(ctx)
    make_transit(ctx, "HOME-1")
    writer = Ingestor(ctx)
    writer.start()
    done = threading.Event()
    writer.submit(
        [incoming(position("HOME-1", VOI, events=(SealEvent.OPENED,)))],
        "HOME-1",
        lambda ok: done.set(),
    )
    assert done.wait(10)
    writer.stop()
    return {"red": red}


def test_each_role_sees_its_work(ctx: AppContext, client: TestClient, busy: dict[str, int]) -> None:
    add_user(ctx, "officer", Role.EXAMINING_OFFICER)
    login(client, "officer")
    page = client.get("/", headers=HTML).text
    assert _work(page, "examinations") == 2
    assert f'href="/declarations/{busy["red"]}"' in page
    assert _work(page, "scans_to_examine") == 0
    assert "Web sessions" not in page and "Active API tokens" not in page
    client.post("/logout", data={})

    add_user(ctx, "operator", Role.COMMAND_CENTRE_OPERATOR)
    login(client, "operator")
    page = client.get("/", headers=HTML).text
    assert _work(page, "critical_alerts") == 1
    assert _work(page, "open_alerts") == 1
    assert 'data-work="examinations"' not in page

    add_user(ctx, "boss", Role.SUPERVISOR)
    login(client, "boss")
    page = client.get("/", headers=HTML).text
    assert _work(page, "overrides") == 1
    assert _work(page, "rules") == 0

    add_user(ctx, "analyst", Role.IMAGE_ANALYST)
    login(client, "analyst")
    page = client.get("/", headers=HTML).text
    assert _work(page, "scans_to_review") == 0
    assert "No scan is waiting for review." in page


def test_only_administrators_see_accounts(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    login(client, "admin")
    page = client.get("/", headers=HTML).text
    assert "Web sessions" in page and "Active API tokens" in page
    assert "Web sessions" in client.get("/ui/status", headers=HTML).text
    assert _work(page, "devices") == 0


@pytest.mark.parametrize("role", sorted(ALL_ROLES - {Role.ADMINISTRATOR}))
def test_no_other_role_sees_accounts(ctx: AppContext, client: TestClient, role: Role) -> None:
    add_user(ctx, "someone", role)
    login(client, "someone")
    page = client.get("/", headers=HTML)
    assert page.status_code == 200
    assert "Web sessions" not in page.text and "Active API tokens" not in page.text
    fragment = client.get("/ui/status", headers=HTML)
    assert fragment.status_code == 200
    assert "Web sessions" not in fragment.text
