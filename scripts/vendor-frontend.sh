#!/usr/bin/env bash
# Refresh the vendored front-end files from the npm registry at the versions pinned in
# scripts/frontend/package.json (and its lock file). The product never fetches these at run time:
# it serves the copies under src/smartcustoms/web/ui/static/vendor/.
#
# To upgrade a library: change its version in scripts/frontend/package.json, run
#   (cd scripts/frontend && npm install --package-lock-only --ignore-scripts)
# then this script, then the test suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/src/smartcustoms/web/ui/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$root/scripts/frontend/package.json" "$root/scripts/frontend/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --silent)
nm="$work/node_modules"

rm -rf "$dest"
mkdir -p "$dest"/{htmx,leaflet/images,swagger-ui,topojson-client,world-atlas}
cp "$nm/htmx.org/dist/htmx.min.js" "$nm/htmx.org/LICENSE" "$dest/htmx/"
cp "$nm/leaflet/dist/leaflet.js" "$nm/leaflet/dist/leaflet.css" "$nm/leaflet/LICENSE" "$dest/leaflet/"
cp "$nm/leaflet/dist/images/"*.png "$dest/leaflet/images/"
cp "$nm/swagger-ui-dist/swagger-ui-bundle.js" "$nm/swagger-ui-dist/swagger-ui.css" \
   "$nm/swagger-ui-dist/LICENSE" "$dest/swagger-ui/"
cp "$nm/topojson-client/dist/topojson-client.min.js" "$nm/topojson-client/LICENSE" "$dest/topojson-client/"
cp "$nm/world-atlas/countries-50m.json" "$nm/world-atlas/countries-110m.json" \
   "$nm/world-atlas/LICENSE" "$dest/world-atlas/"

{
  echo "# Vendored front-end files"
  echo
  echo "Copied by \`scripts/vendor-frontend.sh\` from the npm registry; do not edit by hand."
  echo
  echo "| package | version | licence |"
  echo "|---|---|---|"
  for pkg in htmx.org leaflet swagger-ui-dist topojson-client world-atlas; do
    version=$(node -p "require('$nm/$pkg/package.json').version")
    licence=$(node -p "require('$nm/$pkg/package.json').license")
    echo "| $pkg | $version | $licence |"
  done
  echo
  echo "world-atlas carries Natural Earth country borders (public domain), as TopoJSON."
  echo
  echo '```'
  (cd "$dest" && find . -type f ! -name VENDORED.md | sort | xargs sha256sum)
  echo '```'
} > "$dest/VENDORED.md"
echo "vendored into $dest"
