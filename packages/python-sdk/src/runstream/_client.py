"""The Client and the run and model-version handles training code logs through."""

from __future__ import annotations

import atexit
import logging
import os
import time
import urllib.parse
import weakref
from collections.abc import Mapping
from typing import Any, Literal

from ._delivery import BufferFullError, DeliveryBuffer, DeliveryReport, Transport
from ._http_api import ApiError, HttpApi
from ._http_transport import HttpTransport
from ._metric_rules import (
    MAX_SAFE_INTEGER,
    InvalidMetricError,
    check_step,
    check_timestamp,
    entity_id_problem,
    key_problem,
)
from ._ranks import detect_rank, producer_id
from ._values import as_values

log = logging.getLogger("runstream")

TransportChoice = Literal["auto", "kafka", "http"]


class ConfigurationError(RuntimeError):
    """The client cannot do what was asked with the configuration it has (e.g. no URL for create_run)."""


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class _Entity:
    """What runs and model versions share: logging metric points."""

    _kind: str
    _id: str

    def __init__(self, client: Client, kind: str, entity_id: str) -> None:
        problem = entity_id_problem(entity_id)
        if problem:
            raise InvalidMetricError(problem)
        self._client = client
        self._kind = kind
        self._id = entity_id
        self._entity = (kind, entity_id)

    def log_metric(self, key: str, value: Any, step: int | None = None, timestamp_ms: int | None = None) -> None:
        """Logs one value, or a series (steps `step`… or 0…n-1). Returns at once; delivery happens in the background.

        Raises InvalidMetricError for a key, value, step or timestamp the platform would reject."""
        client = self._client
        if key not in client._valid_keys:
            problem = key_problem(key)
            if problem:
                raise InvalidMetricError(problem)
            client._valid_keys.add(key)
        if step is None:
            step = 0
        elif type(step) is not int or not -MAX_SAFE_INTEGER <= step <= MAX_SAFE_INTEGER:
            step = check_step(key, step)
        ts = _now_ms() if timestamp_ms is None else check_timestamp(key, timestamp_ms, _now_ms())
        v = value if type(value) is float else as_values(key, value)
        if type(v) is float:
            client._buffer.add_one(self._entity, {"key": key, "value": v, "step": step, "timestampMs": ts})
        else:
            client._buffer.add(self._entity, [{"key": key, "value": x, "step": step + i, "timestampMs": ts} for i, x in enumerate(v)])  # type: ignore[arg-type]

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Logs several metrics at one step; each value a number or a series. All are checked before any is queued."""
        if not isinstance(metrics, Mapping):
            raise InvalidMetricError(f"metrics must be a mapping of key to value, got {type(metrics).__name__}")
        client = self._client
        first = 0 if step is None else check_step("metrics", step)
        ts = _now_ms()
        points = []
        for key, value in metrics.items():
            if key not in client._valid_keys:
                problem = key_problem(key)
                if problem:
                    raise InvalidMetricError(problem)
                client._valid_keys.add(key)
            v = as_values(key, value)
            if isinstance(v, float):
                points.append({"key": key, "value": v, "step": first, "timestampMs": ts})
            else:
                points.extend({"key": key, "value": x, "step": first + i, "timestampMs": ts} for i, x in enumerate(v))
        if points:
            client._buffer.add(self._entity, points)


class Run(_Entity):
    """A run's handle: log metrics; set params and tags and finish it through the HTTP API."""

    def __init__(self, client: Client, run_id: str) -> None:
        super().__init__(client, "RUN", run_id)

    @property
    def run_id(self) -> str:
        return self._id

    def log_params(self, params: Mapping[str, Any]) -> None:
        self._client._log_batch(self._id, params=params)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self._client._log_batch(self._id, tags=tags)

    def finish(self, status: Literal["FINISHED", "FAILED", "KILLED"] = "FINISHED") -> None:
        """Marks the run ended (MLflow's runs/update); metrics already logged are flushed first."""
        self._client.flush()
        self._client._http().request("POST", "/api/2.0/mlflow/runs/update", {"run_id": self._id, "status": status, "end_time": _now_ms()})

    def __repr__(self) -> str:
        return f"Run(run_id={self._id!r})"


class ModelVersion(_Entity):
    """A registered model version's handle: log evaluation metrics on it."""

    def __init__(self, client: Client, name: str, version: str | int) -> None:
        if not isinstance(name, str) or not name:
            raise InvalidMetricError("model name must be a non-empty str")
        super().__init__(client, "MODEL_VERSION", f"{name}/{version}")
        self.name = name
        self.version = str(version)

    def __repr__(self) -> str:
        return f"ModelVersion(name={self.name!r}, version={self.version!r})"


class Client:
    """Connection to Runstream. Metrics go straight to Kafka when brokers are configured and reachable, else through
    the HTTP API; either way from a bounded background buffer, so logging never blocks on the network.

    Defaults come from RUNSTREAM_URL, RUNSTREAM_KAFKA_BROKERS, RUNSTREAM_TOKEN and RUNSTREAM_TOPIC_PREFIX.
    """

    def __init__(
        self,
        url: str | None = None,
        brokers: str | None = None,
        token: str | None = None,
        *,
        topic_prefix: str | None = None,
        transport: TransportChoice = "auto",
        rank: int | None = None,
        world_size: int | None = None,
        max_buffered_points: int = 1_000_000,
        when_full: Literal["block", "drop"] = "block",
        max_block_s: float | None = None,
        linger_ms: float = 100.0,
        max_points_per_message: int = 2000,
        connect_timeout_s: float = 5.0,
        delivery_timeout_s: float = 300.0,
    ) -> None:
        self.url = url or os.environ.get("RUNSTREAM_URL") or None
        self.brokers = brokers or os.environ.get("RUNSTREAM_KAFKA_BROKERS") or None
        self._token = token or os.environ.get("RUNSTREAM_TOKEN") or None
        self.topic_prefix = topic_prefix if topic_prefix is not None else os.environ.get("RUNSTREAM_TOPIC_PREFIX", "runstream.")
        if rank is None:
            rank, detected_world = detect_rank()
            world_size = world_size if world_size is not None else detected_world
        self.rank = rank
        self.world_size = world_size
        self.producer_id = producer_id(rank, world_size)
        self._valid_keys: set[str] = set()
        self._api = HttpApi(self.url, self._token) if self.url else None
        chosen = self._choose_transport(transport, connect_timeout_s, delivery_timeout_s)
        self._buffer = DeliveryBuffer(
            chosen,
            max_buffered_points=max_buffered_points,
            when_full=when_full,
            max_block_s=max_block_s,
            max_points_per_message=max_points_per_message,
            linger_ms=linger_ms,
        )
        self._closed = False
        # Flushed at interpreter exit; a weak reference so an unused client can still be collected.
        ref = weakref.ref(self)

        def at_exit() -> None:
            client = ref()
            if client is not None:
                client._close_at_exit()

        self._atexit = at_exit
        atexit.register(at_exit)

    def _choose_transport(self, choice: TransportChoice, connect_timeout_s: float, delivery_timeout_s: float) -> Transport:
        from ._kafka_transport import KafkaTransport, KafkaUnreachableError

        if choice not in ("auto", "kafka", "http"):
            raise ConfigurationError("transport must be 'auto', 'kafka' or 'http'")
        if choice != "http" and self.brokers:
            topic = f"{self.topic_prefix}metrics.v1"
            try:
                return KafkaTransport(
                    self.brokers,
                    topic,
                    self.topic_prefix,
                    client_id="runstream-python",
                    producer_id=self.producer_id,
                    connect_timeout_s=connect_timeout_s,
                    delivery_timeout_s=delivery_timeout_s,
                )
            except KafkaUnreachableError as err:
                if choice == "kafka" or self._api is None:
                    raise
                log.warning("runstream: %s; logging through the HTTP API at %s instead", err, self.url)
        elif choice == "kafka":
            raise ConfigurationError("transport='kafka' needs brokers (or RUNSTREAM_KAFKA_BROKERS)")
        if self._api is None:
            raise ConfigurationError("no Runstream URL (RUNSTREAM_URL) and no reachable Kafka brokers (RUNSTREAM_KAFKA_BROKERS)")
        return HttpTransport(self._api, delivery_timeout_s)

    @property
    def transport(self) -> str:
        """'kafka' or 'http': where metric points go."""
        return self._buffer.transport.name

    def _http(self) -> HttpApi:
        if self._api is None:
            raise ConfigurationError("this needs Runstream's HTTP API: pass url= or set RUNSTREAM_URL")
        return self._api

    def run(self, run_id: str) -> Run:
        """A handle on an existing run (not checked: logging to a run that does not exist is rejected by the worker)."""
        return Run(self, run_id)

    def model_version(self, name: str, version: str | int) -> ModelVersion:
        return ModelVersion(self, name, version)

    def create_run(self, experiment: str, name: str | None = None, params: Mapping[str, Any] | None = None, tags: Mapping[str, Any] | None = None) -> Run:
        """Creates a run in the named experiment (created when missing) with its params and tags."""
        api = self._http()
        experiment_id = self.experiment_id(experiment, create=True)
        body: dict[str, Any] = {"experiment_id": experiment_id, "start_time": _now_ms(), "tags": [{"key": str(k), "value": str(v)} for k, v in (tags or {}).items()]}
        if name is not None:
            body["run_name"] = name
        if self.rank is not None:
            body["tags"].append({"key": "runstream.world_size", "value": str(self.world_size or "")})
        run_id = api.request("POST", "/api/2.0/mlflow/runs/create", body)["run"]["info"]["run_id"]
        if params:
            self._log_batch(run_id, params=params)
        return Run(self, run_id)

    def experiment_id(self, name: str, create: bool = False) -> str:
        api = self._http()
        try:
            return str(api.request("GET", "/api/2.0/mlflow/experiments/get-by-name", query={"experiment_name": name})["experiment"]["experiment_id"])
        except ApiError as err:
            if err.status != 404 or not create:
                raise
        try:
            return str(api.request("POST", "/api/2.0/mlflow/experiments/create", {"name": name})["experiment_id"])
        except ApiError as err:
            if err.code != "RESOURCE_ALREADY_EXISTS":
                raise
            # Another rank created it first.
            return str(api.request("GET", "/api/2.0/mlflow/experiments/get-by-name", query={"experiment_name": name})["experiment"]["experiment_id"])

    def _log_batch(self, run_id: str, params: Mapping[str, Any] | None = None, tags: Mapping[str, Any] | None = None) -> None:
        api = self._http()
        items = [("params", str(k), str(v)) for k, v in (params or {}).items()] + [("tags", str(k), str(v)) for k, v in (tags or {}).items()]
        for i in range(0, len(items), 100):  # MLflow's limit of params (and tags) per log-batch
            body: dict[str, Any] = {"run_id": run_id, "params": [], "tags": []}
            for field, k, v in items[i : i + 100]:
                body[field].append({"key": k, "value": v})
            api.request("POST", "/api/2.0/mlflow/runs/log-batch", body)

    def get_json(self, path: str, **query: Any) -> Any:
        """GET on Runstream's native API (e.g. `/api/v1/runs/{id}`), parsed."""
        return self._http().request("GET", path, query=query or None)

    def run_metric_history(self, run_id: str, key: str) -> list[dict[str, Any]]:
        """Every stored point of one metric of a run, in step order (the native API, all pages)."""
        return self._history(f"/api/v1/runs/{urllib.parse.quote(run_id, safe='')}/metric-history", key)

    def model_version_metric_history(self, name: str, version: str | int, key: str) -> list[dict[str, Any]]:
        return self._history(f"/api/v1/models/{urllib.parse.quote(name, safe='')}/versions/{urllib.parse.quote(str(version), safe='')}/metric-history", key)

    def rank_steps(self, run_id: str, key: str) -> list[dict[str, Any]]:
        """One metric of a run logged by many ranks, step by step: each rank's value and the cross-rank min, mean,
        max, min_rank, max_rank and slowest_rank (GET /api/v1/runs/{id}/rank-steps, all pages)."""
        out: list[dict[str, Any]] = []
        token = None
        while True:
            page = self._http().request("GET", f"/api/v1/runs/{urllib.parse.quote(run_id, safe='')}/rank-steps", query={"key": key, "max_results": 10000, "page_token": token})
            out.extend(page["steps"])
            token = page.get("next_page_token")
            if not token:
                return out

    def rank_buckets(self, run_id: str, key: str, buckets: int = 500, start_step: int | None = None, end_step: int | None = None) -> list[dict[str, Any]]:
        """The same, downsampled for a chart: per rank, equal step buckets with min, max, mean and points
        (GET /api/v1/runs/{id}/rank-buckets)."""
        path = f"/api/v1/runs/{urllib.parse.quote(run_id, safe='')}/rank-buckets"
        ranks: list[dict[str, Any]] = self._http().request("GET", path, query={"key": key, "buckets": buckets, "from": start_step, "to": end_step})["ranks"]
        return ranks

    def _history(self, path: str, key: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        token = None
        while True:
            page = self._http().request("GET", path, query={"key": key, "max_results": 10000, "page_token": token})
            out.extend(page["points"])
            token = page.get("next_page_token")
            if not token:
                return out

    def report(self) -> DeliveryReport:
        """Counts so far: logged, delivered, failed, dropped, pending, and each distinct error."""
        return self._buffer.report()

    def flush(self, timeout: float | None = None) -> DeliveryReport:
        """Sends everything logged so far and waits until it is acknowledged (or timeout seconds passed)."""
        return self._buffer.flush(timeout)

    def close(self, timeout: float | None = None) -> DeliveryReport:
        """Flushes and stops the background thread; points logged afterwards are counted as dropped."""
        if self._closed:
            return self._buffer.report()
        self._closed = True
        atexit.unregister(self._atexit)
        return self._buffer.close(timeout)

    def _close_at_exit(self) -> None:
        report = self.close()
        if not report.ok:
            log.error("runstream: at exit %d of %d points were not delivered: %s", report.failed + report.dropped + report.pending, report.logged, "; ".join(report.errors))

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["BufferFullError", "Client", "ConfigurationError", "ModelVersion", "Run"]
