"""Fixtures for the suite. Tests marked `stack` need a running Runstream (query service, ingest worker, Kafka):
RUNSTREAM_URL, RUNSTREAM_KAFKA_BROKERS and RUNSTREAM_TOPIC_PREFIX. test/python-sdk.test.ts starts one and sets
RUNSTREAM_REQUIRE_STACK=1, so there a missing stack fails instead of skipping."""

from __future__ import annotations

import os
import time
import uuid
from typing import Any, Callable, Iterator

import pytest

import runstream


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "stack: needs a running Runstream stack")


def _stack_env() -> dict[str, str]:
    names = ("RUNSTREAM_URL", "RUNSTREAM_KAFKA_BROKERS", "RUNSTREAM_TOPIC_PREFIX")
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        if os.environ.get("RUNSTREAM_REQUIRE_STACK") == "1":
            pytest.fail(f"RUNSTREAM_REQUIRE_STACK=1 but {', '.join(missing)} not set")
        pytest.skip(f"no Runstream stack ({', '.join(missing)} not set)")
    return {n: os.environ[n] for n in names}


@pytest.fixture(scope="session")
def stack() -> dict[str, str]:
    return _stack_env()


@pytest.fixture
def client(stack: dict[str, str]) -> Iterator[runstream.Client]:
    with runstream.Client() as c:
        assert c.transport == "kafka"
        yield c


@pytest.fixture
def http_client(stack: dict[str, str]) -> Iterator[runstream.Client]:
    with runstream.Client(transport="http") as c:
        yield c


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as err:  # the API may answer 404 until the worker caught up
            last = err
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f": {last}" if last else ""))


def history(c: runstream.Client, run_id: str, key: str) -> list[tuple[int, Any]]:
    return [(p["step"], p["value"]) for p in c.run_metric_history(run_id, key)]
