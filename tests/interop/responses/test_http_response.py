"""GET /api/declarations/{id}/response: the lane back as CUSRES or a WCO DM Response, to the
declarant of the declaration's trader and to officers, never to another trader."""

from __future__ import annotations

import io
from pathlib import Path

from fastapi.testclient import TestClient
from lxml import etree

from smartcustoms.core.roles import Role
from smartcustoms.core.tokens import create_token
from smartcustoms.core.traders import grant_traders
from smartcustoms.core.users import create_user, get_user
from smartcustoms.declarations.formats.edifact import read_messages
from smartcustoms.interop.responses.cusres import LANE_CODES
from smartcustoms.interop.responses.wco_xml import NAMESPACE
from tests.conftest import PASSWORD
from tests.web.conftest import bearer


def lodge(client: TestClient, token: str, example: Path) -> dict[str, object]:
    response = client.post(
        "/api/declarations",
        headers={**bearer(token), "content-type": "application/edifact"},
        content=example.read_bytes(),
    )
    assert response.status_code == 201, response.text
    receipt: dict[str, object] = response.json()[0]
    return receipt


def other_declarant(client: TestClient) -> str:
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.unit() as unit:
        create_user(unit, username="other", password=PASSWORD, roles=[Role.DECLARANT], actor="t")
        grant_traders(unit, "other", ["BRK999"], actor="test")
        user = get_user(unit.session, "other")
        return create_token(unit, user, name="t", days=1, max_days=10, actor="test").secret


def test_the_answer_in_both_formats(
    client: TestClient, role_tokens: dict[Role, str], cusdec_example: Path
) -> None:
    receipt = lodge(client, role_tokens[Role.DECLARANT], cusdec_example)
    url = f"/api/declarations/{receipt['id']}/response"
    declarant = bearer(role_tokens[Role.DECLARANT])
    edifact = client.get(url, params={"format": "cusres"}, headers=declarant)
    assert edifact.status_code == 200, edifact.text
    assert edifact.headers["content-type"].startswith("application/edifact")
    [message] = list(read_messages(io.BytesIO(edifact.content), "answer"))
    assert message.type == "CUSRES"
    lane = [s.get(1, 0) for s in message.segments if s.tag == "GIS"]
    assert lane == [LANE_CODES[str(receipt["lane"])]]
    reasons = [s for s in message.segments if s.tag == "FTX" and s.get(1) == "ACB"]
    assert len(reasons) == 2 * len(receipt["reasons"])  # type: ignore[arg-type]  # en and fr
    officer = bearer(role_tokens[Role.EXAMINING_OFFICER])
    xml = client.get(url, headers={**officer, "accept": "application/xml"})
    assert xml.status_code == 200
    document = etree.fromstring(xml.content)
    assert document.findtext(f"{{{NAMESPACE}}}Status/{{{NAMESPACE}}}NameCode") == receipt["lane"]
    assert client.get(url, params={"format": "wcoxml"}, headers=officer).content.startswith(
        b"<?xml"
    )


def test_who_may_read_an_answer(
    client: TestClient, role_tokens: dict[Role, str], cusdec_example: Path
) -> None:
    receipt = lodge(client, role_tokens[Role.DECLARANT], cusdec_example)
    url = f"/api/declarations/{receipt['id']}/response"
    refused = client.get(url, headers=bearer(other_declarant(client)))
    assert refused.status_code == 403
    assert "BRK001" not in refused.text  # a refused read does not say whose it is
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer(role_tokens[Role.ADMINISTRATOR])).status_code == 403
    missing = client.get(
        "/api/declarations/999/response", headers=bearer(role_tokens[Role.AUDITOR])
    )
    assert missing.status_code == 404
    bad = client.get(url, params={"format": "pdf"}, headers=bearer(role_tokens[Role.AUDITOR]))
    assert bad.status_code == 422
