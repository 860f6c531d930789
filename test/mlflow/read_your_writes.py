"""Read-your-writes through two Runstream instances with the real MLflow client: every kind of write goes through
instance A (WRITE_URI) and is read back at once through instance B (READ_URI), which shares nothing with A but
Kafka and ClickHouse. Mode `running`: the ingest worker runs. Mode `stopped`: the worker is stopped while the
writes are made (they must still be acknowledged quickly); the script prints `WRITES_DONE` and then reads through
B, which must wait until the worker is back and then answer with everything. Prints one JSON summary line."""
import json
import os
import sys
import time
import uuid

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

mode = sys.argv[1]
suffix = uuid.uuid4().hex[:8]
a = MlflowClient(tracking_uri=os.environ["WRITE_URI"])
b = MlflowClient(tracking_uri=os.environ["READ_URI"])
write_ms: list[float] = []
summary: dict = {"mode": mode}


def timed(fn, *args, **kwargs):
    """Calls a write and records how long it took to be acknowledged."""
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    write_ms.append((time.perf_counter() - started) * 1000)
    return out


def error_code(fn, *args, **kwargs) -> str:
    try:
        fn(*args, **kwargs)
    except MlflowException as e:
        return e.error_code
    return "OK"


def done_writing() -> None:
    summary["max_write_ms"] = round(max(write_ms), 1)
    summary["writes"] = len(write_ms)
    if mode == "stopped":
        print("WRITES_DONE", flush=True)


if mode == "running":
    exp_id = timed(a.create_experiment, f"ryw-{suffix}")
    assert b.get_experiment_by_name(f"ryw-{suffix}").experiment_id == exp_id
    assert b.get_experiment(exp_id).name == f"ryw-{suffix}"

    run = timed(a.create_run, exp_id, run_name="first")
    run_id = run.info.run_id
    assert b.get_run(run_id).info.run_name == "first"

    timed(a.log_metric, run_id, "loss", 0.5, step=0)
    assert [(m.step, m.value) for m in b.get_metric_history(run_id, "loss")] == [(0, 0.5)]

    timed(a.log_batch, run_id, metrics=[Metric("loss", 0.25, 0, 1), Metric("acc", 0.9, 0, 1)], params=[Param("lr", "0.01")], tags=[RunTag("stage", "dev")])
    got = b.get_run(run_id)
    assert got.data.params == {"lr": "0.01"}, got.data.params
    assert got.data.tags["stage"] == "dev"
    assert got.data.metrics == {"loss": 0.25, "acc": 0.9}, got.data.metrics

    timed(a.log_param, run_id, "optimizer", "adam")
    assert b.get_run(run_id).data.params["optimizer"] == "adam"
    # Validation through B sees A's write: a different value is refused, the same value is accepted.
    summary["changed_param_via_other_instance"] = error_code(b.log_param, run_id, "optimizer", "sgd")
    b.log_param(run_id, "optimizer", "adam")

    timed(a.set_tag, run_id, "stage", "prod")
    assert [r.info.run_id for r in b.search_runs([exp_id], "tags.stage = 'prod'")] == [run_id]
    timed(a.delete_tag, run_id, "stage")
    assert "stage" not in b.get_run(run_id).data.tags
    summary["delete_missing_tag_via_other_instance"] = error_code(b.delete_tag, run_id, "stage")

    timed(a.update_run, run_id, name="renamed")
    assert b.get_run(run_id).info.run_name == "renamed"

    timed(a.delete_run, run_id)
    assert b.get_run(run_id).info.lifecycle_stage == "deleted"
    summary["log_to_deleted_via_other_instance"] = error_code(b.log_metric, run_id, "loss", 0.1, step=9)
    timed(a.restore_run, run_id)
    timed(b.log_metric, run_id, "loss", 0.125, step=2)
    assert [m.value for m in a.get_metric_history(run_id, "loss")] == [0.5, 0.25, 0.125]

    timed(a.set_terminated, run_id, "FINISHED")
    assert b.get_run(run_id).info.status == "FINISHED"

    from mlflow.entities import Dataset, DatasetInput, InputTag
    ds = Dataset(name="train", digest="d1", source_type="local", source="/data/train.csv")
    timed(a.log_inputs, run_id, [DatasetInput(ds, [InputTag("mlflow.data.context", "training")])])
    assert [d.dataset.name for d in b.get_run(run_id).inputs.dataset_inputs] == ["train"]

    model = f"ryw-model-{suffix}"
    timed(a.create_registered_model, model)
    assert b.get_registered_model(model).name == model
    v = timed(a.create_model_version, model, source=f"runs:/{run_id}/model", run_id=run_id)
    assert b.get_model_version(model, v.version).run_id == run_id

    lm = timed(a.create_logged_model, exp_id, name="clf", source_run_id=run_id)
    assert b.get_logged_model(lm.model_id).name == "clf"
    summary["run_id"] = run_id
    summary["experiment_id"] = exp_id
    done_writing()
else:
    exp_id = os.environ["EXPERIMENT_ID"]
    run_id = os.environ["RUN_ID"]
    # A run created through A while the worker is stopped: A knows it without reading it back.
    run = timed(a.create_run, exp_id, run_name="while-stopped")
    new_id = run.info.run_id
    for step in range(20):
        timed(a.log_metric, new_id, "loss", 1.0 / (step + 1), step=step)
    timed(a.log_batch, new_id, metrics=[Metric("acc", 0.5 + i / 100, 0, i) for i in range(50)], params=[Param("lr", "0.1")], tags=[RunTag("k", "v")])
    timed(a.set_tag, new_id, "k", "w")
    timed(a.log_param, new_id, "depth", "3")
    done_writing()
    started = time.perf_counter()
    got = b.get_run(new_id)
    summary["read_waited_ms"] = round((time.perf_counter() - started) * 1000)
    assert got.info.run_name == "while-stopped"
    assert got.data.params == {"lr": "0.1", "depth": "3"}, got.data.params
    assert got.data.tags["k"] == "w"
    assert len(b.get_metric_history(new_id, "loss")) == 20
    assert len(b.get_metric_history(new_id, "acc")) == 50
    summary["run_id"] = new_id

print(json.dumps(summary), flush=True)
