#!/usr/bin/env sh
# The example from a fresh clone, in one command: install the app's one dependency (pg) if
# needed, then verify. `./run.sh --drift` runs the drift variant (ends NO-GO, exit 1).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
plan="$here/plan.yaml"
[ "${1:-}" = "--drift" ] && plan="$here/plan-drift.yaml"
if [ ! -d "$here/node_modules/pg" ]; then
    npm ci --prefix "$here" --no-audit --no-fund --loglevel=error
fi
exec cutover verify --plan "$plan" --report-dir "$here/reports/out"
