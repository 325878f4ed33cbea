"""The benchmark suite runs end to end in quick mode (no speed assertions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_suite_smoke(tmp_path: Path) -> None:
    """`python -m benchmarks.suite --mode quick` (what `make bench-quick` runs) writes the JSON,
    the summary and both plots. A smoke test: no speed is asserted."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.suite", "--mode", "quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads((tmp_path / "suite.json").read_text())
    assert set(data["sustainable"]) == {
        "ceiling unary",
        "omniroute unary",
        "ceiling stream",
        "omniroute stream",
        "omniroute reserve",
    }
    assert data["ladders"]["omniroute unary"][0]["calls"] > 0
    assert data["peak_day"]["calls"] > 0
    assert data["quality"]["peers"]["omniroute"]["proven_share"] == 1.0
    for name in ("suite.md", "latency_vs_load.png", "peak_day.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert (tmp_path / "latency_vs_load.png").read_bytes().startswith(b"\x89PNG")
