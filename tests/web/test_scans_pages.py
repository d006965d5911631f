"""The review station's pages: the queue (flagged first), a scan beside its declaration, the
forms each role sees, decisions through the forms, and the pages in French."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.storage import store_for
from smartcustoms.scans.tables import ScanRow
from smartcustoms.web.i18n import translations
from tests.conftest import add_user, login
from tests.scans.stored import CLEAN, FLAGGED, case, declaration_for, lodge, write


def receive(ctx: AppContext, tmp_path: Path) -> tuple[int, int]:
    """A clear scan received first, then a flagged one: (flagged id, clear id)."""
    flagged, clean = case(FLAGGED), case(CLEAN)
    ids = lodge(ctx, declaration_for(clean), declaration_for(flagged))
    out = []
    for item, declaration_id, name in ((clean, ids[0], "clean"), (flagged, ids[1], "flagged")):
        path = write(item, tmp_path, name)
        with ctx.unit() as unit:
            received = receive_scan(
                unit,
                store_for(ctx.settings),
                Upload(path.read_bytes(), path.name, declaration_id),
                actor="scanner",
                source="api",
            )
            out.append(received.scan.id)
    return out[1], out[0]


def test_queue_station_and_decision_through_the_form(
    ctx: AppContext, client: TestClient, tmp_path: Path
) -> None:
    flagged_id, clear_id = receive(ctx, tmp_path)
    add_user(ctx, "ana", Role.IMAGE_ANALYST)
    csrf = login(client, "ana")
    home = client.get("/", headers={"accept": "text/html"}).text
    assert 'href="/scans"' in home  # the navigation offers the station

    queue = client.get("/scans").text
    order = [int(n) for n in re.findall(r'data-scan="(\d+)"', queue)]
    assert order == [flagged_id, clear_id]  # flagged first, though received last
    assert "Unlike the declared goods" in queue and "Alarm" in queue

    page = client.get(f"/scans/{flagged_id}").text
    assert 'src="/static/js/scan-viewer.js"' in page
    assert "<script>" not in page and " style=" not in page  # the CSP allows neither
    data = json.loads(re.search(r'id="scan-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert data["src"] == f"/api/scans/{flagged_id}/attenuation.png"
    (machine,) = data["machine"]
    assert machine["flag"] == "THREAT" and machine["label"] == f"#{machine['id']}"
    flagged = case(FLAGGED)
    assert flagged.hs_code in page and flagged.container in page  # the declaration beside it
    assert 'data-testid="review-form"' in page
    assert 'data-testid="recheck-form"' not in page  # not a supervisor
    assert 'data-testid="examination-form"' not in page  # not an examining officer

    regions = json.dumps([{"col0": 10, "row0": 20, "col1": 60, "row1": 80, "label": "block"}])
    response = client.post(
        f"/scans/{flagged_id}/review",
        data={"decision": "physical_examination", "regions": regions, "note": "dense block",
              "seconds_open": "42", "csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303, response.text
    after = client.get(response.headers["location"]).text
    assert 'data-testid="scan-saved"' in after and "Awaiting examination" in after
    assert "1 region marked" in after and "block" in after
    with ctx.db.session() as session:
        row = session.scalars(select(ScanRow).where(ScanRow.id == flagged_id)).one()
        assert row.reviews[0].regions[0]["col1"] == 60 and row.reviews[0].seconds_open == 42

    # A second decision is refused on the page, with the reason.
    again = client.post(
        f"/scans/{flagged_id}/review",
        data={"decision": "clear", "csrf_token": csrf},
    )
    assert again.status_code == 409 and "already reviewed" in again.text
    broken = client.post(
        f"/scans/{clear_id}/review",
        data={"decision": "clear", "regions": "[{", "csrf_token": csrf},
    )
    assert broken.status_code == 422 and "mark them again" in broken.text
    without_csrf = client.post(f"/scans/{clear_id}/review", data={"decision": "clear"})
    assert without_csrf.status_code == 403


def test_officer_records_the_result_and_supervisor_rechecks(
    ctx: AppContext, client: TestClient, tmp_path: Path
) -> None:
    flagged_id, clear_id = receive(ctx, tmp_path)
    add_user(ctx, "ana", Role.IMAGE_ANALYST)
    add_user(ctx, "sup", Role.SUPERVISOR)
    add_user(ctx, "off", Role.EXAMINING_OFFICER)
    csrf = login(client, "ana")
    client.post(f"/scans/{flagged_id}/review", data={"decision": "suspect", "csrf_token": csrf})
    client.post("/logout", data={"csrf_token": csrf})

    csrf = login(client, "sup")
    assert "To re-check" in client.get("/scans?queue=recheck").text
    page = client.get(f"/scans/{flagged_id}").text
    assert 'data-testid="recheck-form"' in page and 'data-testid="review-form"' not in page
    done = client.post(
        f"/scans/{flagged_id}/recheck",
        data={"decision": "physical_examination", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    client.post("/logout", data={"csrf_token": csrf})

    csrf = login(client, "off")
    listed = client.get("/scans?queue=examination").text
    assert f'data-scan="{flagged_id}"' in listed and f'data-scan="{clear_id}"' not in listed
    page = client.get(f"/scans/{flagged_id}").text
    assert 'data-testid="examination-form"' in page
    bad = client.post(
        f"/scans/{flagged_id}/examination",
        data={"outcome": "irregular", "found_kg": "lots", "csrf_token": csrf},
    )
    assert bad.status_code == 422 and "found_kg must be a number" in bad.text
    recorded = client.post(
        f"/scans/{flagged_id}/examination",
        data={"outcome": "irregular", "codes": ["concealment", "undeclared"], "found_kg": "198,5",
              "csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert recorded.status_code == 303
    result = client.get(f"/scans/{flagged_id}").text
    assert "Concealed goods, Undeclared goods" in result and "Found: 198.5 kg" in result


def test_station_in_french(ctx: AppContext, client: TestClient, tmp_path: Path) -> None:
    flagged_id, _ = receive(ctx, tmp_path)
    add_user(ctx, "ana", Role.IMAGE_ANALYST)
    csrf = login(client, "ana")
    client.post("/lang", data={"language": "fr", "next": "/", "csrf_token": csrf})
    fr = translations("fr").gettext
    page = client.get(f"/scans/{flagged_id}").text
    assert '<html lang="fr">' in page
    for text in ("Mark a region", "What the machine found", "Record the decision", "Contrast"):
        assert fr(text) != text and fr(text) in page, text
    assert fr("Unlike the declared goods") in client.get("/scans").text


def test_readers_only(ctx: AppContext, client: TestClient, tmp_path: Path) -> None:
    flagged_id, _ = receive(ctx, tmp_path)
    add_user(ctx, "broker", Role.DECLARANT)
    login(client, "broker")
    assert client.get("/scans", headers={"accept": "text/html"}).status_code == 403
    assert client.get(f"/scans/{flagged_id}").status_code == 403
    assert client.get(f"/api/scans/{flagged_id}/image.png").status_code == 403


def test_station_draws_the_container_frame_and_says_when_unsure(
    ctx: AppContext, client: TestClient, tmp_path: Path
) -> None:
    _, clear_id = receive(ctx, tmp_path)
    add_user(ctx, "ana", Role.IMAGE_ANALYST)
    csrf = login(client, "ana")

    def shown() -> tuple[str, dict[str, Any]]:
        page = html.unescape(client.get(f"/scans/{clear_id}").text)
        found = re.search(r'id="scan-data">(.*?)</script>', page, re.S)
        assert found is not None
        return page, json.loads(found.group(1))

    page, data = shown()
    roof, floor, left, right = data["frame"]["lines"]  # drawn over the image by the viewer
    assert len(roof) == len(floor) == 9 and len(left) == len(right) == 2
    assert all(r[1] < f[1] for r, f in zip(roof, floor, strict=True))  # the roof above the floor
    assert data["frame"]["unsure"] is False
    assert "Container frame found: tilt" in page and "unsure where the container" not in page

    # A frame the analysis was unsure of is said so, in the analyst's language.
    with ctx.db.session() as session:
        row = session.get(ScanRow, clear_id)
        assert row is not None
        report = dict(row.report)
        report["scan"] = {**report["scan"], "frame": {**report["scan"]["frame"], "unsure": True}}
        row.report = report
        session.commit()
    client.post("/lang", data={"language": "fr", "next": "/", "csrf_token": csrf})
    page, data = shown()
    assert data["frame"]["unsure"] is True
    fr = translations("fr").gettext
    unsure = fr(
        "The analysis was unsure where the container is in this image (confidence "
        "%(confidence)s): check its frame lines before trusting the empty and mass checks."
    )
    assert unsure.startswith("L'analyse") and unsure.split("(")[0] in page
