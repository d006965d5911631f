"""`smartcustoms demo --partners` as a user runs it: two administrations on two ports, partners
from the start, Kenya's Northern Corridor trucks handed over at Malaba, accepted by Uganda's
officer in Uganda's instance and shown as accepted in Kenya's."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx2

from tests.browser.conftest import free_port
from tests.demo_run import start_demo
from tests.waiting import wait_for

KE, UG = "Kenya Revenue Authority", "Uganda Revenue Authority"


def _credentials(table: str) -> dict[str, str]:
    rows = re.findall(r"│\s*([^│]+?)\s*│\s*([a-z-]+)\s*│\s*(\S+)\s*│", table)
    return {user: password for _, user, password in rows}


def _login(base: str, username: str, password: str) -> tuple[httpx2.Client, str]:
    web = httpx2.Client(base_url=base, timeout=10)
    form = web.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    answer = web.post(
        "/login", data={"username": username, "password": password, "csrf_token": token[1]}
    )
    assert answer.status_code == 303, answer.text
    page = web.get("/").text
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', page)
    assert csrf, page[:500]
    return web, csrf[1]


def _transits(web: httpx2.Client) -> list[dict[str, Any]]:
    answer = web.get("/api/tracking/transits")
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def test_two_partner_administrations_hand_a_truck_over_at_malaba(tmp_path: Path) -> None:
    port = free_port()
    while port + 2 > 65535:
        port = free_port()
    process, output = start_demo(
        ["--partners", "--port", str(port)],
        tmp_path,
        until="Ctrl+C stops both",
        timeout=240,
        columns=160,
    )
    assert process.stdout is not None
    clients: list[httpx2.Client] = []
    try:
        ke_url, ug_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 2}"
        assert f"{KE}: open {ke_url}" in output, output
        assert f"{UG}: open {ug_url}" in output, output
        kenya_part, uganda_part = output.split(f"{UG}, http://", 1)
        ke_users, ug_users = _credentials(kenya_part), _credentials(uganda_part)
        assert "examining-officer" in ke_users and "examining-officer" in ug_users
        assert ke_users["examining-officer"] != ug_users["examining-officer"]

        def up(url: str) -> bool:
            try:
                return httpx2.get(url + "/health", timeout=1).status_code == 200
            except httpx2.TransportError:
                return False

        wait_for(lambda: up(ke_url) and up(ug_url), 60.0, message="the demo did not answer")
        ug_web, ug_csrf = _login(ug_url, "examining-officer", ug_users["examining-officer"])
        ke_web, _ = _login(ke_url, "examining-officer", ke_users["examining-officer"])
        clients += [ug_web, ke_web]

        # Each is the other's partner, as `partners add` left them.
        for url, users, other in ((ke_url, ke_users, UG), (ug_url, ug_users, KE)):
            admin, _ = _login(url, "administrator", users["administrator"])
            clients.append(admin)
            partners = admin.get("/api/partners")
            assert partners.status_code == 200, partners.text
            assert [p["name"] for p in partners.json()] == [other]

        # A Northern Corridor truck reaches (or started beyond) Malaba and arrives in Uganda,
        # waiting for Uganda's acceptance; Kenya is still responsible.
        def handed_in() -> dict[str, Any] | None:
            waiting = [t for t in _transits(ug_web) if t["responsible"] == KE]
            return waiting[0] if waiting else None

        wait_for(lambda: handed_in() is not None, 180.0, interval=1.0, message="no hand-over")
        transit = handed_in()
        assert transit is not None
        accepted = ug_web.post(
            f"/api/tracking/transits/{transit['id']}/accept", headers={"X-CSRF-Token": ug_csrf}
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["responsible"] == UG

        # Kenya sees the same transit handed over to Uganda; the track goes on at both.
        def at_origin() -> dict[str, Any] | None:
            same = [t for t in _transits(ke_web) if t["reference"] == transit["reference"]]
            return same[0] if same else None

        origin = at_origin()
        assert origin is not None
        assert origin["status"] == "handed_over" and origin["responsible"] == UG
        track = ug_web.get(f"/api/tracking/transits/{transit['id']}/track")
        assert track.status_code == 200 and len(track.json()) > 0

        # Kenya shared a scan and offered a rule: Uganda has the scan in its review queue,
        # marked as Kenya's, and the rule as a draft of Kenya's awaiting its own supervisor.
        assert "Kenya shared scan" in output and "Kenya offered its rule" in output, output
        analyst, _ = _login(ug_url, "image-analyst", ug_users["image-analyst"])
        supervisor, _ = _login(ug_url, "supervisor", ug_users["supervisor"])
        clients += [analyst, supervisor]

        def received_scans() -> list[dict[str, Any]]:
            listed = analyst.get("/api/scans", params={"limit": 500}).json()
            found = [analyst.get(f"/api/scans/{s['id']}").json() for s in listed]
            return [
                s
                for s in found
                if any(x["direction"] == "received" and x["partner"] == KE for x in s["shared"])
            ]

        wait_for(lambda: bool(received_scans()), 60.0, interval=1.0, message="no shared scan")

        def offered() -> list[dict[str, Any]]:
            rules = supervisor.get("/api/risk/rules").json()
            return [r for r in rules if r["rule"].startswith("KE:")]

        wait_for(lambda: bool(offered()), 60.0, interval=1.0, message="no rule offered")
        assert all(r["status"] != "approved" for r in offered())  # four eyes there, first
        assert all(r["author"] == f"partner:{KE}" for r in offered())
    finally:
        for client in clients:
            client.close()
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()
    assert list(tmp_path.glob("smartcustoms-demo-*")) == []
