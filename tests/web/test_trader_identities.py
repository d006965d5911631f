"""A declarant is bound to its trader identities: it lodges and reads only under them.

Administrators bind users to declarant IDs (``/api/users/{username}/traders``); each change is
an event. A declarant lodging under a declarant ID it is not bound to is refused (403 naming
the field) and nothing is stored; replaying another trader's (declarant, LRN) is refused the
same way, so it never learns that trader's lane, score or reasons.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from smartcustoms.core.context import AppContext
from smartcustoms.core.events import Event
from smartcustoms.core.roles import Role
from smartcustoms.core.tokens import create_token
from smartcustoms.core.traders import TraderGranted, TraderRevoked, grant_traders
from smartcustoms.core.users import create_user, get_user
from smartcustoms.declarations.tables import DeclarationRow
from tests.conftest import PASSWORD, login
from tests.declarations.helpers import declaration
from tests.tracking.helpers import import_packaged, store_declaration
from tests.web.conftest import bearer

OTHER = "BRK999"


def _count(ctx: AppContext, **where: Any) -> int:
    with ctx.db.session() as session:
        query = select(func.count()).select_from(DeclarationRow)
        for name, value in where.items():
            query = query.where(getattr(DeclarationRow, name) == value)
        return session.scalar(query) or 0


def _broker(ctx: AppContext, username: str, *declarant_ids: str, roles: Any = None) -> str:
    """A user (declarant unless ``roles``) bound to ``declarant_ids``; its bearer token."""
    with ctx.unit() as unit:
        create_user(
            unit,
            username=username,
            password=PASSWORD,
            roles=roles or [Role.DECLARANT],
            actor="test",
        )
        if declarant_ids:
            grant_traders(unit, username, declarant_ids, actor="test")
        user = get_user(unit.session, username)
        return create_token(unit, user, name="t", days=1, max_days=10, actor="test").secret


def test_lodging_for_a_trader_one_is_not_bound_to_is_refused(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    declarant = bearer(role_tokens[Role.DECLARANT])  # bound to BRK001 only
    refused = client.post(
        "/api/declarations",
        headers=declarant,
        json=declaration(lrn="X1", declarant={"id": OTHER, "name": "Someone Else Ltd"}),
    )
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "forbidden"
    assert error["details"][0]["field"] == "declarant.id"
    assert _count(ctx) == 0
    # Blanks around the ID change nothing (the model strips them).
    padded = client.post(
        "/api/declarations",
        headers=declarant,
        json=declaration(lrn="X2", declarant={"id": f" {OTHER} "}),
    )
    assert padded.status_code == 403
    # In a batch: the whole batch is refused, the field names the entry.
    batch = client.post(
        "/api/declarations",
        headers=declarant,
        json={
            "declarations": [
                declaration(lrn="B1"),
                declaration(lrn="B2", declarant={"id": OTHER}),
            ]
        },
    )
    assert batch.status_code == 403
    assert batch.json()["error"]["details"][0]["field"] == "declarations[1].declarant.id"
    assert _count(ctx) == 0
    # Its own trader: lodged.
    ok = client.post("/api/declarations", headers=declarant, json=declaration(lrn="B1"))
    assert ok.status_code == 201
    assert _count(ctx) == 1


def test_a_replay_never_reveals_another_traders_lane(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    other_broker = bearer(_broker(ctx, "other-broker", OTHER))
    first = client.post(
        "/api/declarations",
        headers=other_broker,
        json=declaration(lrn="SECRET", declarant={"id": OTHER}),
    )
    assert first.status_code == 201 and first.json()["lane"] is not None
    squat = client.post(
        "/api/declarations",
        headers=bearer(role_tokens[Role.DECLARANT]),
        json=declaration(lrn="SECRET", declarant={"id": OTHER}),
    )
    assert squat.status_code == 403
    assert set(squat.json()) == {"error"}  # no receipt: no id, lane, score or reasons
    assert "score" not in squat.text and "reasons" not in squat.text
    # The owner's replay still answers the first receipt.
    again = client.post(
        "/api/declarations",
        headers=other_broker,
        json=declaration(lrn="SECRET", declarant={"id": OTHER}),
    )
    assert again.status_code == 200 and again.json() == {**first.json(), "created": False}
    assert _count(ctx, lrn="SECRET") == 1


def test_a_session_is_bound_like_a_token(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    csrf = login(client, "declarant")
    headers = {"X-CSRF-Token": csrf}
    refused = client.post(
        "/api/declarations", headers=headers, json=declaration(lrn="S1", declarant={"id": OTHER})
    )
    assert refused.status_code == 403
    ok = client.post("/api/declarations", headers=headers, json=declaration(lrn="S1"))
    assert ok.status_code == 201


def test_administrators_lodge_for_anyone(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    admin = bearer(role_tokens[Role.ADMINISTRATOR])  # bound to nothing
    response = client.post(
        "/api/declarations", headers=admin, json=declaration(lrn="A1", declarant={"id": OTHER})
    )
    assert response.status_code == 201


def test_reading_follows_the_trader_not_who_lodged(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    """A broker's two users, both bound to BRK001, read each other's lodgings; a declarant
    bound to another trader reads none of them, whoever it is."""
    colleague = bearer(_broker(ctx, "colleague", "BRK001"))
    stranger = bearer(_broker(ctx, "stranger", OTHER))
    unbound = bearer(_broker(ctx, "unbound"))
    lodged = client.post("/api/declarations", headers=colleague, json=declaration(lrn="R1"))
    assert lodged.status_code == 201
    url = f"/api/declarations/{lodged.json()['id']}"
    assert client.get(url, headers=bearer(role_tokens[Role.DECLARANT])).status_code == 200
    assert client.get(url, headers=stranger).status_code == 403
    assert client.get(url, headers=unbound).status_code == 403
    assert client.get(url, headers=bearer(role_tokens[Role.AUDITOR])).status_code == 200


def test_more_roles_never_open_what_none_grants(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    """Declarant + partner administration: every transit (the partner's grant), but still only
    its own traders' declarations (a partner administration grants none). Declarant +
    examining officer: every declaration."""
    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    theirs = client.post(
        "/api/declarations", headers=admin, json=declaration(lrn="P1", declarant={"id": OTHER})
    ).json()
    both = bearer(
        _broker(ctx, "dual", "BRK001", roles=[Role.DECLARANT, Role.PARTNER_ADMINISTRATION])
    )
    refused = client.get(f"/api/declarations/{theirs['id']}", headers=both)
    assert refused.status_code == 403  # it was 200 when any second role lifted the filter
    officer = bearer(_broker(ctx, "dual-officer", roles=[Role.DECLARANT, Role.EXAMINING_OFFICER]))
    assert client.get(f"/api/declarations/{theirs['id']}", headers=officer).status_code == 200


def test_administrators_manage_the_bindings(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str], events: list[Event]
) -> None:
    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    url = "/api/users/declarant/traders"
    listed = client.get(url, headers=bearer(role_tokens[Role.AUDITOR]))
    assert listed.status_code == 200
    assert [t["declarant_id"] for t in listed.json()["traders"]] == ["BRK001"]
    # Only administrators change them; a declarant cannot bind itself.
    me = bearer(role_tokens[Role.DECLARANT])
    assert client.post(url, headers=me, json={"declarant_ids": [OTHER]}).status_code == 403
    assert client.get(url, headers=me).status_code == 403
    granted = client.post(url, headers=admin, json={"declarant_ids": [OTHER, "BRK001"]})
    assert granted.status_code == 200
    assert [t["declarant_id"] for t in granted.json()["traders"]] == ["BRK001", OTHER]
    assert granted.json()["traders"][1]["granted_by"] == "administrator"
    lodged = client.post(
        "/api/declarations", headers=me, json=declaration(lrn="G1", declarant={"id": OTHER})
    )
    assert lodged.status_code == 201
    replaced = client.put(url, headers=admin, json={"declarant_ids": ["BRK002"]})
    assert [t["declarant_id"] for t in replaced.json()["traders"]] == ["BRK002"]
    assert client.get(f"/api/declarations/{lodged.json()['id']}", headers=me).status_code == 403
    revoked = client.delete(f"{url}/BRK002", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["traders"] == []
    missing = client.delete(f"{url}/BRK002", headers=admin)
    assert missing.status_code == 404
    bad = client.post(url, headers=admin, json={"declarant_ids": ["A" * 18]})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "declarant_ids[0]"
    blank = client.post(url, headers=admin, json={"declarant_ids": ["BRK 1"]})
    assert blank.status_code == 422
    assert client.get("/api/users/nobody/traders", headers=admin).status_code == 404
    grants = [e for e in events if isinstance(e, TraderGranted) and e.actor == "administrator"]
    revokes = [e for e in events if isinstance(e, TraderRevoked)]
    assert [g.declarant_ids for g in grants] == [(OTHER,), ("BRK002",)]
    assert [r.declarant_ids for r in revokes] == [("BRK001", OTHER), ("BRK002",)]
    assert grants[0].as_record()["type"] == "admin.traders_granted"


def test_a_declarant_makes_transits_only_from_its_traders_declarations(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    import_packaged(ctx)
    body = {
        "device_id": "SEAL-T",
        "vehicle": "KBX 001A",
        "corridor": "northern",
        "origin": "KEMBA",
        "destination": "UGKLA",
        "hours": 72,
    }
    me = bearer(role_tokens[Role.DECLARANT])
    theirs = store_declaration(ctx, "TR-THEIRS", submitted_by="declarant", declarant=OTHER)
    refused = client.post(
        "/api/tracking/transits", headers=me, json={**body, "declaration_id": theirs}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["details"][0]["field"] == "declaration_id"
    mine = store_declaration(ctx, "TR-MINE", submitted_by="someone-else")
    made = client.post("/api/tracking/transits", headers=me, json={**body, "declaration_id": mine})
    assert made.status_code == 201, made.text
