"""Every logging call on the real stack, through both transports: what is logged is what the API reads back."""

from __future__ import annotations

import math
from typing import Any

import pytest

import runstream

from conftest import history, wait_for

pytestmark = pytest.mark.stack


def _check_run_round_trip(c: runstream.Client, unique: str) -> None:
    run = c.create_run(experiment=f"py-sdk-{c.transport}-{unique}", name="round-trip", params={"lr": 0.01, "layers": 3}, tags={"team": "vision"})
    assert isinstance(run.run_id, str) and run.run_id
    run.log_metric("accuracy", 0.91)
    run.log_metric("accuracy", 0.93, step=1)
    run.log_metric("loss", [1.0, 0.5, math.nan, math.inf, -math.inf])
    run.log_metrics({"lr": 0.01, "grad_norm": [3.0, 2.0]}, step=7)
    again = c.run(run.run_id)
    assert again.run_id == run.run_id
    again.log_metric("late", 1.0, timestamp_ms=1_750_000_000_000)
    report = c.flush(timeout=60)
    assert report.ok and report.delivered == 11, report

    assert history(c, run.run_id, "accuracy") == [(0, 0.91), (1, 0.93)]
    assert history(c, run.run_id, "loss") == [(0, 1), (1, 0.5), (2, "NaN"), (3, "Infinity"), (4, "-Infinity")]
    assert history(c, run.run_id, "grad_norm") == [(7, 3), (8, 2)]
    assert c.run_metric_history(run.run_id, "late")[0]["timestamp_ms"] == 1_750_000_000_000
    detail: dict[str, Any] = c.get_json(f"/api/v1/runs/{run.run_id}")
    assert {p["key"]: p["value"] for p in detail["params"]} == {"lr": "0.01", "layers": "3"}
    assert {t["key"]: t["value"] for t in detail["tags"]}["team"] == "vision"
    assert {m["key"] for m in detail["latest_metrics"]} == {"accuracy", "loss", "lr", "grad_norm", "late"}


def test_run_through_kafka(client: runstream.Client, unique: str) -> None:
    _check_run_round_trip(client, unique)


def test_run_through_http(http_client: runstream.Client, unique: str) -> None:
    assert http_client.transport == "http"
    _check_run_round_trip(http_client, unique)


def _registered_version(c: runstream.Client, name: str) -> str:
    """A model version made through the MLflow registry API, produced by a run of its own."""
    api = c._http()
    run = c.create_run(experiment=f"py-sdk-models-{name}")
    api.request("POST", "/api/2.0/mlflow/registered-models/create", {"name": name})
    created = api.request("POST", "/api/2.0/mlflow/model-versions/create", {"name": name, "source": f"runs:/{run.run_id}/model", "run_id": run.run_id})
    return str(created["model_version"]["version"])


@pytest.mark.parametrize("transport", ["kafka", "http"])
def test_model_version_metrics(stack: dict[str, str], unique: str, transport: str) -> None:
    with runstream.Client(transport=transport) as c:  # type: ignore[arg-type]
        name = f"py-model-{transport}-{unique}"
        version = _registered_version(c, name)
        mv = c.model_version(name, int(version))
        assert (mv.name, mv.version) == (name, version)
        mv.log_metric("auc", 0.88)
        mv.log_metrics({"f1": 0.7, "calibration": [0.1, 0.2]}, step=1)
        assert c.flush(timeout=60).ok
        detail = c.get_json(f"/api/v1/models/{name}/versions/{version}")
        assert {m["key"]: m["value"] for m in detail["version_metrics"]} == {"auc": 0.88, "f1": 0.7, "calibration": 0.2}
        assert [(p["step"], p["value"]) for p in c.model_version_metric_history(name, version, "calibration")] == [(1, 0.1), (2, 0.2)]


def test_kafka_unreachable_at_start_falls_back_to_http(stack: dict[str, str], unique: str) -> None:
    with runstream.Client(brokers="127.0.0.1:9", connect_timeout_s=1.0) as c:
        assert c.transport == "http"
        run = c.create_run(experiment=f"py-sdk-fallback-{unique}")
        run.log_metric("x", 1.0)
        assert c.flush(timeout=30).ok
        assert history(c, run.run_id, "x") == [(0, 1)]
    with pytest.raises(runstream.KafkaUnreachableError):
        runstream.Client(brokers="127.0.0.1:9", transport="kafka", connect_timeout_s=1.0)


def test_wrong_topic_prefix_is_reported(stack: dict[str, str]) -> None:
    with pytest.raises(runstream.MissingTopicError, match="does not exist"):
        runstream.Client(topic_prefix="no-such-prefix.")


def test_many_points_many_messages(client: runstream.Client, unique: str) -> None:
    run = client.create_run(experiment=f"py-sdk-volume-{unique}")
    n = 50_000
    for i in range(n):
        run.log_metric("v", float(i), step=i)
    report = client.flush(timeout=120)
    assert report.ok and report.delivered == n
    summary = wait_for("50,000 points", lambda: [m for m in client.get_json(f"/api/v1/runs/{run.run_id}/metrics")["metrics"] if m["points"] == n])
    assert summary[0]["last_step"] == n - 1 and summary[0]["max_value"] == n - 1
