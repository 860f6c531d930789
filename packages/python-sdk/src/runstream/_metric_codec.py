"""Metric batches on the wire: Avro single-object encoding of schemas/metric-batch.v2.avsc, as the TypeScript SDK
writes them (C3 01 marker, 8-byte little-endian CRC-64-AVRO fingerprint of the schema's canonical form, body)."""

from __future__ import annotations

import io
import json
import struct
from functools import lru_cache
from importlib import resources
from typing import Any, Sequence, cast

SINGLE_OBJECT_MARKER = b"\xc3\x01"
SCHEMA_FILE = "metric-batch.v2.avsc"

_EMPTY = 0xC15D213AA4D7A795


def _crc64_table() -> list[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (_EMPTY & -(fp & 1))
        table.append(fp & 0xFFFFFFFFFFFFFFFF)
    return table


def crc64_avro(data: bytes) -> int:
    """The Rabin fingerprint the Avro specification defines for schemas."""
    table = _crc64_table()
    fp = _EMPTY
    for b in data:
        fp = (fp >> 8) ^ table[(fp ^ b) & 0xFF]
    return fp


@lru_cache(maxsize=1)
def metric_batch_schema() -> tuple[Any, bytes]:
    """The parsed writer schema and its 10-byte single-object header (loaded on first use, not at import)."""
    from fastavro import parse_schema
    from fastavro.schema import to_parsing_canonical_form

    text = resources.files("runstream").joinpath("schemas").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    parsed = parse_schema(json.loads(text))
    canonical = to_parsing_canonical_form(parsed)
    header = SINGLE_OBJECT_MARKER + struct.pack("<Q", crc64_avro(canonical.encode("utf-8")))
    return parsed, header


def encode_metric_batch(entity_kind: str, entity_id: str, points: Sequence[dict[str, Any]], producer: str | None) -> bytes:
    """One Kafka message value: points are dicts with key, value, step, timestampMs."""
    from fastavro import schemaless_writer

    schema, header = metric_batch_schema()
    out = io.BytesIO()
    out.write(header)
    schemaless_writer(out, schema, {"entityKind": entity_kind, "entityId": entity_id, "points": points, "producer": producer})
    return out.getvalue()


def decode_metric_batch(data: bytes) -> dict[str, Any]:
    """The inverse, for tests and tools; rejects a message not written with this schema."""
    from fastavro import schemaless_reader

    schema, header = metric_batch_schema()
    if data[:10] != header:
        raise ValueError("not a metric batch written with metric-batch.v2 (single-object header differs)")
    return cast("dict[str, Any]", schemaless_reader(io.BytesIO(data[10:]), schema))


def partition_key(entity_kind: str, entity_id: str) -> str:
    """The message key: every message of one entity lands on one partition (the worker's and read fence's rule)."""
    return f"{entity_kind}:{entity_id}"
