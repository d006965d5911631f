"""This instance's federation key: Ed25519, kept like the ledger's keys.

``<data dir>/ledger/federation.key`` (0600, in the 0700 key folder, so a backup carries it with
the ledger's keys), a Go-format signer key string named ``<ledger origin>/federation``. It signs
this instance's partner card and every request to a partner.

Why not the ledger's log key: that key signs checkpoints, and a verifier of checkpoints must
never be shown a signature of anything else (a request body crafted to parse as a note would
otherwise carry a valid log signature); rotating the log key must not break partnerships, and
the other way round. Why not the witness key: it cosigns partners' checkpoints, another
purpose. One key per purpose, each rotated on its own.
"""

from __future__ import annotations

import stat
from pathlib import Path

from smartcustoms.core.errors import ConfigurationError
from smartcustoms.core.files import create_private_file
from smartcustoms.ledger.errors import MalformedKey
from smartcustoms.ledger.keystore import key_dir, key_label
from smartcustoms.ledger.tlog.keys import Ed25519Signer, parse_signer_key

__all__ = ["FEDERATION_KEY_FILE", "federation_key_name", "key_id_of", "load_federation_signer"]

FEDERATION_KEY_FILE = "federation.key"


def federation_key_name(ledger_origin: str) -> str:
    return f"{ledger_origin}/federation"


def key_id_of(signer_or_name: Ed25519Signer | str, key_hash: int | None = None) -> str:
    """The RFC 9421 ``keyid`` of a key: ``name+keyid`` as the ledger names its keys."""
    if isinstance(signer_or_name, str):
        assert key_hash is not None
        return key_label(signer_or_name, key_hash)
    return key_label(signer_or_name.name, signer_or_name.key_id)


def load_federation_signer(data_dir: Path, ledger_origin: str) -> Ed25519Signer:
    """The federation signer from ``federation.key``, generated on first use."""
    path = key_dir(data_dir) / FEDERATION_KEY_FILE
    name = federation_key_name(ledger_origin)
    if not path.exists():
        # False when another process made it first: then use theirs.
        create_private_file(path, Ed25519Signer.generate(name).key_string())
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"federation key {path} is readable by others (mode {stat.S_IMODE(mode):o}): "
            f"run `chmod 600 {path}`",
            details=[{"file": str(path), "problem": "permissions too open"}],
        )
    try:
        signer = parse_signer_key(path.read_text(encoding="ascii").strip())
    except MalformedKey as exc:
        raise ConfigurationError(
            f"federation key file {path} is damaged: {exc.message}",
            details=[{"file": str(path)}, *exc.details],
        ) from None
    if signer.name != name:
        raise ConfigurationError(
            f"the federation key in {path} is named {signer.name!r}, not {name!r}: the ledger "
            "origin never changes",
            details=[{"setting": "SMARTCUSTOMS_LEDGER_ORIGIN", "value": ledger_origin}],
        )
    return signer
