"""The served network in one process: a planner kept in step with the shared store.

Every call refreshes cheaply first (``PRAGMA data_version`` tells whether another process
committed anything); a new network version rebuilds the planner, stock changes are applied
position by position from the store's change feed.
"""

from __future__ import annotations

import gc
import threading
import time

from omniroute.planner import Planner
from omniroute.server.errors import FailedPrecondition
from omniroute.server.store import Store

EXPIRY_CHECK = 0.1  # seconds between checks for expired holds (holds are also expired by
# every write, so a reservation never fails on an expired hold)


class LiveNetwork:
    """The current planner for a store's network."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._planner: Planner | None = None
        self.version = -1
        self.seq = -1
        self._data_version: int | None = None
        self._expiry_checked = 0.0

    def planner(self) -> Planner:
        """The up-to-date planner; FAILED_PRECONDITION when no network has been loaded."""
        self.refresh()
        if self._planner is None:
            raise FailedPrecondition(
                "NO_NETWORK",
                "the server has no network yet: call NetworkService.PutNetwork or start it "
                "with --network FILE",
            )
        return self._planner

    def refresh(self, force: bool = False) -> None:
        """Catch up with the store (``force`` after this process's own writes)."""
        with self._lock:
            now = time.monotonic()
            if now - self._expiry_checked > EXPIRY_CHECK:
                self._expiry_checked = now
                if self.store.expire_due():  # expired holds stop counting (every 0.1 s)
                    force = True
            data_version = self.store.data_version()
            if not force and data_version == self._data_version and self._planner is not None:
                return
            self._data_version = data_version
            version, seq = self.store.state()
            if version == 0:
                return
            if version != self.version or self._planner is None:
                network, version, seq = self.store.load_network()
                self._planner = Planner(network)
                self.version, self.seq = version, seq
                gc.freeze()  # long-lived: spare the garbage collector (see server.app)
            elif seq != self.seq:
                self.seq, positions = self.store.changes_since(self.seq)
                self._planner.inventory.set_positions(positions)
