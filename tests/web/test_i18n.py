"""Every visible string is translated to French; the switch and the browser choose the language."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from tests.conftest import add_user, login

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "src/smartcustoms/locale/fr/LC_MESSAGES/messages.po"


def test_catalogue_covers_every_marked_string(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "N_", "-k", "_", "-o", str(pot), "src/smartcustoms"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="fr")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = wanted - translated
    assert not missing, f"untranslated (run scripts/i18n.sh and translate): {sorted(missing)}"


def test_login_page_in_french(client: TestClient) -> None:
    page = client.get("/login?lang=fr")
    assert '<html lang="fr">' in page.text and "Mot de passe" in page.text
    assert client.get("/login").text.count("Connexion") >= 1  # the cookie keeps the choice
    client.get("/login?lang=en")
    english = client.get("/login", headers={"accept-language": "fr"})
    assert "Password" in english.text  # the explicit choice beats the browser's preference


def test_browser_language_is_the_default(ctx: AppContext, app: object) -> None:
    with TestClient(app) as fresh:  # type: ignore[arg-type]
        page = fresh.get("/login", headers={"accept-language": "fr-CA,fr;q=0.9,en;q=0.5"})
        assert "Identifiant" in page.text


def test_switch_after_login(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "sup", Role.SUPERVISOR)
    csrf = login(client, "sup")
    response = client.post("/lang", data={"language": "fr", "next": "/", "csrf_token": csrf})
    assert response.status_code == 200
    assert "Superviseur" in response.text and "Déconnexion" in response.text
