"""A small JSON client for Runstream's HTTP APIs (native /api/v1 and MLflow-compatible /api/2.0/mlflow)."""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class ApiError(RuntimeError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


def json_double(v: float) -> float | str:
    """NaN and ±Infinity as MLflow's JSON spells them."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


class HttpApi:
    def __init__(self, url: str, token: str | None, timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._token = token
        self._timeout = timeout_s

    def request(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None}, doseq=True)
        data = None if body is None else json.dumps(body, allow_nan=False).encode("utf-8")
        headers = {"accept": "application/json"}
        if data is not None:
            headers["content-type"] = "application/json"
        if self._token:
            headers["authorization"] = f"Bearer {self._token}"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self._timeout) as res:
                text = res.read()
        except urllib.error.HTTPError as err:
            raw = err.read().decode("utf-8", "replace")
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = {}
            code = payload.get("error_code") or payload.get("code") or "HTTP_ERROR"
            raise ApiError(err.code, str(code), str(payload.get("message") or raw[:300])) from None
        return json.loads(text) if text else {}

    def request_with_retry(self, method: str, path: str, body: Any, deadline: float) -> Any:
        """Retries what may succeed later (connection refused, timeouts, 429, 5xx) until the monotonic deadline."""
        wait = 0.2
        while True:
            try:
                return self.request(method, path, body)
            except ApiError as err:
                if err.status != 429 and err.status < 500:
                    raise
                last: Exception = err
            except (urllib.error.URLError, OSError) as err:
                last = err
            if time.monotonic() + wait > deadline:
                raise last
            time.sleep(wait)
            wait = min(wait * 2, 5.0)

    def reachable(self) -> bool:
        try:
            self.request("GET", "/health")
            return True
        except ApiError:
            return True  # it answered
        except (urllib.error.URLError, OSError):
            return False
