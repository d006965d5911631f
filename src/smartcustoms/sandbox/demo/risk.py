"""Demo data for the risk engine: history, a trained model, a rule, and a day's declarations.

Uses the packaged KCS synthetic declarations: the first months as history with their
inspection results, a model trained on it, then later declarations lodged without results so
the officer's queue has work. Sized to take a few seconds.
"""

from __future__ import annotations

import csv
import io
import logging
import threading
from importlib import resources
from typing import Any

from smartcustoms.core.context import AppContext
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.formats.kcs import kcs_row
from smartcustoms.declarations.intake import import_records
from smartcustoms.risk import registry
from smartcustoms.risk.inspections import record_history
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.lodging import lodge
from smartcustoms.risk.rulebook import propose, review
from smartcustoms.risk.training import train_from_store

__all__ = ["lodged_declarant_ids", "seed_risk_demo"]

log = logging.getLogger("smartcustoms.demo")

HISTORY_ROWS = 6000
FEED_EVERY_S = 4.0
NEW_ROWS = 400
ACTOR = "demo"


def _records(rows: list[dict[str, str]], *, labels: bool) -> list[SourceRecord]:
    records = []
    for number, row in enumerate(rows, start=2):
        data, outcome = kcs_row(row)
        records.append(
            SourceRecord(f"row {number}", data=data, outcome=outcome if labels else None)
        )
    return records


def _rows() -> list[dict[str, Any]]:
    source = resources.files("smartcustoms.risk") / "data" / "kcs" / "train.csv"
    return list(csv.DictReader(io.StringIO(source.read_text(), newline="")))


def lodged_declarant_ids() -> set[str]:
    """The declarant IDs of what the demo's declarant lodges (today's declarations and the
    feed), so the demo can bind its declarant user to them."""
    return {row["Declarant ID"].strip() for row in _rows()[HISTORY_ROWS:]} - {""}


def seed_risk_demo(ctx: AppContext) -> None:
    rows = _rows()
    history, new = rows[:HISTORY_ROWS], rows[HISTORY_ROWS : HISTORY_ROWS + NEW_ROWS]
    with ctx.unit() as unit:
        report = import_records(
            unit.session, _records(history, labels=True), source="import:kcs",
            submitted_by=ACTOR, skip_invalid=True,
        )  # fmt: skip
        record_history(unit.session, report.outcomes, source="import:kcs", actor=ACTOR)
    with ctx.unit() as unit:
        version = train_from_store(unit, actor="risk-analyst").version
        registry.activate(unit, version, actor="risk-analyst")
    with ctx.unit() as unit:
        rule = propose(
            unit, name="tobacco-free-zones",
            expression='hs4 = "2402" and departure in ("AE", "PA", "SG")', lane=Lane.RED,
            reason="Cigarettes shipped from free zones", actor="risk-analyst",
            instructions="Open every carton; compare tax stamps with the declared origin",
        )  # fmt: skip
        review(unit, rule.id, approve=True, actor="supervisor")
        propose(
            unit, name="timber-permits", expression='hs2 = "44"', lane=Lane.YELLOW,
            reason="Timber: check the CITES permit", actor="risk-analyst",
        )  # fmt: skip
    with ctx.unit() as unit:
        lodge(
            ctx, unit, _records(new, labels=False), source="api", submitted_by="declarant",
            actor="declarant", skip_invalid=True,
        )  # fmt: skip
    stop = threading.Event()
    feeder = threading.Thread(
        target=_feed,
        args=(ctx, rows[HISTORY_ROWS + NEW_ROWS :], stop),
        name="demo-declarations",
        daemon=True,
    )

    def stop_feeding() -> None:
        stop.set()
        feeder.join(timeout=5)

    ctx.on_close(stop_feeding)
    feeder.start()


def _feed(ctx: AppContext, rows: list[dict[str, Any]], stop: threading.Event) -> None:
    """Lodge one declaration every FEED_EVERY_S seconds, as a broker's system would."""
    for number, row in enumerate(rows):
        if stop.wait(FEED_EVERY_S):
            return
        data, _ = kcs_row(row)
        data["lrn"] = f"{data['lrn']}-{number}"
        data.pop("issue_datetime", None)  # lodged now
        try:
            with ctx.unit() as unit:
                lodge(
                    ctx, unit, [SourceRecord("feed", data=data)], source="api",
                    submitted_by="declarant", actor="declarant", skip_invalid=True,
                )  # fmt: skip
        except Exception:  # a bad row or a closing database must not end the demo
            log.debug("demo feeder skipped a declaration", exc_info=True)
