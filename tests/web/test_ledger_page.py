"""The ledger explorer, in English and French: the latest checkpoint, an entry and its proof,
and checking a pasted bundle."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings, load_settings
from smartcustoms.ledger.service import ledger_of
from smartcustoms.web.ui.nav import NAV
from smartcustoms.web.ui.routes.ledger import LEDGER_PAGE_ROLES
from tests.conftest import add_user, login


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        None,
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="s" * 48,
        ledger_checkpoint_interval_ms=50,
    )


def page(client: TestClient, url: str = "/ledger") -> str:
    response = client.get(url, headers={"accept": "text/html"})
    assert response.status_code == 200, response.text
    return response.text


def test_an_auditor_explores_downloads_and_checks(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "aud", Role.AUDITOR)
    csrf = login(client, "aud")  # the login itself is entry 1, after the user's creation
    ledger = ledger_of(ctx)
    assert ledger.wait_covered(1, 10)
    text = page(client)
    assert 'href="/ledger"' in text  # in the navigation
    size = ledger.checkpoint().size  # type: ignore[union-attr]
    assert f'data-testid="checkpoint-size">{size}<' in text
    assert html.escape(ledger.vkey()) in text
    assert "no witnesses configured" in text

    entry = page(client, "/ledger?index=1")
    assert "security.login" in entry and "sha256:" in entry  # the address is a commitment
    assert 'href="/ledger/proof/1?download=true"' in entry
    bundle = client.get("/ledger/proof/1?download=true").text  # the session is enough

    checked = client.post(
        "/ledger/verify",
        data={"bundle": bundle.replace("\n", "\r\n"), "vkey": ledger.vkey(), "csrf_token": csrf},
    )
    assert checked.status_code == 200
    assert 'data-testid="verified"' in checked.text and "entry 1 is in the log" in checked.text

    tampered = bundle.replace("index 1", "index 0")
    refused = client.post(
        "/ledger/verify", data={"bundle": tampered, "vkey": ledger.vkey(), "csrf_token": csrf}
    )
    assert refused.status_code == 422
    assert 'data-testid="verify-error"' in refused.text and "inclusion proof" in refused.text
    missing = client.get("/ledger?index=999", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "has no entry 999" in missing.text


def test_the_page_speaks_french(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "part", Role.PARTNER_ADMINISTRATION)
    csrf = login(client, "part")
    client.post("/lang", data={"language": "fr", "next": "/ledger", "csrf_token": csrf})
    text = page(client)
    assert '<html lang="fr">' in text
    for french in ("Registre", "Dernier point de contrôle", "Vérifier un paquet de preuve"):
        assert french in text, french
    refused = client.post(
        "/ledger/verify", data={"bundle": "nonsense", "vkey": "x", "csrf_token": csrf}
    )
    assert refused.status_code == 422 and "Vérifier" in refused.text


def test_declarants_check_bundles_but_do_not_read_entries(
    ctx: AppContext, client: TestClient
) -> None:
    add_user(ctx, "trader", Role.DECLARANT)
    add_user(ctx, "officer", Role.EXAMINING_OFFICER)
    login(client, "trader")
    text = page(client, "/ledger?index=0")
    assert 'data-testid="verify"' in text and 'data-testid="lookup"' not in text
    assert "admin.user_created" not in text
    client.cookies.clear()
    login(client, "officer")
    assert 'href="/ledger"' not in page(client, "/")
    denied = client.get("/ledger", headers={"accept": "text/html"})
    assert denied.status_code == 403


def test_the_navigation_item_and_the_page_name_the_same_roles() -> None:
    (item,) = [i for i in NAV if i.path == "/ledger"]
    assert item.roles == LEDGER_PAGE_ROLES


def test_posting_without_the_session_csrf_token_is_refused(
    ctx: AppContext, client: TestClient
) -> None:
    add_user(ctx, "aud", Role.AUDITOR)
    login(client, "aud")
    response = client.post("/ledger/verify", data={"bundle": "x", "vkey": "y"})
    assert response.status_code == 403
    assert re.search("CSRF", response.text)
