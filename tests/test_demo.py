"""`smartcustoms demo` from a user's point of view: users printed once, a working server, and
the mail and webhooks its instance sends caught on pages of their own."""

from __future__ import annotations

import re
from pathlib import Path

import httpx2

from smartcustoms.core.roles import ALL_ROLES
from tests.browser.conftest import free_port
from tests.demo_run import start_demo
from tests.waiting import wait_for


def _caught(url: str) -> list[dict[str, object]]:
    answer = httpx2.get(url, timeout=5)
    assert answer.status_code == 200
    found: list[dict[str, object]] = answer.json()
    return found


def test_demo_serves_and_every_printed_user_can_log_in(tmp_path: Path) -> None:
    port = free_port()
    process, output = start_demo(["--port", str(port)], tmp_path, until="Open http://")
    assert process.stdout is not None
    try:
        assert f"Open http://127.0.0.1:{port}" in output, output
        rows = re.findall(r"│\s*([^│]+?)\s*│\s*([a-z-]+)\s*│\s*(\S+)\s*│", output)
        credentials = {user: password for _, user, password in rows}
        # People log in with a password; a machine account (the tracking gateway) is shown
        # with the API token it feeds telemetry with, outside the table.
        assert set(credentials) == {r.value.replace("_", "-") for r in ALL_ROLES}, output
        gateway = re.search(r"\(tracking-gateway\) logs in to no page.*: (sct_\S+)", output)
        assert gateway, output
        base = f"http://127.0.0.1:{port}"
        catchers = re.search(
            r"Mail and webhooks the demo's instance sent: (http://127\.0\.0\.1:\d+)", output
        )
        assert catchers, output

        def up() -> bool:
            try:
                httpx2.get(base + "/health", timeout=1)
            except httpx2.TransportError:
                return False
            return True

        wait_for(up, 60.0, interval=0.2, message="the demo's server did not answer")
        for username, password in credentials.items():
            with httpx2.Client(base_url=base) as web:
                form = web.get("/login").text
                token = re.search(r'name="csrf_token" value="([^"]+)"', form)
                assert token
                response = web.post(
                    "/login",
                    data={"username": username, "password": password, "csrf_token": token[1]},
                )
                assert response.status_code == 303, (username, response.text)
                assert web.get("/api/me").json()["username"] == username
                if username == "declarant":
                    # Bound to the traders the demo lodges for: it sees their transits and
                    # declarations (and those only).
                    transits = web.get("/api/tracking/transits").json()
                    assert transits, "the demo declarant sees its transits"
                    declaration = web.get(f"/api/declarations/{transits[0]['declaration_id']}")
                    assert declaration.status_code == 200
        with httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {gateway[1]}"}) as gw:
            assert gw.get("/api/me").status_code == 403
            sample = Path(__file__).parent / "tracking" / "data" / "traccar" / "position.json"
            fed = gw.post(
                "/api/tracking/traccar/positions",
                content=sample.read_bytes(),
                headers={"Content-Type": "application/json"},
            )
            assert fed.status_code == 200, fed.text
        # What the instance sent: lane decisions as webhooks the receiver verified with the
        # subscription's secret, and e-mail to the supervisor about the rule waiting for approval.
        hooks_url, mail_url = catchers[1] + "/api/webhooks", catchers[1] + "/api/mail"

        def lanes_verified() -> bool:
            caught = _caught(hooks_url)
            assert all(h["signature"] == "ok" for h in caught), caught[:3]
            return any(h["type"] == "declaration.lane_decided" for h in caught)

        wait_for(lanes_verified, 60.0, interval=0.2, message="no lane decision webhook")
        lane = next(h for h in _caught(hooks_url) if h["type"] == "declaration.lane_decided")
        assert '"lane":' in str(lane["body"]) and str(lane["subject"]).startswith("declaration:")

        def supervisor_told() -> bool:
            return any(
                m["to"] == ["supervisor@demo.smartcustoms.example"]
                and "timber-permits" in str(m["subject"])
                for m in _caught(mail_url)
            )

        wait_for(supervisor_told, 60.0, interval=0.2, message="no rule-approval e-mail")
        page = httpx2.get(catchers[1] + "/mail").text
        assert "supervisor@demo.smartcustoms.example" in page
        demo_dirs = list(tmp_path.glob("smartcustoms-demo-*"))
        assert len(demo_dirs) == 1
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stdout.close()
    assert list(tmp_path.glob("smartcustoms-demo-*")) == []  # throwaway data is gone
