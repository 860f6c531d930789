#!/usr/bin/env python3
"""Times what a training script does with the real MLflow client against one tracking server.

Used by scripts/bench/mlflow-bench.ts, once per server. Prints one JSON object per line on stdout (one per phase, as
soon as the phase ends, so a phase that runs out of time still leaves the earlier ones) and progress on stderr:

  sync     mlflow.log_metric(...) latency, per call, after a warm-up
  async    mlflow.log_metric(..., synchronous=False) x N, then mlflow.flush_async_logging()
  batch    MlflowClient.log_batch(run_id, metrics=[1000 Metric]) x N
  visible  after each phase's last write: time until get_metric_history returns its last point (--check-reads)
  http     every HTTP answer the client received, by status, and the retries urllib3 made underneath
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from typing import Any, Callable

import mlflow
import requests.adapters
from mlflow import MlflowClient
from mlflow.entities import Metric

statuses: Counter[str] = Counter()
retries: Counter[str] = Counter()


def count_http() -> None:
    """Counts each HTTP answer (and the retries urllib3 hid inside it): a retried or failed request would otherwise
    pass for a slow one."""
    send = requests.adapters.HTTPAdapter.send

    def counted(self: requests.adapters.HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = send(self, request, *args, **kwargs)
        statuses[str(response.status_code)] += 1
        history = getattr(getattr(response.raw, "retries", None), "history", None) or ()
        for attempt in history:
            retries[str(attempt.status or attempt.error)] += 1
        return response

    requests.adapters.HTTPAdapter.send = counted  # type: ignore[method-assign]


def emit(phase: str, **values: Any) -> None:
    print(json.dumps({"phase": phase, **values}), flush=True)


def progress(label: str, message: str) -> None:
    print(f"[{label}] {message}", file=sys.stderr, flush=True)


def percentile(sorted_ms: list[float], p: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(p / 100 * len(sorted_ms)))]


def time_visible(client: MlflowClient, run_id: str, key: str, last_step: int, points: int, budget_s: float) -> dict[str, Any]:
    """Polls get_metric_history from the moment the last write returned until it holds the last step (and all points)."""
    started = time.perf_counter()
    polls = 0
    seen = 0
    while time.perf_counter() - started < budget_s:
        polls += 1
        history = client.get_metric_history(run_id, key)
        seen = len(history)
        if any(m.step == last_step for m in history) and seen >= points:
            return {"ms": (time.perf_counter() - started) * 1000, "polls": polls, "points": seen}
        time.sleep(0.005)
    return {"ms": None, "polls": polls, "points": seen, "timeout_s": budget_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uri", required=True, help="tracking URI, e.g. http://127.0.0.1:8080")
    parser.add_argument("--label", required=True, help="name of the server in progress lines")
    parser.add_argument("--experiment", required=True, help="experiment name (unique per benchmark run)")
    parser.add_argument("--sync-calls", type=int, default=300)
    parser.add_argument("--async-calls", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--phase-budget-s", type=float, default=120.0, help="a timed loop stops early past this")
    parser.add_argument("--check-reads", action="store_true", help="time get_metric_history after each phase")
    args = parser.parse_args()

    count_http()
    mlflow.set_tracking_uri(args.uri)
    client = MlflowClient(args.uri)
    label = args.label
    # create_experiment, not set_experiment: its get-by-name of a new name is a 404 that is no failure.
    experiment_id = client.create_experiment(args.experiment)
    run = mlflow.start_run(experiment_id=experiment_id, run_name=f"{label}-bench")
    run_id = run.info.run_id

    def visible(after: str, key: str, last_step: int, points: int) -> None:
        if args.check_reads:
            emit("visible", after=after, **time_visible(client, run_id, key, last_step, points, args.phase_budget_s))

    def bounded(n: int, call: Callable[[int], None]) -> int:
        """Runs call(i) for i < n while the phase budget lasts; returns how many calls ran."""
        started = time.perf_counter()
        for i in range(n):
            if time.perf_counter() - started > args.phase_budget_s:
                return i
            call(i)
        return n

    # -- synchronous log_metric: what each step of a plain training loop waits for --------------------------------
    for i in range(20):
        mlflow.log_metric("warmup", 1.0 / (i + 1), step=i)
    progress(label, f"sync: {args.sync_calls} x mlflow.log_metric")
    latencies: list[float] = []

    def sync_call(i: int) -> None:
        t = time.perf_counter()
        mlflow.log_metric("sync_loss", 1.0 / (i + 1), step=i)
        latencies.append((time.perf_counter() - t) * 1000)

    done = bounded(args.sync_calls, sync_call)
    ordered = sorted(latencies)
    emit("sync", calls=done, p50_ms=percentile(ordered, 50), p99_ms=percentile(ordered, 99), mean_ms=sum(ordered) / len(ordered))
    visible("sync", "sync_loss", done - 1, done)

    # -- async log_metric: MLflow's queue sends from a thread pool; flush waits for all of it ---------------------
    for i in range(20):
        mlflow.log_metric("warmup_async", 1.0 / (i + 1), step=i, synchronous=False)
    mlflow.flush_async_logging()
    progress(label, f"async: {args.async_calls} x mlflow.log_metric(synchronous=False) + flush_async_logging()")
    started = time.perf_counter()
    done = bounded(args.async_calls, lambda i: mlflow.log_metric("async_loss", 1.0 / (i + 1), step=i, synchronous=False))
    mlflow.flush_async_logging()
    seconds = time.perf_counter() - started
    emit("async", points=done, seconds=seconds, points_per_s=done / seconds)
    visible("async", "async_loss", done - 1, done)

    # -- log_batch: one key per batch keeps each visibility poll to one batch's points -------------------------------
    def batch_of(key: str) -> list[Metric]:
        now = int(time.time() * 1000)
        return [Metric(key=key, value=1.0 / (s + 1), timestamp=now, step=s) for s in range(args.batch_size)]

    client.log_batch(run_id, metrics=batch_of("batch_warmup"))
    progress(label, f"log_batch: {args.batches} x {args.batch_size} metrics")
    batches = [batch_of(f"batch_{b:03d}") for b in range(args.batches)]
    started = time.perf_counter()
    done = bounded(args.batches, lambda b: client.log_batch(run_id, metrics=batches[b]))
    seconds = time.perf_counter() - started
    emit("batch", batches=done, points=done * args.batch_size, seconds=seconds, points_per_s=done * args.batch_size / seconds)
    visible("batch", f"batch_{done - 1:03d}", args.batch_size - 1, args.batch_size)

    mlflow.end_run()
    emit("http", statuses=dict(statuses), retries=dict(retries))


if __name__ == "__main__":
    main()
