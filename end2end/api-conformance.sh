#!/usr/bin/env bash
# Schemathesis against /api/openapi.json of a real server on a fresh SQLite database, as a registered agent:
# zero 5xx, and every status code, content type, header and body conforms to the document.
# Usage: end2end/api-conformance.sh SCHEMATHESIS [COUNTERSIGN_BINARY]
set -euo pipefail
schemathesis=$1
countersign=${2:-target/release/countersign}

dir=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
export COUNTERSIGN_DATABASE_URL="sqlite://$dir/api.db" COUNTERSIGN_SECRET_KEY_FILE="$dir/api.key"
export COUNTERSIGN_LISTEN=127.0.0.1:0 RUST_LOG=warn
# Limits stay on (429 is part of the contract) but high enough that fuzzing reaches what lies behind them.
export COUNTERSIGN_INTAKE_RATE_PER_AGENT=200

"$countersign" migrate >/dev/null
"$countersign" tenant add --slug acme --name Acme >/dev/null
echo "a long enough password" | "$countersign" user add --email olu@example.com --name Olu --role owner --tenant acme >/dev/null
agent=$("$countersign" agent add --tenant acme --name conformance --owner olu@example.com \
  --allow refund:500.00EUR --allow password_reset --allow mfa_reset --allow account_closure \
  --allow data_export --allow payment_method_change --allow address_change | head -n1)
credential=$("$countersign" agent credential --agent "$agent" --ttl 2h)

"$countersign" serve >"$dir/out" 2>"$dir/err" &
server=$!
for _ in $(seq 100); do
  base=$(grep -o 'listening on http://[^ ]*' "$dir/out" | cut -d' ' -f3 || true)
  [ -n "$base" ] && curl -fs "$base/readyz" >/dev/null && break
  sleep 0.1
done
[ -n "$base" ] || { cat "$dir/err"; echo "server did not start"; exit 1; }

"$schemathesis" run "$base/api/openapi.json" \
  --header "Authorization: Bearer $credential" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing,stateful --max-examples 60 --seed 1 --generation-database none --no-color "${@:3}"
