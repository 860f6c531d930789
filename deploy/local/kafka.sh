#!/usr/bin/env bash
# Local single-node Kafka (KRaft, broker+controller) run straight from the Maven jars.
#   deploy/local/kafka.sh start|stop|restart|status
#   deploy/local/kafka.sh tool MAIN_CLASS ARGS...   # run a Kafka CLI class, e.g.
#     deploy/local/kafka.sh tool org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:19092 --list
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PATTERN="kafka.Kafka ${KAFKA_CONF_DIR}/server.properties"
SERVER_LOG="$KAFKA_LOG_DIR/server.log"
STDOUT_LOG="$KAFKA_LOG_DIR/stdout.log"

ensure_installed() {
  [[ -f "$KAFKA_LIBS_DIR/.complete" ]] || "$RUNSTREAM_LOCAL_DIR/install.sh"
}

render_config() {
  mkdir -p "$KAFKA_CONF_DIR" "$KAFKA_LOG_DIR" "$KAFKA_LOG_DIRS"
  render "$RUNSTREAM_LOCAL_DIR/kafka/server.properties" "$KAFKA_CONF_DIR/server.properties" \
    "HOST=$KAFKA_HOST" "PORT=$KAFKA_PORT" "CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT" \
    "VOTERS=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT" "LOG_DIRS=$KAFKA_LOG_DIRS"
  render "$RUNSTREAM_LOCAL_DIR/kafka/log4j2.properties" "$KAFKA_CONF_DIR/log4j2.properties" \
    "LOG_DIR=$KAFKA_LOG_DIR"
}

format_storage() {
  [[ -f "$KAFKA_LOG_DIRS/meta.properties" ]] && return 0
  local cluster_id
  if [[ -s "$KAFKA_DIR/cluster.id" ]]; then
    cluster_id=$(<"$KAFKA_DIR/cluster.id")
  else
    cluster_id=$(kafka_tool kafka.tools.StorageTool random-uuid)
    printf '%s\n' "$cluster_id" >"$KAFKA_DIR/cluster.id"
  fi
  log "kafka: formatting KRaft storage in $KAFKA_LOG_DIRS (cluster id $cluster_id)"
  kafka_tool kafka.tools.StorageTool format --ignore-formatted \
    --cluster-id "$cluster_id" --config "$KAFKA_CONF_DIR/server.properties" >/dev/null
}

healthy() {
  # Metadata round trip through the PLAINTEXT listener.
  timeout 30 java "${KAFKA_TOOL_JAVA_OPTS[@]}" -cp "$(kafka_classpath)" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BROKERS" --list >/dev/null 2>&1
}

wait_healthy() {
  local pid=$1 deadline=$((SECONDS + RUNSTREAM_START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$KAFKA_PID_FILE"
      log "kafka: process $pid exited during startup"
      fail_with_log kafka "$STDOUT_LOG" "$SERVER_LOG"
    fi
    if port_open "$KAFKA_HOST" "$KAFKA_PORT" && grep -q 'Kafka Server started' "$SERVER_LOG" 2>/dev/null && healthy; then
      return 0
    fi
    sleep 0.5
  done
  log "kafka: not healthy after ${RUNSTREAM_START_TIMEOUT}s"
  show_logs kafka "$STDOUT_LOG" "$SERVER_LOG"
  stop
  exit 1
}

start() {
  local pid
  if pid=$(pid_alive "$KAFKA_PID_FILE" "$PATTERN"); then
    port_open "$KAFKA_HOST" "$KAFKA_PORT" || wait_healthy "$pid"
    log "kafka: already running (pid $pid) on $KAFKA_BROKERS"
    return 0
  fi
  ensure_installed
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_open "$KAFKA_HOST" "$p" && die "kafka: port $KAFKA_HOST:$p is already in use by another process"
  done
  render_config
  format_storage
  log "kafka: starting ${KAFKA_VERSION} on $KAFKA_BROKERS (controller :$KAFKA_CONTROLLER_PORT, logs $KAFKA_LOG_DIR)"
  # Mark where this run's log starts so the health check ignores older runs.
  [[ -f "$SERVER_LOG" ]] && mv -f "$SERVER_LOG" "$SERVER_LOG.prev"
  [[ -f "$STDOUT_LOG" ]] && mv -f "$STDOUT_LOG" "$STDOUT_LOG.prev"
  # shellcheck disable=SC2086  # the *_OPTS variables hold several options
  start_bg "$KAFKA_PID_FILE" "$STDOUT_LOG" \
    java $KAFKA_HEAP_OPTS $KAFKA_JVM_OPTS -XX:+ExitOnOutOfMemoryError \
    -Dlog4j2.configurationFile="$KAFKA_CONF_DIR/log4j2.properties" \
    -Dkafka.logs.dir="$KAFKA_LOG_DIR" \
    -cp "$(kafka_classpath)" kafka.Kafka "$KAFKA_CONF_DIR/server.properties"
  pid=$(<"$KAFKA_PID_FILE")
  local t0=$SECONDS
  wait_healthy "$pid"
  log "kafka: ready (pid $pid, $((SECONDS - t0))s) KAFKA_BROKERS=$KAFKA_BROKERS"
}

stop() { stop_pid kafka "$KAFKA_PID_FILE" "$PATTERN"; }

status() {
  local pid
  if pid=$(pid_alive "$KAFKA_PID_FILE" "$PATTERN"); then
    log "kafka: running (pid $pid) on $KAFKA_BROKERS"
  else
    log "kafka: not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  tool) shift; ensure_installed; kafka_tool "$@" ;;
  *) echo "usage: $0 {start|stop|restart|status|tool MAIN_CLASS ARGS...}" >&2; exit 2 ;;
esac
