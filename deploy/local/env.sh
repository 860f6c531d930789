# shellcheck shell=bash
# Runstream local stack: shared settings. Source it, don't run it:
#   source deploy/local/env.sh
# Every value can be overridden from the environment before sourcing.

RUNSTREAM_LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUNSTREAM_REPO_ROOT="$(cd "${RUNSTREAM_LOCAL_DIR}/../.." && pwd)"
export RUNSTREAM_DATA_DIR="${RUNSTREAM_DATA_DIR:-${RUNSTREAM_REPO_ROOT}/.data}"

# --- Kafka (single KRaft node: broker + controller) ---
export KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
export KAFKA_HOST="${KAFKA_HOST:-127.0.0.1}"
export KAFKA_PORT="${KAFKA_PORT:-19092}"
export KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms512m -Xmx1g}"
export KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}"
export KAFKA_DIR="${RUNSTREAM_DATA_DIR}/kafka"
export KAFKA_LIBS_DIR="${KAFKA_DIR}/libs/${KAFKA_VERSION}"   # jars resolved from Maven Central
export KAFKA_LOG_DIRS="${KAFKA_DIR}/data"                     # topic partitions + KRaft metadata
export KAFKA_CONF_DIR="${KAFKA_DIR}/conf"
export KAFKA_LOG_DIR="${KAFKA_DIR}/logs"                      # broker's own logs
export KAFKA_PID_FILE="${KAFKA_DIR}/kafka.pid"
export KAFKA_BROKERS="${KAFKA_HOST}:${KAFKA_PORT}"

# --- ClickHouse (Debian's clickhouse-server 18.16, our own instance) ---
export CLICKHOUSE_HOST="${CLICKHOUSE_HOST:-127.0.0.1}"
export CLICKHOUSE_HTTP_PORT="${CLICKHOUSE_HTTP_PORT:-18123}"
export CLICKHOUSE_TCP_PORT="${CLICKHOUSE_TCP_PORT:-19000}"
export CLICKHOUSE_DIR="${RUNSTREAM_DATA_DIR}/clickhouse"
export CLICKHOUSE_CONF_DIR="${CLICKHOUSE_DIR}/etc"
export CLICKHOUSE_DATA_PATH="${CLICKHOUSE_DIR}/data"
export CLICKHOUSE_LOG_DIR="${CLICKHOUSE_DIR}/logs"
export CLICKHOUSE_PID_FILE="${CLICKHOUSE_DIR}/clickhouse.pid"
export CLICKHOUSE_URL="http://${CLICKHOUSE_HOST}:${CLICKHOUSE_HTTP_PORT}"
export CLICKHOUSE_DATABASE="${CLICKHOUSE_DATABASE:-runstream}"
# Users (see deploy/local/clickhouse/users.xml). Passwords are read when
# clickhouse.sh start renders the config; 'default' has no password (loopback only).
export CLICKHOUSE_INGEST_USER="${CLICKHOUSE_INGEST_USER:-runstream_ingest}"
export CLICKHOUSE_INGEST_PASSWORD="${CLICKHOUSE_INGEST_PASSWORD:-ingest_local}"
export CLICKHOUSE_QUERY_USER="${CLICKHOUSE_QUERY_USER:-runstream_query}"
export CLICKHOUSE_QUERY_PASSWORD="${CLICKHOUSE_QUERY_PASSWORD:-query_local}"
export CLICKHOUSE_BI_USER="${CLICKHOUSE_BI_USER:-runstream_bi}"
export CLICKHOUSE_BI_PASSWORD="${CLICKHOUSE_BI_PASSWORD:-bi_local}"

# Seconds start/stop wait for health / exit.
export RUNSTREAM_START_TIMEOUT="${RUNSTREAM_START_TIMEOUT:-90}"
export RUNSTREAM_STOP_TIMEOUT="${RUNSTREAM_STOP_TIMEOUT:-30}"
