"""The reports API against its own OpenAPI description (schemathesis): generated filters —
valid, edge and invalid — never answer 5xx nor a status the operation does not document, for a
role that may read every report and for one that may read none."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.tokens import create_token
from smartcustoms.core.users import create_user, get_user
from smartcustoms.reports import REPORTS
from tests.conftest import PASSWORD
from tests.web.conftest import bearer

EXAMPLES = 25


@pytest.fixture
def tokens(ctx: AppContext) -> dict[Role, str]:
    out = {}
    with ctx.unit() as unit:
        for role in (Role.AUDITOR, Role.DECLARANT):
            create_user(unit, username=role.value, password=PASSWORD, roles=[role], actor="t")
            user = get_user(unit.session, role.value)
            out[role] = create_token(unit, user, name="t", days=1, max_days=10, actor="t").secret
    return out


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.DECLARANT], ids=lambda r: r.value)
def test_report_operations_keep_their_contract(
    app: Any,
    tokens: dict[Role, str],
    role: Role,
) -> None:
    schema = schemathesis.openapi.from_asgi(
        "/api/openapi.json", app, headers=bearer(tokens[Role.AUDITOR])
    )
    walked, failed = [], {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/api/reports/"):
            continue
        walked.append(operation.path)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
            derandomize=True, database=None,
        )  # fmt: skip
        def run(case: Any) -> None:
            case.call_and_validate(
                headers=bearer(tokens[role]), excluded_checks=[positive_data_acceptance]
            )

        try:
            run()
        except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
            failed[operation.label] = str(exc)[:1500]
    one = "/api/reports/schedules/{schedule_id}"
    schedules = ["/api/reports/schedules", one, f"{one}/pause", f"{one}/resume"]
    assert sorted(set(walked)) == sorted([f"/api/reports/{name}" for name in REPORTS] + schedules)
    assert not failed, "\n\n".join(f"{k}:\n{v}" for k, v in sorted(failed.items()))
