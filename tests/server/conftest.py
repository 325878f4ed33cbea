"""A real in-process gRPC server on port 0 with a real SQLite file, for the server tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from omniroute.ledger import open_ledger
from omniroute.model import Network
from omniroute.server.client import OmnirouteClient
from omniroute.server.process import RunningServer, ServerConfig


class ServerThread:
    """Runs a RunningServer on its own event loop in a background thread."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.server: RunningServer | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            self.stopping = asyncio.Event()
            self.server = RunningServer(self.config)
            await self.server.start()
            self.started.set()
            await self.stopping.wait()
            await self.server.stop(grace=1.0)

        self.loop.run_until_complete(main())

    def __enter__(self) -> ServerThread:
        self.thread.start()
        if not self.started.wait(30):
            raise RuntimeError("server did not start")
        return self

    @property
    def target(self) -> str:
        assert self.server is not None
        return f"localhost:{self.server.port}"

    def __exit__(self, *_: object) -> None:
        self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(30)


@pytest.fixture()
def db_path(tmp_path: Path, tiny_network: Network) -> Path:
    """A fresh store holding the tiny network."""
    path = tmp_path / "omniroute.db"
    ledger = open_ledger(path)
    ledger.put_network(tiny_network)
    ledger.close()
    return path


@pytest.fixture()
def server(db_path: Path) -> Iterator[ServerThread]:
    with ServerThread(
        ServerConfig(db=str(db_path), host="localhost", port=0, grace=1.0)
    ) as running:
        yield running


@pytest.fixture()
def client(server: ServerThread) -> Iterator[OmnirouteClient]:
    with OmnirouteClient(server.target, timeout=30) as c:
        yield c
