"""Every visible string is translated into each language (French, Arabic); the switch and the
browser choose the language; Arabic pages are right to left."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.web.i18n import LANGUAGES, RTL_LANGUAGES, direction, translations
from tests.conftest import add_user, login

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "src/smartcustoms/locale"
TRANSLATED = sorted(code for code in LANGUAGES if code != "en")
# %(name)s, %%, and str.format's {name} or {name:format}: what the code fills in must survive
# translation.
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdf]|%%|\{[a-z_0-9]+(?::[a-z_0-9]+)?\}")


def catalogue(language: str) -> object:
    with (LOCALE / language / "LC_MESSAGES/messages.po").open("rb") as fh:
        return read_po(fh, locale=language)


def test_every_language_has_a_catalogue() -> None:
    on_disk = {p.parent.parent.name for p in LOCALE.glob("*/LC_MESSAGES/messages.po")}
    assert on_disk == set(TRANSLATED)
    assert TRANSLATED == ["ar", "fr"]


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_covers_every_marked_string(tmp_path: Path, language: str) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "N_", "-k", "_", "-o", str(pot), "src/smartcustoms"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    catalog = catalogue(language)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = wanted - translated
    assert not missing, f"untranslated (run scripts/i18n.sh and translate): {sorted(missing)}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_their_placeholders(language: str) -> None:
    wrong = []
    for message in catalogue(language):  # type: ignore[attr-defined]
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = sorted(PLACEHOLDER.findall(ids[-1]))
        wrong += [(ids[0], s) for s in strings if sorted(PLACEHOLDER.findall(s)) != wanted]
    assert not wrong


def test_arabic_plural_forms_follow_cldr() -> None:
    arabic = catalogue("ar")
    assert arabic.num_plurals == 6  # type: ignore[attr-defined]
    marked = translations("ar").ngettext
    forms = {n: marked("%(num)d region marked", "%(num)d regions marked", n) for n in range(200)}
    assert forms[2] != forms[3] and forms[3] == forms[10] and forms[11] == forms[99] != forms[3]
    assert forms[100] == forms[102] != forms[2]  # 100 and 102: the "other" form, not the dual


def test_direction_of_each_language() -> None:
    assert {"ar"} == RTL_LANGUAGES
    assert [direction(code) for code in ("en", "fr", "ar")] == ["ltr", "ltr", "rtl"]


def test_login_page_in_french(client: TestClient) -> None:
    page = client.get("/login?lang=fr")
    assert '<html lang="fr">' in page.text and "Mot de passe" in page.text
    assert client.get("/login").text.count("Connexion") >= 1  # the cookie keeps the choice
    client.get("/login?lang=en")
    english = client.get("/login", headers={"accept-language": "fr"})
    assert "Password" in english.text  # the explicit choice beats the browser's preference


def test_login_page_in_arabic_is_right_to_left(client: TestClient) -> None:
    page = client.get("/login?lang=ar")
    assert '<html lang="ar" dir="rtl">' in page.text
    assert translations("ar").gettext("Password") in page.text
    assert '<html lang="en">' in client.get("/login?lang=en").text  # left to right by default


def test_browser_language_is_the_default(ctx: AppContext, app: object) -> None:
    with TestClient(app) as fresh:  # type: ignore[arg-type]
        page = fresh.get("/login", headers={"accept-language": "fr-CA,fr;q=0.9,en;q=0.5"})
        assert "Identifiant" in page.text
        page = fresh.get("/login", headers={"accept-language": "ar-MA,fr;q=0.8"})
        assert 'lang="ar" dir="rtl"' in page.text


def test_switch_after_login(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "sup", Role.SUPERVISOR)
    csrf = login(client, "sup")
    response = client.post("/lang", data={"language": "fr", "next": "/", "csrf_token": csrf})
    assert response.status_code == 200
    assert "Superviseur" in response.text and "Déconnexion" in response.text


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_each_catalogue_passes_gettext_s_own_checks(language: str, tmp_path: Path) -> None:
    """GNU msgfmt's checks (``-c``): every translation keeps its message's format directives
    and the header is well formed — what Babel, lenient, lets through until a page renders it.
    Needs GNU gettext's ``msgfmt`` (skipped without it: the catalogues are read by Babel)."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed (apt-get install gettext)")
    po = LOCALE / language / "LC_MESSAGES/messages.po"
    done = subprocess.run(
        [msgfmt, "-c", "-o", str(tmp_path / "messages.mo"), str(po)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
