#!/usr/bin/env bash
# Local ClickHouse (Debian's clickhouse-server 18.16) with our own config + data dir.
#   deploy/local/clickhouse.sh start|stop|restart|status|reload
#   deploy/local/clickhouse.sh client ARGS...   # clickhouse-client against this instance (user default)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONFIG="$CLICKHOUSE_CONF_DIR/config.xml"
PATTERN="clickhouse-server --config-file=$CONFIG"
SERVER_LOG="$CLICKHOUSE_LOG_DIR/clickhouse-server.log"
ERR_LOG="$CLICKHOUSE_LOG_DIR/clickhouse-server.err.log"
STDOUT_LOG="$CLICKHOUSE_LOG_DIR/stdout.log"

ensure_installed() {
  if ! command -v clickhouse-server >/dev/null || ! command -v clickhouse-client >/dev/null; then
    "$RUNSTREAM_LOCAL_DIR/install.sh"
  fi
}

sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# The databases the restricted users may use: the project's own (npm start, npm test, benchmarks), the configured
# one, and every one the current users file already allows (one server is shared by all of them).
allowed_databases() {
  local -a names=(runstream runstream_test runstream_bench "$CLICKHOUSE_DATABASE")
  if [[ -f $CLICKHOUSE_CONF_DIR/users.xml ]]; then
    local existing
    existing=$(grep -oE '<database>[A-Za-z_][A-Za-z0-9_]*</database>' "$CLICKHOUSE_CONF_DIR/users.xml" | sed -E 's#</?database>##g' || true)
    [[ -n $existing ]] && mapfile -t -O "${#names[@]}" names <<<"$existing"
  fi
  printf '%s\n' "${names[@]}" | awk 'NF && !seen[$0]++'
}

# render_users OUT: users.xml for the current settings.
render_users() {
  local u lines=""
  for u in "$CLICKHOUSE_INGEST_USER" "$CLICKHOUSE_QUERY_USER" "$CLICKHOUSE_BI_USER" "$CLICKHOUSE_DATABASE"; do
    [[ $u =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "clickhouse: invalid user/database name '$u'"
  done
  while IFS= read -r u; do
    lines+="${lines:+$'\n'}                <database>$u</database>"
  done < <(allowed_databases)
  (
    umask 077
    render "$RUNSTREAM_LOCAL_DIR/clickhouse/users.xml" "$1" \
      "ALLOWED_DATABASES=$lines" \
      "INGEST_USER=$CLICKHOUSE_INGEST_USER" "INGEST_PASSWORD_SHA256=$(sha256 "$CLICKHOUSE_INGEST_PASSWORD")" \
      "QUERY_USER=$CLICKHOUSE_QUERY_USER" "QUERY_PASSWORD_SHA256=$(sha256 "$CLICKHOUSE_QUERY_PASSWORD")" \
      "BI_USER=$CLICKHOUSE_BI_USER" "BI_PASSWORD_SHA256=$(sha256 "$CLICKHOUSE_BI_PASSWORD")"
  )
}

render_config() {
  mkdir -p "$CLICKHOUSE_CONF_DIR" "$CLICKHOUSE_LOG_DIR" "$CLICKHOUSE_DATA_PATH"
  render "$RUNSTREAM_LOCAL_DIR/clickhouse/config.xml" "$CONFIG" \
    "HOST=$CLICKHOUSE_HOST" "HTTP_PORT=$CLICKHOUSE_HTTP_PORT" "TCP_PORT=$CLICKHOUSE_TCP_PORT" \
    "DATA_PATH=$CLICKHOUSE_DATA_PATH" "LOG_DIR=$CLICKHOUSE_LOG_DIR"
  render_users "$CLICKHOUSE_CONF_DIR/users.xml"
}

# user_answer USER PASSWORD: what the server says to USER running a query in $CLICKHOUSE_DATABASE ("1" when allowed).
user_answer() {
  curl -s --max-time 5 -G "$CLICKHOUSE_URL/" --data-urlencode "user=$1" --data-urlencode "password=$2" \
    --data-urlencode "database=$CLICKHOUSE_DATABASE" --data-urlencode 'query=SELECT 1' 2>&1 | head -n 1 | head -c 300
}

# A server already running may have been started for other settings (another CLICKHOUSE_DATABASE, e.g. by a
# benchmark, or other passwords): bring its users file up to date, let the server reload it (it watches the file),
# and wait until every restricted user may use the configured database — or stop with the server's answer.
fit_running_server() {
  local fresh="$CLICKHOUSE_CONF_DIR/users.xml.next" answer="" deadline=$((SECONDS + 20)) u p
  render_users "$fresh"
  if cmp -s "$fresh" "$CLICKHOUSE_CONF_DIR/users.xml"; then
    rm -f "$fresh"
  else
    # The server notices a change by the file's modification time in whole seconds: a file rewritten within the
    # second it was last written would never be reloaded, so make sure its time moves.
    local before
    before=$(stat -c %Y "$CLICKHOUSE_CONF_DIR/users.xml" 2>/dev/null || echo 0)
    mv -f "$fresh" "$CLICKHOUSE_CONF_DIR/users.xml"
    (($(stat -c %Y "$CLICKHOUSE_CONF_DIR/users.xml") > before)) || touch -d "@$((before + 1))" "$CLICKHOUSE_CONF_DIR/users.xml"
    log "clickhouse: users re-rendered for database $CLICKHOUSE_DATABASE; waiting for the server to reload them"
  fi
  ensure_database
  while :; do
    answer=""
    for u in INGEST QUERY BI; do
      local user_var="CLICKHOUSE_${u}_USER" pass_var="CLICKHOUSE_${u}_PASSWORD"
      p=$(user_answer "${!user_var}" "${!pass_var}")
      [[ $p == 1 ]] || answer="${!user_var}: $p"
    done
    [[ -z $answer ]] && return 0
    ((SECONDS < deadline)) || die "clickhouse: the running server (pid $1) does not let $answer use database $CLICKHOUSE_DATABASE after its users were re-rendered; restart it (deploy/local/clickhouse.sh restart)"
    sleep 0.5
  done
}

ping_ok() { [[ $(curl -s --max-time 2 "$CLICKHOUSE_URL/ping" 2>/dev/null) == "Ok." ]]; }

wait_healthy() {
  local pid=$1 deadline=$((SECONDS + RUNSTREAM_START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$CLICKHOUSE_PID_FILE"
      log "clickhouse: process $pid exited during startup"
      fail_with_log clickhouse "$STDOUT_LOG" "$ERR_LOG" "$SERVER_LOG"
    fi
    ping_ok && return 0
    sleep 0.3
  done
  log "clickhouse: not healthy after ${RUNSTREAM_START_TIMEOUT}s"
  show_logs clickhouse "$STDOUT_LOG" "$ERR_LOG" "$SERVER_LOG"
  stop
  exit 1
}

# The restricted users can only use $CLICKHOUSE_DATABASE, so make sure it exists.
ensure_database() {
  curl -sf --max-time 10 "$CLICKHOUSE_URL/?user=default" \
    --data-binary "CREATE DATABASE IF NOT EXISTS $CLICKHOUSE_DATABASE" >/dev/null \
    || die "clickhouse: could not create database $CLICKHOUSE_DATABASE"
}

start() {
  local pid
  if pid=$(pid_alive "$CLICKHOUSE_PID_FILE" "$PATTERN"); then
    ping_ok || wait_healthy "$pid"
    fit_running_server "$pid"
    log "clickhouse: already running (pid $pid) at $CLICKHOUSE_URL"
    return 0
  fi
  ensure_installed
  local p
  for p in "$CLICKHOUSE_HTTP_PORT" "$CLICKHOUSE_TCP_PORT"; do
    port_open "$CLICKHOUSE_HOST" "$p" && die "clickhouse: port $CLICKHOUSE_HOST:$p is already in use by another process"
  done
  render_config
  log "clickhouse: starting $(clickhouse-client --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+)+' | head -1) on $CLICKHOUSE_URL (tcp :$CLICKHOUSE_TCP_PORT, data $CLICKHOUSE_DATA_PATH)"
  [[ -f "$STDOUT_LOG" ]] && mv -f "$STDOUT_LOG" "$STDOUT_LOG.prev"
  start_bg "$CLICKHOUSE_PID_FILE" "$STDOUT_LOG" \
    clickhouse-server --config-file="$CONFIG"
  pid=$(<"$CLICKHOUSE_PID_FILE")
  local t0=$SECONDS
  wait_healthy "$pid"
  ensure_database
  log "clickhouse: ready (pid $pid, $((SECONDS - t0))s) CLICKHOUSE_URL=$CLICKHOUSE_URL"
}

stop() { stop_pid clickhouse "$CLICKHOUSE_PID_FILE" "$PATTERN"; }

status() {
  local pid
  if pid=$(pid_alive "$CLICKHOUSE_PID_FILE" "$PATTERN"); then
    log "clickhouse: running (pid $pid) at $CLICKHOUSE_URL"
  else
    log "clickhouse: not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  # Re-render users.xml/config.xml from the templates; a running server picks users.xml up by itself.
  reload) render_config; log "clickhouse: configuration re-rendered" ;;
  client) shift; exec clickhouse-client --host "$CLICKHOUSE_HOST" --port "$CLICKHOUSE_TCP_PORT" "$@" ;;
  *) echo "usage: $0 {start|stop|restart|status|reload|client ARGS...}" >&2; exit 2 ;;
esac
