#!/usr/bin/env sh
# The example from a fresh clone, in one command: install the app's one dependency (pg) if
# needed, serve the Aurora target locally (IAM authentication, made-up AWS keys), then verify.
# `./run.sh --drift` runs the drift variant (ends NO-GO, exit 1).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
if [ "${1:-}" = "--drift" ]; then
    plan=plan-drift.yaml
    set -- --load db/schema.sql --load drift/schema.sql --load drift/seed.sql
else
    plan=plan.yaml
    set -- --load db/schema.sql --load db/seed.sql
fi
if [ ! -d node_modules/pg ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi

# Made-up AWS keys, never a real account's: the stand-in checks every IAM token against the
# keys it finds, and cutover (and the app, through cutover) signs with the same ones.
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN

mkdir -p reports
cutover aurora-iam serve --plan "$plan" "$@" >reports/aurora-iam.uri 2>reports/aurora-iam.log &
standin=$!
trap 'kill "$standin" 2>/dev/null || true; wait "$standin" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
# Ready once it printed the endpoint's URI (about two seconds: it starts a PostgreSQL 16).
until [ -s reports/aurora-iam.uri ]; do
    if ! kill -0 "$standin" 2>/dev/null; then
        cat reports/aurora-iam.log >&2
        exit 2
    fi
    sleep 0.2
done
echo "target served at $(head -n 1 reports/aurora-iam.uri)"

status=0
cutover verify --plan "$plan" --report-dir reports/out || status=$?
exit "$status"
