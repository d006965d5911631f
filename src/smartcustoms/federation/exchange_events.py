"""Events of rules offered between administrations and of notices: each a ledger record on the
side where it happened (the offer and its answer at the origin, the proposal at the partner;
a notice where it was published and where it was received)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smartcustoms.core.events import Event

__all__ = ["NoticePublished", "NoticeReceived", "RuleOfferAnswered", "RuleOffered", "RuleReceived"]


@dataclass(frozen=True, kw_only=True)
class RuleOffered(Event):
    """We offered a targeting rule's version to a partner (``message_id``: the offer's id)."""

    type: ClassVar[str] = "federation.rule_offered"
    partner: str
    rule: str
    version: int
    expression: str
    lane: str
    message_id: str


@dataclass(frozen=True, kw_only=True)
class RuleReceived(Event):
    """A partner offered us a rule: stored as a proposal (``proposal``: name@version here)
    that selects nothing until our supervisor approves it."""

    type: ClassVar[str] = "federation.rule_received"
    partner: str
    offer_id: str
    origin_rule: str
    origin_version: int
    proposal: str
    expression: str
    lane: str


@dataclass(frozen=True, kw_only=True)
class RuleOfferAnswered(Event):
    """The partner adopted or declined a rule we offered."""

    type: ClassVar[str] = "federation.rule_offer_answered"
    partner: str
    rule: str
    version: int
    message_id: str
    adopted: bool


@dataclass(frozen=True, kw_only=True)
class NoticePublished(Event):
    """A seizure or irregularity notice we published, and to which partners."""

    type: ClassVar[str] = "federation.notice_published"
    notice_id: str
    kind: str
    hs_code: str
    found_on: str
    partners: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class NoticeReceived(Event):
    """A partner's notice received and stored, searchable here."""

    type: ClassVar[str] = "federation.notice_received"
    partner: str
    notice_id: str
    kind: str
    hs_code: str
    found_on: str
