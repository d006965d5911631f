#!/usr/bin/env bash
# One command to try smartcustoms: sets up .venv on first run, then starts the demo on
# http://127.0.0.1:8000 with one printed user per role. Extra arguments go to `smartcustoms demo`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
exec "$root/.venv/bin/smartcustoms" demo "$@"
