"""Targeting rules: versions, four eyes, validity, and the errors that name the column."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Conflict, Forbidden, ValidationFailed
from smartcustoms.core.events import AdminAction, Event
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.rulebook import active_rules, propose, retire, review

RULE = 'hs6 startswith "2402" and origin in ("AE", "PA")'


def write(ctx: AppContext, author: str = "ana", **changes: object) -> int:
    fields: dict[str, object] = {
        "name": "cigarettes",
        "expression": RULE,
        "lane": Lane.RED,
        "reason": "Cigarettes from free zones",
    }
    fields.update(changes)
    with ctx.unit() as unit:
        return propose(unit, actor=author, **fields).id  # type: ignore[arg-type]


def test_four_eyes(ctx: AppContext, events: list[Event]) -> None:
    version = write(ctx)
    with ctx.db.session() as s:
        assert active_rules(s) == []  # a draft does nothing
    with pytest.raises(Forbidden) as err, ctx.unit() as unit:
        review(unit, version, approve=True, actor="ana")
    assert err.value.code == "four_eyes"
    with ctx.unit() as unit:
        review(unit, version, approve=True, actor="sam", note="ok")
    with ctx.db.session() as s:
        (rule,) = active_rules(s)
    assert rule.ref == "cigarettes@1"
    assert rule.expression.matches({"hs6": "240220", "origin": "AE"})
    actions = [e.action for e in events if isinstance(e, AdminAction)]
    assert actions == ["risk_rule_proposed", "risk_rule_approved"]
    with pytest.raises(Conflict), ctx.unit() as unit:
        review(unit, version, approve=False, actor="kim")


def test_new_version_waits_while_the_old_one_applies(ctx: AppContext) -> None:
    first = write(ctx)
    with ctx.unit() as unit:
        review(unit, first, approve=True, actor="sam")
    second = write(ctx, expression='hs6 startswith "2403"', lane=Lane.SCAN)
    with ctx.db.session() as s:
        assert [r.ref for r in active_rules(s)] == ["cigarettes@1"]
    with ctx.unit() as unit:
        review(unit, second, approve=True, actor="sam")
    with ctx.db.session() as s:
        (rule,) = active_rules(s)
    assert (rule.ref, rule.lane) == ("cigarettes@2", Lane.SCAN)
    with ctx.unit() as unit:
        retire(unit, second, actor="sam")
    with ctx.db.session() as s:
        assert [r.ref for r in active_rules(s)] == ["cigarettes@1"]


def test_validity_window(ctx: AppContext) -> None:
    now = clock.now()
    version = write(ctx, valid_from=now - timedelta(days=2), valid_until=now - timedelta(days=1))
    with ctx.unit() as unit:
        review(unit, version, approve=True, actor="sam")
    with ctx.db.session() as s:
        assert active_rules(s) == []
        assert len(active_rules(s, at=now - timedelta(hours=36))) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"expression": 'hs6 startswith "24" and'}, "expression"),
        ({"expression": "colour = 3"}, "expression"),
        ({"reason": "  "}, "reason"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_rules_name_the_problem(
    ctx: AppContext, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as err:
        write(ctx, **changes)
    assert err.value.details[0]["field"] == field
    if field == "expression":
        assert "column" in err.value.details[0]
