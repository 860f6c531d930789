"""What log_metric accepts, checked at the call (no stack needed: an HTTP client on a closed port never sends)."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Iterator

import pytest

import runstream
from runstream._values import as_values


@pytest.fixture
def offline() -> Iterator[runstream.Client]:
    c = runstream.Client(url="http://127.0.0.1:9", transport="http", delivery_timeout_s=0.5, linger_ms=60_000)
    yield c
    c.close(timeout=2)


@pytest.mark.parametrize(
    "key, fragment",
    [
        ("", "empty"),
        ("a" * 251, "limit is 250"),
        ("bad!key", "may only contain"),
        ("a//b", "normalized path"),
        ("/abs", "normalized path"),
        ("../up", "normalized path"),
        (3, "must be a str"),
    ],
)
def test_invalid_keys_fail_at_the_call(offline: runstream.Client, key: object, fragment: str) -> None:
    run = offline.run("some-run")
    with pytest.raises(runstream.InvalidMetricError, match=fragment):
        run.log_metric(key, 1.0)  # type: ignore[arg-type]
    with pytest.raises(runstream.InvalidMetricError, match=fragment):
        run.log_metrics({key: 1.0})  # type: ignore[dict-item]
    assert offline.report().logged == 0


def test_invalid_values_steps_and_timestamps(offline: runstream.Client) -> None:
    run = offline.run("r")
    with pytest.raises(runstream.InvalidMetricError, match="must be a number"):
        run.log_metric("k", "1.0")
    with pytest.raises(runstream.InvalidMetricError, match="must be a number"):
        run.log_metric("k", [1.0, None])
    with pytest.raises(runstream.InvalidMetricError, match="integer"):
        run.log_metric("k", 1.0, step=1.5)  # type: ignore[arg-type]
    with pytest.raises(runstream.InvalidMetricError, match="2\\^53"):
        run.log_metric("k", 1.0, step=2**60)
    with pytest.raises(runstream.InvalidMetricError, match="seconds instead of milliseconds"):
        run.log_metric("k", 1.0, timestamp_ms=1_700_000_000)
    with pytest.raises(runstream.InvalidMetricError):
        offline.model_version("", 1)
    with pytest.raises(runstream.InvalidMetricError, match="control characters"):
        offline.run("bad\nid")


def test_numbers_series_numpy_and_non_finite() -> None:
    np = pytest.importorskip("numpy")
    assert as_values("k", 3) == 3.0
    assert as_values("k", np.float32(0.5)) == 0.5
    assert as_values("k", np.int64(7)) == 7.0
    assert as_values("k", np.array(2.5)) == 2.5
    assert as_values("k", np.array([1, 2, 3])) == [1.0, 2.0, 3.0]
    assert as_values("k", (4.0, 5)) == [4.0, 5.0]
    nan, inf = as_values("k", [math.nan, -math.inf])  # type: ignore[misc]
    assert math.isnan(nan) and inf == -math.inf
    with pytest.raises(runstream.InvalidMetricError, match="dimensions"):
        as_values("k", np.zeros((2, 2)))


def test_torch_scalars() -> None:
    torch = pytest.importorskip("torch")
    assert as_values("k", torch.tensor(0.25)) == 0.25
    assert as_values("k", torch.tensor([1.0, 2.0])) == [1.0, 2.0]


def test_series_steps(offline: runstream.Client) -> None:
    run = offline.run("r")
    run.log_metric("loss", [0.3, 0.2, 0.1], step=10)
    run.log_metrics({"acc": [0.5, 0.6], "lr": 0.01})
    pending = offline._buffer._pending[("RUN", "r")]
    assert [(p["key"], p["step"]) for p in pending] == [("loss", 10), ("loss", 11), ("loss", 12), ("acc", 0), ("acc", 1), ("lr", 0)]


def test_import_has_no_side_effects() -> None:
    code = (
        "import sys, threading\n"
        "import runstream, runstream.transformers\n"
        "heavy = [m for m in ('confluent_kafka', 'fastavro', 'mlflow', 'transformers', 'torch', 'numpy') if m in sys.modules]\n"
        "assert heavy == [], heavy\n"
        "assert threading.active_count() == 1, threading.enumerate()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_from_mlflow_run_rejects_what_is_not_a_run_id() -> None:
    with pytest.raises(ValueError, match="not an MLflow run id"):
        runstream.from_mlflow_run("x' OR tags.a = 'b")
