"""log_metric then log_model in one run: the client re-sends the run's points with the new model's id; they are
stored once, and the logged model's data.metrics has them. Prints one JSON summary line."""
import json
import os
import uuid

import mlflow
import requests
from mlflow import MlflowClient
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

suffix = uuid.uuid4().hex[:8]
mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
client = MlflowClient()
X, y = make_classification(n_samples=40, n_features=4, random_state=0)
mlflow.set_experiment(f"model-metrics-{suffix}")

with mlflow.start_run() as run:
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metric("acc", 0.9)  # step 0
    first = mlflow.sklearn.log_model(LogisticRegression(max_iter=200).fit(X, y), name="first")
    second = mlflow.sklearn.log_model(LogisticRegression(max_iter=200).fit(X, y), name="second")
    mlflow.log_metric("acc", 0.9, model_id=first.model_id, step=1)  # explicit, a new point for run and model
run_id = run.info.run_id

model = client.get_logged_model(first.model_id)
listed = requests.get(f"{os.environ['MLFLOW_TRACKING_URI']}/api/2.0/mlflow/logged-models/{first.model_id}/artifacts/directories", timeout=30).json()
print(json.dumps({
    "loss": [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")],
    "acc": sorted((m.step, m.value) for m in client.get_metric_history(run_id, "acc")),
    "first_metrics": sorted((m.key, m.step, m.value) for m in model.metrics),
    "second_metrics": sorted((m.key, m.step, m.value) for m in client.get_logged_model(second.model_id).metrics),
    "run_latest": client.get_run(run_id).data.metrics,
    "artifacts": sorted(f["path"] for f in listed["files"]),
}))
