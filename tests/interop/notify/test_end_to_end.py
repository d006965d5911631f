"""End to end in the running application: rules and contacts set through the API, a critical
alert recorded, the notifier thread of the app sends an SMS that Kannel's SMS centre
(fakesmsc) receives and an e-mail over verified STARTTLS, in the recipient's language."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings
from smartcustoms.core.users import get_user
from smartcustoms.tracking.events import AlertRaised
from smartcustoms.web.app import create_app
from tests.conftest import add_user
from tests.interop.notify.conftest import notify_settings
from tests.interop.notify.servers import Kannel, kannel, smtp_server
from tests.waiting import wait_for
from tests.web.conftest import bearer


@pytest.fixture(scope="module")
def sms_centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kannel]:
    with kannel(tmp_path_factory.mktemp("kannel")) as gateway:
        yield gateway


def test_critical_alert_reaches_phone_and_mailbox(
    settings: Settings, sms_centre: Kannel, tmp_path: Path
) -> None:
    with smtp_server(tmp_path, starttls=True) as mail:
        configured = notify_settings(
            settings,
            notify_smtp_host="127.0.0.1",
            notify_smtp_port=mail.port,
            notify_smtp_ca_file=mail.ca_file,
            notify_smtp_from="alerts@customs.example",
            notify_kannel_url=sms_centre.sendsms_url,
            notify_kannel_user=sms_centre.user,
            notify_kannel_password=SecretStr(sms_centre.password),
            notify_kannel_from="CUSTOMS",
            notify_poll_ms=50,
        )
        ctx = AppContext.from_settings(configured)
        try:
            _run(ctx, sms_centre, mail.mailbox.texts)
        finally:
            ctx.close()
    # The app's notifier thread is joined when its context closes.
    assert not [t for t in threading.enumerate() if t.name == "smartcustoms-notify"]


def _run(ctx: AppContext, sms_centre: Kannel, mails: object) -> None:
    from smartcustoms.core.tokens import create_token

    add_user(ctx, "boss", Role.ADMINISTRATOR)
    add_user(ctx, "nuit", Role.COMMAND_CENTRE_OPERATOR)
    with ctx.unit() as unit:
        user = get_user(unit.session, "nuit")
        user.language = "fr"
        boss = get_user(unit.session, "boss")
        token = create_token(unit, boss, name="t", days=1, max_days=10, actor="test").secret
    app = create_app(ctx)
    with TestClient(app) as client:
        admin = bearer(token)
        assert client.post(
            "/api/notifications/rules",
            json={"trigger": "alert_critical", "role": "command_centre_operator",
                  "channels": ["email", "sms"]},
            headers=admin,
        ).status_code == 201  # fmt: skip
        assert client.put(
            "/api/notifications/contacts/nuit",
            json={"email": "nuit@customs.example", "phone": "+254700000042",
                  "quiet_start": "00:00", "quiet_end": "23:59"},
            headers=admin,
        ).status_code == 200  # fmt: skip
        ctx.record(
            AlertRaised(
                actor="pipeline", alert_id=501, transit_id=9, reference="KE-T-0501",
                device_id="EL-9", alert_type="cable_cut", severity="critical",
                occurred_at="2026-12-06T02:00:00+00:00",
            )
        )  # fmt: skip
        wait_for(
            lambda: "Alerte critique cable_cut sur le transit KE-T-0501" in sms_centre.received(),
            20,
            message="the SMS did not reach the SMS centre",
        )
        assert "+254700000042" in sms_centre.received()
        wait_for(lambda: any("KE-T-0501" in t for t in mails()), 20)  # type: ignore[operator]

        def states() -> list[str]:
            rows = client.get("/api/notifications?everyone=true", headers=admin).json()
            return sorted(r["state"] for r in rows)

        wait_for(lambda: states() == ["sent", "sent"], 10, message="states not recorded")
