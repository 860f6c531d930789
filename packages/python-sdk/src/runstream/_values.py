"""Turning what training code logs (floats, ints, numpy and torch scalars, sequences) into float points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union

from ._metric_rules import InvalidMetricError

Number = Union[float, int]


def as_float(key: str, value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]  # numpy / torch scalars, Decimal, Fraction
    except (TypeError, ValueError):
        raise InvalidMetricError(f"value of {key} must be a number, got {type(value).__name__}") from None


def as_values(key: str, value: object) -> float | list[float]:
    """A float for a single value, a list for a series (sequence or 1-d array)."""
    t = type(value)
    if t is float:
        return value  # type: ignore[return-value]
    if t is int or t is bool:
        return float(value)  # type: ignore[arg-type]
    if isinstance(value, (str, bytes, bytearray)):
        raise InvalidMetricError(f"value of {key} must be a number or a sequence of numbers, got {type(value).__name__}")
    ndim = getattr(value, "ndim", None)
    if isinstance(ndim, int):
        if ndim == 0:
            return as_float(key, value)
        if ndim == 1:
            return [as_float(key, v) for v in value.tolist()]  # type: ignore[attr-defined]
        raise InvalidMetricError(f"value of {key} has {ndim} dimensions; a series is one-dimensional")
    if isinstance(value, Sequence):
        return [as_float(key, v) for v in value]
    return as_float(key, value)
