"""The API against its own OpenAPI description, by schemathesis: for an administrator and for
each role, generated requests to every operation — valid, edge and invalid — must never answer
5xx, must answer a status the operation documents, and must match the documented schema.

Bounded (a few examples per operation and role) so that it runs in CI in a few minutes; run it
longer locally with ``SMARTCUSTOMS_SCHEMATHESIS_EXAMPLES=200``. Every operation is tried, and
every failing one is reported, before the test fails.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from smartcustoms.core.roles import Role
from tests.web.conftest import bearer

# A schema-valid request may still be refused by the domain (an id that names nothing, a date
# range the rules forbid, a declarant id with control characters): that is a documented 4xx,
# not a failure. Everything else schemathesis checks is kept.
LENIENT = [positive_data_acceptance]

EXAMPLES = int(os.environ.get("SMARTCUSTOMS_SCHEMATHESIS_EXAMPLES", "5"))


def failures_for(app: Any, token: str, auditor: str, examples: int) -> dict[str, str]:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, headers=bearer(auditor))
    failed: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=bearer(token), excluded_checks=LENIENT)

        try:
            run()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
            failed[operation.label] = str(exc)[:1500]
    assert operations > 40  # the whole API was walked
    return failed


@pytest.mark.slow
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_every_operation_as_every_role(app: Any, role_tokens: dict[Role, str], role: Role) -> None:
    examples = EXAMPLES * 3 if role is Role.ADMINISTRATOR else EXAMPLES
    failed = failures_for(app, role_tokens[role], role_tokens[Role.AUDITOR], examples)
    assert not failed, "\n\n".join(f"{label}:\n{why}" for label, why in sorted(failed.items()))
