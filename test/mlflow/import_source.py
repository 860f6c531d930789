"""The MLflow side of test/mlflow-import.test.ts, with the real MLflow Python client against a real `mlflow server`.

  import_source.py seed <tracking uri> <suffix>   logs experiments and runs; prints one JSON line describing them
  import_source.py dump <tracking uri> <run id>…  reads the runs back (info, params, tags, every point of every metric
                                                  history, values as IEEE-754 bits); prints one JSON line
"""
import json
import math
import struct
import sys
import time

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

BATCH = 1000  # MLflow's log_batch limit for metrics


def bits(v):
    return struct.pack("<d", v).hex()


def log_metrics(client, run_id, metrics):
    for i in range(0, len(metrics), BATCH):
        client.log_batch(run_id, metrics=metrics[i : i + BATCH])


def history(key, steps, t0, value_of, repeat_every=0):
    """`steps` points at steps 0…steps-1, one ms apart; every `repeat_every`-th step is logged a second time later."""
    out = []
    for s in range(steps):
        out.append(Metric(key, value_of(s), t0 + s, s))
        if repeat_every and s % repeat_every == 7:
            out.append(Metric(key, value_of(s) + 0.5, t0 + s + 500_000, s))  # same step, later, another value
    return out


def seed(uri, suffix):
    client = MlflowClient(tracking_uri=uri)
    t0 = int(time.time() * 1000) - 3_600_000
    exp_a = client.create_experiment(f"import-a-{suffix}", tags={"team": "vision", "owner": "ada"})
    exp_b = client.create_experiment(f"import-b-{suffix}")
    exp_kill = client.create_experiment(f"import-kill-{suffix}")
    exp_inflight = client.create_experiment(f"import-inflight-{suffix}")
    runs = {}

    def loss(s):
        return float("nan") if s % 97 == 0 else 1.0 / (s + 1)

    def acc(s):
        return float("inf") if s == 500 else (float("-inf") if s == 501 else s / 2000.0)

    def lr(s):
        return 0.1 * (0.999**s) if s != 1500 else -0.0

    # a1: finished, three full histories with NaN, ±inf, -0 and repeated steps.
    r = client.create_run(exp_a, run_name=f"a1-{suffix}", start_time=t0, tags={"stage": "dev"})
    rid = r.info.run_id
    client.log_batch(rid, params=[Param("lr", "0.1"), Param("batch_size", "32"), Param("optimizer", "adam")], tags=[RunTag("note", "héllo wörld ✓"), RunTag("stage", "prod")])
    log_metrics(client, rid, history("loss", 2000, t0, loss, repeat_every=100) + history("acc", 2000, t0, acc) + history("train/lr", 2000, t0, lr))
    client.set_terminated(rid, "FINISHED", end_time=t0 + 600_000)
    runs["a1"] = rid

    # a2: failed; besides full histories, points at MLflow's edges: a key with ':', a negative step, a timestamp in
    # 1970. And a NaN and a 0.0 at the same (timestamp, step).
    r = client.create_run(exp_a, run_name=f"a2-{suffix}", start_time=t0 + 1000)
    rid = r.info.run_id
    client.log_batch(rid, params=[Param("lr", "0.01"), Param("batch_size", "64")], tags=[RunTag("stage", "dev")])
    weird = [Metric("weird", 1.0, t0, 0), Metric("weird", 2.0, t0 + 1, -1), Metric("weird", 3.0, 5, 1), Metric("weird", 4.0, t0 + 2, 2)]
    tie = [Metric("tie", float("nan"), t0 + 10, 3), Metric("tie", 0.0, t0 + 10, 3), Metric("tie", 1.0, t0 + 11, 4)]
    log_metrics(client, rid, history("loss", 2000, t0, loss, repeat_every=250) + history("acc", 2000, t0, acc) + history("eval:acc", 5, t0, acc) + weird + tie)
    client.set_terminated(rid, "FAILED", end_time=t0 + 400_000)
    runs["a2"] = rid

    # a3: killed, then deleted (lifecycle_stage deleted).
    r = client.create_run(exp_a, run_name=f"a3-{suffix}", start_time=t0 + 2000)
    rid = r.info.run_id
    log_metrics(client, rid, history("loss", 10, t0, loss))
    client.set_terminated(rid, "KILLED", end_time=t0 + 3000)
    client.delete_run(rid)
    runs["a3"] = rid

    # b1: still running (no end time).
    r = client.create_run(exp_b, run_name=f"b1-{suffix}", start_time=t0 + 3000)
    rid = r.info.run_id
    client.log_batch(rid, params=[Param("depth", "12"), Param("empty", "")], tags=[RunTag("mlflow.user", "grace")])
    log_metrics(client, rid, history("loss", 2000, t0, loss) + history("acc", 2000, t0, acc) + history("train/lr", 2000, t0, lr))
    runs["b1"] = rid

    # b2: finished, params and tags only.
    r = client.create_run(exp_b, run_name=f"b2-{suffix}", start_time=t0 + 4000)
    rid = r.info.run_id
    client.log_batch(rid, params=[Param("kind", "baseline")], tags=[RunTag("x", "y")])
    client.set_terminated(rid, "FINISHED", end_time=t0 + 5000)
    runs["b2"] = rid

    # kill: one large history (two 25,000-point pages, several messages), for the SIGKILL test.
    r = client.create_run(exp_kill, run_name=f"kill-{suffix}", start_time=t0)
    rid = r.info.run_id
    log_metrics(client, rid, history("big", 30_000, t0, lambda s: math.sin(s / 100.0)) + history("small", 2_000, t0, lambda s: s * 1.5))
    client.set_terminated(rid, "FINISHED", end_time=t0 + 100_000)
    runs["kill"] = rid

    # inflight: one history, for the test of a send that Kafka acknowledged but the worker had not stored.
    r = client.create_run(exp_inflight, run_name=f"inflight-{suffix}", start_time=t0)
    rid = r.info.run_id
    log_metrics(client, rid, history("x", 3_000, t0, lambda s: s / 3.0))
    client.set_terminated(rid, "FINISHED", end_time=t0 + 100_000)
    runs["inflight"] = rid

    print(json.dumps({"experiments": {"a": exp_a, "b": exp_b, "kill": exp_kill, "inflight": exp_inflight}, "runs": runs}))


def dump(uri, run_ids):
    client = MlflowClient(tracking_uri=uri)
    out = {}
    for rid in run_ids:
        run = client.get_run(rid)
        info = run.info
        histories = {}
        for key in run.data.metrics:
            histories[key] = [[m.step, m.timestamp, bits(m.value)] for m in client.get_metric_history(rid, key)]
        out[rid] = {
            "info": {
                "experiment_id": info.experiment_id,
                "run_name": info.run_name,
                "user_id": info.user_id,
                "status": info.status,
                "start_time": info.start_time,
                "end_time": info.end_time,
                "lifecycle_stage": info.lifecycle_stage,
            },
            "params": run.data.params,
            "tags": run.data.tags,
            "histories": histories,
        }
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "dump":
        dump(sys.argv[2], sys.argv[3:])
    else:
        raise SystemExit(f"unknown command {sys.argv[1]!r}")
