"""``omniroute serve`` as a child process: for the demo, the benchmarks and the process tests.

One place knows how to start a real server on a free port, wait until health checking says
SERVING, and stop it the way an orchestrator would (SIGTERM, then SIGKILL after a grace).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from omniroute.server.client import OmnirouteClient
from omniroute.server.process import ServeRefused, check_port_free, free_port


def serve_command(port: int, *args: str) -> list[str]:
    """The ``omniroute serve`` command line on ``port`` with metrics off and ``args`` added."""
    return [
        sys.executable,
        "-m",
        "omniroute.server.cli",
        "serve",
        "--port",
        str(port),
        "--metrics-port",
        "0",
        *args,
    ]


class ServerDidNotStart(RuntimeError):
    """``omniroute serve`` exited (or never reported SERVING) before it served."""


class _PortTaken(ServerDidNotStart):
    """The free port chosen was taken by another process before the server bound it."""


PORT_ATTEMPTS = 3  # free ports tried when another process takes the chosen one first


@contextmanager
def serve_process(
    *args: str, output: int | IO[bytes] | None = subprocess.DEVNULL, ready_timeout: float = 120.0
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """Run ``omniroute serve ARGS`` on a free port until the block ends.

    Yields ``(process, port)`` once the server reports SERVING; ``output`` receives the
    server's stdout and stderr (``None`` inherits ours). A port that another process takes
    between choosing and binding it is replaced by another free port; a server that does not
    start raises :class:`ServerDidNotStart`. On leaving, the server is stopped with
    :func:`stop` unless the block already stopped it.
    """
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        process = subprocess.Popen(serve_command(port, *args), stdout=output, stderr=output)
        try:
            _wait_until_serving(process, port, output, ready_timeout)
            break
        except _PortTaken:
            stop(process)
            if attempt == PORT_ATTEMPTS:
                raise
        except BaseException:
            stop(process)
            raise
    try:
        yield process, port
    finally:
        stop(process)


def _wait_until_serving(
    process: subprocess.Popen[bytes], port: int, output: object, ready_timeout: float
) -> None:
    deadline = time.monotonic() + ready_timeout
    with OmnirouteClient(f"localhost:{port}") as client:
        while True:
            if process.poll() is not None:
                name = getattr(output, "name", None)
                where = f"; its output is in {name}" if name else ""
                taken = process.returncode == 2 and not _port_free(port)
                raise (_PortTaken if taken else ServerDidNotStart)(
                    f"omniroute serve exited with status {process.returncode} before serving{where}"
                )
            try:
                client.wait_until_serving(min(2.0, max(0.0, deadline - time.monotonic())))
                return
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise ServerDidNotStart(
                        f"omniroute serve did not report SERVING within {ready_timeout:g} s"
                    ) from None


def _port_free(port: int) -> bool:
    try:
        check_port_free("127.0.0.1", port, "gRPC")
    except ServeRefused:
        return False
    return True


def stop(process: subprocess.Popen[bytes], grace: float = 30.0) -> int:
    """SIGTERM, then SIGKILL after ``grace`` seconds; the exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()
