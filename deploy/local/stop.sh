#!/usr/bin/env bash
# Stops the local Kafka and ClickHouse (SIGTERM, then SIGKILL after RUNSTREAM_STOP_TIMEOUT s).
# Data stays in $RUNSTREAM_DATA_DIR; wipe it with `rm -rf .data` (after stopping).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rc=0
"$RUNSTREAM_LOCAL_DIR/kafka.sh" stop || rc=1
"$RUNSTREAM_LOCAL_DIR/clickhouse.sh" stop || rc=1
exit "$rc"
