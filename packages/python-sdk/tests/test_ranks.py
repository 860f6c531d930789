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

    # Summaries and search still see one run with one loss series.
    detail = client.get_json(f"/api/v1/runs/{run.run_id}")
    assert [m["key"] for m in detail["latest_metrics"]] == ["loss"]
    experiment_id = detail["info"]["experiment_id"]
    found = client._http().request("POST", "/api/v1/runs/search", {"experiment_ids": [experiment_id], "filter": "metrics.loss >= 0"})
    assert found["total_count"] == 1 and [r["run_id"] for r in found["runs"]] == [run.run_id]
