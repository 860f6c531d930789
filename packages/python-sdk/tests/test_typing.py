"""The package is typed (py.typed): mypy --strict passes on its source (its own code; libraries are not followed,
which would take minutes through mlflow)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import runstream

PROJECT = Path(__file__).resolve().parents[1]


def test_mypy_strict() -> None:
    pytest.importorskip("mypy")
    assert (Path(runstream.__file__).parent / "py.typed").exists()
    command = [sys.executable, "-m", "mypy", "--strict", "--ignore-missing-imports", "--no-incremental", "--follow-imports=skip", "src/runstream"]
    result = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
