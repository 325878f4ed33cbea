"""``scenario sweep --executor ray`` on a real local Ray (2 CPUs) writes byte for byte the
files of ``--executor processes``, and leaves no Ray process behind; a bad ``--ray-address``
is a usage error; a failing task is reported and the other runs are kept."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from omniroute.server.executors import TaskFailure, in_processes

RUN_FILES = {"kpis.json", "outcomes.jsonl", "nodes.json", "report.html"}


def omniroute(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omniroute.server.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without a Ray cluster to join (so that a local Ray starts)."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "OMNIROUTE_PROGRESS")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo network with 200 orders, and a grid of 4 runs (one closes a DC)."""
    directory = tmp_path_factory.mktemp("demo")
    made = omniroute("demo-data", "--out", str(directory), "--orders", "200", "--seed", "7")
    assert made.returncode == 0, made.stderr
    grid = {"base": {}, "grid": {"splitPenalty": [0, 10], "closeNodes": [[], ["DC-MEL"]]}}
    (directory / "grid.json").write_text(json.dumps(grid))
    return directory


@pytest.fixture()
def ray_tmpdir() -> Iterator[Path]:
    """A short folder of its own for Ray's sockets and logs (RAY_TMPDIR), removed after."""
    folder = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def processes_using(folder: Path) -> list[str]:
    """Processes whose command line or open files are in ``folder`` (every Ray process of
    a session keeps its sockets or logs there), as ``PID NAME``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            links = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:  # ended meanwhile
            continue
        if str(folder) in cmdline or any(link.startswith(str(folder)) for link in links):
            found.append(f"{entry.name} {cmdline[:80]}")
    return found


def sweep(demo: Path, out: Path, *options: str, env: dict[str, str]):
    return omniroute(
        "scenario",
        "sweep",
        "--network",
        str(demo / "network.json"),
        "--orders",
        str(demo / "orders.jsonl"),
        "--grid",
        str(demo / "grid.json"),
        "--out",
        str(out),
        "--workers",
        "2",
        *options,
        env=env,
    )


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_ray_writes_the_same_files_as_processes(
    demo: Path, tmp_path: Path, ray_tmpdir: Path
) -> None:
    """Both executors write identical bytes (sweep.json and every file of every run),
    print the same table, draw a progress bar; Ray ran (its session is in RAY_TMPDIR) and
    no Ray process outlives the command."""
    local = sweep(
        demo,
        tmp_path / "processes",
        "--executor",
        "processes",
        env=clean_env(OMNIROUTE_PROGRESS="1"),
    )
    assert local.returncode == 0, local.stderr
    on_ray = sweep(
        demo,
        tmp_path / "ray",
        "--executor",
        "ray",
        env=clean_env(OMNIROUTE_PROGRESS="1", RAY_TMPDIR=str(ray_tmpdir)),
    )
    assert on_ray.returncode == 0, on_ray.stderr

    expected = {"sweep.json"} | {
        f"{run}/{file}"
        for run in (
            "splitPenalty=0_closeNodes=__",
            "splitPenalty=0_closeNodes=__DC-MEL__",
            "splitPenalty=10_closeNodes=__",
            "splitPenalty=10_closeNodes=__DC-MEL__",
        )
        for file in RUN_FILES
    }
    written = files_of(tmp_path / "processes")
    assert set(written) == expected
    assert files_of(tmp_path / "ray") == written  # byte for byte, file by file
    summary = json.loads(written["sweep.json"])
    assert len({run["totalCost"] for run in summary}) == 4  # four different scenarios
    assert on_ray.stdout == local.stdout
    for result in (local, on_ray):
        assert "sweep [" in result.stderr and "4/4 runs" in result.stderr

    assert list((ray_tmpdir / "ray").glob("session_*")), "the Ray executor did not start Ray"
    deadline = time.monotonic() + 20
    while processes_using(ray_tmpdir) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert processes_using(ray_tmpdir) == []


def test_bad_ray_address_is_a_usage_error(demo: Path, tmp_path: Path) -> None:
    """An address that is not one, one nobody listens on, or one without --executor ray:
    exit 2 with the fix, no traceback, nothing written."""
    with socket.socket() as probe:  # a port that was free a moment ago: refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cases = [
        (
            ("--executor", "ray", "--ray-address", "http://head:10001"),
            ["is not a Ray address", "pass ray://HOST:10001"],
        ),
        (
            ("--executor", "ray", "--ray-address", f"ray://127.0.0.1:{port}"),
            [f"cannot reach 127.0.0.1:{port}", "ray start --head", "ray://HEAD:10001"],
        ),
        (("--ray-address", "auto"), ["--ray-address is for --executor ray: add --executor ray"]),
    ]
    for options, messages in cases:
        result = sweep(demo, tmp_path / "out", *options, env=clean_env())
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
        for message in messages:
            assert message in result.stderr, result.stderr
        assert not (tmp_path / "out").exists()
    result = sweep(demo, tmp_path / "out", "--executor", "ray", env=clean_env(RAY_ADDRESS="x y"))
    assert result.returncode == 2 and "RAY_ADDRESS (from the environment)" in result.stderr


def test_a_failing_task_is_reported_and_the_others_finish() -> None:
    """A task that raises yields a TaskFailure naming the error; the other tasks' results
    still arrive (the process pool, with a builtin as the task)."""
    results = dict(in_processes(int, (), ["1", "two", "3"], workers=2))
    assert results[0] == 1 and results[2] == 3
    failure = results[1]
    assert isinstance(failure, TaskFailure)
    assert str(failure) == "ValueError: invalid literal for int() with base 10: 'two'"
