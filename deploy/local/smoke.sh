#!/usr/bin/env bash
# shellcheck disable=SC2016  # bash -c scripts get their arguments as $0, $1, ...
# Smoke test of a running local stack (start it first with deploy/local/start.sh):
# ClickHouse users/permissions and a Kafka topic round trip. Leaves no tables/topics behind.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pass=0 fail=0
check() { # check NAME EXPECTED(ok|fail) CMD...
  local name=$1 want=$2 got out; shift 2
  if out=$("$@" 2>&1); then got=ok; else got=fail; fi
  if [[ $got == "$want" ]]; then pass=$((pass + 1)); log "smoke: ok    $name"
  else fail=$((fail + 1)); log "smoke: FAIL  $name (expected $want, got $got): ${out:0:300}"; fi
}
chq() { # chq USER PASSWORD SQL: HTTP query, fails on a ClickHouse exception
  curl -sS --fail-with-body --max-time 20 -u "$1:$2" "$CLICKHOUSE_URL/?database=$CLICKHOUSE_DATABASE" --data-binary "$3"
}
kt() { kafka_tool "$@"; }

tbl="smoke_$$"
topic="runstream-smoke-$$"
check "clickhouse ping" ok curl -sf "$CLICKHOUSE_URL/ping"
check "clickhouse native client" ok clickhouse-client --host "$CLICKHOUSE_HOST" --port "$CLICKHOUSE_TCP_PORT" --query 'SELECT version()'
check "default: create table" ok chq default '' "CREATE TABLE $tbl (ts DateTime, v Float64) ENGINE = MergeTree ORDER BY ts"
check "ingest: insert" ok chq "$CLICKHOUSE_INGEST_USER" "$CLICKHOUSE_INGEST_PASSWORD" "INSERT INTO $tbl VALUES (now(), 1.5)"
check "ingest: wrong password" fail chq "$CLICKHOUSE_INGEST_USER" wrong "SELECT 1"
check "default: create table in db default" ok chq default '' "CREATE TABLE default.$tbl (x UInt8) ENGINE = Memory"
check "ingest: other database denied" fail chq "$CLICKHOUSE_INGEST_USER" "$CLICKHOUSE_INGEST_PASSWORD" "SELECT count() FROM default.$tbl"
check "query: other database denied" fail chq "$CLICKHOUSE_QUERY_USER" "$CLICKHOUSE_QUERY_PASSWORD" "SELECT count() FROM default.$tbl"
check "default: drop table in db default" ok chq default '' "DROP TABLE default.$tbl"
check "query: select" ok chq "$CLICKHOUSE_QUERY_USER" "$CLICKHOUSE_QUERY_PASSWORD" "SELECT count() FROM $tbl SETTINGS max_threads = 1"
check "query: insert denied" fail chq "$CLICKHOUSE_QUERY_USER" "$CLICKHOUSE_QUERY_PASSWORD" "INSERT INTO $tbl VALUES (now(), 2)"
check "query: create denied" fail chq "$CLICKHOUSE_QUERY_USER" "$CLICKHOUSE_QUERY_PASSWORD" "CREATE TABLE ${tbl}_x (x UInt8) ENGINE = Memory"
check "query: drop denied" fail chq "$CLICKHOUSE_QUERY_USER" "$CLICKHOUSE_QUERY_PASSWORD" "DROP TABLE $tbl"
check "bi: select" ok chq "$CLICKHOUSE_BI_USER" "$CLICKHOUSE_BI_PASSWORD" "SELECT count() FROM $tbl"
check "bi: settings denied" fail chq "$CLICKHOUSE_BI_USER" "$CLICKHOUSE_BI_PASSWORD" "SELECT count() FROM $tbl SETTINGS max_threads = 1"
check "bi: insert denied" fail chq "$CLICKHOUSE_BI_USER" "$CLICKHOUSE_BI_PASSWORD" "INSERT INTO $tbl VALUES (now(), 2)"
check "default: drop table" ok chq default '' "DROP TABLE $tbl"

check "kafka: create topic (6 partitions)" ok kt org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BROKERS" \
  --create --topic "$topic" --partitions 6 --replication-factor 1
check "kafka: 6 partitions" ok bash -c '[[ $(grep -c "Partition: " <<<"$1") -eq 6 ]]' _ \
  "$(kt org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BROKERS" --describe --topic "$topic")"
check "kafka: produce" ok bash -c 'printf "smoke-1\nsmoke-2\n" | "$0" tool org.apache.kafka.tools.ConsoleProducer \
  --bootstrap-server "$1" --topic "$2" --producer-property acks=all' "$RUNSTREAM_LOCAL_DIR/kafka.sh" "$KAFKA_BROKERS" "$topic"
check "kafka: consume" ok bash -c '[[ $("$0" tool org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$1" \
  --topic "$2" --from-beginning --max-messages 2 --timeout-ms 30000 --group "$2" 2>/dev/null | sort | tr "\n" " ") == "smoke-1 smoke-2 " ]]' \
  "$RUNSTREAM_LOCAL_DIR/kafka.sh" "$KAFKA_BROKERS" "$topic"
check "kafka: auto-create disabled" ok bash -c '"$0" tool kafka.admin.ConfigCommand --bootstrap-server "$1" --describe \
  --entity-type brokers --entity-name 1 --all | grep -q "^ *auto.create.topics.enable=false "' "$RUNSTREAM_LOCAL_DIR/kafka.sh" "$KAFKA_BROKERS"
check "kafka: delete topic" ok kt org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BROKERS" --delete --topic "$topic"

echo "smoke: $pass passed, $fail failed"
((fail == 0))
