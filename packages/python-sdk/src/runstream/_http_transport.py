"""The fallback when Kafka is not configured or not reachable: the HTTP API, in batches of up to 1000 points.

Run metrics go through MLflow's runs/log-batch, model-version metrics through the native
POST /api/v1/models/{name}/versions/{version}/metrics. Both are synchronous, so one request at a time from the
delivery thread; transient failures are retried until the delivery timeout.
"""

from __future__ import annotations

import time
import urllib.parse

from ._delivery import Done, EntityKey, Point
from ._http_api import ApiError, HttpApi, json_double

MAX_POINTS_PER_REQUEST = 1000


class HttpTransport:
    name = "http"

    def __init__(self, api: HttpApi, delivery_timeout_s: float) -> None:
        self._api = api
        self._timeout = delivery_timeout_s

    def send(self, entity: EntityKey, points: list[Point], done: Done) -> None:
        for i in range(0, len(points), MAX_POINTS_PER_REQUEST):
            chunk = points[i : i + MAX_POINTS_PER_REQUEST]
            try:
                self._post(entity, chunk)
            except (ApiError, OSError) as err:
                done(len(chunk), str(err))
            else:
                done(len(chunk), None)

    def _post(self, entity: EntityKey, points: list[Point]) -> None:
        kind, entity_id = entity
        deadline = time.monotonic() + self._timeout
        if kind == "RUN":
            metrics = [{"key": p["key"], "value": json_double(p["value"]), "step": p["step"], "timestamp": p["timestampMs"]} for p in points]
            self._api.request_with_retry("POST", "/api/2.0/mlflow/runs/log-batch", {"run_id": entity_id, "metrics": metrics}, deadline)
        else:
            name, _, version = entity_id.rpartition("/")
            path = f"/api/v1/models/{urllib.parse.quote(name, safe='')}/versions/{urllib.parse.quote(version, safe='')}/metrics"
            metrics = [{"key": p["key"], "value": json_double(p["value"]), "step": p["step"], "timestamp_ms": p["timestampMs"]} for p in points]
            self._api.request_with_retry("POST", path, {"metrics": metrics}, deadline)

    def poll(self, timeout: float) -> None:
        return None

    def close(self, timeout: float) -> None:
        return None
