"""The ledger over HTTP: C2SP tlog-tiles reads, proof bundles, the tlog-witness endpoint and
the JSON views, as a monitor, a partner's log or a trader would call them."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings, load_settings
from smartcustoms.ledger.service import Ledger, ledger_of
from smartcustoms.ledger.tlog.checkpoint import open_checkpoint
from smartcustoms.ledger.tlog.keys import parse_verifier_key
from smartcustoms.ledger.tlog.offline import check_bundle
from smartcustoms.ledger.tlog.proof import inclusion_proof
from smartcustoms.ledger.tlog.rfc6962 import hash_leaf
from smartcustoms.ledger.tlog.tiles import TileHashReader, parse_entry_bundle, parse_tile
from smartcustoms.ledger.tlog.verify import verify_inclusion
from smartcustoms.ledger.witness import add_log
from tests.ledger.helpers import vectors
from tests.web.conftest import bearer

D = vectors("c2sp_derived_checkpoint_cosignature_witness_vectors")
N = 600  # two full tiles at level 0 and a partial one


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(
        None,
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="s" * 48,
        ledger_checkpoint_interval_ms=50,
    )


@pytest.fixture
def filled(ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]) -> Ledger:
    ledger = ledger_of(ctx)
    ledger.flush()
    start = ledger.size()  # creating the users was recorded already
    ledger.append_many([{"type": "test.http", "v": 1, "n": i} for i in range(N - start)])
    assert ledger.wait_covered(N - 1, 10)
    assert ledger.checkpoint().size == N  # type: ignore[union-attr]
    return ledger


def auditor(tokens: dict[Role, str]) -> dict[str, str]:
    return bearer(tokens[Role.AUDITOR])


def test_checkpoint_is_served_as_a_signed_note(
    filled: Ledger, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    response = client.get("/ledger/checkpoint", headers=auditor(role_tokens))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    # A gated ledger's answers to an authenticated reader are never stored (web.middleware).
    assert response.headers["cache-control"] == "no-store"
    opened = open_checkpoint(response.text, parse_verifier_key(filled.vkey()))
    assert opened.checkpoint.size == N


def test_tiles_fetched_over_http_prove_entries(
    filled: Ledger, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    """A client with nothing but HTTP: fetch the tiles, build a proof, check it."""
    headers = auditor(role_tokens)
    cp = open_checkpoint(
        client.get("/ledger/checkpoint", headers=headers).text, parse_verifier_key(filled.vkey())
    ).checkpoint

    def fetch(tiles: object) -> list[bytes]:
        out = []
        for tile in tiles:  # type: ignore[attr-defined]
            got = client.get(f"/ledger/{tile.path}", headers=headers)
            assert got.status_code == 200, (tile.path, got.text)
            assert got.headers["content-type"] == "application/octet-stream"
            assert got.headers["cache-control"] == "no-store"  # authenticated: see above
            out.append(got.content)
        return out

    reader = TileHashReader(cp.size, fetch)
    for index in (0, 255, 256, 511, 599):
        bundle_path = f"/ledger/tile/entries/00{index // 256}" + (
            f".p/{N - 512}" if index >= 512 else ""
        )
        entries = parse_entry_bundle(client.get(bundle_path, headers=headers).content)
        entry = entries[index % 256]
        proof = inclusion_proof(index, cp.size, reader)
        verify_inclusion(hash_leaf(entry), index, cp.size, proof, cp.root_hash)
    level0 = parse_tile(client.get("/ledger/tile/0/001", headers=headers).content)
    assert level0[3] == hash_leaf(filled.entry(259))


def test_entry_bundles_are_compressed_for_clients_that_ask(
    filled: Ledger, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    headers = {**auditor(role_tokens), "accept-encoding": "gzip"}
    response = client.get("/ledger/tile/entries/000", headers=headers)
    assert response.headers["content-encoding"] == "gzip"
    raw = client.get(
        "/ledger/tile/entries/000", headers={**auditor(role_tokens), "accept-encoding": "identity"}
    )
    assert "content-encoding" not in raw.headers
    assert response.content == raw.content  # httpx undid the gzip
    assert len(gzip.compress(raw.content)) < len(raw.content)


BAD_READS = [
    ("/ledger/tile/0/003", 404),  # beyond the signed tree
    ("/ledger/tile/0/002.p/89", 404),  # wider than the tree's partial tile
    ("/ledger/tile/2/000.p/1", 404),
    ("/ledger/tile/entries/002.p/100", 404),
    ("/ledger/tile/0/1", 400),  # not canonical
    ("/ledger/tile/0/x000/001", 400),
    ("/ledger/tile/64/000", 400),
    ("/ledger/tile/0/000.p/256", 400),
    ("/ledger/tile/entries/abc", 400),
    ("/ledger/proof/-1", 422),
    ("/ledger/proof/999999", 404),  # not covered by a checkpoint
]


def test_bad_reads_are_typed_errors(
    filled: Ledger, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    for path, status in BAD_READS:
        response = client.get(path, headers=auditor(role_tokens))
        assert response.status_code == status, (path, response.text)
        assert set(response.json()["error"]) == {"code", "message", "details"}


def test_a_proof_bundle_verifies_offline(
    filled: Ledger, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    response = client.get("/ledger/proof/321?download=true", headers=auditor(role_tokens))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert 'filename="ledger-entry-321.proof"' in response.headers["content-disposition"]
    checked = check_bundle(response.text, filled.vkey())
    assert checked.entry == filled.entry(321)
    assert checked.record is not None and checked.record["type"] == "test.http"


def test_reads_are_for_the_roles_that_read_the_ledger(
    filled: Ledger, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    for role in (Role.AUDITOR, Role.PARTNER_ADMINISTRATION, Role.ADMINISTRATOR):
        assert (
            client.get("/ledger/tile/0/000", headers=bearer(role_tokens[role])).status_code == 200
        )
    for role in (Role.DECLARANT, Role.RISK_ANALYST, Role.EXAMINING_OFFICER):
        assert client.get("/ledger/proof/1", headers=bearer(role_tokens[role])).status_code == 403
    assert client.get("/ledger/checkpoint").status_code == 401


def test_json_views_of_checkpoint_entry_and_verification(
    filled: Ledger, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    headers = auditor(role_tokens)
    cp = client.get("/api/ledger/checkpoint", headers=headers).json()
    assert cp["size"] == N and cp["vkey"] == filled.vkey() and cp["quorum_met"] is False
    entry = client.get("/api/ledger/entries/400", headers=headers).json()
    assert base64.b64decode(entry["entry"]) == filled.entry(400)
    assert entry["leaf_hash"] == hash_leaf(filled.entry(400)).hex()
    assert entry["record"]["type"] == "test.http"
    assert client.get("/api/ledger/entries/5000", headers=headers).status_code == 404
    bundle = client.get("/ledger/proof/400", headers=headers).text
    # A declarant (who may not read the ledger) can still check a bundle given to them.
    declarant = bearer(role_tokens[Role.DECLARANT])
    ok = client.post("/api/ledger/verify", json={"bundle": bundle}, headers=declarant)
    assert ok.status_code == 200, ok.text
    assert ok.json()["index"] == 400 and ok.json()["tree_size"] == N
    broken = bundle.replace("index 400", "index 401")
    refused = client.post("/api/ledger/verify", json={"bundle": broken}, headers=declarant)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_proof"
    unknown = client.post("/api/ledger/verify", json={"bundle": "x", "extra": 1}, headers=declarant)
    assert unknown.status_code == 422 and unknown.json()["error"]["details"][0]["field"] == "extra"


def test_the_witness_endpoint_speaks_tlog_witness(ctx: AppContext, client: TestClient) -> None:
    with ctx.db.writer.begin() as conn:
        add_log(conn, D["log"]["vkey"])
    requests = D["tlog_witness_add_checkpoint"]
    first = client.post(
        "/ledger/witness/add-checkpoint", content=requests["first_request_body_old0"]
    )
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "text/plain; charset=utf-8"
    assert first.text.startswith("— ") and first.text.endswith("\n")
    again = client.post(
        "/ledger/witness/add-checkpoint", content=requests["first_request_body_old0"]
    )
    assert (again.status_code, again.headers["content-type"], again.text) == (
        409,
        "text/x.tlog.size",
        "4\n",
    )
    assert (
        client.post(
            "/ledger/witness/add-checkpoint", content=requests["request_body_old4_to_8"]
        ).status_code
        == 200
    )
    unknown = client.post(
        "/ledger/witness/add-checkpoint",
        content="old 0\n\n"
        + D["checkpoint_size8"]["signed_by_log_only"].replace(
            "customs.example/ledger-test-v1\n8", "x/y\n8"
        ),
    )
    assert unknown.status_code in (400, 404)
    garbage = client.post("/ledger/witness/add-checkpoint", content=b"\xff\xfe")
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == "malformed"
