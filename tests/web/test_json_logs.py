"""SMARTCUSTOMS_LOG_FORMAT=json: one JSON object a line from a real `serve`, with the request's
id, user, roles, route template, method, status and latency — and never a secret."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import httpx2

from tests.cli.serving import serving
from tests.conftest import PASSWORD
from tests.declarations.helpers import declaration


def test_json_access_lines_carry_the_request_and_no_secret(tmp_path: Path) -> None:
    with serving(tmp_path, log_format="json", log_level="INFO") as served:
        token = served.tokens["cms"]
        with httpx2.Client(base_url=served.url, timeout=30) as browser:
            page = browser.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf
            login = browser.post(
                "/login",
                data={"username": "admin", "password": PASSWORD, "csrf_token": csrf.group(1)},
                headers={"X-Request-ID": "login-1"},
            )
            assert login.status_code in (200, 303), login.text
            session_cookies = [c.value for c in browser.cookies.jar if c.value]
            assert session_cookies
            home = browser.get("/", headers={"X-Request-ID": "page-1"})
            assert home.status_code == 200
        lodged = httpx2.post(
            served.url + "/api/declarations",
            json=declaration(),
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "lodge-1"},
            timeout=30,
        )
        assert lodged.status_code == 201
        assert lodged.headers["x-request-id"] == "lodge-1"
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(30) == 0
        text = served.log_text()

    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines, "nothing logged"
    for line in lines:  # every line, uvicorn's included, is JSON with the common fields
        assert {"timestamp", "level", "logger", "message", "request_id"} <= set(line), line
    access = {line["request_id"]: line for line in lines if line["logger"] == "smartcustoms.access"}
    lodge = access["lodge-1"]
    assert lodge["method"] == "POST" and lodge["route"] == "/api/declarations"
    assert lodge["status"] == 201 and lodge["latency_ms"] > 0
    assert lodge["user"] == "cms" and lodge["roles"] == ["declarant"]
    assert access["page-1"]["user"] == "admin" and access["page-1"]["roles"] == ["administrator"]
    assert access["login-1"]["route"] == "/login" and access["login-1"]["method"] == "POST"
    # The lodging's own event line was logged inside the request: it carries its id too.
    assert any(
        line["request_id"] == "lodge-1" and line["logger"] == "smartcustoms.events"
        for line in lines
    )
    # No secret reaches the log: the password, the API token, the session cookie, the CSRF
    # token, nor the headers that carry them.
    for secret in (PASSWORD, token, token.split("_", 1)[-1], *session_cookies, csrf.group(1)):
        assert secret not in text
    assert "authorization" not in text.lower() and "bearer" not in text.lower()
    assert "cookie" not in text.lower()
