"""The wheel installs one import name, ``omniroute``, with every subpackage and data file."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_wheel_installs_only_omniroute(tmp_path: Path) -> None:
    """The wheel's RECORD lists only omniroute/ and its dist-info at top level."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("omniroute-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        record_name = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
        record = archive.read(record_name).decode()
    paths = [row[0] for row in csv.reader(io.StringIO(record)) if row]
    top = {path.split("/")[0] for path in paths}
    assert top == {"omniroute", record_name.split("/")[0]}, top
    for expected in (
        "omniroute/__init__.py",
        "omniroute/py.typed",
        "omniroute/planner.py",
        "omniroute/server/cli.py",
        "omniroute/ledger/__init__.py",
        "omniroute/v1/plan_pb2.py",
        "omniroute/v1/plan.proto",
        "omniroute/v1/service_config.json",
    ):
        assert expected in paths, expected
