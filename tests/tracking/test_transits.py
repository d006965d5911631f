"""The transit lifecycle: created from a declaration, armed, handed over, discharged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Conflict, ValidationFailed
from smartcustoms.core.events import Event
from smartcustoms.tracking.tables import DeviceRow, TransitLiveRow, TransitRow, TransitStepRow
from smartcustoms.tracking.transits import (
    TransitRequest,
    arm_transit,
    cancel_transit,
    create_transit,
    discharge_transit,
    hand_over_transit,
)

from .helpers import CONTAINERS, import_packaged, store_declaration


@pytest.fixture
def declaration(ctx: AppContext) -> int:
    import_packaged(ctx)
    return store_declaration(ctx, "TR-1")


def request(declaration: int, **changes: Any) -> TransitRequest:
    values: dict[str, Any] = {
        "declaration_id": declaration,
        "device_id": "SEAL-1",
        "vehicle": "KBX 123A",
        "corridor": "northern",
        "origin": "KEMBA",
        "destination": "RWKGL",
        "deadline": datetime.now(UTC) + timedelta(days=4),
        "seal_number": "KE123456",
    }
    values.update(changes)
    return TransitRequest(**values)


def create(ctx: AppContext, req: TransitRequest) -> int:
    with ctx.unit() as unit:
        row = create_transit(unit, req, actor="officer", administration="KRA")
        return row.id


def test_full_lifecycle(ctx: AppContext, declaration: int, events: list[Event]) -> None:
    transit = create(ctx, request(declaration))
    with ctx.unit() as unit:
        arm_transit(unit, transit, actor="officer-mombasa")
    with ctx.unit() as unit:
        hand_over_transit(
            unit, transit, actor="officer-malaba", border="UGMAL", to_administration="URA"
        )
    with ctx.unit() as unit:
        hand_over_transit(
            unit, transit, actor="ura-katuna", border="UG-KATUNA", to_administration="RRA"
        )
    with ctx.unit() as unit:
        discharge_transit(unit, transit, actor="officer-kigali", seal_intact=True)
    with ctx.db.session() as session:
        row = session.get(TransitRow, transit)
        assert row is not None
        assert (row.status, row.responsible) == ("discharged", "RRA")
        assert row.containers == CONTAINERS  # from the declaration
        assert row.reference == "BRK001-TR-1"
        steps = session.scalars(
            select(TransitStepRow)
            .where(TransitStepRow.transit_id == transit)
            .order_by(TransitStepRow.id)
        ).all()
        assert session.get(DeviceRow, "SEAL-1") is not None  # the seal is registered
        assert session.get(TransitLiveRow, transit) is not None
    assert [(s.step, s.actor) for s in steps] == [
        ("created", "officer"),
        ("armed", "officer-mombasa"),
        ("handed_over", "officer-malaba"),
        ("handed_over", "ura-katuna"),
        ("discharged", "officer-kigali"),
    ]
    assert steps[2].details == {"border": "UGMAL", "to": "URA", "by": "KRA"}
    assert steps[4].details["at_destination"] is False  # the seal never reported from Kigali
    assert [e.type for e in events if e.type.startswith("tracking.transit")] == [
        "tracking.transit_created",
        "tracking.transit_armed",
        "tracking.transit_handed_over",
        "tracking.transit_handed_over",
        "tracking.transit_discharged",
    ]
    created = next(e for e in events if e.type == "tracking.transit_created").as_record()
    assert created["containers"] == CONTAINERS and created["corridor"] == "northern"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"containers": ["CSQU3054384"]}, "containers[0]"),  # wrong check digit
        ({"corridor": "western"}, "corridor"),
        ({"origin": "TZDAR"}, "origin"),  # not on the Northern Corridor
        ({"destination": "UGMAL"}, None),  # a border post may be a destination: fine
        ({"destination": "KEMBA"}, "destination"),  # the origin
        ({"origin": "NOWHERE"}, "origin"),
        ({"deadline": datetime.now(UTC) - timedelta(hours=1)}, "deadline"),
        ({"vehicle": "  "}, "vehicle"),
        ({"declaration_id": 999_999}, "declaration_id"),
    ],
)
def test_creation_is_checked(
    ctx: AppContext, declaration: int, changes: dict[str, Any], field: str | None
) -> None:
    req = request(declaration, **changes)
    if field is None:
        create(ctx, req)
        return
    with pytest.raises(ValidationFailed) as error:
        create(ctx, req)
    assert error.value.details[0]["field"] == field


def test_a_seal_seals_one_transit_at_a_time(ctx: AppContext, declaration: int) -> None:
    first = create(ctx, request(declaration))
    other = store_declaration(ctx, "TR-2")
    with pytest.raises(Conflict, match="SEAL-1"):
        create(ctx, request(other))
    with ctx.unit() as unit:
        cancel_transit(unit, first, actor="officer", reason="wrong truck")
    create(ctx, request(other))  # free again
    with pytest.raises(Conflict, match="exists"):
        create(ctx, request(declaration, device_id="SEAL-9"))  # same reference


def test_steps_in_the_wrong_state_are_refused(ctx: AppContext, declaration: int) -> None:
    transit = create(ctx, request(declaration))
    with ctx.unit() as unit, pytest.raises(Conflict, match="created"):
        discharge_transit(unit, transit, actor="officer", seal_intact=True)
    with ctx.unit() as unit, pytest.raises(Conflict):
        hand_over_transit(unit, transit, actor="o", border="UGMAL", to_administration="URA")
    with ctx.unit() as unit:
        arm_transit(unit, transit, actor="officer")
    with ctx.unit() as unit, pytest.raises(Conflict, match="armed"):
        arm_transit(unit, transit, actor="officer")
    with ctx.unit() as unit, pytest.raises(ValidationFailed, match="border"):
        hand_over_transit(unit, transit, actor="o", border="KEMBA", to_administration="URA")
