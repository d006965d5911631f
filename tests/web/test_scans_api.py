"""POST /api/scans and the review workflow over HTTP, with real simulated TIFF and DICOS files:
upload and analysis, the stored file, the image, malformed and inconsistent files, reviews,
re-check with four eyes, the examination result and the ledger records of every step."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.events import Event
from smartcustoms.core.roles import Role
from smartcustoms.ledger.service import ledger_of
from smartcustoms.scans.storage import store_for
from smartcustoms.scans.tables import HistoryLoadRow, ScanRow
from tests.scans.stored import CLEAN, FLAGGED, MASS, case, declaration_for, lodge, write
from tests.web.conftest import bearer


def upload(
    client: TestClient,
    token: str,
    path: Path,
    declaration_id: int,
    *,
    sidecar: Path | None = None,
    **fields: Any,
) -> Any:
    files: dict[str, Any] = {"file": (path.name, path.read_bytes(), "application/octet-stream")}
    if sidecar is not None:
        files["sidecar"] = (sidecar.name, sidecar.read_bytes(), "application/json")
    data = {"declaration_id": str(declaration_id), **{k: str(v) for k, v in fields.items()}}
    return client.post("/api/scans", headers=bearer(token), files=files, data=data)


def png_size(body: bytes) -> tuple[int, int, int]:
    """(width, height, colour type) from a PNG's IHDR, after checking its CRC."""
    assert body[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", body[8:16])
    assert kind == b"IHDR"
    chunk = body[16 : 16 + length]
    (crc,) = struct.unpack(">I", body[16 + length : 20 + length])
    assert crc == zlib.crc32(kind + chunk) & 0xFFFFFFFF
    width, height, _, colour = struct.unpack(">IIBB", chunk[:10])
    return width, height, colour


def test_upload_tiff_analyse_store_and_view(
    ctx: AppContext,
    client: TestClient,
    role_tokens: dict[Role, str],
    tmp_path: Path,
    events: list[Event],
) -> None:
    flagged = case(FLAGGED)
    (declaration_id,) = lodge(ctx, declaration_for(flagged))
    path = write(flagged, tmp_path, "KE-MSA-0001", embed=False)
    scanner = role_tokens[Role.EXAMINING_OFFICER]
    response = upload(client, scanner, path, declaration_id, sidecar=path.with_suffix(".json"))
    assert response.status_code == 201, response.text
    scan = response.json()
    assert scan["created"] is True
    assert scan["alarm_decision"] == "ALARM" and scan["status"] == "awaiting_review"
    assert scan["container_number"] == flagged.container
    assert scan["file_format"] == "tiff" and scan["file_name"] == "KE-MSA-0001.tif"
    report = scan["report"]
    assert report["format"] == "smartcustoms.scan-findings/1"
    (finding,) = report["threat_objects"]
    assert finding["assessment"]["category"] == "CONCEALMENT"
    # The machine's box overlaps the block the simulator hid.
    box = finding["region"]["bounding_box_px"]
    (hidden,) = flagged.sim.truth.concealed
    c0, r0, c1, r1 = hidden.bbox_px
    assert box["col0"] < c1 and c0 < box["col1"] and box["row0"] < r1 and r0 < box["row1"]
    assert report["declared"]["hs_code"] == flagged.hs_code
    assert report["declared"]["mass_source"] == "declaration"

    # The file is in the scan store under its SHA-256, byte for byte, with its sidecar.
    store = store_for(ctx.settings)
    stored = store.path(scan["file_sha256"], "tiff")
    assert stored.read_bytes() == path.read_bytes()
    assert (
        store.sidecar_path(scan["file_sha256"]).read_bytes()
        == path.with_suffix(".json").read_bytes()
    )
    assert store.verify(scan["file_sha256"], "tiff")

    analyst = bearer(role_tokens[Role.IMAGE_ANALYST])
    read = client.get(f"/api/scans/{scan['id']}", headers=analyst).json()
    assert read["report"] == report and read["reviews"] == [] and read["examination"] is None
    queue = client.get("/api/scans?queue=review", headers=analyst).json()
    assert [s["id"] for s in queue] == [scan["id"]]

    image = client.get(f"/api/scans/{scan['id']}/image.png?low=0&high=5", headers=analyst)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    rows, cols = flagged.sim.scan.shape
    assert png_size(image.content) == (cols, rows, 2)  # RGB, material colours
    grey = client.get(f"/api/scans/{scan['id']}/image.png?colour=grey&invert=true", headers=analyst)
    assert png_size(grey.content) == (cols, rows, 0)
    assert (
        grey.content
        != client.get(f"/api/scans/{scan['id']}/image.png?colour=grey", headers=analyst).content
    )
    data = client.get(f"/api/scans/{scan['id']}/attenuation.png", headers=analyst)
    assert png_size(data.content) == (cols, rows, 2)
    assert store.view_path(scan["file_sha256"]).is_file()  # kept for the next view
    bad_window = client.get(f"/api/scans/{scan['id']}/image.png?low=4&high=2", headers=analyst)
    assert bad_window.status_code == 422

    received = [e for e in events if e.type == "scans.received"]
    assert len(received) == 1
    record = received[0].as_record()
    assert record["scan_id"] == scan["id"] and record["alarm_decision"] == "ALARM"
    assert record["file_sha256"] == scan["file_sha256"]

    # The same file again is the same scan; linked elsewhere it is refused.
    again = upload(client, scanner, path, declaration_id, sidecar=path.with_suffix(".json"))
    assert again.status_code == 200 and again.json()["id"] == scan["id"]
    assert again.json()["created"] is False
    (other,) = lodge(ctx, declaration_for(flagged, lrn="OTHER-1"))
    clash = upload(client, scanner, path, other, sidecar=path.with_suffix(".json"))
    assert clash.status_code == 409
    assert f"scan {scan['id']}" in clash.json()["error"]["message"]


def test_upload_dicos_clear_scan(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str], tmp_path: Path
) -> None:
    clean = case(CLEAN)
    (declaration_id,) = lodge(ctx, declaration_for(clean))
    path = write(clean, tmp_path, "scan", "dicos")
    response = upload(client, role_tokens[Role.IMAGE_ANALYST], path, declaration_id)
    assert response.status_code == 201, response.text
    scan = response.json()
    assert scan["file_format"] == "dicos" and scan["alarm_decision"] == "CLEAR"
    assert scan["report"]["threat_objects"] == []
    mass = next(c for c in scan["report"]["checks"] if c["analysis"] == "mass")
    assert mass["status"] == "pass"


def test_under_declared_mass_is_flagged(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str], tmp_path: Path
) -> None:
    heavy = case(MASS, under_kg=3000)
    (declaration_id,) = lodge(ctx, declaration_for(heavy))
    path = write(heavy, tmp_path, "bags")
    scan = upload(client, role_tokens[Role.EXAMINING_OFFICER], path, declaration_id).json()
    assert scan["alarm_decision"] == "ALARM"
    categories = [f["assessment"]["category"] for f in scan["report"]["threat_objects"]]
    assert categories == ["MASS_DISCREPANCY"]
    # Given with the scan, this container's goods mass replaces the declaration's.
    path2 = write(case(MASS), tmp_path / "b", "bags")
    truthful = upload(
        client, role_tokens[Role.EXAMINING_OFFICER], path2, declaration_id,
        goods_gross_kg=case(MASS).goods_gross_kg,
    )  # fmt: skip
    assert truthful.status_code == 200  # the same bytes: the scan already stored is returned


BAD_FILES = [
    ("empty", "file", "the file is empty"),
    ("png", "header", "unrecognised format"),
    ("truncated", None, "KE-1.tif"),
    ("sidecar-json", "sidecar", "line 1"),
    ("sidecar-pitch", "pixel_pitch_mm.x", "positive number"),
    ("sidecar-pages", "channels[1].page", "the file has 2"),
    ("no-sidecar", "sidecar", "no sidecar"),
    ("container-invalid", "container_number", "not a valid ISO 6346"),
    ("container-other", "container_number", "the scan file says"),
    ("wrong-declaration", "declaration_id", "names declaration"),
    ("unknown-declaration", "declaration_id", "no declaration 999999"),
    ("not-on-declaration", "container_number", "which lists CSQU3054383"),
]


def test_unreadable_or_inconsistent_files_are_refused(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str], tmp_path: Path
) -> None:
    """Each bad upload is refused with 422 naming the field at fault; nothing is stored."""
    flagged = case(FLAGGED)
    elsewhere = declaration_for(flagged, lrn=flagged.reference + "-B")
    elsewhere["transport_equipment"] = [{"container_id": "CSQU3054383"}]
    good_id, other_id, elsewhere_id = lodge(
        ctx, declaration_for(flagged), declaration_for(flagged, lrn="SOMETHING-ELSE"), elsewhere
    )
    for mutate, field, words in BAD_FILES:
        path = write(flagged, tmp_path / mutate, "KE-1", embed=False)
        sidecar: Path | None = path.with_suffix(".json")
        assert sidecar is not None
        meta = json.loads(sidecar.read_text())
        fields: dict[str, Any] = {}
        declaration_id = good_id
        if mutate == "empty":
            path.write_bytes(b"")
        elif mutate == "png":
            path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 200)
        elif mutate == "truncated":
            path.write_bytes(path.read_bytes()[:5000])
        elif mutate == "sidecar-json":
            sidecar.write_text('{"format": ')
        elif mutate == "sidecar-pitch":
            meta["pixel_pitch_mm"]["x"] = -1
            sidecar.write_text(json.dumps(meta))
        elif mutate == "sidecar-pages":
            meta["channels"][1]["page"] = 5
            sidecar.write_text(json.dumps(meta))
        elif mutate == "no-sidecar":
            sidecar = None
        elif mutate == "container-invalid":
            fields["container_number"] = "MSCU1234567"
        elif mutate == "container-other":
            fields["container_number"] = "CSQU3054383"
        elif mutate == "wrong-declaration":
            declaration_id = other_id
        elif mutate == "unknown-declaration":
            declaration_id = 999999
        elif mutate == "not-on-declaration":
            declaration_id = elsewhere_id
        response = upload(
            client, role_tokens[Role.EXAMINING_OFFICER], path, declaration_id, sidecar=sidecar,
            **fields,
        )  # fmt: skip
        assert response.status_code == 422, (mutate, response.text)
        error = response.json()["error"]
        assert words in error["message"], (mutate, error)
        if field is not None:
            assert any(d.get("field") == field for d in error["details"]), (mutate, error)
    with ctx.db.session() as session:
        assert session.scalars(select(ScanRow)).all() == []  # nothing half-stored
    store = store_for(ctx.settings)
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_upload_body_limit(ctx: AppContext, role_tokens: dict[Role, str], tmp_path: Path) -> None:
    from smartcustoms.web.app import create_app

    ctx.settings.max_upload_bytes = 4096
    small = create_app(ctx)
    with TestClient(small, raise_server_exceptions=False) as c:
        flagged = case(FLAGGED)
        (declaration_id,) = lodge(ctx, declaration_for(flagged))
        response = upload(
            c, role_tokens[Role.EXAMINING_OFFICER], write(flagged, tmp_path, "big"), declaration_id
        )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_review_recheck_examination_and_ledger(
    ctx: AppContext,
    client: TestClient,
    role_tokens: dict[Role, str],
    tmp_path: Path,
    events: list[Event],
) -> None:
    flagged, clean = case(FLAGGED), case(CLEAN)
    ids = lodge(ctx, declaration_for(flagged), declaration_for(clean))
    scanner = role_tokens[Role.EXAMINING_OFFICER]
    alarm = upload(client, scanner, write(flagged, tmp_path, "a"), ids[0]).json()
    quiet = upload(client, scanner, write(clean, tmp_path, "b"), ids[1]).json()
    analyst = bearer(role_tokens[Role.IMAGE_ANALYST])
    # Flagged first in the queue.
    queue = client.get("/api/scans?queue=review", headers=analyst).json()
    assert [s["id"] for s in queue] == [alarm["id"], quiet["id"]]

    # Clearing a scan the machine did not flag closes it, and its load joins the history.
    cleared = client.post(
        f"/api/scans/{quiet['id']}/review", headers=analyst, json={"decision": "clear"}
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["status"] == "cleared"
    with ctx.db.session() as session:
        (load,) = session.scalars(select(HistoryLoadRow)).all()
        assert load.scan_id == quiet["id"] and load.heading == clean.hs_code[:4]

    # Bad reviews name the field.
    inverted = {"col0": 5, "row0": 5, "col1": 4, "row1": 9}
    outside = {"col0": 0, "row0": 0, "col1": 99999, "row1": 9}
    for body, field in (
        ({"decision": "maybe"}, "decision"),
        ({"decision": "suspect", "regions": [inverted]}, "regions[0]"),
        ({"decision": "suspect", "regions": [outside]}, "regions[0].col1"),
    ):
        bad = client.post(f"/api/scans/{alarm['id']}/review", headers=analyst, json=body)
        assert bad.status_code == 422, bad.text
        assert any(d.get("field") == field for d in bad.json()["error"]["details"]), bad.json()

    box = alarm["report"]["threat_objects"][0]["region"]["bounding_box_px"]
    mark = {**box, "label": "dense block behind cartons"}
    reviewed = client.post(
        f"/api/scans/{alarm['id']}/review",
        headers=analyst,
        json={"decision": "clear", "regions": [mark], "note": "looks like machinery parts"},
    )
    assert reviewed.status_code == 200, reviewed.text
    # Clearing what the machine flagged waits for a supervisor.
    assert reviewed.json()["status"] == "awaiting_recheck"
    assert reviewed.json()["reviews"][0]["regions"] == [mark]
    twice = client.post(
        f"/api/scans/{alarm['id']}/review", headers=analyst, json={"decision": "clear"}
    )
    assert twice.status_code == 409

    supervisor = bearer(role_tokens[Role.SUPERVISOR])
    settled = client.post(
        f"/api/scans/{alarm['id']}/recheck",
        headers=supervisor,
        json={"decision": "physical_examination", "note": "open it"},
    )
    assert settled.status_code == 200, settled.text
    assert settled.json()["status"] == "awaiting_examination"
    assert (
        client.get("/api/scans?queue=examination", headers=analyst).json()[0]["id"] == alarm["id"]
    )

    officer = bearer(role_tokens[Role.EXAMINING_OFFICER])
    incomplete = client.post(
        f"/api/scans/{alarm['id']}/examination", headers=officer, json={"irregular": True}
    )
    assert incomplete.status_code == 422
    result = client.post(
        f"/api/scans/{alarm['id']}/examination",
        headers=officer,
        json={"irregular": True, "codes": ["concealment"], "regions": [mark], "found_kg": "212.5",
              "weighed_net_kg": "10480"},
    )  # fmt: skip
    assert result.status_code == 201, result.text
    body = result.json()
    assert body["status"] == "examined"
    assert body["examination"]["codes"] == ["concealment"]
    assert body["examination"]["found_kg"] == "212.500"
    again = client.post(
        f"/api/scans/{alarm['id']}/examination", headers=officer, json={"irregular": False}
    )
    assert again.status_code == 409

    kinds = [e.type for e in events if e.type.startswith("scans.")]
    assert kinds == [
        "scans.received", "scans.received", "scans.reviewed", "scans.reviewed",
        "scans.rechecked", "scans.examined",
    ]  # fmt: skip
    rechecked = next(e for e in events if e.type == "scans.rechecked").as_record()
    assert rechecked["agrees"] is False and rechecked["analyst"] == "image-analyst"
    examined = next(e for e in events if e.type == "scans.examined").as_record()
    assert examined["codes"] == ["concealment"] and examined["found_kg"] == "212.500"
    # Every step is in the ledger, notes only as hashes.
    ledger = ledger_of(ctx)
    ledger.flush()  # committed with each step (the outbox); stored in the tree by the sequencer
    stored = [ledger.record(i) for i in range(ledger.size())]
    types = [r["type"] for r in stored if r["type"].startswith("scans.")]
    assert types == kinds
    assert all("looks like machinery" not in json.dumps(r) for r in stored)


def test_four_eyes_on_recheck(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str], tmp_path: Path
) -> None:
    from smartcustoms.core.tokens import create_token
    from smartcustoms.core.users import create_user, get_user
    from tests.conftest import PASSWORD

    with ctx.unit() as unit:
        create_user(
            unit, username="both", password=PASSWORD,
            roles=[Role.IMAGE_ANALYST, Role.SUPERVISOR], actor="test",
        )  # fmt: skip
        token = create_token(
            unit, get_user(unit.session, "both"), name="t", days=1, max_days=2, actor="test"
        ).secret
    flagged = case(FLAGGED)
    (declaration_id,) = lodge(ctx, declaration_for(flagged))
    scan = upload(
        client, role_tokens[Role.EXAMINING_OFFICER], write(flagged, tmp_path, "x"), declaration_id
    ).json()
    both = bearer(token)
    client.post(f"/api/scans/{scan['id']}/review", headers=both, json={"decision": "suspect"})
    own = client.post(f"/api/scans/{scan['id']}/recheck", headers=both, json={"decision": "clear"})
    assert own.status_code == 403 and own.json()["error"]["code"] == "four_eyes"
    other = client.post(
        f"/api/scans/{scan['id']}/recheck",
        headers=bearer(role_tokens[Role.SUPERVISOR]),
        json={"decision": "suspect"},
    )
    assert other.status_code == 422  # a re-check settles: clear or physical examination


def test_scan_bombs_are_refused_413_and_the_service_carries_on(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str], tmp_path: Path
) -> None:
    from tests.scans.readers import bombs

    flagged = case(FLAGGED)
    (declaration_id,) = lodge(ctx, declaration_for(flagged))
    scanner = role_tokens[Role.EXAMINING_OFFICER]
    for bomb, field in (
        (bombs.two_huge_deflate_pages(tmp_path), "page 0 ImageLength"),
        (bombs.many_megapixels(tmp_path), "page 0"),
    ):
        refused = upload(client, scanner, bomb, declaration_id, sidecar=bomb.with_suffix(".json"))
        assert refused.status_code == 413, refused.text
        error = refused.json()["error"]
        assert error["code"] == "scan_too_large"
        (detail,) = error["details"]
        assert detail["field"] == field and detail["file"] == bomb.name
        assert detail["setting"] in ("scan_max_side", "scan_max_pixels")
    strip = bombs.deflate_strip_bomb(tmp_path)
    refused = upload(client, scanner, strip, declaration_id, sidecar=strip.with_suffix(".json"))
    assert refused.status_code == 422 and "decodes to more than" in refused.text
    with ctx.db.session() as session:
        assert session.scalars(select(ScanRow)).all() == []
    assert not [p for p in store_for(ctx.settings).root.rglob("*") if p.is_file()]
    # The next upload is received as usual.
    good = upload(client, scanner, write(flagged, tmp_path, "ok"), declaration_id)
    assert good.status_code == 201, good.text
