"""Quiet hours, contact checks and the words of a notification (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.interop.notify.contacts import parse_email, parse_phone
from smartcustoms.interop.notify.quiet import parse_clock, parse_zone, quiet_until
from smartcustoms.interop.notify.wording import compose


def at(hour: int, minute: int = 0, day: int = 6) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "start", "end", "until"),
    [
        (at(23), "22:00", "06:00", at(6, day=7)),  # across midnight, before it
        (at(3), "22:00", "06:00", at(6)),  # across midnight, after it
        (at(6), "22:00", "06:00", None),  # the end is not quiet
        (at(21, 59), "22:00", "06:00", None),
        (at(12, 30), "12:00", "14:00", at(14)),  # the same day
        (at(12), None, None, None),
        (at(12), "08:00", "08:00", None),  # zero length: never quiet
    ],
)
def test_quiet_until(now: datetime, start: str, end: str, until: datetime | None) -> None:
    assert quiet_until(now, start, end, "UTC") == until


def test_quiet_hours_are_local_time() -> None:
    # 20:00 UTC is 23:00 in Nairobi (UTC+3): quiet until 06:00 Nairobi = 03:00 UTC.
    until = quiet_until(at(20), "22:00", "06:00", "Africa/Nairobi")
    assert until is not None and until.astimezone(UTC) == at(3, day=7)
    assert quiet_until(at(20), "22:00", "06:00", "UTC") is None


@pytest.mark.parametrize("bad", ["24:00", "7:00", "07:60", "07h00", ""])
def test_bad_clock_names_the_field(bad: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_clock(bad, "quiet_start")
    assert caught.value.details[0]["field"] == "quiet_start"


def test_zone_phone_and_email() -> None:
    assert parse_zone("Africa/Abidjan") == "Africa/Abidjan"
    for bad in ("Mars/Olympus", "../../etc/passwd", "x" * 80):
        with pytest.raises(ValidationFailed):
            parse_zone(bad)
    assert parse_phone("+225 07 08 09 10 11") == "+2250708091011"
    with pytest.raises(ValidationFailed):
        parse_phone("0708091011")  # not international
    assert parse_email(" chef@douanes.example ") == "chef@douanes.example"
    for bad in ("a@b", "a b@c.example", "a@b.example\nBcc: x@y.example", "<a@b.example>"):
        with pytest.raises(ValidationFailed):
            parse_email(bad)


def test_words_in_french_and_gaps_shown() -> None:
    params = {"alert_type": "cable_cut", "reference": "CI-T-7", "alert_id": 3}
    title, body = compose("alert_critical", params, "fr", after_minutes=15)
    assert title == (
        "Toujours en attente après 15 min : Alerte critique cable_cut sur le transit CI-T-7"
    )
    assert "gravité ?" in body  # a field the record lacks shows as '?', never an error
    hostile = {"target": "{__class__}<b>", "actor": "x"}
    title, _ = compose("rule_approval", hostile, "en")
    assert title == "Targeting rule {__class__}<b> waits for approval"  # data is not a template
