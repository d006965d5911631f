"""An approved lane override goes out as ``declaration.lane_overridden``, without who did it."""

from __future__ import annotations

from smartcustoms.interop.webhooks.catalogue import match
from smartcustoms.risk.events import LaneOverrideApproved, LaneOverrideProposed


def test_approved_override_is_a_webhook_and_a_proposal_is_not() -> None:
    approved = LaneOverrideApproved(
        actor="sam", override_id=3, declaration_id=7, proposed_by="olive", original_lane="green",
        from_lane="green", to_lane="red", note_sha256=None,
    )  # fmt: skip
    assert match(approved.type, vars(approved)) == (
        "declaration.lane_overridden",
        "declaration:7",
        {
            "declaration_id": 7,
            "override_id": 3,
            "original_lane": "green",
            "from_lane": "green",
            "to_lane": "red",
        },
    )
    proposed = LaneOverrideProposed(
        actor="olive", override_id=3, declaration_id=7, original_lane="green",
        from_lane="green", to_lane="red", reason_sha256="0" * 64,
    )  # fmt: skip
    assert match(proposed.type, vars(proposed)) is None
