"""The wire format is the TypeScript SDK's, byte for byte."""

from __future__ import annotations

import json
import math
from pathlib import Path

from runstream._metric_codec import crc64_avro, decode_metric_batch, encode_metric_batch, metric_batch_schema, partition_key

REPO_SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"

# Written by packages/codec (encodeMetricBatch) for the batch below.
TYPESCRIPT_BYTES = "c301982aaf6e19145e940004723102086c6f7373000000000000f87f0680a0abfef96200020270"


def test_bundled_schema_is_the_contract() -> None:
    from importlib import resources

    bundled = json.loads(resources.files("runstream").joinpath("schemas").joinpath("metric-batch.v2.avsc").read_text())
    if (REPO_SCHEMAS / "metric-batch.v2.avsc").exists():
        assert bundled == json.loads((REPO_SCHEMAS / "metric-batch.v2.avsc").read_text())


def test_fingerprint_is_crc64_avro_of_the_canonical_form() -> None:
    _, header = metric_batch_schema()
    assert header[:2] == b"\xc3\x01"
    assert header[2:].hex() == "982aaf6e19145e94"
    # The Avro specification's value for the empty string.
    assert crc64_avro(b"") == 0xC15D213AA4D7A795


def test_same_bytes_as_the_typescript_sdk() -> None:
    points = [{"key": "loss", "value": math.nan, "step": 3, "timestampMs": 1_700_000_000_000}]
    assert encode_metric_batch("RUN", "r1", points, "p").hex() == TYPESCRIPT_BYTES


def test_round_trip_keeps_non_finite_values() -> None:
    points = [{"key": "k", "value": v, "step": i, "timestampMs": 1_700_000_000_000 + i} for i, v in enumerate([1.5, math.inf, -math.inf, -0.0])]
    back = decode_metric_batch(encode_metric_batch("MODEL_VERSION", "m/1", points, None))
    assert back["entityKind"] == "MODEL_VERSION" and back["entityId"] == "m/1" and back["producer"] is None
    assert [p["value"] for p in back["points"]] == [1.5, math.inf, -math.inf, -0.0]


def test_partition_key_is_kind_and_id() -> None:
    assert partition_key("RUN", "abc") == "RUN:abc"
    assert partition_key("MODEL_VERSION", "m/2") == "MODEL_VERSION:m/2"
