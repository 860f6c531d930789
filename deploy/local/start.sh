#!/usr/bin/env bash
# Installs what is missing, then starts ClickHouse and Kafka on loopback (if not running)
# and waits until both are healthy. Progress goes to stderr; the connection settings go
# to stdout as export lines, so `eval "$(deploy/local/start.sh)"` works too.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t0=$SECONDS
"$RUNSTREAM_LOCAL_DIR/install.sh"
"$RUNSTREAM_LOCAL_DIR/clickhouse.sh" start
"$RUNSTREAM_LOCAL_DIR/kafka.sh" start
log "local stack up in $((SECONDS - t0))s (data: $RUNSTREAM_DATA_DIR, stop: deploy/local/stop.sh)"

cat <<OUT
export KAFKA_BROKERS=$KAFKA_BROKERS
export CLICKHOUSE_URL=$CLICKHOUSE_URL
export CLICKHOUSE_DATABASE=$CLICKHOUSE_DATABASE
export CLICKHOUSE_INGEST_USER=$CLICKHOUSE_INGEST_USER
export CLICKHOUSE_INGEST_PASSWORD=$(printf '%q' "$CLICKHOUSE_INGEST_PASSWORD")
export CLICKHOUSE_QUERY_USER=$CLICKHOUSE_QUERY_USER
export CLICKHOUSE_QUERY_PASSWORD=$(printf '%q' "$CLICKHOUSE_QUERY_PASSWORD")
OUT
