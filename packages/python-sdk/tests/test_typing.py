"""The package is typed (py.typed): mypy --strict passes on it (its own code; libraries are not followed, which
would take minutes through mlflow)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import runstream


def test_mypy_strict() -> None:
    pytest.importorskip("mypy")
    package = Path(runstream.__file__).parent
    assert (package / "py.typed").exists()
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--ignore-missing-imports", "--no-incremental", "--follow-imports=skip", str(package)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
