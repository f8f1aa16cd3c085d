#!/usr/bin/env bash
# `make cluster`: two app servers on the machine's PostgreSQL and a NATS server of their own, on ports 3001 and
# 3002, sharing one database (made if missing), one JetStream consumer and the demo data. The NATS server
# (port 4223, store under target/cluster-nats) runs with the account configuration of deploy/nats/countersign.conf:
# the app servers' user, and one user per demo agent's gateway that may publish only that agent's intake subject
# and read only its results and outcomes. Ctrl-C stops all three.
set -euo pipefail
countersign=${COUNTERSIGN_BIN:-target/release/countersign}
database=${CLUSTER_DATABASE:-countersign_cluster}
nats_port=${CLUSTER_NATS_PORT:-4223}
nats_dir=${CLUSTER_NATS_DIR:-target/cluster-nats}
export COUNTERSIGN_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database"
export COUNTERSIGN_SECRET_KEY_FILE=${COUNTERSIGN_SECRET_KEY_FILE:-countersign-cluster.key}
export COUNTERSIGN_WEBHOOK_ALLOW_PRIVATE=true
# `countersign simulate --via nats --credential csa_…` publishes with an owner-minted credential; a production
# gateway publishes with a workload token or a case credential and leaves this off.
export COUNTERSIGN_NATS_ALLOW_LONG_LIVED_CREDENTIALS=true

secret() { head -c 24 /dev/urandom | base64 | tr -d '+/='; }
server_password=$(secret)
export COUNTERSIGN_NATS_URL="nats://countersign:$server_password@127.0.0.1:$nats_port"
mkdir -p "$nats_dir"
conf="$nats_dir/countersign.conf"

# The account configuration: the app servers' user, then one gateway user per line of "tenant agent-id name password".
write_conf() {
  {
    echo 'accounts { COUNTERSIGN { jetstream: enabled, users: ['
    echo "  { user: countersign, password: \"$server_password\", permissions: {"
    echo '      publish: { allow: ["$JS.API.>", "$JS.ACK.>", "countersign.intake.>", "countersign.outcome.>"] }'
    echo '      subscribe: { allow: ["_INBOX.>"] } } }'
    while read -r tenant id name password; do
      [ -n "$id" ] || continue
      echo "  { user: \"$tenant.$name\", password: \"$password\", permissions: {"
      echo "      publish: { allow: [\"countersign.held.$tenant.$id\"] }"
      echo "      subscribe: { allow: [\"countersign.intake.accepted.$id\", \"countersign.intake.rejected.$id\","
      echo "                           \"countersign.outcome.$tenant.$id\", \"_INBOX.$id.>\"] } } }"
    done
    echo '] } }'
  } >"$conf.new"
  mv "$conf.new" "$conf"
}

psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $database"
trap 'kill $(jobs -p) 2>/dev/null' EXIT INT TERM
# The demo data first (idempotent), without NATS, so that each demo agent's gateway has a user from the start
# (nats-server 2.9 stops JetStream when it reloads accounts).
env -u COUNTERSIGN_NATS_URL COUNTERSIGN_LISTEN=127.0.0.1:3001 "$countersign" serve --demo >/dev/null &
seeding=$!
until curl -fs http://127.0.0.1:3001/readyz >/dev/null; do sleep 0.2; done
kill "$seeding" && wait "$seeding" || true
gateways=$(psql -h 127.0.0.1 -U postgres -d "$database" -tA -F ' ' -c \
  "SELECT t.slug, a.id, a.name FROM agents a JOIN tenants t ON t.id = a.tenant_id WHERE a.state = 'active' ORDER BY 1, 3" \
  | while read -r tenant id name; do echo "$tenant $id $name $(secret)"; done)
write_conf <<<"$gateways"
nats-server -c "$conf" -a 127.0.0.1 -p "$nats_port" -js -sd "$nats_dir/store" >"$nats_dir/nats.log" 2>&1 &
until (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null; do sleep 0.2; done
# The first streams demo submissions; the second joins when the first is ready.
COUNTERSIGN_LISTEN=127.0.0.1:3001 "$countersign" serve --demo &
until curl -fs http://127.0.0.1:3001/readyz >/dev/null; do sleep 0.2; done
COUNTERSIGN_LISTEN=127.0.0.1:3002 "$countersign" serve &
until curl -fs http://127.0.0.1:3002/readyz >/dev/null; do sleep 0.2; done
echo "Two servers: http://127.0.0.1:3001 and http://127.0.0.1:3002 (one PostgreSQL, one NATS on port $nats_port)."
echo "Each demo agent's gateway (a credential: COUNTERSIGN_DATABASE_URL=$COUNTERSIGN_DATABASE_URL $countersign agent credential --agent <id>):"
while read -r tenant id name password; do
  [ -n "$id" ] || continue
  echo "  $countersign simulate --via nats --nats-url 'nats://$tenant.$name:$password@127.0.0.1:$nats_port' \\"
  echo "      --nats-agent $tenant/$id --credential <credential>"
done <<<"$gateways"
echo "Ctrl-C stops all three."
wait
