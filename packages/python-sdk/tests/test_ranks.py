"""Many ranks, one run: 4 processes log 250,000 points each into one run at once; every point is stored exactly
once with its rank, and the per-rank and cross-rank series equal a reference computed from the logged values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

import runstream

from conftest import wait_for

pytestmark = pytest.mark.stack

WORLD = 4
STEPS = int(os.environ.get("RUNSTREAM_RANK_TEST_STEPS", "250000"))

RANK_SCRIPT = textwrap.dedent(
    """
    import json, sys, time, runstream

    def value(rank, step):
        return ((step * 7 + rank * 13) % 101) / 100 + rank * 1e-6

    run_id, steps = sys.argv[1], int(sys.argv[2])
    with runstream.Client() as c:  # rank and world size from RANK / WORLD_SIZE
        run = c.run(run_id)
        started = time.perf_counter()
        for s in range(steps):
            run.log_metric("loss", value(c.rank, s), step=s)
        logged = time.perf_counter() - started
        report = c.flush()
        total = time.perf_counter() - started
    print(json.dumps({"rank": c.rank, "ok": report.ok, "delivered": report.delivered, "log_s": logged, "total_s": total}))
    """
)


def value(rank: int, step: int) -> float:
    return ((step * 7 + rank * 13) % 101) / 100 + rank * 1e-6


def test_four_ranks_one_run(client: runstream.Client, unique: str) -> None:
    run = client.create_run(experiment=f"py-sdk-ranks-{unique}", name="ddp")
    procs = [
        subprocess.Popen([sys.executable, "-c", RANK_SCRIPT, run.run_id, str(STEPS)], stdout=subprocess.PIPE, text=True, env={**os.environ, "RANK": str(r), "WORLD_SIZE": str(WORLD)})
        for r in range(WORLD)
    ]
    results = []
    for p in procs:
        out, _ = p.communicate(timeout=600)
        assert p.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["rank"] for r in results) == list(range(WORLD))
    assert all(r["ok"] and r["delivered"] == STEPS for r in results), results
    slowest = max(r["total_s"] for r in results)
    print(f"\n{WORLD} ranks x {STEPS:,} points: {WORLD * STEPS / slowest:,.0f} points/s delivered in total; per process " + ", ".join(f"rank {r['rank']} {STEPS / r['total_s']:,.0f}/s" for r in sorted(results, key=lambda r: r["rank"])))

    # One run, every point once.
    wait_for("all points", lambda: [m for m in client.get_json(f"/api/v1/runs/{run.run_id}/metrics")["metrics"] if m["points"] == WORLD * STEPS])
    steps = client.rank_steps(run.run_id, "loss")
    assert [s["step"] for s in steps] == list(range(STEPS))
    mismatches = []
    for s in steps:
        step = s["step"]
        expected = [value(r, step) for r in range(WORLD)]
        got = {p["rank"]: p["value"] for p in s["ranks"]}
        if len(s["ranks"]) != WORLD or got != dict(enumerate(expected)):
            mismatches.append((step, "per-rank", s["ranks"]))
        lo, hi = min(expected), max(expected)
        ref = (lo, sum(expected) / WORLD, hi, expected.index(lo), expected.index(hi))
        if (s["min"], s["mean"], s["max"], s["min_rank"], s["max_rank"]) != pytest.approx(ref, rel=1e-12, abs=1e-12):
            mismatches.append((step, "cross-rank", s))
        if len(mismatches) > 5:
            break
    assert mismatches == []
    # Every step names a slowest rank among the four.
    assert {s["slowest_rank"] for s in steps} <= set(range(WORLD))

    # Downsampled per rank (what the UI draws): 100 buckets, each rank's min, max and mean equal the reference.
    width = -(-STEPS // 100)
    by_rank = {r["rank"]: r["buckets"] for r in client.rank_buckets(run.run_id, "loss", buckets=100)}
    assert sorted(by_rank) == list(range(WORLD))
    for rank, buckets in by_rank.items():
        assert len(buckets) == -(-STEPS // width)
        for i, b in enumerate(buckets):
            values = [value(rank, s) for s in range(i * width, min(STEPS, (i + 1) * width))]
            assert (b["bucket"], b["first_step"], b["last_step"], b["points"]) == (i, i * width, i * width + len(values) - 1, len(values))
            assert (b["min"], b["max"], b["mean"]) == pytest.approx((min(values), max(values), sum(values) / len(values)), rel=1e-9)

    # Summaries and search still see one run with one loss series.
    detail = client.get_json(f"/api/v1/runs/{run.run_id}")
    assert [m["key"] for m in detail["latest_metrics"]] == ["loss"]
    experiment_id = detail["info"]["experiment_id"]
    found = client._http().request("POST", "/api/v1/runs/search", {"experiment_ids": [experiment_id], "filter": "metrics.loss >= 0"})
    assert found["total_count"] == 1 and [r["run_id"] for r in found["runs"]] == [run.run_id]


def test_points_without_a_rank_count_as_rank_minus_one(http_client: runstream.Client, stack: dict[str, str], unique: str) -> None:
    run = http_client.create_run(experiment=f"py-sdk-norank-{unique}")
    # Over HTTP the producer id is the API's, without a rank; through Kafka with rank=3.
    run.log_metric("x", [1.0, float("nan"), 3.0])
    assert http_client.flush(timeout=60).ok
    with runstream.Client(rank=3, world_size=4) as ranked:
        ranked.run(run.run_id).log_metric("x", [5.0, 6.0, 7.0])
    steps = http_client.rank_steps(run.run_id, "x")
    assert [[(p["rank"], p["value"]) for p in s["ranks"]] for s in steps] == [[(-1, 1), (3, 5)], [(-1, "NaN"), (3, 6)], [(-1, 3), (3, 7)]]
    assert [(s["min"], s["max"], s["min_rank"], s["max_rank"]) for s in steps] == [(1, 5, -1, 3), (6, 6, 3, 3), (3, 7, -1, 3)]
    buckets = {r["rank"]: r["buckets"] for r in http_client.rank_buckets(run.run_id, "x", buckets=1)}
    assert buckets[-1] == [{"bucket": 0, "first_step": 0, "last_step": 2, "min": 1, "max": 3, "mean": 2, "points": 3}]
    assert buckets[3] == [{"bucket": 0, "first_step": 0, "last_step": 2, "min": 5, "max": 7, "mean": 6, "points": 3}]
    assert http_client.rank_buckets(run.run_id, "x", buckets=5, start_step=-(2**53 - 1), end_step=2**53 - 1)[0]["buckets"][0]["points"] == 3
