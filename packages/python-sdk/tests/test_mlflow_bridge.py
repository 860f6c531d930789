"""from_mlflow_run and get_mlflow_model_metrics: the seed's flow with Runstream as the MLflow server, and a run
carried over from a separate `mlflow server`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

import runstream

from conftest import history

pytestmark = pytest.mark.stack

mlflow = pytest.importorskip("mlflow")


@pytest.fixture
def tracking_uri() -> Iterator[Any]:
    before = mlflow.get_tracking_uri()

    def use(uri: str) -> None:
        mlflow.set_tracking_uri(uri)

    yield use
    mlflow.set_tracking_uri(before)


def test_seed_flow_sklearn_autolog_to_model_version(client: runstream.Client, unique: str, tracking_uri: Any) -> None:
    pytest.importorskip("sklearn")
    from mlflow.tracking import MlflowClient
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    assert client.url
    tracking_uri(client.url)
    mlflow.set_experiment(f"py-sdk-seed-{unique}")
    mlflow.sklearn.autolog(log_models=False, silent=True)
    try:
        X, y = load_iris(return_X_y=True)
        with mlflow.start_run() as active:
            LogisticRegression(C=0.5, max_iter=300).fit(X, y)
        run_id = active.info.run_id
    finally:
        mlflow.sklearn.autolog(disable=True)

    info = runstream.from_mlflow_run(run_id, client=client)
    assert info["run_id"] == run_id and info["copied"] is False
    assert info["params"]["C"] == "0.5" and info["params"]["max_iter"] == "300"
    assert "training_accuracy_score" in info["metrics"] and "mlflow.source.type" in info["tags"]

    metrics = runstream.get_mlflow_model_metrics(run_id)
    assert metrics == info["metrics"] and all(isinstance(v, float) for v in metrics.values())

    name = f"py-sdk-iris-{unique}"
    ml = MlflowClient()
    ml.create_registered_model(name)
    version = ml.create_model_version(name, f"runs:/{run_id}/model", run_id=run_id).version
    mv = client.model_version(name, version)
    mv.log_metrics(metrics)
    assert client.flush(timeout=60).ok

    detail = client.get_json(f"/api/v1/models/{name}/versions/{version}")
    assert {m["key"]: m["value"] for m in detail["version_metrics"]} == pytest.approx(metrics)
    # Lineage: the version leads to the run, its params and its own metrics.
    assert detail["run"]["info"]["run_id"] == run_id
    assert {p["key"]: p["value"] for p in detail["run"]["params"]} == info["params"]
    assert {m["key"] for m in detail["run"]["latest_metrics"]} == set(metrics)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def other_mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `mlflow server` on SQLite, not Runstream."""
    tmp: Path = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    log = open(tmp / "server.log", "w")
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{tmp}/mlflow.db", "--default-artifact-root", str(tmp / "artifacts"), "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "GIT_PYTHON_REFRESH": "quiet"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mlflow server did not start: {(tmp / 'server.log').read_text()[-2000:]}") from None
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def test_run_from_another_mlflow_server_is_copied_once(client: runstream.Client, unique: str, tracking_uri: Any, other_mlflow_server: str) -> None:
    np = pytest.importorskip("numpy")
    from mlflow.entities import Metric, Param, RunTag

    tracking_uri(other_mlflow_server)
    mlflow.set_experiment(f"py-sdk-elsewhere-{unique}")
    with mlflow.start_run(run_name="trained-elsewhere") as active:
        mlflow.log_input(mlflow.data.from_numpy(np.arange(12.0).reshape(6, 2), name="train-set"), context="training")
    source_id = active.info.run_id
    ml = mlflow.tracking.MlflowClient()
    base = 1_760_000_000_000
    loss = [Metric("loss", 1.0 / (s + 1), base + s, s) for s in range(1500)]
    for i in range(0, len(loss), 1000):
        ml.log_batch(source_id, metrics=loss[i : i + 1000])
    ml.log_batch(source_id, metrics=[Metric("acc", float("nan"), base, 0), Metric("acc", 0.9, base + 1, 1)], params=[Param("lr", "0.1")], tags=[RunTag("team", "nlp")])

    info = runstream.from_mlflow_run(source_id, client=client)
    assert info["copied"] is True and info["run_id"] != source_id and info["source_run_id"] == source_id
    assert info["params"] == {"lr": "0.1"} and info["metrics"]["acc"] == 0.9 and info["tags"]["team"] == "nlp"

    copied = client.get_json(f"/api/v1/runs/{info['run_id']}")
    assert {p["key"]: p["value"] for p in copied["params"]} == {"lr": "0.1"}
    tags = {t["key"]: t["value"] for t in copied["tags"]}
    assert tags["team"] == "nlp" and tags["runstream.source_run_id"] == source_id and tags["mlflow.runName"] == "trained-elsewhere"
    assert [i["name"] for i in copied["inputs"]] == ["train-set"]
    assert copied["info"]["status"] == "FINISHED"
    stored = client.run_metric_history(info["run_id"], "loss")
    assert [(p["step"], p["value"], p["timestamp_ms"]) for p in stored] == [(m.step, pytest.approx(m.value), m.timestamp) for m in loss]
    assert history(client, info["run_id"], "acc") == [(0, "NaN"), (1, 0.9)]

    again = runstream.from_mlflow_run(source_id, client=client)
    assert again["run_id"] == info["run_id"] and again["copied"] is False
