#!/usr/bin/env bash
# Build one archive that installs smartcustoms on a server with no internet:
#   bash scripts/offline-bundle.sh [--python "3.11 3.12"] [--output DIR]
# It holds the wheel of smartcustoms (with its vendored front-end), the wheels of every
# dependency for Linux x86_64 and each Python version asked for, SHA256SUMS and install.sh.
# Run it on a machine that reaches PyPI; copy the archive to the server; there:
#   tar xzf smartcustoms-offline-*.tar.gz && cd smartcustoms-offline-* && ./install.sh /opt/smartcustoms
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pythons="3.11 3.12"
output="$root/dist"
while [ $# -gt 0 ]; do
    case "$1" in
        --python) pythons="$2"; shift 2 ;;
        --output) output="$2"; shift 2 ;;
        -h|--help) sed -n 2,7p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "offline-bundle: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

# The build machine's own interpreter only builds the wheel and asks pip; any 3.11+ will do.
python=${PYTHON:-}
if [ -z "$python" ]; then
    if [ -x "$root/.venv/bin/python" ]; then python="$root/.venv/bin/python"; else python=python3; fi
fi
version=$("$python" -c 'import re,sys; print(re.search(r"__version__ = \"([^\"]+)\"", open(sys.argv[1]).read())[1])' \
    "$root/src/smartcustoms/__init__.py")
name="smartcustoms-offline-$version-linux_x86_64"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bundle="$work/$name"
mkdir -p "$bundle/wheels" "$output"

echo "building the smartcustoms $version wheel …" >&2
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$bundle/wheels" "$root"
wheel=$(ls "$bundle/wheels"/smartcustoms-*.whl)

for py in $pythons; do
    echo "fetching dependencies for CPython $py on Linux x86_64 …" >&2
    # Binary wheels only: the server has no compiler, and an sdist would need one.
    "$python" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
        --implementation cp --python-version "$py" \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform linux_x86_64 \
        --dest "$bundle/wheels" "$wheel" 2> >(grep -v "^WARNING: Location" >&2)
done

cat > "$bundle/install.sh" <<'INSTALL'
#!/usr/bin/env bash
# Install smartcustoms from this folder, with no network: ./install.sh [TARGET]  (default
# /opt/smartcustoms). TARGET becomes a virtual environment; its bin/smartcustoms is the command.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=${1:-/opt/smartcustoms}
python=${PYTHON:-}
if [ -z "$python" ]; then
    for candidate in python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c \
            'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 12)))' 2>/dev/null; then
            python=$candidate; break
        fi
    done
fi
if [ -z "$python" ]; then
    echo "install.sh: needs Python 3.11 or 3.12 with venv (Debian: apt install python3-venv); set PYTHON=" >&2
    exit 1
fi
if ! { ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null | grep -q 'libgomp\.so\.1'; then
    echo "install.sh: LightGBM needs the GNU OpenMP runtime (Debian: apt install libgomp1)" >&2
    exit 1
fi
(cd "$here" && sha256sum --quiet --check SHA256SUMS) || { echo "install.sh: the bundle is damaged" >&2; exit 1; }
"$python" -m venv "$target"
# --no-index: nothing is fetched; every wheel comes from this folder.
PIP_CONFIG_FILE=/dev/null "$target/bin/python" -m pip install --quiet --no-index \
    --disable-pip-version-check --find-links "$here/wheels" smartcustoms
echo "installed: $("$target/bin/smartcustoms" --version) in $target"
echo "try it:    $target/bin/smartcustoms demo"
echo "run it:    see 'Deploying' in the README (settings, db upgrade, users, serve)"
INSTALL
chmod +x "$bundle/install.sh"
(cd "$bundle" && find wheels install.sh -type f | sort | xargs sha256sum > SHA256SUMS)

archive="$output/$name.tar.gz"
tar -C "$work" -czf "$archive" "$name"
echo "$archive"
