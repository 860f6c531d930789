"""RunstreamCallback with a Trainer-like loop (no torch, no transformers), and with a tiny real Trainer when
transformers and torch are importable."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

import runstream
from runstream.transformers import RunstreamCallback

from conftest import history

pytestmark = pytest.mark.stack


class OneElementTensor:
    """What the callback sees from torch without torch: numel() == 1 and item()."""

    def __init__(self, v: float) -> None:
        self.v = v

    def numel(self) -> int:
        return 1

    def item(self) -> float:
        return self.v


class Vector(OneElementTensor):
    def numel(self) -> int:
        return 3


def test_trainer_like_loop(client: runstream.Client, unique: str, caplog: pytest.LogCaptureFixture) -> None:
    run = client.create_run(experiment=f"py-sdk-hf-{unique}")
    cb = RunstreamCallback(run)
    args, control = SimpleNamespace(), SimpleNamespace(should_log=False)
    state = SimpleNamespace(global_step=0, is_world_process_zero=True)
    # The order and signatures of transformers' CallbackHandler.
    for hook in ("on_init_end", "on_train_begin", "on_epoch_begin"):
        assert getattr(cb, hook)(args, state, control) is None
    for step in range(1, 7):
        state.global_step = step
        cb.on_step_begin(args, state, control)
        cb.on_step_end(args, state, control)
        if step % 2 == 0:
            logs: dict[str, Any] = {"loss": OneElementTensor(1.0 / step), "learning_rate": 1e-3 * step, "epoch": step / 6, "grad_norm": 2, "note": "text", "hist": Vector(0.0)}
            cb.on_log(args, state, control, logs=logs)
    cb.on_evaluate(args, state, control, metrics={"eval_loss": 0.5})
    cb.on_log(args, state, control, logs={"eval_loss": 0.5, "bad key!": 1.0})
    cb.on_some_hook_from_a_future_release(args, state, control)
    cb.on_train_end(args, state, control)
    assert client.flush(timeout=60).ok

    assert history(client, run.run_id, "loss") == [(2, 0.5), (4, 0.25), (6, 1 / 6)]
    assert history(client, run.run_id, "learning_rate") == [(2, 0.002), (4, 0.004), (6, 0.006)]
    assert history(client, run.run_id, "grad_norm") == [(2, 2), (4, 2), (6, 2)]
    assert history(client, run.run_id, "eval_loss") == [(6, 0.5)]
    keys = {m["key"] for m in client.get_json(f"/api/v1/runs/{run.run_id}/metrics")["metrics"]}
    assert keys == {"loss", "learning_rate", "epoch", "grad_norm", "eval_loss"}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "not logging" in r.getMessage()]
    # One warning per skipped key, however often it was logged.
    assert sorted(w.split("'")[1] for w in warnings) == ["bad key!", "hist", "note"]


def test_driven_by_transformers_callback_handler(client: runstream.Client, unique: str) -> None:
    """transformers' own CallbackHandler (what Trainer dispatches every hook through), real TrainerState and
    TrainerControl; needs transformers but not torch."""
    pytest.importorskip("transformers")
    from transformers.trainer_callback import CallbackHandler, DefaultFlowCallback, TrainerCallback, TrainerControl, TrainerState

    hooks = {name for name in dir(TrainerCallback) if name.startswith("on_")}
    assert hooks <= {name for name in dir(RunstreamCallback) if name.startswith("on_")}

    run = client.create_run(experiment=f"py-sdk-hf-handler-{unique}")
    handler = CallbackHandler([DefaultFlowCallback, RunstreamCallback(run)], model=None, processing_class=None, optimizer=None, lr_scheduler=None)
    args = SimpleNamespace(logging_strategy="steps", logging_steps=2, logging_first_step=False, eval_strategy="no", eval_steps=None, save_strategy="no", save_steps=None, eval_delay=0, max_steps=6)
    state, control = TrainerState(), TrainerControl()
    state.max_steps, state.logging_steps, state.eval_steps, state.save_steps = 6, 2, 0, 0
    control = handler.on_init_end(args, state, control)
    control = handler.on_train_begin(args, state, control)
    control = handler.on_epoch_begin(args, state, control)
    for step in range(1, 7):
        control = handler.on_step_begin(args, state, control)
        state.global_step = step
        control = handler.on_step_end(args, state, control)
        if control.should_log:
            control = handler.on_log(args, state, control, logs={"loss": 1.0 / step, "learning_rate": 0.1, "grad_norm": OneElementTensor(0.5)})
    control = handler.on_epoch_end(args, state, control)
    control = handler.on_train_end(args, state, control)
    assert client.flush(timeout=60).ok
    assert history(client, run.run_id, "loss") == [(2, 0.5), (4, 0.25), (6, 1 / 6)]
    assert history(client, run.run_id, "grad_norm") == [(2, 0.5), (4, 0.5), (6, 0.5)]


def test_tiny_real_trainer(client: runstream.Client, unique: str, tmp_path: Any) -> None:
    pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    pytest.importorskip("accelerate")
    from transformers import Trainer, TrainingArguments

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(2, 1)

        def forward(self, x: Any, labels: Any = None) -> Any:
            out = self.lin(x).squeeze(-1)
            return {"loss": torch.nn.functional.mse_loss(out, labels), "logits": out}

    data = [{"x": torch.tensor([float(i), 1.0]), "labels": torch.tensor(2.0 * i)} for i in range(32)]
    run = client.create_run(experiment=f"py-sdk-hf-real-{unique}")
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=8, logging_steps=2, per_device_train_batch_size=4, report_to=[], save_strategy="no", use_cpu=True)
    trainer = Trainer(model=Tiny(), args=args, train_dataset=data, callbacks=[RunstreamCallback(run)])
    trainer.train()
    assert client.flush(timeout=60).ok
    assert [s for s, _ in history(client, run.run_id, "loss")] == [2, 4, 6, 8]
