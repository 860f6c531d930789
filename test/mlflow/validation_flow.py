"""Values MLflow's server accepts that Runstream once refused or mangled, through the real client: early and
seconds-style timestamps, far-future timestamps, negative steps, ':' in keys, long tag and param values (stored
truncated as MLflow's server does), large experiment tags, a large request body, dataset inputs in search results.
Prints one JSON summary line."""
import json
import os
import time
import uuid

import mlflow
import pandas as pd
from mlflow import MlflowClient

suffix = uuid.uuid4().hex[:8]
mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
client = MlflowClient()
experiment = mlflow.set_experiment(f"validation-{suffix}")
now = int(time.time() * 1000)
future = now + 3 * 24 * 3600 * 1000
with mlflow.start_run() as run:
    run_id = run.info.run_id
    client.log_metric(run_id, "early", 1.0, timestamp=5, step=0)
    client.log_metric(run_id, "early", 2.0, timestamp=int(time.time()), step=1)  # seconds, not ms
    client.log_metric(run_id, "future", 3.0, timestamp=future, step=0)
    client.log_metric(run_id, "negative", 4.0, timestamp=now, step=-5)
    mlflow.log_metric("eval:acc", 0.5)
    mlflow.log_param("opt:name", "adam")
    mlflow.set_tag("long", "t" * 9000)
    mlflow.log_param("long_param", "p" * 7000)
    mlflow.set_tag("huge", "h" * (2 * 1024 * 1024))  # a 2 MiB request body
    client.set_experiment_tag(experiment.experiment_id, "notes", "n" * 20000)
    mlflow.log_input(mlflow.data.from_pandas(pd.DataFrame({"a": [1, 2]}), name="train-set"), context="training")
    mlflow.log_text("hello", "notes/a.txt")



@mlflow.trace
def traced(x):
    return x + 1


# Tracing is not served: the client must degrade (ENDPOINT_NOT_FOUND), not fail the traced call.
traced_result = traced(1)
mlflow.flush_trace_async_logging()
r = client.get_run(run_id)
found = client.search_runs([experiment.experiment_id])
print(json.dumps({
    "early": [(m.step, m.timestamp) for m in client.get_metric_history(run_id, "early")],
    "future": [m.timestamp == future for m in client.get_metric_history(run_id, "future")],
    "negative": [(m.step, m.value) for m in client.get_metric_history(run_id, "negative")],
    "colon": [r.data.metrics.get("eval:acc"), r.data.params.get("opt:name")],
    "lengths": [len(r.data.tags["long"]), len(r.data.params["long_param"]), len(r.data.tags["huge"]), len(client.get_experiment(experiment.experiment_id).tags["notes"])],
    "search_inputs": [d.dataset.name for d in found[0].inputs.dataset_inputs],
    "traced": traced_result,
    "run_id": run_id,
    "experiment_id": experiment.experiment_id,
}))
