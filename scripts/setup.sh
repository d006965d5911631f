#!/usr/bin/env bash
# Create or refresh the project's virtual environment in .venv (sourced by demo.sh and test.sh).
#   EXTRAS=test  also installs what the tests need.
# Re-installs only when pyproject.toml changed, so the second run starts at once.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

pick_python() {
    for candidate in ${PYTHON:-} python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    echo "smartcustoms needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
    exit 1
}

if [ ! -x .venv/bin/python ]; then
    "$(pick_python)" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
extras=${EXTRAS:-}
stamp=".venv/.smartcustoms-installed"
want="$(sha256sum pyproject.toml | cut -d' ' -f1) ${extras}"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    target="."
    [ -n "$extras" ] && target=".[$extras]"
    echo "installing smartcustoms${extras:+ with $extras extras} into .venv …" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$target"
    echo "$want" > "$stamp"
fi
