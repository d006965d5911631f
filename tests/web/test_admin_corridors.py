"""Corridors, by administrators only: the list (/api/admin/corridors, /admin/corridors), an
import from the page — a file, pasted text or the packaged corridors — that is all or nothing
and names the refused feature and its field, and each corridor on its map page."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from tests.conftest import add_user, login
from tests.tracking.helpers import import_packaged
from tests.web.admin_helpers import NOT_ADMIN, records, sign_in
from tests.web.conftest import bearer

LINE = {"type": "LineString", "coordinates": [[39.66, -4.05], [38.55, -3.39], [36.82, -1.29]]}


def _collection(*features: dict[str, object]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def _corridor(code: str, **props: object) -> dict[str, object]:
    return {"type": "Feature", "geometry": LINE, "properties": {"code": code, **props}}


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found
    return found.group(1)


def test_list_through_the_api(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    import_packaged(ctx)
    listed = client.get("/api/admin/corridors", headers=bearer(role_tokens[Role.ADMINISTRATOR]))
    assert listed.status_code == 200
    body = listed.json()
    assert [c["code"] for c in body["corridors"]] == ["central", "northern"]
    assert body["zones"] == 15
    assert all(c["buffer_m"] == 10_000 and c["length_km"] > 100 for c in body["corridors"])


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_every_other_role_is_refused(
    client: TestClient, role_tokens: dict[Role, str], role: Role
) -> None:
    assert client.get("/api/admin/corridors", headers=bearer(role_tokens[role])).status_code == 403


def test_import_from_the_page_names_the_refused_feature(
    ctx: AppContext, client: TestClient
) -> None:
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    csrf = login(client, "admin")
    assert 'data-testid="no-corridors"' in client.get("/admin/corridors").text

    # The third feature's buffer is not a number: nothing is imported, the page says which.
    bad = _collection(
        _corridor("ok-1", name="First"),
        _corridor("ok-2", name="Second"),
        _corridor("bad", buffer_m="wide"),
    )
    refused = client.post("/admin/corridors/import", data={"csrf_token": csrf, "text": bad})
    assert refused.status_code == 422, refused.text
    assert 'data-feature="2"' in refused.text
    assert 'data-field="features[2].properties.buffer_m"' in refused.text
    assert str(escape(bad)) in refused.text  # the pasted text is kept
    assert "ok-1" not in client.get("/api/admin/corridors").text
    assert records(ctx, "tracking.corridor_imported") == []

    # A malformed threshold in a feature's thresholds is named the same way.
    thresholds = _collection(_corridor("t", thresholds={"deviation_minutes": -5}))
    refused = client.post("/admin/corridors/import", data={"csrf_token": csrf, "text": thresholds})
    assert refused.status_code == 422
    assert 'data-feature="0"' in refused.text

    # A feature without a geometry, and text that is not JSON at all.
    no_geometry = json.dumps(
        {"type": "FeatureCollection", "features": [_corridor("a"), {"type": "Feature"}]}
    )
    refused = client.post("/admin/corridors/import", data={"csrf_token": csrf, "text": no_geometry})
    assert refused.status_code == 422 and 'data-feature="1"' in refused.text
    broken = client.post(
        "/admin/corridors/import", data={"csrf_token": csrf, "text": '{"type": "Feature'}
    )
    assert broken.status_code == 422
    assert "line 1" in broken.text
    empty = client.post("/admin/corridors/import", data={"csrf_token": csrf, "text": " "})
    assert empty.status_code == 422 and 'data-field="file"' in empty.text

    # A file upload, with hostile text in the name: imported, shown escaped.
    hostile = "<script>alert(1)</script>"
    good = _collection(_corridor("coast", name=hostile, buffer_m=3000))
    imported = client.post(
        "/admin/corridors/import",
        data={"csrf_token": csrf},
        files={"file": ("coast.geojson", good.encode(), "application/geo+json")},
    )
    assert imported.status_code == 200, imported.text
    assert 'data-testid="imported"' in imported.text
    assert 'data-code="coast"' in imported.text
    assert hostile not in imported.text
    assert [r["corridors"] for r in records(ctx, "tracking.corridor_imported")] == [["coast"]]

    packaged = client.post("/admin/corridors/import", data={"csrf_token": csrf, "packaged": "true"})
    assert packaged.status_code == 200
    assert 'data-code="northern"' in packaged.text and 'data-code="KEMBA"' in packaged.text


def test_the_map_page(ctx: AppContext, client: TestClient) -> None:
    import_packaged(ctx)
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    login(client, "admin")
    page = client.get("/admin/corridors/northern")
    assert page.status_code == 200
    assert 'data-corridor="northern"' in page.text
    assert "/static/js/admin-corridor.js" in page.text
    assert "/static/vendor/leaflet/leaflet.js" in page.text
    assert client.get("/static/js/admin-corridor.js").status_code == 200
    # The layers it draws are readable by the administrator.
    assert client.get("/api/tracking/map").status_code == 200
    assert client.get("/admin/corridors/nowhere").status_code == 404


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_the_pages_refuse_every_other_role(ctx: AppContext, client: TestClient, role: Role) -> None:
    csrf = sign_in(ctx, client, role)
    assert client.get("/admin/corridors").status_code == 403
    assert client.get("/admin/corridors/northern").status_code == 403
    posted = client.post("/admin/corridors/import", data={"csrf_token": csrf, "packaged": "true"})
    assert posted.status_code == 403
    assert records(ctx, "tracking.corridor_imported") == []
