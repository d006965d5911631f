#!/usr/bin/env bash
# One command to run the tests: sets up .venv with the test extras, then runs pytest.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh tests/core -x`).
# Tests that need PostgreSQL or Debian's chromium skip with a reason when those are missing,
# unless SMARTCUSTOMS_REQUIRE_SERVICES=1 (as in CI), where they fail instead.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
EXTRAS=test bash "$root/scripts/setup.sh"
cd "$root"
exec .venv/bin/python -m pytest "$@"
