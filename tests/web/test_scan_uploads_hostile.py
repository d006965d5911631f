"""Resumable scan uploads against a hostile client and a crashing server, on a real
`smartcustoms serve`: absurd lengths and metadata, a PATCH without its offset, other roles and
other users, a DELETE racing the PATCH that is writing the file, and a server killed (SIGKILL)
in the middle of a piece, then started again: the client goes on where the disk stands."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx2

from smartcustoms.core.roles import Role
from tests.browser.conftest import Server
from tests.browser.conftest import server as live_server  # noqa: F401 - a fixture
from tests.waiting import wait_for
from tests.web.test_scan_uploads import SEEDED, _auth, _head, _patch, _start, _tus
from tests.web.test_scan_uploads import seed_server as seed_server  # the fixture calls it


def test_absurd_lengths_and_metadata_are_refused_and_the_server_stays_up(
    live_server: Server,  # noqa: F811
) -> None:
    server = live_server
    declaration_id, _ = SEEDED["clean"]
    url = f"{server.url}/api/scans/uploads"
    for length in ("0", "-1", str(2**63), str(2**64), "1e3", "", "ten", "0x10"):
        answer = httpx2.post(
            url,
            headers={
                **_tus(),
                "Upload-Length": length,
                "Upload-Metadata": f"declaration_id {base64.b64encode(b'1').decode()}",
            },
            timeout=10,
        )
        assert answer.status_code in (413, 422), (length, answer.status_code, answer.text)
    # 100 kB of metadata (a sidecar of 75 kB): refused before anything is stored.
    huge = base64.b64encode(b"x" * 75_000).decode()
    answer = httpx2.post(
        url,
        headers={
            **_tus(),
            "Upload-Length": "10",
            "Upload-Metadata": f"declaration_id {base64.b64encode(b'1').decode()},sidecar {huge}",
        },
        timeout=10,
    )
    assert 400 <= answer.status_code < 500, answer.status_code
    # A sidecar within the limit (30 kB, 40 kB of header) is accepted, as a one-piece upload's.
    fits = base64.b64encode(b"{" + b" " * 30_000 + b"}").decode()
    answer = httpx2.post(
        url,
        headers={
            **_tus(),
            "Upload-Length": "10",
            "Upload-Metadata": (
                f"declaration_id {base64.b64encode(str(declaration_id).encode()).decode()},"
                f"sidecar {fits}"
            ),
        },
        timeout=10,
    )
    assert answer.status_code == 201, (answer.status_code, answer.text[:300])
    assert httpx2.get(server.url + "/health", timeout=5).status_code == 200
    assert not list((server.data_dir / "uploads").glob("*.tmp"))


def test_a_patch_without_offset_and_other_users_are_refused(live_server: Server) -> None:  # noqa: F811
    server = live_server
    declaration_id, _ = SEEDED["clean"]
    location = _start(server, 100, declaration_id=declaration_id).headers["Location"]
    no_offset = httpx2.patch(
        server.url + location,
        headers={**_tus(), "Content-Type": "application/offset+octet-stream"},
        content=b"abc",
        timeout=10,
    )
    assert no_offset.status_code == 422 and "upload-offset" in no_offset.text.lower()
    for offset in ("-1", str(2**63), "x"):
        assert _patch(server, location, 0, b"abc", **{"Upload-Offset": offset}).status_code == 422
    # Nothing was written by the refused requests.
    assert _head(server, location).headers["Upload-Offset"] == "0"
    # An auditor may not even look; another uploader does not see it.
    assert _head(server, location, role=Role.AUDITOR).status_code == 403
    for role, expected in ((Role.AUDITOR, 403), (Role.IMAGE_ANALYST, 404)):
        gone = httpx2.delete(server.url + location, headers=_tus(role), timeout=10)
        assert gone.status_code == expected, role
        piece = httpx2.patch(
            server.url + location,
            headers={
                **_tus(role),
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
            content=b"abc",
            timeout=10,
        )
        assert piece.status_code == expected, role
    assert _head(server, location).headers["Upload-Offset"] == "0"
    for bad in ("0", "-1", str(2**63), "%00", "a" * 10_000):
        assert _head(server, f"/api/scans/uploads/{bad}").status_code in (404, 422), bad


@contextmanager
def _piece_in_flight(
    server: Server, location: str, data: bytes, sent: int
) -> Iterator[socket.socket]:
    """A PATCH announcing all of ``data`` whose first ``sent`` bytes are on their way."""
    parts = urlsplit(server.url)
    host, port = parts.hostname or "", parts.port or 0
    with socket.create_connection((host, port), timeout=30) as line:
        head = (
            f"PATCH {location} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {SEEDED[Role.EXAMINING_OFFICER]}\r\nTus-Resumable: 1.0.0\r\n"
            f"Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        )
        line.sendall(head.encode() + data[:sent])
        yield line


def test_a_delete_racing_the_patch_writing_the_file_waits(live_server: Server) -> None:  # noqa: F811
    server = live_server
    declaration_id, path = SEEDED["flagged"]
    data = path.read_bytes()
    location = _start(server, len(data), declaration_id=declaration_id).headers["Location"]
    sent = len(data) // 2
    with _piece_in_flight(server, location, data, sent) as line:
        part = server.data_dir / "uploads" / (location.rsplit("/", 1)[1] + ".part")
        wait_for(lambda: part.stat().st_size > 0, 10.0, message="no byte arrived")
        racing = httpx2.delete(server.url + location, headers=_tus(), timeout=10)
        assert racing.status_code == 409, racing.text  # not 204 under the writer's feet
        line.sendall(data[sent:])
        answer = line.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 204"), answer[:500]
    done = _head(server, location)
    assert done.headers["Upload-Offset"] == str(len(data))
    assert "Smartcustoms-Scan" in done.headers


def _restart(server: Server) -> subprocess.Popen[bytes]:
    port = urlsplit(server.url).port
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")},
        "SMARTCUSTOMS_DATA_DIR": str(server.data_dir),
        "SMARTCUSTOMS_LOG_LEVEL": "WARNING",
    }
    log = (server.data_dir / "server-restarted.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "smartcustoms", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()

    def up() -> bool:
        assert process.poll() is None, (server.data_dir / "server-restarted.log").read_text()
        try:
            return httpx2.get(server.url + "/health", timeout=1).status_code == 200
        except httpx2.TransportError:
            return False

    wait_for(up, 30.0, interval=0.2, message="the restarted server did not answer")
    return process


def test_a_server_killed_mid_piece_is_resumed_after_restart(live_server: Server) -> None:  # noqa: F811
    # Last in the module: it kills the module's server and leaves a restarted one behind.
    server = live_server
    declaration_id, path = SEEDED["clean"]
    data = path.read_bytes()
    location = _start(server, len(data), declaration_id=declaration_id).headers["Location"]
    part = server.data_dir / "uploads" / (location.rsplit("/", 1)[1] + ".part")
    sent = int(len(data) * 0.6)
    with _piece_in_flight(server, location, data, sent):
        wait_for(lambda: part.stat().st_size > 0, 10.0, message="no byte arrived")
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
    restarted = _restart(server)
    try:
        stands = _head(server, location)
        assert stands.status_code == 200, stands.text
        offset = int(stands.headers["Upload-Offset"])
        assert 0 < offset <= sent
        assert part.read_bytes() == data[:offset]  # what is on disk is the file's beginning
        last = _patch(server, location, offset, data[offset:])
        assert last.status_code == 204, last.text
        scan = httpx2.get(
            server.url + last.headers["Smartcustoms-Scan"],
            headers=_auth(Role.IMAGE_ANALYST),
            timeout=10,
        ).json()
        assert scan["declaration_id"] == declaration_id
        assert scan["file_sha256"] == hashlib.sha256(data).hexdigest()
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)
