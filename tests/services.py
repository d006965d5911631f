"""Reaching the real services the tests use (PostgreSQL, MQTT …), or skipping clearly.

On a developer's laptop a missing service skips its tests with the reason. CI sets
SMARTCUSTOMS_REQUIRE_SERVICES=1, and there a missing service fails the tests instead.
"""

from __future__ import annotations

import os
import socket

import pytest

REQUIRE = os.environ.get("SMARTCUSTOMS_REQUIRE_SERVICES", "") not in ("", "0", "false")
POSTGRES_ADMIN_URL = os.environ.get(
    "SMARTCUSTOMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def unavailable(service: str, how: str) -> None:
    message = f"{service} not reachable ({how})"
    if REQUIRE:
        pytest.fail(f"{message} and SMARTCUSTOMS_REQUIRE_SERVICES is set", pytrace=False)
    pytest.skip(f"{message}; set it up or run where it is to run these tests")
