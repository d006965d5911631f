"""Federation events: each a ledger record on this instance's side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smartcustoms.core.events import Event

__all__ = [
    "GuaranteeReleased",
    "MessageReceived",
    "MessageSent",
    "PartnerAccountLinked",
    "PartnerAdded",
    "PartnerStateChanged",
    "PartnerUpdated",
    "RequestRefusedEvent",
    "TransitAccepted",
    "TransitHandedIn",
]


@dataclass(frozen=True, kw_only=True)
class PartnerAdded(Event):
    """A partner added from its verified card; ``fingerprint`` is what people compared."""

    type: ClassVar[str] = "federation.partner_added"
    name: str
    country: str
    url: str
    fingerprint: str
    request_key: str
    ledger_vkey: str
    witness_vkey: str
    kinds: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class PartnerUpdated(Event):
    """A partner's card replaced by a newer one (a key rotated, a URL moved): ``changed`` names
    the card's fields that differ; ``confirmed`` is true when the new card was not signed by the
    request key we trusted, so an administrator confirmed its fingerprint."""

    type: ClassVar[str] = "federation.partner_updated"
    name: str
    old_fingerprint: str
    fingerprint: str
    changed: tuple[str, ...]
    confirmed: bool
    country: str
    url: str
    request_key: str
    ledger_vkey: str
    witness_vkey: str
    kinds: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class PartnerStateChanged(Event):
    type: ClassVar[str] = "federation.partner_state_changed"
    name: str
    state: str


@dataclass(frozen=True, kw_only=True)
class PartnerAccountLinked(Event):
    """A partner-administration user account now acts for ``partner`` (or for none)."""

    type: ClassVar[str] = "federation.account_linked"
    username: str
    partner: str | None


@dataclass(frozen=True, kw_only=True)
class MessageReceived(Event):
    """A partner's message accepted into the inbox (its body's SHA-256, not the body)."""

    type: ClassVar[str] = "federation.message_received"
    partner: str
    message_id: str
    kind: str
    body_sha256: str


@dataclass(frozen=True, kw_only=True)
class MessageSent(Event):
    """A message this instance sent and the partner acknowledged."""

    type: ClassVar[str] = "federation.message_sent"
    partner: str
    message_id: str
    kind: str
    body_sha256: str
    status: int


@dataclass(frozen=True, kw_only=True)
class MessageSetAside(Event):
    """A message the partner refused for what it says (malformed, too large, a reused id):
    sending it again cannot succeed, so it is set aside and the partner's queue goes on."""

    type: ClassVar[str] = "federation.message_set_aside"
    partner: str
    message_id: str
    kind: str
    body_sha256: str
    status: int
    error: str


@dataclass(frozen=True, kw_only=True)
class RequestRefusedEvent(Event):
    """A signed request refused: forged, replayed, stale, unknown key, suspended partner."""

    type: ClassVar[str] = "federation.request_refused"
    code: str
    reason: str
    key_id: str
    partner: str | None
    method: str
    path: str
    client: str


@dataclass(frozen=True, kw_only=True)
class TransitHandedIn(Event):
    """A partner handed a transit over to us: it exists here from now, pending acceptance."""

    type: ClassVar[str] = "federation.transit_handed_in"
    transit_id: int
    reference: str
    from_administration: str
    origin_reference: str
    origin_transit_id: int
    border: str
    device_id: str
    track_positions: int
    open_alerts: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class TransitAccepted(Event):
    """Our officer (or the automatic rule) took responsibility for a handed-in transit."""

    type: ClassVar[str] = "federation.transit_accepted"
    transit_id: int
    reference: str
    from_administration: str
    origin_reference: str


@dataclass(frozen=True, kw_only=True)
class GuaranteeReleased(Event):
    """The partner discharged a transit we handed over: closed here, its guarantee released."""

    type: ClassVar[str] = "federation.guarantee_released"
    transit_id: int
    reference: str
    partner: str
    partner_reference: str
    office: str
    seal_intact: bool
