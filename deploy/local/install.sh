#!/usr/bin/env bash
# Installs what the local stack needs, only if missing:
#   - Debian packages: clickhouse-server + clickhouse-client (18.16), Java 17+, Maven, curl
#   - Kafka broker + CLI jars from Maven Central, cached in $RUNSTREAM_DATA_DIR/kafka/libs/<version>
# A quick no-op when everything is present.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOG4J_VERSION="${LOG4J_VERSION:-2.24.3}"

apt_updated=0
apt_install() {
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to apt-get install: $*"
    sudo=(sudo)
  fi
  # Refresh the package lists once if any package has no install candidate.
  local p policy apt_log="$RUNSTREAM_DATA_DIR/apt.log"
  mkdir -p "$RUNSTREAM_DATA_DIR"
  for p in "$@"; do
    policy=$(apt-cache policy "$p" 2>/dev/null || true)
    if [[ $apt_updated -eq 0 && $policy != *"Candidate: "[0-9]* ]]; then
      log "install: apt-get update"
      "${sudo[@]}" apt-get update -q >"$apt_log" 2>&1 || { tail -n 20 "$apt_log" >&2; die "apt-get update failed"; }
      apt_updated=1
    fi
  done
  log "install: apt-get install $*"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >>"$apt_log" 2>&1 \
    || { tail -n 20 "$apt_log" >&2; die "apt-get install $* failed (log: $apt_log)"; }
}

java_major() {
  java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | cut -d. -f1
}

missing=()
command -v clickhouse-server >/dev/null || missing+=(clickhouse-server)
command -v clickhouse-client >/dev/null || missing+=(clickhouse-client)
command -v curl >/dev/null || missing+=(curl)
if ! command -v java >/dev/null || [[ $(java_major) -lt 17 ]]; then
  missing+=(openjdk-17-jre-headless)
fi
if [[ ! -f "$KAFKA_LIBS_DIR/.complete" ]] && ! command -v mvn >/dev/null; then
  missing+=(maven)
fi
if ((${#missing[@]})); then
  apt_install "${missing[@]}"
fi

if [[ ! -f "$KAFKA_LIBS_DIR/.complete" ]]; then
  log "install: resolving org.apache.kafka:kafka_2.13:${KAFKA_VERSION} jars with Maven into $KAFKA_LIBS_DIR"
  mvn_dir="$KAFKA_DIR/mvn-${KAFKA_VERSION}"
  mkdir -p "$mvn_dir"
  render "$RUNSTREAM_LOCAL_DIR/kafka/pom.xml" "$mvn_dir/pom.xml" \
    "KAFKA_VERSION=$KAFKA_VERSION" "LOG4J_VERSION=$LOG4J_VERSION"
  tmp_libs="$KAFKA_LIBS_DIR.tmp.$$"
  rm -rf "$tmp_libs"
  if ! mvn -B -q -f "$mvn_dir/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp_libs" >"$mvn_dir/mvn.log" 2>&1; then
    tail -n 30 "$mvn_dir/mvn.log" >&2
    rm -rf "$tmp_libs"
    die "install: maven could not resolve the Kafka jars (log: $mvn_dir/mvn.log)"
  fi
  ls "$tmp_libs"/kafka_2.13-"${KAFKA_VERSION}".jar >/dev/null
  rm -rf "$KAFKA_LIBS_DIR"
  mv "$tmp_libs" "$KAFKA_LIBS_DIR"
  touch "$KAFKA_LIBS_DIR/.complete"
  log "install: $(find "$KAFKA_LIBS_DIR" -name '*.jar' | wc -l) Kafka jars cached"
fi
log "install: ok (clickhouse $(clickhouse-client --version 2>/dev/null | grep -oE '[0-9]+(\.[0-9]+)+' | head -1), java $(java_major), kafka ${KAFKA_VERSION})"
