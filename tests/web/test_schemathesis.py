"""The API against its own OpenAPI description, by schemathesis: for an administrator and for
each role, generated requests to every operation — valid, edge and invalid — must never answer
5xx, must answer a status the operation documents, and must match the documented schema.

Bounded (a few examples per operation and role) so that it runs in CI in a few minutes; run it
longer locally with ``SMARTCUSTOMS_SCHEMATHESIS_EXAMPLES=200``. Every operation is tried, and
every failing one is reported, before the test fails.

A machine role (the tracking gateway) may call two operations: it gets the full count there and
one example for each operation it is refused. The refusal comes before the request is read, and
the people roles already send every operation its generated bodies, so one example shows the
refusal is the documented one — and the role costs a fraction of a person's.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from smartcustoms.core.roles import MACHINE_ROLES, Role
from smartcustoms.web.policy import routes_of
from tests.web.conftest import bearer

# A schema-valid request may still be refused by the domain (an id that names nothing, a date
# range the rules forbid, a declarant id with control characters): that is a documented 4xx,
# not a failure. Everything else schemathesis checks is kept.
LENIENT = [positive_data_acceptance]

EXAMPLES = int(os.environ.get("SMARTCUSTOMS_SCHEMATHESIS_EXAMPLES", "5"))


def allowed_operations(app: Any, role: Role) -> frozenset[tuple[str, str]]:
    """(METHOD, path) of every operation whose route admits ``role``."""
    return frozenset(
        (method, route.path)
        for route in routes_of(app)
        if route.roles is not None and role in route.roles
        for method in route.methods
    )


def failures_for(
    app: Any,
    token: str,
    auditor: str,
    examples: int,
    *,
    refused_examples: int | None = None,
    allowed: frozenset[tuple[str, str]] = frozenset(),
) -> dict[str, str]:
    """Walk every operation with ``examples`` generated requests; ``refused_examples``, when
    given, for the operations not in ``allowed``."""
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, headers=bearer(auditor))
    failed: dict[str, str] = {}
    operations = full = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        in_full = refused_examples is None or (operation.method.upper(), operation.path) in allowed
        count = examples if in_full or refused_examples is None else refused_examples
        full += in_full

        @given(case=operation.as_strategy())
        @settings(
            max_examples=count,
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
    # Every operation the role may call was found in the schema and walked in full.
    assert refused_examples is None or full == len(allowed), (full, sorted(allowed))
    return failed


@pytest.mark.slow
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_every_operation_as_every_role(app: Any, role_tokens: dict[Role, str], role: Role) -> None:
    examples = EXAMPLES * 3 if role is Role.ADMINISTRATOR else EXAMPLES
    machine = role in MACHINE_ROLES
    failed = failures_for(
        app,
        role_tokens[role],
        role_tokens[Role.AUDITOR],
        examples,
        refused_examples=1 if machine else None,
        allowed=allowed_operations(app, role) if machine else frozenset(),
    )
    assert not failed, "\n\n".join(f"{label}:\n{why}" for label, why in sorted(failed.items()))
