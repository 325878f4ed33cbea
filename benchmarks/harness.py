"""Starting and stopping real server processes for the benchmarks."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.app import free_port
from server.client import OmnirouteClient


@contextmanager
def omniroute_server(
    network_file: Path, db: Path, workers: int, *extra: str
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``omniroute serve`` on a free port (metrics off, quiet) until the block ends; yields
    (port, process) once it answers health checks."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--db",
            str(db),
            "--network",
            str(network_file),
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--metrics-port",
            "0",
            "--log-level",
            "warning",
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with OmnirouteClient(f"localhost:{port}") as client:
            client.wait_until_serving(90)
        yield port, process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_planning(port: int, order: object, timeout: float = 90.0) -> None:
    """Until a PlanOrder call succeeds (the network is loaded and the service answers)."""
    with OmnirouteClient(f"localhost:{port}") as client:
        deadline = time.monotonic() + timeout
        while True:
            try:
                client.routing.PlanOrder(OmnirouteClient.plan_request(order), timeout=2)  # type: ignore[arg-type]
                return
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
