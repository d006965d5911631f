"""The partner card: who an instance is, where it answers, its keys, signed.

A card is one JSON document::

    {"card": "smartcustoms-partner-card/v1", "name": "...", "country": "KE",
     "url": "https://customs.example.ke", "ledger_vkey": "...", "witness_vkey": "...",
     "request_vkey": "...", "kinds": ["notices", "rules", "scans", "transits"],
     "signature": {"alg": "ed25519", "keyid": "<request key name>+<hex>", "value": "<base64>"}}

The signature is the request key's Ed25519 signature over ``smartcustoms-partner-card/v1``, a
newline, and the card's other fields as canonical JSON (keys sorted, no blanks, UTF-8). It
proves that whoever wrote the card holds the request key it names, and that nothing in it was
changed since; it cannot prove *who* that is. People compare the card's fingerprint (SHA-256 of
the signed bytes, shown in groups of four) over a channel they already trust (a phone call
between the two administrations' officers) before adding it: that comparison is the trust.
The card carries no time, so the same instance always prints the same card and fingerprint.

The URL is https, or http only for a loopback host (``localhost``, ``127.0.0.1``, ``::1``: tests
and a demo on one machine): requests between administrations cross networks neither controls.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.jsontext import loads
from smartcustoms.federation.errors import CardRejected
from smartcustoms.federation.keys import key_id_of
from smartcustoms.ledger.errors import MalformedKey
from smartcustoms.ledger.tlog.cosignature import parse_witness_verifier_key
from smartcustoms.ledger.tlog.keys import Ed25519Signer, parse_verifier_key
from smartcustoms.reference.countries import is_country

__all__ = [
    "CARD_FORMAT",
    "KINDS",
    "Card",
    "check_url",
    "fingerprint_groups",
    "parse_card",
    "parse_kinds",
    "sign_card",
]

CARD_FORMAT: Final = "smartcustoms-partner-card/v1"
#: What a partner may receive from us (and a card says its issuer accepts).
KINDS: Final = ("transits", "scans", "rules", "notices")
_FIELDS: Final = ("name", "country", "url", "ledger_vkey", "witness_vkey", "request_vkey", "kinds")
_LOOPBACK: Final = frozenset({"localhost"})


@dataclass(frozen=True)
class Card:
    name: str
    country: str
    url: str
    ledger_vkey: str
    witness_vkey: str
    request_vkey: str
    kinds: tuple[str, ...]
    signature: str = ""  # base64

    def payload(self) -> dict[str, Any]:
        return {
            "card": CARD_FORMAT,
            "name": self.name,
            "country": self.country,
            "url": self.url,
            "ledger_vkey": self.ledger_vkey,
            "witness_vkey": self.witness_vkey,
            "request_vkey": self.request_vkey,
            "kinds": list(self.kinds),
        }

    def signed_bytes(self) -> bytes:
        canonical = json.dumps(
            self.payload(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return f"{CARD_FORMAT}\n{canonical}".encode()

    @property
    def key_id(self) -> str:
        verifier = parse_verifier_key(self.request_vkey)
        return key_id_of(verifier.name, verifier.key_id)

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.signed_bytes()).hexdigest()

    def to_json(self) -> str:
        doc = self.payload()
        doc["signature"] = {"alg": "ed25519", "keyid": self.key_id, "value": self.signature}
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def fingerprint_groups(fingerprint: str, groups: int = 8) -> str:
    """The first ``groups`` × 4 hex digits in groups of four, to read aloud (128 bits)."""
    return " ".join(fingerprint[i : i + 4] for i in range(0, 4 * groups, 4))


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"partner card: {field}: {message}", details=[{"field": field}])


def check_url(url: str, *, field: str = "url") -> str:
    """An instance's base URL: https, or http on a loopback host; no query, fragment or user;
    returned without a trailing slash."""
    if not isinstance(url, str) or not 1 <= len(url) <= 200:
        raise _invalid(field, "a URL of 1 to 200 characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError as exc:
        raise _invalid(field, f"not a URL ({exc})") from None
    if parts.scheme not in ("https", "http") or not host:
        raise _invalid(field, "an https:// URL with a host")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise _invalid(field, "no query, fragment or user name")
    if parts.scheme == "http" and not _loopback(host):
        raise _invalid(field, "https is required (http only for localhost)")
    return url.rstrip("/")


def _loopback(host: str) -> bool:
    if host in _LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_kinds(values: Iterable[str], *, field: str = "kinds") -> tuple[str, ...]:
    found: set[str] = set()
    for i, value in enumerate(values):
        if not isinstance(value, str) or value not in KINDS:
            raise ValidationFailed(
                f"{field}[{i}]: {value!r} is not one of {', '.join(KINDS)}",
                details=[{"field": f"{field}[{i}]", "value": str(value)}],
            )
        found.add(value)
    return tuple(k for k in KINDS if k in found)


def _text(doc: Mapping[str, Any], field: str, limit: int) -> str:
    value = doc.get(field)
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise _invalid(field, f"a string of 1 to {limit} characters")
    if any(not c.isprintable() for c in value):
        raise _invalid(field, "no control characters")
    return value


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def _refuse_duplicate_keys(text: str | bytes) -> None:
    """A key given twice: json keeps the last one, while a person reading the file sees the
    first, so a card could show one name and be added under another (the signature covers only
    what the parser kept). Called once :func:`loads` has accepted the text."""
    if isinstance(text, bytes):
        text = text.decode(json.detect_encoding(text))
    try:
        json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        # The signature is the card's only nested object, and none of its keys is a top one.
        field = f"signature.{exc.key}" if exc.key in ("alg", "keyid", "value") else exc.key
        raise _invalid(field, "given twice") from None


def sign_card(
    signer: Ed25519Signer,
    *,
    name: str,
    country: str,
    url: str,
    ledger_vkey: str,
    witness_vkey: str,
    kinds: Iterable[str] = KINDS,
) -> Card:
    card = Card(
        name=name,
        country=country,
        url=check_url(url),
        ledger_vkey=ledger_vkey,
        witness_vkey=witness_vkey,
        request_vkey=signer.verifier().key_string(),
        kinds=parse_kinds(kinds),
    )
    signature = base64.b64encode(signer.sign(card.signed_bytes())).decode("ascii")
    return Card(**{**card.__dict__, "signature": signature})


def parse_card(text: str | bytes) -> Card:
    """Read and verify a card. A field that does not fit is ``ValidationFailed`` naming it; a
    signature that does not verify is :class:`CardRejected` (``card_signature_invalid``)."""
    doc = loads(text, "partner card")
    _refuse_duplicate_keys(text)
    if not isinstance(doc, dict):
        raise _invalid("card", "a JSON object")
    if doc.get("card") != CARD_FORMAT:
        raise _invalid("card", f"must be {CARD_FORMAT!r}")
    unknown = sorted(set(doc) - {"card", "signature", *_FIELDS})
    if unknown:
        raise _invalid(unknown[0], "not a field of a partner card")
    name = _text(doc, "name", 120)
    if name != name.strip() or "/" in name or not name.strip(".") or name.lower() == "card":
        # The name is how people, the page's and the API's URLs (/partners/{name}/suspend) and
        # the CLI address a partner: a slash or a name of dots could never be suspended by
        # name, blanks around it make an invisible twin of a partner already added, and
        # /api/partners/card is this instance's own card.
        raise _invalid("name", "no slash, no blanks around it, not only dots, not 'card'")
    country = _text(doc, "country", 2)
    if not is_country(country):
        raise _invalid("country", f"{country!r} is not an ISO 3166-1 alpha-2 country code")
    url = check_url(doc.get("url"))  # type: ignore[arg-type]
    if url != doc.get("url"):
        raise _invalid("url", "no trailing slash")
    keys = {}
    for field, parse in (
        ("ledger_vkey", parse_verifier_key),
        ("witness_vkey", parse_witness_verifier_key),
        ("request_vkey", parse_verifier_key),
    ):
        value = _text(doc, field, 400)
        try:
            parse(value)
        except MalformedKey as exc:
            raise _invalid(field, exc.message) from None
        keys[field] = value
    raw_kinds = doc.get("kinds")
    if not isinstance(raw_kinds, list):
        raise _invalid("kinds", "a list of message kinds")
    kinds = parse_kinds(raw_kinds)
    if list(kinds) != raw_kinds:
        raise _invalid("kinds", f"in the order {', '.join(KINDS)}, without repeats")
    sig = doc.get("signature")
    if not isinstance(sig, dict) or sig.get("alg") != "ed25519":
        raise _invalid("signature", 'an object with "alg": "ed25519", "keyid" and "value"')
    card = Card(name=name, country=country, url=url, kinds=kinds, **keys)
    if sig.get("keyid") != card.key_id:
        raise CardRejected(
            "partner card: the signature's keyid is not the card's request key",
            details=[{"field": "signature.keyid", "want": card.key_id}],
            code="card_signature_invalid",
        )
    try:
        raw = base64.b64decode(str(sig.get("value", "")), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not parse_verifier_key(card.request_vkey).verify(card.signed_bytes(), raw):
        raise CardRejected(
            "partner card: the signature does not verify with the card's request key "
            "(the card was changed after signing, or signed by another key)",
            details=[{"field": "signature.value"}],
            code="card_signature_invalid",
        )
    return Card(**{**card.__dict__, "signature": str(sig["value"])})
