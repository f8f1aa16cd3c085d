#!/usr/bin/env bash
# `make cluster`: two app servers on the machine's PostgreSQL and NATS, on ports 3001 and 3002, sharing one
# database (made if missing), one JetStream consumer and the demo data. Ctrl-C stops both.
set -euo pipefail
countersign=${COUNTERSIGN_BIN:-target/release/countersign}
database=${CLUSTER_DATABASE:-countersign_cluster}
export COUNTERSIGN_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database"
export COUNTERSIGN_NATS_URL=${COUNTERSIGN_NATS_URL:-nats://127.0.0.1:4222}
export COUNTERSIGN_SECRET_KEY_FILE=${COUNTERSIGN_SECRET_KEY_FILE:-countersign-cluster.key}
export COUNTERSIGN_WEBHOOK_ALLOW_PRIVATE=true

psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $database"
trap 'kill $(jobs -p) 2>/dev/null' EXIT INT TERM
# The first seeds the demo (once) and streams demo submissions; the second joins when the first is ready.
COUNTERSIGN_LISTEN=127.0.0.1:3001 "$countersign" serve --demo &
until curl -fs http://127.0.0.1:3001/readyz >/dev/null; do sleep 0.2; done
COUNTERSIGN_LISTEN=127.0.0.1:3002 "$countersign" serve &
until curl -fs http://127.0.0.1:3002/readyz >/dev/null; do sleep 0.2; done
echo "Two servers: http://127.0.0.1:3001 and http://127.0.0.1:3002 (one PostgreSQL, one NATS). Ctrl-C stops both."
wait
