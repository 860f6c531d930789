"""A Hugging Face `TrainerCallback` that logs what the Trainer logs to a Runstream run.

Usable without transformers installed (and it never imports it): the Trainer calls callbacks by method name, so this
class implements the TrainerCallback hooks itself. Every rank may log; each point carries the rank that logged it.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from ._client import Run
from ._metric_rules import key_problem

log = logging.getLogger("runstream")

_HOOKS = (
    "on_init_end", "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_step_begin",
    "on_pre_optimizer_step", "on_optimizer_step", "on_substep_end", "on_step_end", "on_evaluate", "on_predict",
    "on_save", "on_prediction_step", "on_push_begin",
)


def _number(value: Any) -> float | None:
    """A float for numbers, numpy scalars and one-element tensors/arrays; None for anything else."""
    if isinstance(value, (float, int)):  # bool is an int: True/False log as 1/0
        return float(value)
    numel = getattr(value, "numel", None)
    size = getattr(value, "size", None)
    n = numel() if callable(numel) else size if isinstance(size, int) else None
    if n == 1 and hasattr(value, "item"):
        item = value.item()
        return float(item) if isinstance(item, (float, int)) else None
    return None


class RunstreamCallback:
    """`trainer.add_callback(RunstreamCallback(run))`: on_log → run.log_metrics(numeric logs, step=state.global_step)."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self._warned: set[str] = set()

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        numeric: dict[str, float] = {}
        for key, value in (logs or {}).items():
            v = _number(value)
            problem = key_problem(key) if v is not None else f"value of type {type(value).__name__} is not a number"
            if problem is None and v is not None:
                numeric[key] = v
            elif key not in self._warned:
                self._warned.add(key)
                log.warning("runstream: not logging %r from the Trainer: %s", key, problem)
        if numeric:
            self.run.log_metrics(numeric, step=int(getattr(state, "global_step", 0) or 0))

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        # Not closing: the client may outlive this Trainer. Everything is flushed at close() or interpreter exit.
        return None

    def __getattr__(self, name: str) -> Callable[..., None]:
        # Hooks this class does not need, including ones a newer transformers adds, do nothing.
        if name.startswith("on_"):
            return _noop
        raise AttributeError(name)


def _noop(*args: Any, **kwargs: Any) -> None:
    return None


for _hook in _HOOKS:
    if not hasattr(RunstreamCallback, _hook):
        setattr(RunstreamCallback, _hook, _noop)

__all__ = ["RunstreamCallback"]
