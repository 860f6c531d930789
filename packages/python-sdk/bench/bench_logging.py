"""Benchmark (not a test): what logging costs a training loop, and how fast points reach Runstream.

    RUNSTREAM_URL=… RUNSTREAM_KAFKA_BROKERS=… RUNSTREAM_TOPIC_PREFIX=… python bench/bench_logging.py

(`npm run bench:python` starts Runstream and runs this.) Prints one JSON line per measurement:
  - log_metric_us: cost of one run.log_metric call in the training thread (target ≤ 10 µs), median of rounds;
  - kafka_points_per_s: points delivered (acknowledged by Kafka) per second from one process (target ≥ 100,000/s);
  - mlflow_log_metric_us: MLflow's mlflow.log_metric against the same server (Runstream's MLflow API), beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid

import runstream


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def bench_call_cost(client: runstream.Client, run: runstream.Run, calls: int, rounds: int) -> None:
    per_call = []
    for r in range(rounds):
        started = time.perf_counter()
        for i in range(calls):
            run.log_metric("loss", 0.5, step=i)
        per_call.append((time.perf_counter() - started) / calls * 1e6)
        client.flush()
    emit(measure="log_metric_us", median=round(statistics.median(per_call), 2), rounds=[round(x, 2) for x in per_call], calls_per_round=calls)


def bench_delivery(client: runstream.Client, run: runstream.Run, points: int) -> None:
    started = time.perf_counter()
    for i in range(points):
        run.log_metric("throughput", float(i), step=i)
    logged = time.perf_counter() - started
    report = client.flush()
    total = time.perf_counter() - started
    emit(measure=f"{client.transport}_points_per_s", points=points, points_per_s=round(points / total), logging_s=round(logged, 3), delivered_s=round(total, 3), ok=report.ok)


def bench_mlflow(url: str, calls: int) -> None:
    try:
        import mlflow
    except ImportError:
        emit(measure="mlflow_log_metric_us", skipped="mlflow not installed")
        return
    mlflow.set_tracking_uri(url)
    mlflow.set_experiment(f"python-sdk-bench-mlflow-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run():
        mlflow.log_metric("warmup", 0.0)
        started = time.perf_counter()
        for i in range(calls):
            mlflow.log_metric("loss", 0.5, step=i)
        sync_us = (time.perf_counter() - started) / calls * 1e6
        started = time.perf_counter()
        for i in range(calls):
            mlflow.log_metric("loss_async", 0.5, step=i, synchronous=False)
        async_call_us = (time.perf_counter() - started) / calls * 1e6
        mlflow.flush_async_logging()
        async_total = time.perf_counter() - started
    emit(measure="mlflow_log_metric_us", synchronous=round(sync_us, 1), asynchronous_call=round(async_call_us, 1), asynchronous_points_per_s=round(calls / async_total), calls=calls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--mlflow-calls", type=int, default=300)
    args = parser.parse_args()
    emit(measure="machine", cpus=os.cpu_count(), load=os.getloadavg())
    for transport in ("kafka", "http"):
        with runstream.Client(transport=transport) as client:  # type: ignore[arg-type]
            run = client.create_run(experiment=f"python-sdk-bench-{uuid.uuid4().hex[:8]}", name=transport)
            if transport == "kafka":
                bench_call_cost(client, run, args.calls, args.rounds)
            bench_delivery(client, run, args.points if transport == "kafka" else args.points // 20)
    url = os.environ["RUNSTREAM_URL"]
    bench_mlflow(url, args.mlflow_calls)


if __name__ == "__main__":
    main()
