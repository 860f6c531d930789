#!/usr/bin/env bash
# Writes deploy/compose/secrets/*.env with fresh random passwords (once: existing files are kept). Each process gets
# only its own: the ClickHouse servers every role's password, migrate the admin's, the worker the ingest user's, the
# query service the query user's and the API tokens.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p secrets
chmod 700 secrets
if [[ -e secrets/clickhouse.env ]]; then
  echo "secrets/ exists already; delete it to make new ones" >&2
  exit 0
fi
rand() { head -c 24 /dev/urandom | base64 | tr -d '/+=' ; }
admin=$(rand) ingest=$(rand) query=$(rand)
umask 077
cat > secrets/clickhouse.env <<ENV
CLICKHOUSE_ADMIN_PASSWORD=$admin
CLICKHOUSE_INGEST_PASSWORD=$ingest
CLICKHOUSE_QUERY_PASSWORD=$query
CLICKHOUSE_INTERSERVER_PASSWORD=$(rand)
CLICKHOUSE_CLUSTER_SECRET=$(rand)
ENV
echo "CLICKHOUSE_ADMIN_PASSWORD=$admin" > secrets/migrate.env
echo "CLICKHOUSE_INGEST_PASSWORD=$ingest" > secrets/ingest.env
cat > secrets/query.env <<ENV
CLICKHOUSE_QUERY_PASSWORD=$query
RUNSTREAM_API_TOKENS=admin:$(rand):read+write
ENV
echo "wrote $(pwd)/secrets (the API token is in secrets/query.env)"
