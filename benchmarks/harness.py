"""Starting and stopping real server processes for the benchmarks."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from omniroute.server.client import OmnirouteClient
from omniroute.server.launch import serve_process


@contextmanager
def omniroute_server(
    network_file: Path, db: Path, workers: int, *extra: str
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """``omniroute serve`` on a free port (metrics off, quiet) until the block ends; yields
    (port, process) once it answers health checks."""
    with serve_process(
        "--db",
        str(db),
        "--network",
        str(network_file),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        *extra,
        ready_timeout=90,
    ) as (process, port):
        yield port, process


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
