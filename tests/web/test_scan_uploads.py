"""Resumable scan uploads (tus 1.0) against a real `smartcustoms serve`: an independent tus
client (tuspy) uploads in pieces, a connection dropped in the middle of a piece is resumed
from where the server says it stands, and every wrong request is refused with its reason."""

from __future__ import annotations

import base64
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx2
from tusclient import client as tus

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.tokens import create_token
from smartcustoms.core.users import get_user
from tests.browser.conftest import Server, username_for
from tests.browser.conftest import server as live_server  # noqa: F401 - a fixture
from tests.scans.stored import CLEAN, FLAGGED, case, declaration_for, lodge, write
from tests.waiting import wait_for

SEEDED: dict[str, Any] = {}


def seed_server(ctx: AppContext) -> None:
    """Two declarations with their scan files, and API tokens for the roles the tests use."""
    folder = ctx.settings.data_dir / "incoming"
    for name, scenario in (("clean", CLEAN), ("flagged", FLAGGED)):
        item = case(scenario)
        (declaration_id,) = lodge(ctx, declaration_for(item))
        path = write(item, folder, f"KE-MSA-{name}", embed=True)
        SEEDED[name] = (declaration_id, path)
    with ctx.unit() as unit:
        for role in (Role.EXAMINING_OFFICER, Role.IMAGE_ANALYST, Role.AUDITOR):
            user = get_user(unit.session, username_for(role))
            assert user is not None
            SEEDED[role] = create_token(
                unit, user, name="uploads", days=1, max_days=10, actor="test"
            ).secret


def _auth(role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {SEEDED[role]}"}


def _tus(role: Role = Role.EXAMINING_OFFICER) -> dict[str, str]:
    return {**_auth(role), "Tus-Resumable": "1.0.0"}


def _metadata(**fields: object) -> str:
    return ",".join(f"{k} {base64.b64encode(str(v).encode()).decode()}" for k, v in fields.items())


def _start(
    server: Server, length: int, role: Role = Role.EXAMINING_OFFICER, **fields: object
) -> httpx2.Response:
    return httpx2.post(
        f"{server.url}/api/scans/uploads",
        headers={
            **_tus(role),
            "Upload-Length": str(length),
            "Upload-Metadata": _metadata(**fields),
        },
        timeout=10,
    )


def _head(server: Server, location: str, role: Role = Role.EXAMINING_OFFICER) -> httpx2.Response:
    return httpx2.head(server.url + location, headers=_tus(role), timeout=10)


def _patch(
    server: Server, location: str, offset: int, body: bytes, **headers: str
) -> httpx2.Response:
    return httpx2.patch(
        server.url + location,
        headers={
            **_tus(),
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            **headers,
        },
        content=body,
        timeout=60,
    )


def test_an_independent_tus_client_uploads_a_scan_in_pieces(live_server: Server) -> None:  # noqa: F811
    server = live_server
    declaration_id, path = SEEDED["flagged"]
    with path.open("rb") as stream:
        uploader = tus.TusClient(
            f"{server.url}/api/scans/uploads", headers=_auth(Role.EXAMINING_OFFICER)
        ).uploader(
            file_stream=stream,
            chunk_size=64 * 1024,
            metadata={"filename": path.name, "declaration_id": str(declaration_id)},
        )
        uploader.upload()
    location = urlsplit(str(uploader.url)).path
    done = _head(server, location)
    assert done.status_code == 200
    assert (
        done.headers["Upload-Offset"] == done.headers["Upload-Length"] == str(path.stat().st_size)
    )
    scan_url = done.headers["Smartcustoms-Scan"]
    scan = httpx2.get(server.url + scan_url, headers=_auth(Role.IMAGE_ANALYST), timeout=10).json()
    assert scan["declaration_id"] == declaration_id
    assert scan["file_name"] == path.name
    assert scan["alarm_decision"] == "ALARM"
    # A piece after the end is refused: the upload became that scan.
    late = _patch(server, location, path.stat().st_size, b"x")
    assert late.status_code == 409 and scan_url.rsplit("/", 1)[1] in late.json()["error"]["message"]


def test_a_dropped_connection_is_resumed_where_the_server_stands(live_server: Server) -> None:  # noqa: F811
    server = live_server
    declaration_id, path = SEEDED["clean"]
    data = path.read_bytes()
    started = _start(server, len(data), declaration_id=declaration_id, filename=path.name)
    assert started.status_code == 201, started.text
    location = started.headers["Location"]
    # One piece announced whole, then the line drops after 40 % of it.
    sent = int(len(data) * 0.4)
    host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
    with socket.create_connection((host, port), timeout=10) as line:
        head = (
            f"PATCH {location} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {SEEDED[Role.EXAMINING_OFFICER]}\r\nTus-Resumable: 1.0.0\r\n"
            f"Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        )
        line.sendall(head.encode() + data[:sent])
    wait_for(
        lambda: _head(server, location).headers.get("Upload-Offset") == str(sent),
        10.0,
        message="the server did not keep the bytes that arrived",
    )
    # The client goes on from there (tuspy asks the offset itself).
    with path.open("rb") as stream:
        uploader = tus.TusClient(
            f"{server.url}/api/scans/uploads", headers=_auth(Role.EXAMINING_OFFICER)
        ).uploader(file_stream=stream, url=server.url + location, chunk_size=256 * 1024)
        assert uploader.offset == sent
        uploader.upload()
    done = _head(server, location)
    assert done.headers["Upload-Offset"] == str(len(data))
    scan = httpx2.get(
        server.url + done.headers["Smartcustoms-Scan"],
        headers=_auth(Role.IMAGE_ANALYST),
        timeout=10,
    )
    assert scan.json()["declaration_id"] == declaration_id


def test_wrong_requests_are_refused_with_their_reason(live_server: Server) -> None:  # noqa: F811
    server = live_server
    declaration_id, _ = SEEDED["clean"]
    url = f"{server.url}/api/scans/uploads"
    no_version = httpx2.post(
        url, headers={**_auth(Role.EXAMINING_OFFICER), "Upload-Length": "10"}, timeout=10
    )
    assert no_version.status_code == 412
    assert _start(server, 10, role=Role.AUDITOR, declaration_id=declaration_id).status_code == 403
    missing = _start(server, 10, filename="a.tif")
    assert missing.status_code == 422 and "declaration_id" in missing.json()["error"]["message"]
    for bad in (
        {"declaration_id": "-3"},
        {"declaration_id": "1e400"},
        {"tare_kg": "nan", "declaration_id": 1},
    ):
        refused = _start(server, 10, **bad)
        assert refused.status_code == 422, (bad, refused.text)
    unknown = httpx2.post(
        url,
        headers={**_tus(), "Upload-Length": "10", "Upload-Metadata": "path L2V0Yy9wYXNzd2Q="},
        timeout=10,
    )
    assert unknown.status_code == 422 and "path" in unknown.json()["error"]["message"]
    assert _start(server, 10**12, declaration_id=declaration_id).status_code == 413

    location = _start(server, 100, declaration_id=declaration_id).headers["Location"]
    assert _patch(server, location, 5, b"abc").status_code == 409  # not where it stands
    wrong_type = _patch(server, location, 0, b"abc", **{"Content-Type": "application/json"})
    assert wrong_type.status_code == 415
    assert _patch(server, location, 0, b"a" * 101).status_code == 422  # past its length
    # Someone else's upload does not exist for them; made-up ids and paths neither.
    assert _head(server, location, role=Role.IMAGE_ANALYST).status_code == 404
    for forged in ("/api/scans/uploads/..%2F..%2Fsecret", "/api/scans/uploads/" + "0" * 32):
        assert _head(server, forged).status_code == 404
    assert httpx2.delete(server.url + location, headers=_tus(), timeout=10).status_code == 204
    assert _head(server, location).status_code == 404


def test_a_file_that_is_no_scan_is_refused_at_its_last_piece(live_server: Server) -> None:  # noqa: F811
    server = live_server
    declaration_id, _ = SEEDED["clean"]
    junk = b"II*\x00" + bytes(range(256)) * 40
    location = _start(server, len(junk), declaration_id=declaration_id).headers["Location"]
    assert _patch(server, location, 0, junk[:4000]).status_code == 204
    last = _patch(server, location, 4000, junk[4000:])
    assert last.status_code == 422, last.text
    assert _head(server, location).status_code == 404  # nothing left to resume
