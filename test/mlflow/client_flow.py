"""Drives the real MLflow Python client against Runstream (MLFLOW_TRACKING_URI) and checks that what was logged is
exactly what comes back. Prints one JSON summary line; any mismatch raises (non-zero exit)."""
import json
import math
import os
import sys
import uuid

import mlflow
from mlflow import MlflowClient

suffix = uuid.uuid4().hex[:8]
mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
client = MlflowClient()
summary = {"mlflow_version": mlflow.__version__}

# --- a hand-written run -----------------------------------------------------------------------------------------
experiment = mlflow.set_experiment(f"compat-{suffix}")
assert experiment.name == f"compat-{suffix}", experiment
assert mlflow.get_experiment_by_name(f"compat-{suffix}").experiment_id == experiment.experiment_id

values = {}
with mlflow.start_run(run_name=f"run-a-{suffix}") as run:
    run_id = run.info.run_id
    mlflow.log_param("lr", 0.01)
    mlflow.log_params({"batch_size": 32, "optimizer": "adam"})
    mlflow.log_param("lr", 0.01)  # the same value again is allowed
    for step in range(5):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)  # synchronous
    for step in range(5, 10):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step, synchronous=False)
    mlflow.log_metrics({"acc": 0.5, "f1": float("nan")}, step=0)
    mlflow.log_metrics({"acc": 0.75, "f1": 0.6}, step=1)
    mlflow.log_metric("inf_metric", float("inf"))
    mlflow.set_tags({"team": "vision", "stage": "dev"})
    mlflow.set_tag("stage", "prod")  # last write wins
    mlflow.flush_async_logging()

    # immutable params: a different value is refused with MLflow's error
    try:
        mlflow.log_param("lr", 0.02)
        raise AssertionError("changing a param must fail")
    except mlflow.exceptions.MlflowException as e:
        assert e.error_code == "INVALID_PARAMETER_VALUE", e.error_code
        summary["immutable_param_error"] = e.error_code

history = client.get_metric_history(run_id, "loss")
got = sorted((m.step, m.value) for m in history)
want = [(s, 1.0 / (s + 1)) for s in range(10)]
assert got == want, (got, want)
acc = sorted((m.step, m.value) for m in client.get_metric_history(run_id, "acc"))
assert acc == [(0, 0.5), (1, 0.75)], acc
f1 = sorted((m.step, m.value) for m in client.get_metric_history(run_id, "f1"))
assert f1[0][0] == 0 and math.isnan(f1[0][1]) and f1[1] == (1, 0.6), f1

r = client.get_run(run_id)
assert r.info.status == "FINISHED", r.info.status
assert r.info.end_time is not None and r.info.end_time >= r.info.start_time
assert r.info.run_name == f"run-a-{suffix}", r.info.run_name
assert r.data.params == {"lr": "0.01", "batch_size": "32", "optimizer": "adam"}, r.data.params
assert r.data.metrics["loss"] == 0.1 and r.data.metrics["acc"] == 0.75 and r.data.metrics["f1"] == 0.6, r.data.metrics
assert r.data.metrics["inf_metric"] == float("inf"), r.data.metrics
assert r.data.tags["team"] == "vision" and r.data.tags["stage"] == "prod", r.data.tags
summary["run_a"] = {"params": r.data.params, "metrics": {k: str(v) for k, v in r.data.metrics.items()}, "history_points": len(history)}

client.delete_tag(run_id, "team")

# what MLflow accepts is accepted: timestamp 0, negative steps, colons in names (integrations log "val:loss")
from mlflow.entities import Metric  # noqa: E402

client.log_batch(run_id, metrics=[Metric("val:loss", 0.25, 0, -1), Metric("val:loss", 0.5, 1, 0)])
edge = sorted((m.step, m.timestamp, m.value) for m in client.get_metric_history(run_id, "val:loss"))
assert edge == [(-1, 0, 0.25), (0, 1, 0.5)], edge
summary["edge_values"] = len(edge)
assert "team" not in client.get_run(run_id).data.tags

# --- a small sweep: search with a filter and order_by -------------------------------------------------------------
sweep_ids = {}
for lr, acc_value in [(0.1, 0.81), (0.01, 0.92), (0.001, 0.87)]:
    with mlflow.start_run(run_name=f"sweep-{lr}") as sr:
        mlflow.log_param("lr", lr)
        mlflow.log_param("model", "resnet")
        mlflow.log_metric("val_acc", acc_value - 0.1, step=0)
        mlflow.log_metric("val_acc", acc_value, step=1)
        sweep_ids[lr] = sr.info.run_id

found = mlflow.search_runs(
    experiment_ids=[experiment.experiment_id],
    filter_string="params.model = 'resnet' and metrics.val_acc > 0.85",
    order_by=["metrics.val_acc DESC"],
    output_format="list",
)
assert [x.info.run_id for x in found] == [sweep_ids[0.01], sweep_ids[0.001]], [x.info.run_name for x in found]
summary["search"] = [x.info.run_name for x in found]
found_all = client.search_runs([experiment.experiment_id], order_by=["params.lr ASC"])
assert len(found_all) == 4, len(found_all)
empty = client.search_runs([experiment.experiment_id], filter_string="tags.stage = 'nope'")
assert len(empty) == 0

# --- model registry: a version linked to the run that produced it -----------------------------------------------
model_name = f"churn-clf-{suffix}"
client.create_registered_model(model_name, description="churn classifier")
v1 = client.create_model_version(model_name, source=f"runs:/{sweep_ids[0.01]}/model", run_id=sweep_ids[0.01])
v2 = client.create_model_version(model_name, source=f"runs:/{sweep_ids[0.001]}/model", run_id=sweep_ids[0.001])
assert (v1.version, v2.version) == ("1", "2"), (v1.version, v2.version)
assert client.get_model_version(model_name, "2").run_id == sweep_ids[0.001]
rm = client.get_registered_model(model_name)
assert rm.description == "churn classifier" and [v.version for v in rm.latest_versions] == ["2"], rm
by_run = client.search_model_versions(f"run_id='{sweep_ids[0.01]}'")
assert [(v.name, v.version) for v in by_run] == [(model_name, "1")], by_run
try:
    client.create_registered_model(model_name)
    raise AssertionError("a duplicate model name must fail")
except mlflow.exceptions.MlflowException as e:
    assert e.error_code == "RESOURCE_ALREADY_EXISTS", e.error_code
summary["registry"] = {"model": model_name, "versions": [v1.version, v2.version], "v1_run": sweep_ids[0.01], "experiment_id": experiment.experiment_id}

# --- scikit-learn autolog ---------------------------------------------------------------------------------------
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

mlflow.set_experiment(f"autolog-{suffix}")
mlflow.sklearn.autolog(log_models=False, log_datasets=False)
X, y = load_iris(return_X_y=True)
with mlflow.start_run() as ar:
    LogisticRegression(max_iter=200, C=0.5).fit(X, y)
mlflow.flush_async_logging()
auto = client.get_run(ar.info.run_id)
assert auto.data.params.get("C") == "0.5", auto.data.params
assert auto.data.params.get("max_iter") == "200", auto.data.params
assert "training_accuracy_score" in auto.data.metrics, auto.data.metrics
assert auto.data.tags.get("estimator_name") == "LogisticRegression", auto.data.tags
artifacts = [a.path for a in client.list_artifacts(ar.info.run_id)]
assert "training_confusion_matrix.png" in artifacts, artifacts
local = client.download_artifacts(ar.info.run_id, "training_confusion_matrix.png")
with open(local, "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n"
summary["autolog"] = {"params": len(auto.data.params), "metrics": sorted(auto.data.metrics), "artifacts": artifacts}

# --- MLflow 3 logged models: autolog with its defaults, an explicit log_model, loading both back -----------------
mlflow.sklearn.autolog(log_datasets=False)
with mlflow.start_run() as mr:
    LogisticRegression(max_iter=300, C=0.25).fit(X, y)
auto_model = mlflow.last_logged_model()
assert auto_model is not None and auto_model.source_run_id == mr.info.run_id, auto_model
assert auto_model.status.to_int() == 2, auto_model.status  # READY: finalized after the upload
mlflow.sklearn.autolog(disable=True)
reloaded = mlflow.sklearn.load_model(f"models:/{auto_model.model_id}")
assert reloaded.C == 0.25 and reloaded.predict(X[:5]).tolist() == LogisticRegression(max_iter=300, C=0.25).fit(X, y).predict(X[:5]).tolist()
with mlflow.start_run() as er:
    info = mlflow.sklearn.log_model(LogisticRegression(max_iter=200).fit(X, y), name="explicit", params={"kind": "baseline"})
client.set_logged_model_tags(info.model_id, {"team": "vision"})
explicit = client.get_logged_model(info.model_id)
assert explicit.params == {"kind": "baseline"}, explicit.params
assert explicit.tags.get("team") == "vision", explicit.tags
client.delete_logged_model_tag(info.model_id, "team")
assert "team" not in client.get_logged_model(info.model_id).tags
found_models = mlflow.search_logged_models(experiment_ids=[mr.info.experiment_id], filter_string="name = 'explicit'", output_format="list")
assert [m.model_id for m in found_models] == [info.model_id], found_models
everything = mlflow.search_logged_models(experiment_ids=[mr.info.experiment_id], output_format="list")
summary["logged_models"] = {"count": len(everything), "explicit_loaded": mlflow.sklearn.load_model(info.model_uri).predict(X[:1]).tolist()}

print(json.dumps(summary))
