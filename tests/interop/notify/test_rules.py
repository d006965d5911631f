"""Rules, contacts and recipients: every refusal names its field; who a rule reaches."""

from __future__ import annotations

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Conflict, NotFound, ValidationFailed
from smartcustoms.core.roles import Role
from smartcustoms.core.users import set_disabled
from smartcustoms.interop.notify.contacts import set_contact
from smartcustoms.interop.notify.journal import list_notifications, queue_test, retry_notification
from smartcustoms.interop.notify.rules import add_rule, list_rules, recipients, remove_rule
from tests.conftest import add_user


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"trigger": "everything"}, "trigger"),
        ({"role": None}, "role"),  # neither a role nor a user
        ({"username": "chief"}, "role"),  # both
        ({"role": "king"}, "role"),
        ({"channels": ["fax"]}, "channels"),
        ({"channels": []}, "channels"),
        ({"after_minutes": -1}, "after_minutes"),
        ({"trigger": "alert_escalated", "after_minutes": 5}, "after_minutes"),
        ({"office": "KE MBA"}, "office"),
    ],
)
def test_bad_rules_name_the_field(ctx: AppContext, values: dict[str, object], field: str) -> None:
    add_user(ctx, "chief", Role.SUPERVISOR)
    rule: dict[str, object] = {
        "trigger": "alert_critical",
        "role": "supervisor",
        "channels": ["email"],
        **values,
    }
    with pytest.raises(ValidationFailed) as caught, ctx.unit() as unit:
        add_rule(unit, actor="admin", **rule)  # type: ignore[arg-type]
    assert caught.value.details[0]["field"] == field
    with ctx.db.session() as session:
        assert list_rules(session) == []  # nothing half-written


def test_who_a_rule_reaches(ctx: AppContext) -> None:
    for name, office in (("op-a", "KEMBA"), ("op-b", None), ("op-c", "UGKLA"), ("gone", None)):
        add_user(ctx, name, Role.COMMAND_CENTRE_OPERATOR)
        with ctx.unit() as unit:
            set_contact(unit, name, email=f"{name}@x.example", phone=None, office=office,
                        quiet_start=None, quiet_end=None, actor="t")  # fmt: skip
    with ctx.unit() as unit:
        set_disabled(unit, "gone", True, actor="t")
        everywhere = add_rule(unit, trigger="alert_critical", role="command_centre_operator",
                              channels=["email", "sms"], actor="t")  # fmt: skip
        kemba = add_rule(unit, trigger="alert_critical", role="command_centre_operator",
                         office="KEMBA", channels=["sms"], actor="t")  # fmt: skip
        assert everywhere.channels == "email,sms"
        names = [p.username for p in recipients(unit.session, everywhere, ("KEMBA", "UGKLA"))]
        assert names == ["op-a", "op-b", "op-c"]  # never the disabled one
        assert [p.username for p in recipients(unit.session, everywhere, ("TZDAR",))] == ["op-b"]
        assert [p.username for p in recipients(unit.session, everywhere, ())] == [
            "op-a",
            "op-b",
            "op-c",
        ]
        assert [p.username for p in recipients(unit.session, kemba, ("UGKLA",))] == []
        assert [p.username for p in recipients(unit.session, kemba, ("KEMBA",))] == ["op-a", "op-b"]
        with pytest.raises(NotFound):
            remove_rule(unit, 9999, actor="t")


def test_contacts_retry_and_test_refusals(ctx: AppContext) -> None:
    add_user(ctx, "op", Role.COMMAND_CENTRE_OPERATOR)
    with pytest.raises(ValidationFailed) as caught, ctx.unit() as unit:
        set_contact(unit, "op", email=None, phone=None, office=None, quiet_start="22:00",
                    quiet_end=None, actor="t")  # fmt: skip
    assert caught.value.details[0]["field"] == "quiet_end"
    with pytest.raises(NotFound), ctx.unit() as unit:
        set_contact(unit, "nobody", email=None, phone=None, office=None, quiet_start=None,
                    quiet_end=None, actor="t")  # fmt: skip
    with ctx.unit() as unit:
        set_contact(unit, "op", email="op@x.example", phone=None, office=None,
                    quiet_start=None, quiet_end=None, actor="t")  # fmt: skip
    with pytest.raises(Conflict), ctx.unit() as unit:
        queue_test(unit, ctx.settings, "op", "sms", actor="t")  # no phone
    with pytest.raises(ValidationFailed), ctx.unit() as unit:
        queue_test(unit, ctx.settings, "op", "pigeon", actor="t")
    with ctx.unit() as unit:
        row = queue_test(unit, ctx.settings, "op", "email", actor="t")
    with pytest.raises(Conflict), ctx.unit() as unit:
        retry_notification(unit, row.id, actor="t")  # queued: nothing to retry
    with pytest.raises(ValidationFailed), ctx.db.session() as session:
        list_notifications(session, state="lost")
