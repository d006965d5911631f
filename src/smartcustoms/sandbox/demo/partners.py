"""The two-administration demo's own data: who the partners are and the hand-over at Malaba.

Kenya runs the whole demo (declarations, sealed trucks on the Northern and Central corridors,
scans); Uganda has its own users, corridors, risk data and scans. Both are partners from the
start, each having added the other's signed card as an administrator would. A watcher stands in
for the Kenyan officer at Malaba: every Kenyan transit on the Northern Corridor whose truck has
reached the border post (or started the demo beyond it) is handed over to Uganda through the
product's own use case, so the federation outbox carries it, its track and its positions to
Uganda's instance, where an officer accepts it. Kenya also shares a scan with Uganda and offers it
a targeting rule (:func:`share_and_offer`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.federation.directory import add_partner
from smartcustoms.federation.rules_offered import offer_rule
from smartcustoms.federation.scans_shared import share_scan
from smartcustoms.federation.service import own_card
from smartcustoms.risk.tables import RuleRow, RuleVersionRow
from smartcustoms.scans.storage import store_for
from smartcustoms.scans.tables import ScanRow
from smartcustoms.tracking.tables import CorridorRow, TransitLiveRow, TransitRow, ZoneRow
from smartcustoms.tracking.transit_status import TransitStatus
from smartcustoms.tracking.transits import hand_over_transit

__all__ = [
    "KENYA",
    "MALABA",
    "UGANDA",
    "Administration",
    "HandOverAtMalaba",
    "link_partners",
    "share_and_offer",
]

log = logging.getLogger(__name__)

ACTOR = "demo"
MALABA: Final = "KE-MALABA"  # the Kenyan side of the Malaba one-stop border post
CORRIDOR: Final = "northern"  # Mombasa – Nairobi – Malaba – Kampala – Kigali, westwards


@dataclass(frozen=True)
class Administration:
    name: str
    country: str
    ledger_origin: str

    def settings(self, url: str) -> dict[str, Any]:
        return {
            "administration_name": self.name,
            "ledger_origin": self.ledger_origin,
            "federation_country": self.country,
            "federation_url": url,
        }


KENYA: Final = Administration("Kenya Revenue Authority", "KE", "kra.demo.smartcustoms/ledger")
UGANDA: Final = Administration("Uganda Revenue Authority", "UG", "ura.demo.smartcustoms/ledger")


def share_and_offer(ctx: AppContext, partner: str) -> tuple[int | None, str | None]:
    """What an image analyst and a risk analyst of ``ctx`` do for ``partner`` in the demo: share
    the first scan in the review queue, offer the first approved targeting rule. Both go out
    through the outbox; the partner sees the scan in its queue and the rule as a proposal its
    supervisor may approve. Returns the scan's id and the rule's name (None where none)."""
    settings = ctx.settings
    with ctx.unit() as unit:
        session = unit.session
        scan_id = session.scalar(select(ScanRow.id).order_by(ScanRow.id).limit(1))
        if scan_id is not None:
            share_scan(
                unit,
                store_for(settings),
                scan_id,
                partner,
                note="Seen at Mombasa; the container crosses at Malaba.",
                actor="image-analyst",
                own_name=settings.administration_name,
                max_bytes=settings.max_upload_bytes,
            )
        rule = session.execute(
            select(RuleVersionRow.id, RuleRow.name)
            .join(RuleRow, RuleRow.id == RuleVersionRow.rule_id)
            .where(RuleVersionRow.status == "approved")
            .order_by(RuleVersionRow.id)
            .limit(1)
        ).first()
        if rule is not None:
            offer_rule(unit, partner, rule.id, actor="risk-analyst")
    return scan_id, None if rule is None else str(rule.name)


def link_partners(first: AppContext, second: AppContext) -> None:
    """Each adds the other's card: the copy-paste exchange of `smartcustoms partners card` /
    `partners add`, both recorded in each ledger."""
    for here, there in ((first, second), (second, first)):
        with here.unit() as unit:
            add_partner(unit, own_card(there).to_json(), own=own_card(here), actor=ACTOR)


class HandOverAtMalaba:
    """Hands Kenya's Northern Corridor transits over to ``partner`` once their truck is at the
    Malaba border post or west of it. Polls the live positions every ``interval`` seconds."""

    def __init__(self, ctx: AppContext, partner: str, *, interval: float = 2.0) -> None:
        self._ctx = ctx
        self._partner = partner
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-malaba", daemon=True)
        self.handed: list[str] = []  # references handed over, in order

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.pass_once()
            except Exception:  # a demo watcher must not die on one bad pass
                log.exception("the demo's Malaba hand-over pass failed")

    def pass_once(self) -> list[str]:
        """Hand over every transit at or past Malaba; return their references."""
        done: list[str] = []
        with self._ctx.unit() as unit:
            session = unit.session
            border = session.scalars(select(ZoneRow).where(ZoneRow.code == MALABA)).one()
            due = session.execute(
                select(TransitRow.id, TransitRow.reference)
                .join(CorridorRow, CorridorRow.id == TransitRow.corridor_id)
                .join(TransitLiveRow, TransitLiveRow.transit_id == TransitRow.id)
                .where(
                    CorridorRow.code == CORRIDOR,
                    TransitRow.status == TransitStatus.ARMED.value,
                    # The corridor runs westwards from Mombasa: at the border post or beyond.
                    (TransitLiveRow.zone == MALABA)
                    | (TransitLiveRow.longitude <= border.longitude),
                )
                .order_by(TransitRow.id)
            ).all()
            for transit_id, reference in due:
                hand_over_transit(
                    unit, transit_id, actor=ACTOR, border=MALABA, to_administration=self._partner
                )
                done.append(reference)
        self.handed.extend(done)
        return done
