"""``smartcustoms partners``: print our card, add a partner's (refusing a tampered card and our
own), list (table and JSON), suspend and reactivate, link an account, and ping a partner that
is really running — two administrations set up by the copy-paste exchange the README shows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from smartcustoms.cli import app
from smartcustoms.federation.directory import add_partner
from smartcustoms.federation.service import own_card
from tests.federation.instances import serve

runner = CliRunner()


def _env(tmp: Path, template: Path, name: str, country: str, url: str) -> dict[str, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, tmp / "smartcustoms.db")
    return {
        "SMARTCUSTOMS_DATA_DIR": str(tmp / "data"),
        "SMARTCUSTOMS_DATABASE_URL": f"sqlite:///{tmp / 'smartcustoms.db'}",
        "SMARTCUSTOMS_ADMINISTRATION_NAME": name,
        "SMARTCUSTOMS_LEDGER_ORIGIN": f"{country.lower()}.example/ledger",
        "SMARTCUSTOMS_FEDERATION_COUNTRY": country,
        "SMARTCUSTOMS_FEDERATION_URL": url,
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_exchange_cards_list_suspend_and_refusals(tmp_path: Path, sqlite_template: Path) -> None:
    ke = _env(tmp_path / "ke", sqlite_template, "Kenya Revenue Authority", "KE",
              "https://customs.example.ke")  # fmt: skip
    ug = _env(tmp_path / "ug", sqlite_template, "Uganda Revenue Authority", "UG",
              "https://customs.example.ug")  # fmt: skip
    code, out, err = run(ke, "partners", "card", "--output", str(tmp_path / "ke.json"))
    assert code == 0, err
    ke_fingerprint = err.split("fingerprint: ")[1].strip()
    code, card, err = run(ug, "partners", "card")
    assert code == 0, err
    (tmp_path / "ug.json").write_text(card)
    assert json.loads(card)["country"] == "UG"

    # Each side adds the other's card; both print the same fingerprint for Kenya's card.
    code, out, err = run(ug, "partners", "add", str(tmp_path / "ke.json"))
    assert code == 0, err
    assert "added partner Kenya Revenue Authority" in out
    assert ke_fingerprint in out
    code, out, err = run(ke, "partners", "add", str(tmp_path / "ug.json"), "-k", "transits")
    assert code == 0, err
    assert "may receive: transits" in out

    code, out, _ = run(ke, "partners", "list", "--json")
    listed = json.loads(out)
    assert [(p["name"], p["country"], p["kinds"], p["state"]) for p in listed] == [
        ("Uganda Revenue Authority", "UG", ["transits"], "active")
    ]
    code, out, _ = run(ke, "partners", "list")
    assert "Uganda Revenue Authority" in out

    # Refusals: our own card, a duplicate, a tampered card, a file that is not a card.
    code, _, err = run(ke, "partners", "add", str(tmp_path / "ke.json"))
    assert code == 1 and "own card" in err
    code, _, err = run(ke, "partners", "add", str(tmp_path / "ug.json"))
    assert code == 1 and "already in the directory" in err
    tampered = json.loads(card)
    tampered["url"] = "https://evil.example.ug"
    (tmp_path / "evil.json").write_text(json.dumps(tampered))
    code, _, err = run(ke, "partners", "add", str(tmp_path / "evil.json"))
    assert code == 1 and "signature does not verify" in err
    (tmp_path / "junk.json").write_text("[1, 2")
    code, _, err = run(ke, "partners", "add", str(tmp_path / "junk.json"))
    assert code == 1 and "partner card" in err and "Traceback" not in err

    code, out, _ = run(ke, "partners", "suspend", "Uganda Revenue Authority")
    assert code == 0 and "suspended" in out
    code, _, err = run(ke, "partners", "ping", "Uganda Revenue Authority")
    assert code == 1 and "suspended" in err
    code, _, err = run(ke, "partners", "suspend", "Nobody")
    assert code == 1 and "no partner named 'Nobody'" in err
    code, out, _ = run(ke, "partners", "activate", "Uganda Revenue Authority")
    assert code == 0 and "active" in out

    code, _, err = run(ke, "partners", "link", "nobody", "Uganda Revenue Authority")
    assert code == 1 and "no user named" in err


def test_a_card_needs_the_instance_url(tmp_path: Path, sqlite_template: Path) -> None:
    env = _env(tmp_path, sqlite_template, "Kenya Revenue Authority", "KE", "")
    env.pop("SMARTCUSTOMS_FEDERATION_URL")
    code, _, err = run(env, "partners", "card")
    assert code == 2 and "SMARTCUSTOMS_FEDERATION_URL" in err


def test_ping_a_running_partner(tmp_path: Path, sqlite_template: Path) -> None:
    with serve(tmp_path / "ug", "Uganda Revenue Authority", "UG", template=sqlite_template) as ug:
        ke = _env(tmp_path / "ke", sqlite_template, "Kenya Revenue Authority", "KE",
                  "http://127.0.0.1:9")  # fmt: skip
        (tmp_path / "ug.json").write_text(ug.card().to_json())
        code, _, err = run(ke, "partners", "add", str(tmp_path / "ug.json"))
        assert code == 0, err
        code, card, err = run(ke, "partners", "card")
        assert code == 0, err
        with ug.ctx.unit() as unit:
            add_partner(unit, card, own=own_card(ug.ctx), actor="admin")
        code, out, err = run(ke, "partners", "ping", "Uganda Revenue Authority")
        assert code == 0, err
        assert "hello Kenya Revenue Authority from Uganda Revenue Authority" in out
        received = ug.records("federation.message_received")
        assert [r["partner"] for r in received] == ["Kenya Revenue Authority"]
