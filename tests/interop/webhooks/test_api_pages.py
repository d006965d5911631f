"""Webhooks through the API and the page (English and French): administrators only, the
secret shown once, typed refusals, replay, ledger records, metrics."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from smartcustoms.core.context import AppContext
from smartcustoms.core.events import Event
from smartcustoms.core.roles import Role
from smartcustoms.core.tokens import create_token
from smartcustoms.core.users import create_user, get_user
from smartcustoms.interop.webhooks.events import (
    DeliveryReplayed,
    SubscriptionCreated,
    SubscriptionDeleted,
)
from tests.conftest import PASSWORD, add_user, login
from tests.interop.webhooks.conftest import decide
from tests.interop.webhooks.receiver import Receiver
from tests.waiting import wait_for


def token(ctx: AppContext, username: str, role: Role) -> dict[str, str]:
    with ctx.unit() as unit:
        create_user(unit, username=username, password=PASSWORD, roles=[role], actor="test")
        user = get_user(unit.session, username)
        secret = create_token(unit, user, name="t", days=1, max_days=10, actor="test").secret
    return {"Authorization": f"Bearer {secret}"}


def test_administrators_manage_subscriptions_through_the_api(
    ctx: AppContext, client: TestClient, receiver: Receiver, events: list[Event]
) -> None:
    admin = token(ctx, "admin", Role.ADMINISTRATOR)
    analyst = token(ctx, "analyst", Role.RISK_ANALYST)
    body = {"url": receiver.url, "event_types": ["declaration.lane_decided"], "description": "CMS"}
    assert client.post("/api/webhooks/subscriptions", json=body, headers=analyst).status_code == 403
    created = client.post("/api/webhooks/subscriptions", json=body, headers=admin)
    assert created.status_code == 201, created.text
    sub = created.json()
    assert sub["secret"].startswith("whsec_")
    listed = client.get("/api/webhooks/subscriptions", headers=admin).json()
    assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]
    recorded = [e for e in events if isinstance(e, SubscriptionCreated)]
    assert recorded and recorded[0].receiver == f"http://127.0.0.1:{receiver.port}"

    # Decisions now reach the receiver; a dead one is replayed with the same webhook-id.
    receiver.status = 500
    decide(ctx, 11)
    wait_for(
        lambda: client.get("/api/webhooks/deliveries?status=dead", headers=admin).json(),
        message="dead letter",
    )
    (dead,) = client.get("/api/webhooks/deliveries?status=dead", headers=admin).json()
    assert dead["payload"]["data"]["declaration_id"] == 11 and dead["last_status"] == 500
    receiver.status = 204
    replayed = client.post(f"/api/webhooks/deliveries/{dead['id']}/replay", headers=admin)
    assert replayed.status_code == 200 and replayed.json()["status"] == "pending"
    again = client.post(f"/api/webhooks/deliveries/{dead['id']}/replay", headers=admin)
    assert again.status_code in (200, 409)  # 409 while still pending; 200 once delivered
    wait_for(lambda: receiver.received, message="replayed delivery arrived")
    got = receiver.received[0]
    assert got.headers["webhook-id"] == dead["message_id"]
    Webhook(sub["secret"]).verify(got.body, got.headers)
    assert any(isinstance(e, DeliveryReplayed) for e in events)

    gone = client.delete(f"/api/webhooks/subscriptions/{sub['id']}", headers=admin)
    assert gone.status_code == 204
    assert client.get("/api/webhooks/subscriptions", headers=admin).json() == []
    assert any(isinstance(e, SubscriptionDeleted) for e in events)
    missing = client.delete(f"/api/webhooks/subscriptions/{sub['id']}", headers=admin)
    assert missing.status_code == 404

    metrics = client.get("/metrics", headers=admin).text
    assert 'smartcustoms_webhook_attempts_total{outcome="delivered"}' in metrics
    assert "smartcustoms_webhook_delivery_lag_seconds_bucket" in metrics


@pytest.mark.parametrize(
    ("url", "types", "field", "code"),
    [
        ("https://user:pw@cms.example/hooks", ["alert.raised"], "url", "url_credentials"),
        ("ftp://cms.example/hooks", ["alert.raised"], "url", "url_scheme"),
        ("javascript:alert(1)", ["alert.raised"], "url", "url_scheme"),
        ("http://cms.example/a b", ["alert.raised"], "url", "url_chars"),
        ("http:///nohost", ["alert.raised"], "url", "url_host"),
        ("http://cms.example:99999/", ["alert.raised"], "url", "url_malformed"),
        ("https://cms.example/h", ["alert.raised", "nope"], "event_types[1]", "unknown_event_type"),
        ("https://cms.example/h", [], "event_types", None),
    ],
)
def test_bad_subscriptions_are_refused_naming_the_field(
    ctx: AppContext, client: TestClient, url: str, types: list[str], field: str, code: str | None
) -> None:
    admin = token(ctx, "admin", Role.ADMINISTRATOR)
    answer = client.post(
        "/api/webhooks/subscriptions", json={"url": url, "event_types": types}, headers=admin
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    if code is not None:
        assert error["code"] == code
        assert error["details"][0]["field"] == field
    assert client.get("/api/webhooks/subscriptions", headers=admin).json() == []


def test_the_page_creates_shows_the_secret_once_and_speaks_french(
    ctx: AppContext, client: TestClient, receiver: Receiver
) -> None:
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    csrf = login(client, "admin")
    hostile = '<script>alert("x")</script>'
    created = client.post(
        "/webhooks",
        data={
            "url": receiver.url,
            "description": hostile,
            "event_types": ["declaration.lane_decided", "alert.raised"],
            "csrf_token": csrf,
        },
    )
    assert created.status_code == 200, created.text
    secret = re.search(r'data-testid="new-secret">(whsec_[^<]+)<', created.text)
    assert secret, "the secret is shown once"
    assert hostile not in created.text and "&lt;script&gt;" in created.text
    later = client.get("/webhooks", headers={"accept": "text/html"})
    assert secret.group(1) not in later.text
    decide(ctx, 5)
    wait_for(lambda: receiver.received)
    Webhook(secret.group(1)).verify(receiver.received[0].body, receiver.received[0].headers)

    refused = client.post(
        "/webhooks",
        data={"url": "https://u:p@x.example/", "event_types": ["alert.raised"], "csrf_token": csrf},
    )
    assert refused.status_code == 422 and "user name or password" in refused.text

    client.post("/lang", data={"language": "fr", "next": "/webhooks", "csrf_token": csrf})
    wait_for(
        lambda: "livré" in client.get("/webhooks", headers={"accept": "text/html"}).text,
        message="the delivery shows as delivered",
    )
    text = client.get("/webhooks", headers={"accept": "text/html"}).text
    assert '<html lang="fr">' in text
    for french in ("Abonnements", "Ajouter un destinataire", "Envois", "Décision de circuit"):
        assert french in text, french
    delivery_id = re.search(r'action="/webhooks/deliveries/(\d+)/replay"', text)
    assert delivery_id
    replay = client.post(
        f"/webhooks/deliveries/{delivery_id.group(1)}/replay",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert replay.status_code == 303
    wait_for(lambda: len(receiver.received) == 2, message="replayed from the page")
    assert receiver.received[1].headers["webhook-id"] == receiver.received[0].headers["webhook-id"]


def test_only_administrators_see_the_page(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "sup", Role.SUPERVISOR)
    login(client, "sup")
    assert client.get("/webhooks", headers={"accept": "text/html"}).status_code == 403
