#!/usr/bin/env bash
# Refresh the translation catalogues after changing visible strings:
#   1. extract every marked string (_("…") in templates and Python, N_("…") for labels);
#   2. merge them into each language's messages.po (new strings appear with empty msgstr).
# Then translate the empty entries; tests/web/test_i18n.py fails while any is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=${PYTHON:-.venv/bin/python}
pot=$(mktemp --suffix=.pot)
trap 'rm -f "$pot"' EXIT
"$py" -m babel.messages.frontend extract -F babel.cfg -k N_ -k _ --no-location \
    --sort-output --project smartcustoms -o "$pot" src/smartcustoms
for po in src/smartcustoms/locale/*/LC_MESSAGES/messages.po; do
    lang=$(basename "$(dirname "$(dirname "$po")")")
    "$py" -m babel.messages.frontend update -i "$pot" -o "$po" -l "$lang" --no-fuzzy-matching \
        --ignore-obsolete
done
echo "catalogues updated; translate any empty msgstr"
