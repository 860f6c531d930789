"""Buffer policies, flush at interpreter exit, and what `kill -9` loses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import runstream

from conftest import wait_for

pytestmark = pytest.mark.stack


def test_drop_policy_counts_what_it_drops_and_flush_reports_failures(caplog: pytest.LogCaptureFixture) -> None:
    # Nothing listens on port 9: every request fails, quickly, after the delivery timeout.
    c = runstream.Client(url="http://127.0.0.1:9", transport="http", max_buffered_points=10, when_full="drop", delivery_timeout_s=0.5, linger_ms=60_000)
    run = c.run("r")
    for i in range(100):
        run.log_metric("x", float(i), step=i)
    assert c.report().dropped == 90
    report = c.flush(timeout=30)
    assert (report.logged, report.dropped, report.failed, report.delivered, report.pending) == (10, 90, 10, 0, 0)
    assert not report.ok
    assert any("buffer full" in e for e in report.errors) and any("failed to deliver" in e for e in report.errors)
    # Logged once each, however many points hit the same error.
    assert len([r for r in caplog.records if "buffer full" in r.getMessage()]) == 1
    c.close(timeout=5)


def test_block_policy_waits_then_gives_up_with_a_clear_error() -> None:
    c = runstream.Client(url="http://127.0.0.1:9", transport="http", max_buffered_points=5, when_full="block", max_block_s=0.3, delivery_timeout_s=30, linger_ms=60_000)
    run = c.run("r")
    for i in range(5):
        run.log_metric("x", 1.0, step=i)
    started = time.monotonic()
    with pytest.raises(runstream.BufferFullError, match="still full after 0.3 s"):
        run.log_metric("x", 1.0, step=5)
    assert 0.25 < time.monotonic() - started < 5
    c.close(timeout=0.5)


def _script(body: str) -> str:
    return textwrap.dedent(
        """
        import json, sys, time, runstream
        c = runstream.Client(linger_ms=100)
        run = c.run(sys.argv[1])
        """
    ) + textwrap.dedent(body)


def test_normal_exit_flushes_everything(client: runstream.Client, unique: str) -> None:
    run = client.create_run(experiment=f"py-sdk-exit-{unique}")
    n = 30_000
    # No flush, no close: the interpreter's exit delivers what is buffered.
    body = f"for i in range({n}):\n    run.log_metric('x', float(i), step=i)\n"
    subprocess.run([sys.executable, "-c", _script(body), run.run_id], check=True, timeout=120)
    wait_for(f"{n} points", lambda: [m for m in client.get_json(f"/api/v1/runs/{run.run_id}/metrics")["metrics"] if m["points"] == n])


def test_kill_9_loss_window(client: runstream.Client, unique: str) -> None:
    """Measures, rather than bounds tightly: points logged in the last moments before SIGKILL may be lost (the
    buffer lingers linger_ms, Kafka needs a round trip). Everything older than a second must be stored."""
    run = client.create_run(experiment=f"py-sdk-kill-{unique}")
    body = """
        i = 0
        while True:
            run.log_metric('x', float(i), step=i)
            i += 1
            if i % 1000 == 0:
                print(json.dumps({"logged": i, "t": time.time()}), flush=True)
                time.sleep(0.01)
    """
    proc = subprocess.Popen([sys.executable, "-c", _script(body), run.run_id], stdout=subprocess.PIPE, text=True)
    progress = []
    assert proc.stdout is not None
    deadline = time.time() + 3
    for line in proc.stdout:
        progress.append(json.loads(line))
        if time.time() > deadline:
            break
    os.kill(proc.pid, signal.SIGKILL)
    killed_at = time.time()
    proc.wait()
    logged = progress[-1]["logged"]

    def stored() -> int:
        metrics = client.get_json(f"/api/v1/runs/{run.run_id}/metrics")["metrics"]
        return int(metrics[0]["points"]) if metrics else 0

    time.sleep(2)
    count = wait_for("the stored count to settle", stored)
    lost = max(0, logged - count)
    rate = logged / (progress[-1]["t"] - progress[0]["t"] + 1e-9)
    print(f"\nkill -9: logged >= {logged}, stored {count}, lost {lost} points = {lost / rate * 1000:.0f} ms of logging at {rate:,.0f} points/s")
    assert count > 0
    # Stored points are a prefix (steps 0..count-1): nothing in the middle went missing.
    last = client.get_json(f"/api/v1/runs/{run.run_id}/metrics")["metrics"][0]
    assert last["last_step"] == count - 1
    # Older than one second before the kill: stored.
    one_second_before = next((p["logged"] for p in reversed(progress) if p["t"] <= killed_at - 1.0), 0)
    assert count >= one_second_before
