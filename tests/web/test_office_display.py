"""Pages show an office by its name, not its UN/LOCODE — the registered office's name, else the
packaged UN/LOCODE point's, else the code — and its times in the office's own time zone (the
instance's ``time_zone`` when the office has none), to the second, never with microseconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings
from smartcustoms.reference.offices import OfficeInput, save_office
from smartcustoms.tracking.tables import TransitRow
from tests.conftest import add_user, login
from tests.declarations.helpers import declaration
from tests.tracking.helpers import import_packaged, make_transit
from tests.web.conftest import bearer

HTML = {"accept": "text/html"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The instance's zone is UTC; the office's is three hours ahead. No random lanes.
    return settings.model_copy(
        update={
            "time_zone": "UTC",
            "risk_random_control_share": 0.0,
            "risk_exploration_share": 0.0,
        }
    )


def _office(ctx: AppContext, zone: str) -> None:
    with ctx.unit() as unit:
        save_office(
            unit,
            OfficeInput("KEMBA", "Mombasa Long Room", zone, examination_capacity=40),
            actor="test",
        )


def _lodged(page: str) -> str:
    found = re.search(r'data-testid="lodged">([^<]+)<', page)
    assert found, "the declaration page says when it was lodged"
    return found.group(1)


def test_declarations_show_the_office_name_and_its_local_time(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    # Lodged 08:30 in Mombasa (05:30 UTC); the second one at an office nobody registered.
    kemba = client.post(
        "/api/declarations",
        headers=bearer(role_tokens[Role.DECLARANT]),
        json=declaration(lrn="OFF-1", issue_datetime="2026-11-20T08:30:00.123456+03:00"),
    )
    dar = client.post(
        "/api/declarations",
        headers=bearer(role_tokens[Role.DECLARANT]),
        json=declaration(lrn="OFF-2", office_of_declaration="TZDAR"),
    )
    assert kemba.status_code == dar.status_code == 201
    add_user(ctx, "officer", Role.EXAMINING_OFFICER)
    login(client, "officer")

    # Not registered yet: the UN/LOCODE point's name and the instance's zone (UTC).
    page = client.get(f"/declarations/{kemba.json()['id']}", headers=HTML).text
    assert "Mombasa" in page and "Mombasa Long Room" not in page
    assert "5:30:00" in _lodged(page) and ".123" not in _lodged(page)

    _office(ctx, "Africa/Nairobi")
    page = client.get(f"/declarations/{kemba.json()['id']}", headers=HTML).text
    assert "Mombasa Long Room" in page
    assert "8:30:00" in _lodged(page)
    _office(ctx, "Africa/Lagos")  # UTC+1: the same moment reads 06:30
    assert "6:30:00" in _lodged(client.get(f"/declarations/{kemba.json()['id']}").text)

    queue = client.get("/declarations?lane=all", headers=HTML).text
    cells = dict(re.findall(r'data-office="(\w+)"><bdi>([^<]+)</bdi>', queue))
    assert cells == {"KEMBA": "Mombasa Long Room", "TZDAR": "Dar es Salaam"}


def test_transit_pages_name_the_offices_and_use_the_destinations_time(
    ctx: AppContext, client: TestClient
) -> None:
    import_packaged(ctx)
    transit_id = make_transit(ctx, "SEAL-OFF-1", arm=False, origin="KEMBA", destination="UGKLA")
    deadline = datetime(2026, 12, 1, 9, 15, 30, 654321, tzinfo=UTC)
    with ctx.db.session() as session:
        row = session.get(TransitRow, transit_id)
        assert row is not None
        row.deadline = deadline
    _office(ctx, "Africa/Nairobi")
    add_user(ctx, "officer", Role.EXAMINING_OFFICER)
    login(client, "officer")

    page = client.get(f"/tracking/transits/{transit_id}", headers=HTML).text
    route = re.search(r'data-testid="route">(.*?)</dd>', page, flags=re.S)
    assert route
    assert "Mombasa Long Room" in route.group(1) and "Kampala" in route.group(1)
    assert ">KEMBA<" not in route.group(1)
    # UGKLA is no registered office: the deadline reads in the instance's zone, to the second.
    shown = re.search(r'data-testid="deadline">([^<]+)<', page)
    assert shown and "9:15:30" in shown.group(1) and "654" not in shown.group(1)

    listing = client.get("/tracking/transits?status=all", headers=HTML).text
    assert "Mombasa Long Room" in listing and "9:15:30" in listing
