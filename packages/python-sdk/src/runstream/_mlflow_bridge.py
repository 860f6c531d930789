"""Carrying an MLflow run into Runstream: after MLflow autolog, its params, tags, dataset inputs and metric
histories become a Runstream run, and its latest metrics can be logged on a model version."""

from __future__ import annotations

import re
import urllib.parse
from typing import TYPE_CHECKING, Any

from ._http_api import ApiError

if TYPE_CHECKING:
    from ._client import Client

SOURCE_RUN_TAG = "runstream.source_run_id"
SOURCE_URI_TAG = "runstream.source_tracking_uri"
# MLflow run ids are hex; anything else could not be quoted safely inside a search filter.
_RUN_ID = re.compile(r"^[A-Za-z0-9_\-]{1,256}$")


def _mlflow_client() -> Any:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise ImportError("from_mlflow_run and get_mlflow_model_metrics need mlflow: pip install 'runstream[mlflow]'") from None
    return MlflowClient()


def get_mlflow_model_metrics(run_id: str) -> dict[str, float]:
    """{metric: latest value} of an MLflow run (from MLFLOW_TRACKING_URI), ready for model_version.log_metrics()."""
    run = _mlflow_client().get_run(run_id)
    return {k: float(v) for k, v in run.data.metrics.items()}


def _runstream_has_run(client: Client, run_id: str) -> bool:
    try:
        client.get_json(f"/api/v1/runs/{urllib.parse.quote(run_id, safe='')}")
        return True
    except ApiError as err:
        if err.status == 404:
            return False
        raise


def from_mlflow_run(run_id: str, client: Client | None = None) -> dict[str, Any]:
    """Reads an MLflow run from MLFLOW_TRACKING_URI and makes sure Runstream has it.

    When the tracking server is Runstream itself the run is already there. Otherwise a Runstream run is created in an
    experiment of the same name, tagged with the source run id (so a second call finds it instead of copying again),
    with the params, tags, dataset inputs, every point of every metric history, and the source run's status.

    Returns {"run_id" (the Runstream run), "source_run_id", "experiment", "params", "metrics" (latest values),
    "tags", "inputs", "copied" (True when this call copied the run)}."""
    from ._client import Client

    if not _RUN_ID.match(run_id):
        raise ValueError(f"{run_id!r} is not an MLflow run id")
    mlflow_client = _mlflow_client()
    source = mlflow_client.get_run(run_id)
    experiment = mlflow_client.get_experiment(source.info.experiment_id)
    params = dict(source.data.params)
    tags = dict(source.data.tags)
    metrics = {k: float(v) for k, v in source.data.metrics.items()}
    inputs = [
        {"name": d.dataset.name, "digest": d.dataset.digest, "source_type": d.dataset.source_type, "source": d.dataset.source, "schema": d.dataset.schema, "profile": d.dataset.profile, "tags": {t.key: t.value for t in d.tags}}
        for d in (source.inputs.dataset_inputs if source.inputs else [])
    ]
    result: dict[str, Any] = {"source_run_id": run_id, "experiment": experiment.name, "params": params, "metrics": metrics, "tags": tags, "inputs": inputs}

    own = client if client is not None else Client()
    try:
        if _runstream_has_run(own, run_id):
            return {**result, "run_id": run_id, "copied": False}
        api = own._http()
        experiment_id = own.experiment_id(experiment.name, create=True)
        found = api.request(
            "POST",
            "/api/2.0/mlflow/runs/search",
            {"experiment_ids": [experiment_id], "filter": f"tags.`{SOURCE_RUN_TAG}` = '{run_id}'", "max_results": 1},
        ).get("runs", [])
        if found:
            return {**result, "run_id": found[0]["info"]["run_id"], "copied": False}
        new_id = _copy_run(own, mlflow_client, source, experiment_id, tags, params, inputs)
        return {**result, "run_id": new_id, "copied": True}
    finally:
        if client is None:
            own.close()


def _copy_run(own: Client, mlflow_client: Any, source: Any, experiment_id: str, tags: dict[str, str], params: dict[str, str], inputs: list[dict[str, Any]]) -> str:
    import mlflow

    api = own._http()
    info = source.info
    # The source id goes in last: a run whose copy failed half way is not mistaken for a finished copy.
    body = {"experiment_id": experiment_id, "run_name": info.run_name or "", "start_time": info.start_time, "tags": [{"key": k, "value": v} for k, v in tags.items()]}
    new_id: str = api.request("POST", "/api/2.0/mlflow/runs/create", body)["run"]["info"]["run_id"]
    own._log_batch(new_id, params=params)
    if inputs:
        datasets = [
            {
                "tags": [{"key": k, "value": v} for k, v in d["tags"].items()],
                "dataset": {k: d[k] for k in ("name", "digest", "source_type", "source", "schema", "profile") if d[k] is not None},
            }
            for d in inputs
        ]
        api.request("POST", "/api/2.0/mlflow/runs/log-inputs", {"run_id": new_id, "datasets": datasets})
    run = own.run(new_id)
    for key in source.data.metrics:
        history = mlflow_client.get_metric_history(info.run_id, key)
        points = [{"key": key, "value": float(m.value), "step": int(m.step), "timestampMs": int(m.timestamp)} for m in history]
        if points:
            own._buffer.add(run._entity, points)
    report = own.flush()
    if not report.ok:
        raise RuntimeError(f"copying the metrics of MLflow run {info.run_id} failed: {'; '.join(report.errors) or 'points still pending'}")
    tracking_uri = mlflow.get_tracking_uri()
    own._log_batch(new_id, tags={SOURCE_URI_TAG: tracking_uri, SOURCE_RUN_TAG: info.run_id})
    if info.end_time:
        api.request("POST", "/api/2.0/mlflow/runs/update", {"run_id": new_id, "status": info.status, "end_time": info.end_time})
    return new_id
