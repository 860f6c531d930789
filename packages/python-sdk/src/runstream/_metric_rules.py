"""What a valid metric point is: the ingest worker's rules (MLflow's), checked at the call so a bad key fails there."""

from __future__ import annotations

import re

MAX_KEY_LENGTH = 250
MAX_ENTITY_ID_LENGTH = 256
# MLflow's name rule; Python's \w is Unicode-aware like the worker's \p{L}\p{N}_.
_KEY_PATTERN = re.compile(r"^[\w/.\- :]+$")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# int64 steps, but the worker (JavaScript) keeps them exact only within 2^53.
MAX_SAFE_INTEGER = 2**53 - 1
# For the SDK an earlier wall-clock time is a unit mistake (seconds sent as milliseconds), not history.
MIN_PLAUSIBLE_TIMESTAMP_MS = 946_684_800_000
MAX_CLOCK_SKEW_MS = 24 * 3600 * 1000


class InvalidMetricError(ValueError):
    """A metric key, value, step or timestamp the platform would reject."""


def key_problem(key: object) -> str | None:
    if not isinstance(key, str):
        return f"metric key must be a str, got {type(key).__name__}"
    if not key:
        return "metric key is empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"metric key is {len(key)} characters, the limit is {MAX_KEY_LENGTH}"
    if not _KEY_PATTERN.match(key) or "\n" in key:
        return f"metric key {key[:80]!r} may only contain letters, digits, '_', '-', '.', ' ', ':' and '/'"
    segments = key.split("/")
    if key.startswith("/") or key.startswith("..") or any(s in ("", ".", "..") for s in segments):
        return f"metric key {key[:80]!r} is not a normalized path"
    return None


def entity_id_problem(entity_id: str) -> str | None:
    if not entity_id:
        return "entity id is empty"
    if len(entity_id) > MAX_ENTITY_ID_LENGTH:
        return f"entity id is {len(entity_id)} characters, the limit is {MAX_ENTITY_ID_LENGTH}"
    if _CONTROL_CHARS.search(entity_id):
        return "entity id contains control characters"
    return None


def check_step(key: str, step: object) -> int:
    if isinstance(step, int) and not isinstance(step, bool):
        as_int = step
    else:
        try:
            as_int = int(step)  # type: ignore[call-overload]  # numpy / torch integers
        except (TypeError, ValueError):
            raise InvalidMetricError(f"step of {key} must be an integer, got {step!r}") from None
        if isinstance(step, bool) or as_int != step:
            raise InvalidMetricError(f"step of {key} must be an integer, got {step!r}")
    if not -MAX_SAFE_INTEGER <= as_int <= MAX_SAFE_INTEGER:
        raise InvalidMetricError(f"step {as_int} of {key} must be between -(2^53-1) and 2^53-1")
    return as_int


def check_timestamp(key: str, timestamp_ms: object, now_ms: int) -> int:
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, int):
        raise InvalidMetricError(f"timestamp_ms of {key} must be an integer number of milliseconds, got {timestamp_ms!r}")
    if timestamp_ms < MIN_PLAUSIBLE_TIMESTAMP_MS:
        raise InvalidMetricError(f"timestamp {timestamp_ms} of {key} is before 2000-01-01 (seconds instead of milliseconds?)")
    if timestamp_ms > now_ms + MAX_CLOCK_SKEW_MS:
        raise InvalidMetricError(f"timestamp {timestamp_ms} of {key} is more than a day in the future")
    return timestamp_ms
