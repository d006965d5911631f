"""Importing declarations from the page, and the answer to the customs management system from a
declaration's page: the same use case and trader checks as the API, in English and French."""

from __future__ import annotations

import re
from importlib import resources

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.traders import grant_traders
from smartcustoms.core.users import create_user
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.web.scopes import DECLARATION_LODGING
from smartcustoms.web.ui.nav import NAV
from tests.conftest import PASSWORD, login

EXAMPLES = resources.files("smartcustoms.declarations") / "data" / "examples"
CUSDEC = (EXAMPLES / "import.cusdec.edi").read_bytes()  # declarant BRK001
WCO_XML = (EXAMPLES / "import.wco.xml").read_bytes()


def _user(ctx: AppContext, username: str, role: Role, *traders: str) -> None:
    with ctx.unit() as unit:
        create_user(unit, username=username, password=PASSWORD, roles=[role], actor="test")
        if traders:
            grant_traders(unit, username, traders, actor="test")


def _count(ctx: AppContext) -> int:
    with ctx.db.session() as session:
        return session.scalar(select(func.count()).select_from(DeclarationRow)) or 0


def _upload(client: TestClient, csrf: str, data: bytes, fmt: str, name: str = "f") -> str:
    answer = client.post(
        "/declarations/import",
        data={"format": fmt, "csrf_token": csrf},
        files={"file": (name, data, "application/octet-stream")},
    )
    return f"{answer.status_code}\n{answer.text}"


def test_the_menu_offers_the_page_to_those_who_may_lodge() -> None:
    (item,) = [i for i in NAV if i.path == "/declarations/import"]
    assert item.roles == DECLARATION_LODGING.roles


def test_a_declarant_imports_cusdec_and_xml_and_sees_the_lanes(
    ctx: AppContext, client: TestClient
) -> None:
    _user(ctx, "broker", Role.DECLARANT, "BRK001")
    csrf = login(client, "broker")
    form = client.get("/declarations/import")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    answer = _upload(client, csrf, CUSDEC, "cusdec")
    assert answer.startswith("200"), answer[:400]
    assert 'data-testid="receipts"' in answer and "BRK001" in answer
    assert re.search(r'class="lane lane-(green|blue|yellow|scan|red)"', answer)
    assert _count(ctx) == 1
    again = _upload(client, csrf, CUSDEC, "cusdec")  # the same (declarant, LRN): not twice
    assert "already lodged" in again and _count(ctx) == 1
    assert _upload(client, csrf, WCO_XML, "wcoxml").startswith("200")


def test_refusals_name_the_place_and_store_nothing(ctx: AppContext, client: TestClient) -> None:
    _user(ctx, "other", Role.DECLARANT, "BRK999")
    csrf = login(client, "other")
    refused = _upload(client, csrf, CUSDEC, "cusdec")  # BRK001 is not one of its traders
    assert refused.startswith("403") and "declarant.id" in refused
    broken = _upload(client, csrf, CUSDEC.replace(b"'", b"", 3), "cusdec")
    assert broken.startswith("422") and "line" in broken
    hostile = b'{"lrn": "<script>alert(1)</script>", "declarant": {"id": "BRK999"}}'
    shown = _upload(client, csrf, hostile, "json")
    assert shown.startswith("422") and "<script>alert(1)" not in shown
    assert _upload(client, csrf, CUSDEC, "kcs").startswith("422")  # not offered here
    assert _count(ctx) == 0


def test_officers_cannot_import_and_the_page_speaks_french(
    ctx: AppContext, client: TestClient
) -> None:
    _user(ctx, "officer", Role.EXAMINING_OFFICER)
    login(client, "officer")
    assert client.get("/declarations/import").status_code == 403
    _user(ctx, "admin2", Role.ADMINISTRATOR)
    client.cookies.clear()
    login(client, "admin2")
    page = client.get("/declarations/import", headers={"accept-language": "fr"})
    assert "Importer des déclarations" in page.text


def test_the_declaration_page_offers_its_answer_as_cusres_and_xml(
    ctx: AppContext, client: TestClient
) -> None:
    _user(ctx, "broker", Role.DECLARANT, "BRK001")
    csrf = login(client, "broker")
    assert _upload(client, csrf, CUSDEC, "cusdec").startswith("200")
    with ctx.db.session() as session:
        declaration_id = session.scalar(select(DeclarationRow.id))
    _user(ctx, "officer", Role.EXAMINING_OFFICER)
    client.cookies.clear()
    login(client, "officer")
    page = client.get(f"/declarations/{declaration_id}")
    links = re.findall(r'href="(/api/declarations/\d+/response\?format=\w+)"', page.text)
    assert len(links) == 2
    cusres = client.get(links[0])  # the officer's session is enough
    assert cusres.status_code == 200 and b"CUSRES" in cusres.content
    xml = client.get(links[1])
    assert xml.status_code == 200 and xml.content.lstrip().startswith(b"<?xml")
