# shellcheck shell=bash
# Helpers shared by the deploy/local scripts (sourced, not run).
# shellcheck source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

log() { printf '[runstream-local] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# pid_alive PIDFILE PATTERN -> prints the pid and returns 0 if the process in
# PIDFILE exists and its command line contains PATTERN (guards against pid reuse).
pid_alive() {
  local pidfile=$1 pattern=$2 pid
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 1
  printf '%s\n' "$pid"
}

# port_open HOST PORT -> 0 if something accepts TCP connections there.
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# stop_pid NAME PIDFILE PATTERN: SIGTERM, wait up to RUNSTREAM_STOP_TIMEOUT s, then SIGKILL.
stop_pid() {
  local name=$1 pidfile=$2 pattern=$3 pid i
  if ! pid=$(pid_alive "$pidfile" "$pattern"); then
    rm -f "$pidfile"
    log "$name: not running"
    return 0
  fi
  log "$name: stopping (pid $pid, SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < RUNSTREAM_STOP_TIMEOUT * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: still running after ${RUNSTREAM_STOP_TIMEOUT}s, SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$pidfile"
  log "$name: stopped"
}

# start_bg PIDFILE LOGFILE CMD... : start CMD detached (own session), record its pid.
start_bg() {
  local pidfile=$1 logfile=$2; shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
  setsid "$@" </dev/null >>"$logfile" 2>&1 &
  printf '%s\n' "$!" >"$pidfile"
}

# show_logs NAME LOGFILE... : print the tail of the given logs to stderr.
show_logs() {
  local name=$1 f; shift
  for f in "$@"; do
    [[ -s $f ]] || continue
    log "$name: last lines of $f:"
    tail -n 40 "$f" >&2 || true
  done
}

# fail_with_log NAME LOGFILE... : show_logs, then exit 1.
fail_with_log() {
  show_logs "$@"
  exit 1
}

# xml_escape STRING
xml_escape() {
  local s=$1
  s=${s//&/&amp;}; s=${s//</&lt;}; s=${s//>/&gt;}; s=${s//\"/&quot;}; s=${s//\'/&apos;}
  printf '%s' "$s"
}

# render TEMPLATE OUT NAME=VALUE...: replace @@NAME@@ placeholders (values used literally).
render() {
  local tmpl=$1 out=$2 content kv; shift 2
  content=$(<"$tmpl")
  for kv in "$@"; do
    content=${content//"@@${kv%%=*}@@"/"${kv#*=}"}
  done
  if [[ $content == *@@*@@* ]]; then
    die "unreplaced placeholder in $tmpl: $(grep -o '@@[A-Z_]*@@' <<<"$content" | sort -u | tr '\n' ' ')"
  fi
  printf '%s\n' "$content" >"$out.tmp"
  mv -f "$out.tmp" "$out"
}

kafka_classpath() { printf '%s/*' "$KAFKA_LIBS_DIR"; }

# kafka_tool MAIN_CLASS ARGS...: run a Kafka CLI class from the cached jars, logging WARN+ to stderr.
KAFKA_TOOL_JAVA_OPTS=(-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
  "-Dlog4j2.configurationFile=${RUNSTREAM_LOCAL_DIR}/kafka/tools-log4j2.properties")
kafka_tool() {
  java "${KAFKA_TOOL_JAVA_OPTS[@]}" -cp "$(kafka_classpath)" "$@"
}
