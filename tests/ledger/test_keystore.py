"""Keys on disk: created on first start, private, tied to the origin, rotatable."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import ConfigurationError, SmartCustomsError
from smartcustoms.ledger.keystore import load_log_signer, load_witness_signer
from smartcustoms.ledger.service import Ledger
from smartcustoms.ledger.tlog.checkpoint import open_checkpoint
from smartcustoms.ledger.tlog.keys import parse_verifier_key
from smartcustoms.ledger.tlog.note import open_note
from smartcustoms.ledger.tlog.offline import check_bundle
from tests.ledger.stored import fill


def test_keys_are_created_once_and_private(tmp_path: Path) -> None:
    signer = load_log_signer(tmp_path, "customs.example/ledger")
    folder, path = tmp_path / "ledger", tmp_path / "ledger" / "log.key"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("PRIVATE+KEY+customs.example/ledger+")
    assert load_log_signer(tmp_path, "customs.example/ledger").key_id == signer.key_id
    witness = load_witness_signer(tmp_path, "customs.example/ledger/witness")
    assert stat.S_IMODE((folder / "witness.key").stat().st_mode) == 0o600
    assert witness.verifier().key_string().startswith("customs.example/ledger/witness+")


def test_a_readable_key_or_another_origin_is_refused(tmp_path: Path) -> None:
    load_log_signer(tmp_path, "customs.example/ledger")
    path = tmp_path / "ledger" / "log.key"
    with pytest.raises(ConfigurationError, match="LEDGER_ORIGIN"):
        load_log_signer(tmp_path, "customs.other/ledger")
    os.chmod(path, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_log_signer(tmp_path, "customs.example/ledger")
    os.chmod(path, 0o600)
    path.write_text("PRIVATE+KEY+customs.example/ledger+00000000+AAAA\n")
    with pytest.raises(SmartCustomsError, match="damaged") as err:
        load_log_signer(tmp_path, "customs.example/ledger")
    assert err.value.code == "bad_key_file"


def test_rotation_signs_on_with_the_new_key_and_old_proofs_stay_valid(
    ledger: Ledger, lctx: AppContext
) -> None:
    fill(ledger, 10)
    old_vkey = ledger.vkey()
    old_bundle = ledger.proof_bundle(3)
    old_label, new_label = ledger.rotate_key("test")
    new_vkey = ledger.vkey()
    assert new_vkey != old_vkey and new_vkey.startswith(new_label.split("+")[0])
    retired = lctx.settings.data_dir / "ledger" / f"log.{old_label.split('+')[1]}.retired"
    assert retired.exists() and stat.S_IMODE(retired.stat().st_mode) == 0o600
    assert ledger.vkeys() == [(new_vkey, True), (old_vkey, False)]

    ledger.append({"type": "test.after-rotation", "v": 1})
    assert ledger.wait_covered(10, 10)
    cp = ledger.checkpoint()
    assert cp is not None and cp.key == new_label
    # The first checkpoint after the rotation carries both signatures: verifiers follow it.
    opened = open_note(cp.text, [parse_verifier_key(old_vkey), parse_verifier_key(new_vkey)])
    assert {f"{s.name}+{s.key_id:08x}" for s in opened.verified} == {old_label, new_label}
    ledger.append({"type": "test.later", "v": 1})
    assert ledger.wait_covered(11, 10)
    later = ledger.checkpoint()
    assert later is not None
    open_checkpoint(later.text, parse_verifier_key(new_vkey))
    # Proofs made before the rotation still verify with the key of their time.
    assert check_bundle(old_bundle, old_vkey).verification.index == 3
    assert check_bundle(ledger.proof_bundle(3), new_vkey).verification.checkpoint.size == 12
