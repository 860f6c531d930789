#!/usr/bin/env python3
"""Stores metric histories in MLflow's SQL store on SQLite (what `mlflow server --backend-store-uri sqlite:///…` writes)
and prints its size per point. Used by scripts/bench/storage-bench.ts, which passes the same histories it stores in
Runstream.

Usage: mlflow_storage_bench.py HISTORIES_CSV WORK_DIR
HISTORIES_CSV: lines of run,key,step,timestamp_ms,value (value in shortest round-trip form, so both stores get the
same doubles). Prints one JSON object: points, file_bytes (after VACUUM), metrics_bytes (the metrics and latest_metrics
tables with their indexes, from SQLite's dbstat when the build has it), seconds spent logging.
"""
from __future__ import annotations

import csv
import json
import os
import sqlite3
import sys
import time
from collections import defaultdict


def main() -> None:
    histories_csv, work_dir = sys.argv[1], sys.argv[2]
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    db = os.path.join(work_dir, "mlflow.db")
    client = MlflowClient(tracking_uri=f"sqlite:///{db}")
    experiment_id = client.create_experiment("storage-bench", artifact_location=os.path.join(work_dir, "artifacts"))
    series: dict[str, list[Metric]] = defaultdict(list)
    with open(histories_csv, newline="") as f:
        for run, key, step, ts, value in csv.reader(f):
            series[run].append(Metric(key=key, value=float(value), timestamp=int(ts), step=int(step)))
    started = time.monotonic()
    points = 0
    for run_name, metrics in series.items():
        run_id = client.create_run(experiment_id, run_name=run_name).info.run_id
        # log_batch's limit is 1000 metrics a request.
        for i in range(0, len(metrics), 1000):
            client.log_batch(run_id, metrics=metrics[i : i + 1000])
        points += len(metrics)
        client.set_terminated(run_id)
    seconds = time.monotonic() - started

    con = sqlite3.connect(db)
    con.execute("VACUUM")
    metrics_bytes = None
    try:
        metrics_bytes = con.execute(
            "SELECT sum(pgsize) FROM dbstat WHERE name IN ('metrics', 'latest_metrics') "
            "OR name IN (SELECT name FROM sqlite_master WHERE tbl_name IN ('metrics', 'latest_metrics'))"
        ).fetchone()[0]
    except sqlite3.OperationalError:
        pass  # this SQLite build has no dbstat
    stored = con.execute("SELECT count(*) FROM metrics").fetchone()[0]
    con.close()
    json.dump({"points": points, "stored": stored, "file_bytes": os.path.getsize(db), "metrics_bytes": metrics_bytes, "seconds": seconds}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
