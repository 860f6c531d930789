#!/usr/bin/env bash
# The loopback cluster's servers: ZooKeeper, three Kafka KRaft nodes, four ClickHouse servers (2 shards x 2 replicas).
#   deploy/cluster/servers.sh start|stop|status              # every server
#   deploy/cluster/servers.sh env                            # the services' settings, as export lines
#   deploy/cluster/servers.sh start-node|stop-node|kill-node zookeeper|kafka N|clickhouse N
# stop-node stops gracefully, kill-node sends SIGKILL (chaos). Installs what is missing first, like deploy/local.
set -euo pipefail
# shellcheck source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

D=$RUNSTREAM_CLUSTER_DATA_DIR
ZK_CLASSPATH=/usr/share/java/zookeeper.jar

ensure_installed() {
  "$RUNSTREAM_LOCAL_DIR/install.sh"
  if [[ ! -f $ZK_CLASSPATH ]]; then
    log "install: apt-get install zookeeper"
    local sudo=()
    [[ $(id -u) -ne 0 ]] && sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends zookeeper >>"$RUNSTREAM_DATA_DIR/apt.log" 2>&1 \
      || { "${sudo[@]}" apt-get update -q >>"$RUNSTREAM_DATA_DIR/apt.log" 2>&1 && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends zookeeper >>"$RUNSTREAM_DATA_DIR/apt.log" 2>&1; } \
      || die "apt-get install zookeeper failed (log: $RUNSTREAM_DATA_DIR/apt.log)"
  fi
}

wait_until() { # wait_until SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@"; do
    ((SECONDS < deadline)) || die "$what: not healthy after ${RUNSTREAM_START_TIMEOUT}s"
    sleep 0.3
  done
}

# --- ZooKeeper ---
zk_dir() { echo "$D/zookeeper"; }
zk_pattern() { echo "QuorumPeerMain $(zk_dir)/zoo.cfg"; }
zk_ok() { [[ $(exec 3<>"/dev/tcp/$CLUSTER_HOST/$ZOOKEEPER_PORT" && printf 'ruok' >&3 && timeout 2 cat <&3) == imok ]] 2>/dev/null; }
zk_start() {
  local dir pid
  dir=$(zk_dir)
  if pid_alive "$dir/zookeeper.pid" "$(zk_pattern)" >/dev/null; then return 0; fi
  port_open "$CLUSTER_HOST" "$ZOOKEEPER_PORT" && die "zookeeper: port $ZOOKEEPER_PORT is already in use"
  mkdir -p "$dir/data" "$dir/logs"
  render "$RUNSTREAM_CLUSTER_DIR_SRC/zookeeper/zoo.cfg" "$dir/zoo.cfg" "HOST=$CLUSTER_HOST" "PORT=$ZOOKEEPER_PORT" "DATA_DIR=$dir/data"
  cp "$RUNSTREAM_CLUSTER_DIR_SRC/zookeeper/log4j.properties" "$dir/log4j.properties"
  log "zookeeper: starting on $CLUSTER_HOST:$ZOOKEEPER_PORT"
  # shellcheck disable=SC2086
  start_bg "$dir/zookeeper.pid" "$dir/logs/stdout.log" java $ZOOKEEPER_HEAP_OPTS -XX:+UseSerialGC \
    -Dzookeeper.log.dir="$dir/logs" -Dlog4j.configuration="file:$dir/log4j.properties" \
    -cp "$ZK_CLASSPATH" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg"
}
zk_wait() { wait_until "$RUNSTREAM_START_TIMEOUT" zookeeper zk_ok; log "zookeeper: ready"; }
zk_stop() { stop_pid zookeeper "$(zk_dir)/zookeeper.pid" "$(zk_pattern)"; }
zk_kill() { local pid; pid=$(pid_alive "$(zk_dir)/zookeeper.pid" "$(zk_pattern)") && kill -KILL "$pid" && log "zookeeper: killed (pid $pid)"; true; }

# --- Kafka ---
kafka_dir() { echo "$D/kafka$1"; }
kafka_pattern() { echo "kafka.Kafka $(kafka_dir "$1")/server.properties"; }
kafka_voters() {
  local i out=""
  for ((i = 1; i <= CLUSTER_KAFKA_NODES; i++)); do out+="${out:+,}$i@$CLUSTER_HOST:$(cluster_kafka_controller_port "$i")"; done
  echo "$out"
}
kafka_start() {
  local n=$1 dir pid port cport
  dir=$(kafka_dir "$n"); port=$(cluster_kafka_port "$n"); cport=$(cluster_kafka_controller_port "$n")
  if pid_alive "$dir/kafka.pid" "$(kafka_pattern "$n")" >/dev/null; then return 0; fi
  port_open "$CLUSTER_HOST" "$port" && die "kafka$n: port $port is already in use"
  mkdir -p "$dir/data" "$dir/logs"
  render "$RUNSTREAM_CLUSTER_DIR_SRC/kafka/server.properties" "$dir/server.properties" \
    "NODE_ID=$n" "HOST=$CLUSTER_HOST" "PORT=$port" "CONTROLLER_PORT=$cport" "VOTERS=$(kafka_voters)" "LOG_DIRS=$dir/data"
  render "$RUNSTREAM_LOCAL_DIR/kafka/log4j2.properties" "$dir/log4j2.properties" "LOG_DIR=$dir/logs"
  if [[ ! -f $dir/data/meta.properties ]]; then
    [[ -s $D/kafka-cluster.id ]] || kafka_tool kafka.tools.StorageTool random-uuid >"$D/kafka-cluster.id"
    kafka_tool kafka.tools.StorageTool format --ignore-formatted --cluster-id "$(<"$D/kafka-cluster.id")" --config "$dir/server.properties" >/dev/null
  fi
  [[ -f $dir/logs/server.log ]] && mv -f "$dir/logs/server.log" "$dir/logs/server.log.prev"
  log "kafka$n: starting on $CLUSTER_HOST:$port"
  # shellcheck disable=SC2086
  start_bg "$dir/kafka.pid" "$dir/logs/stdout.log" java $CLUSTER_KAFKA_HEAP_OPTS $KAFKA_JVM_OPTS -XX:+ExitOnOutOfMemoryError \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
    -cp "$(kafka_classpath)" kafka.Kafka "$dir/server.properties"
}
kafka_ok() { port_open "$CLUSTER_HOST" "$(cluster_kafka_port "$1")" && grep -q 'Kafka Server started' "$(kafka_dir "$1")/logs/server.log" 2>/dev/null; }
kafka_wait() {
  wait_until "$RUNSTREAM_START_TIMEOUT" "kafka$1" kafka_ok "$1"
  log "kafka$1: ready"
}
kafka_stop() { stop_pid "kafka$1" "$(kafka_dir "$1")/kafka.pid" "$(kafka_pattern "$1")"; }
kafka_kill() { local pid; pid=$(pid_alive "$(kafka_dir "$1")/kafka.pid" "$(kafka_pattern "$1")") && kill -KILL "$pid" && log "kafka$1: killed (pid $pid)"; true; }

# --- ClickHouse ---
ch_dir() { echo "$D/clickhouse$1"; }
ch_pattern() { echo "clickhouse-server --config-file=$(ch_dir "$1")/etc/config.xml"; }
remote_servers_xml() {
  local s r n out="        <$CLICKHOUSE_CLUSTER>"
  for ((s = 1; s <= CLUSTER_SHARDS; s++)); do
    out+=$'\n            <shard>\n                <internal_replication>true</internal_replication>'
    for ((r = 1; r <= CLUSTER_REPLICAS; r++)); do
      n=$(((s - 1) * CLUSTER_REPLICAS + r))
      out+=$'\n'"                <replica><host>$CLUSTER_HOST</host><port>$(cluster_ch_tcp_port "$n")</port></replica>"
    done
    out+=$'\n            </shard>'
  done
  printf '%s\n        </%s>' "$out" "$CLICKHOUSE_CLUSTER"
}
sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
# Each database the services may use comes with its shard-local twin (<name>_local) holding the replicated tables.
allowed_databases_xml() {
  local db out=""
  for db in runstream runstream_test runstream_bench "$CLICKHOUSE_DATABASE"; do
    [[ $db =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "clickhouse: invalid database name '$db'"
    out+="${out:+$'\n'}                <database>$db</database>"$'\n'"                <database>${db}_local</database>"
  done
  printf '%s' "$out" | awk '!seen[$0]++'
}
ch_start() {
  local n=$1 dir http tcp
  dir=$(ch_dir "$n"); http=$(cluster_ch_http_port "$n"); tcp=$(cluster_ch_tcp_port "$n")
  if pid_alive "$dir/clickhouse.pid" "$(ch_pattern "$n")" >/dev/null; then return 0; fi
  port_open "$CLUSTER_HOST" "$http" && die "clickhouse$n: port $http is already in use"
  mkdir -p "$dir/etc" "$dir/data" "$dir/logs"
  render "$RUNSTREAM_CLUSTER_DIR_SRC/clickhouse/config.xml" "$dir/etc/config.xml" \
    "HOST=$CLUSTER_HOST" "HTTP_PORT=$http" "TCP_PORT=$tcp" "INTERSERVER_PORT=$(cluster_ch_interserver_port "$n")" \
    "DATA_PATH=$dir/data" "LOG_DIR=$dir/logs" "REMOTE_SERVERS=$(remote_servers_xml)" "ZOOKEEPER_PORT=$ZOOKEEPER_PORT" \
    "CLUSTER=$CLICKHOUSE_CLUSTER" "SHARD=$(cluster_ch_shard "$n")" "REPLICA=ch$n"
  (
    umask 077
    render "$RUNSTREAM_LOCAL_DIR/clickhouse/users.xml" "$dir/etc/users.xml" \
      "ALLOWED_DATABASES=$(allowed_databases_xml)" \
      "INGEST_USER=$CLICKHOUSE_INGEST_USER" "INGEST_PASSWORD_SHA256=$(sha256 "$CLICKHOUSE_INGEST_PASSWORD")" \
      "QUERY_USER=$CLICKHOUSE_QUERY_USER" "QUERY_PASSWORD_SHA256=$(sha256 "$CLICKHOUSE_QUERY_PASSWORD")" \
      "BI_USER=$CLICKHOUSE_BI_USER" "BI_PASSWORD_SHA256=$(sha256 "$CLICKHOUSE_BI_PASSWORD")"
    # Reads through Distributed tables: a subquery over another Distributed table is sent once (GLOBAL), and every
    # shard is read on its first healthy replica in the listed order — the replica the worker writes first — so a
    # read that saw a batch's progress also sees its rows; a replica lagging over a second is skipped.
    sed -i -e '/<load_balancing>random<\/load_balancing>/d' \
      -e 's#^\( *\)<use_uncompressed_cache>0</use_uncompressed_cache>#&\n\1<distributed_product_mode>global</distributed_product_mode>\n\1<load_balancing>in_order</load_balancing>\n\1<prefer_localhost_replica>0</prefer_localhost_replica>\n\1<max_replica_delay_for_distributed_queries>1</max_replica_delay_for_distributed_queries>#' \
      "$dir/etc/users.xml"
  )
  log "clickhouse$n: starting shard $(cluster_ch_shard "$n") replica ch$n on http://$CLUSTER_HOST:$http (tcp :$tcp)"
  start_bg "$dir/clickhouse.pid" "$dir/logs/stdout.log" clickhouse-server --config-file="$dir/etc/config.xml"
}
ch_ok() { [[ $(curl -s --max-time 2 "http://$CLUSTER_HOST:$(cluster_ch_http_port "$1")/ping" 2>/dev/null) == "Ok." ]]; }
ch_wait() { wait_until "$RUNSTREAM_START_TIMEOUT" "clickhouse$1" ch_ok "$1"; log "clickhouse$1: ready"; }
ch_stop() { stop_pid "clickhouse$1" "$(ch_dir "$1")/clickhouse.pid" "$(ch_pattern "$1")"; }
ch_kill() { local pid; pid=$(pid_alive "$(ch_dir "$1")/clickhouse.pid" "$(ch_pattern "$1")") && kill -KILL "$pid" && log "clickhouse$1: killed (pid $pid)"; true; }

all_start() {
  local t0=$SECONDS i
  ensure_installed
  mkdir -p "$D"
  zk_start
  for ((i = 1; i <= CLUSTER_KAFKA_NODES; i++)); do kafka_start "$i"; done
  zk_wait
  for ((i = 1; i <= $(cluster_ch_nodes); i++)); do ch_start "$i"; done
  for ((i = 1; i <= CLUSTER_KAFKA_NODES; i++)); do kafka_wait "$i"; done
  for ((i = 1; i <= $(cluster_ch_nodes); i++)); do ch_wait "$i"; done
  log "cluster servers up in $((SECONDS - t0))s (data: $D)"
}
all_stop() {
  local i
  for ((i = 1; i <= $(cluster_ch_nodes); i++)); do ch_stop "$i"; done
  for ((i = 1; i <= CLUSTER_KAFKA_NODES; i++)); do kafka_stop "$i"; done
  zk_stop
}
all_status() {
  local i rc=0
  if zk_ok; then log "zookeeper: up"; else log "zookeeper: down"; rc=1; fi
  for ((i = 1; i <= CLUSTER_KAFKA_NODES; i++)); do if kafka_ok "$i"; then log "kafka$i: up"; else log "kafka$i: down"; rc=1; fi; done
  for ((i = 1; i <= $(cluster_ch_nodes); i++)); do if ch_ok "$i"; then log "clickhouse$i: up"; else log "clickhouse$i: down"; rc=1; fi; done
  return $rc
}

node_cmd() { # node_cmd ACTION KIND [N]
  local action=$1 kind=$2 n=${3:-}
  case $kind in
    zookeeper) "zk_$action"; [[ $action == start ]] && zk_wait ;;
    kafka) [[ $n =~ ^[0-9]+$ ]] || die "kafka needs a node number"; "kafka_$action" "$n"; [[ $action == start ]] && kafka_wait "$n" ;;
    clickhouse) [[ $n =~ ^[0-9]+$ ]] || die "clickhouse needs a node number"; "ch_$action" "$n"; [[ $action == start ]] && ch_wait "$n" ;;
    *) die "unknown node kind '$kind'" ;;
  esac
  true
}

# The services' settings for this cluster, as export lines.
print_env() {
  local i workers="" zk="$CLUSTER_HOST:$ZOOKEEPER_PORT"
  for ((i = 1; i <= 2; i++)); do workers+="${workers:+,}http://$CLUSTER_HOST:$((CLUSTER_WORKER_METRICS_BASE_PORT + i - 1))"; done
  cat <<OUT
export KAFKA_BROKERS=$(cluster_kafka_brokers)
export CLICKHOUSE_URL=http://$CLUSTER_HOST:$(cluster_ch_http_port 1)
export CLICKHOUSE_SHARDS='$(cluster_ch_shards)'
export CLICKHOUSE_CLUSTER=$CLICKHOUSE_CLUSTER
export CLICKHOUSE_DATABASE=$CLICKHOUSE_DATABASE
export ZOOKEEPER_HOSTS=$zk
export INGEST_WORKER_METRICS_URLS=$workers
OUT
}

case "${1:-}" in
  start) all_start ;;
  env) print_env ;;
  stop) all_stop ;;
  status) all_status ;;
  start-node) node_cmd start "${2:-}" "${3:-}" ;;
  stop-node) node_cmd stop "${2:-}" "${3:-}" ;;
  kill-node) node_cmd kill "${2:-}" "${3:-}" ;;
  *) echo "usage: $0 {start|stop|status|env|start-node|stop-node|kill-node KIND [N]}" >&2; exit 2 ;;
esac
