#!/usr/bin/env bash
# Creates the Secrets deploy/kubernetes refers to, with fresh random values, in namespace $NAMESPACE (default
# runstream). Existing Secrets are kept. The Strimzi cluster CA Secret (runstream-cluster-ca-cert) is made by
# Strimzi itself.
set -euo pipefail
ns=${NAMESPACE:-runstream}
rand() { head -c 24 /dev/urandom | base64 | tr -d '/+=' ; }
make() {
  local name=$1; shift
  if kubectl -n "$ns" get secret "$name" > /dev/null 2>&1; then
    echo "secret $name exists; kept"
  else
    kubectl -n "$ns" create secret generic "$name" "$@"
  fi
}
make runstream-clickhouse \
  --from-literal=admin-password="$(rand)" \
  --from-literal=ingest-password="$(rand)" \
  --from-literal=query-password="$(rand)" \
  --from-literal=cluster-secret="$(rand)"
make runstream-kafka-users \
  --from-literal=ingest-password="$(rand)" \
  --from-literal=query-password="$(rand)" \
  --from-literal=observer-username=runstream-observer \
  --from-literal=observer-password="$(rand)"
make runstream-api \
  --from-literal=tokens="admin:$(rand):read+write"
