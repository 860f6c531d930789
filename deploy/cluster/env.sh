# shellcheck shell=bash
# Runstream loopback cluster: shared settings. Source it, don't run it. Every value can be overridden from the
# environment. Ports sit beside the single-node stack's (deploy/local), so both can run at once.
# shellcheck source=../local/lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../local/lib.sh"

RUNSTREAM_CLUSTER_DIR_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export RUNSTREAM_CLUSTER_DATA_DIR="${RUNSTREAM_CLUSTER_DATA_DIR:-${RUNSTREAM_DATA_DIR}/cluster}"
export CLUSTER_HOST="${CLUSTER_HOST:-127.0.0.1}"
# The ClickHouse cluster name in remote_servers; migrations and Distributed tables refer to it.
export CLICKHOUSE_CLUSTER="${CLICKHOUSE_CLUSTER:-runstream}"

# --- ZooKeeper (Debian's 3.8: ClickHouse 18.16's client speaks its handshake) ---
export ZOOKEEPER_PORT="${ZOOKEEPER_PORT:-22181}"
export ZOOKEEPER_HEAP_OPTS="${ZOOKEEPER_HEAP_OPTS:--Xms64m -Xmx256m}"

# --- Kafka: three KRaft nodes, each broker + controller ---
export CLUSTER_KAFKA_NODES="${CLUSTER_KAFKA_NODES:-3}"
export CLUSTER_KAFKA_BASE_PORT="${CLUSTER_KAFKA_BASE_PORT:-29092}"        # node i: PLAINTEXT base+i-1
export CLUSTER_KAFKA_CONTROLLER_BASE_PORT="${CLUSTER_KAFKA_CONTROLLER_BASE_PORT:-29192}"
export CLUSTER_KAFKA_HEAP_OPTS="${CLUSTER_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"

# --- ClickHouse: 2 shards x 2 replicas; node n = (shard-1)*2 + replica ---
export CLUSTER_SHARDS="${CLUSTER_SHARDS:-2}"
export CLUSTER_REPLICAS="${CLUSTER_REPLICAS:-2}"
export CLUSTER_CH_HTTP_BASE_PORT="${CLUSTER_CH_HTTP_BASE_PORT:-28123}"     # node n: base+n-1
export CLUSTER_CH_TCP_BASE_PORT="${CLUSTER_CH_TCP_BASE_PORT:-29001}"
export CLUSTER_CH_INTERSERVER_BASE_PORT="${CLUSTER_CH_INTERSERVER_BASE_PORT:-29011}"

# --- Services: 2 workers, 2 query services ---
export CLUSTER_QUERY_BASE_PORT="${CLUSTER_QUERY_BASE_PORT:-8080}"
export CLUSTER_WORKER_METRICS_BASE_PORT="${CLUSTER_WORKER_METRICS_BASE_PORT:-9471}"

cluster_kafka_port() { echo $((CLUSTER_KAFKA_BASE_PORT + $1 - 1)); }
cluster_kafka_controller_port() { echo $((CLUSTER_KAFKA_CONTROLLER_BASE_PORT + $1 - 1)); }
cluster_ch_nodes() { echo $((CLUSTER_SHARDS * CLUSTER_REPLICAS)); }
cluster_ch_http_port() { echo $((CLUSTER_CH_HTTP_BASE_PORT + $1 - 1)); }
cluster_ch_tcp_port() { echo $((CLUSTER_CH_TCP_BASE_PORT + $1 - 1)); }
cluster_ch_interserver_port() { echo $((CLUSTER_CH_INTERSERVER_BASE_PORT + $1 - 1)); }
cluster_ch_shard() { echo $((($1 - 1) / CLUSTER_REPLICAS + 1)); }
cluster_ch_replica() { echo $((($1 - 1) % CLUSTER_REPLICAS + 1)); }

cluster_kafka_brokers() {
  local i out=""
  for ((i = 1; i <= CLUSTER_KAFKA_NODES; i++)); do out+="${out:+,}$CLUSTER_HOST:$(cluster_kafka_port "$i")"; done
  echo "$out"
}
# Shards separated by ';', replicas by ',' (the services' CLICKHOUSE_SHARDS format).
cluster_ch_shards() {
  local s r out="" n
  for ((s = 1; s <= CLUSTER_SHARDS; s++)); do
    out+="${out:+;}"
    for ((r = 1; r <= CLUSTER_REPLICAS; r++)); do
      n=$(((s - 1) * CLUSTER_REPLICAS + r))
      ((r > 1)) && out+=","
      out+="http://$CLUSTER_HOST:$(cluster_ch_http_port "$n")"
    done
  done
  echo "$out"
}
