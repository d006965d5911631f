"""The answer read from the database: a targeting rule's reason and control instructions reach
the response; a declaration stored as history has no answer."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import NotFound
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.formats.cusdec import read_cusdec
from smartcustoms.declarations.formats.edifact import read_messages
from smartcustoms.interop.responses import answer_for, render
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.lodging import lodge
from smartcustoms.risk.rulebook import propose, review

INSTRUCTIONS = "Open two cartons; compare the rating plate with the invoice (5 kW?)."


def test_a_rules_reason_and_instructions_reach_the_answer(
    ctx: AppContext, cusdec_example: Path
) -> None:
    with ctx.unit() as unit:
        version = propose(
            unit, name="inverters", expression='hs6 startswith "8504"', lane=Lane.RED,
            reason="Inverters: undervaluation seen at this office", instructions=INSTRUCTIONS,
            actor="ana",
        ).id  # fmt: skip
    with ctx.unit() as unit:
        review(unit, version, approve=True, actor="sam")
    with ctx.unit() as unit:
        lodging = lodge(ctx, unit, list(read_cusdec(cusdec_example)), source="test",
                        submitted_by="t", actor="t")  # fmt: skip
    [lodged] = lodging.lodged
    with ctx.unit() as unit:
        answer = answer_for(unit.session, lodged.stored.id)
        media_type, data = render(unit.session, lodged.stored.id, "cusres")
    assert answer.lane == "red"
    assert answer.lrn == "MSA-2026-000417"
    rule = next(r for r in answer.reasons if r.code == "inverters@1")
    assert rule.texts["en"] == "Inverters: undervaluation seen at this office"
    assert answer.instructions == [INSTRUCTIONS]
    assert media_type == "application/edifact"
    [message] = list(read_messages(io.BytesIO(data), "answer"))
    written = [s for s in message.segments if s.tag == "FTX" and s.get(1) == "CUS"]
    assert [s.get(4) for s in written] == [INSTRUCTIONS]  # "?" released, read back as written


def test_history_has_no_answer(ctx: AppContext, cusdec_example: Path) -> None:
    [record] = list(read_cusdec(cusdec_example))
    past = SourceRecord(record.where, data=record.data, outcome={"fraud": False, "critical": False})
    with ctx.unit() as unit:
        lodging = lodge(ctx, unit, [past], source="test", submitted_by="t", actor="t")
    assert lodging.history == 1
    with pytest.raises(NotFound) as caught, ctx.unit() as unit:
        answer_for(unit.session, lodging.lodged[0].stored.id)
    assert "has no lane" in caught.value.message
