"""The served network in one process: a planner kept in step with the shared ledger.

Every call refreshes cheaply first (the database's change token tells whether another
process committed anything); a new network version rebuilds the planner, stock changes are
applied position by position from the ledger's change feed.
"""

from __future__ import annotations

import gc
import threading
import time

from omniroute.ledger import Ledger, NoNetwork
from omniroute.planner import Planner

EXPIRY_CHECK = 0.1  # seconds between checks for expired holds (holds are also expired by
# every write, so a reservation never fails on an expired hold)


class LiveNetwork:
    """The current planner for a ledger's network."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._lock = threading.Lock()
        self._planner: Planner | None = None
        self.version = -1
        self.seq = -1
        self._token: int | None = None
        self._expiry_checked = 0.0

    def planner(self) -> Planner:
        """The up-to-date planner; :class:`NoNetwork` when no network has been loaded."""
        self.refresh()
        if self._planner is None:
            raise NoNetwork()
        return self._planner

    def refresh(self, force: bool = False) -> None:
        """Catch up with the ledger (``force`` after this process's own writes)."""
        with self._lock:
            now = time.monotonic()
            if now - self._expiry_checked > EXPIRY_CHECK:
                self._expiry_checked = now
                if self.ledger.reservations.expire_due():  # expired holds stop counting
                    force = True
            token = self.ledger.change_token()
            if not force and token == self._token and self._planner is not None:
                return
            self._token = token
            version, seq = self.ledger.state()
            if version == 0:
                return
            if version != self.version or self._planner is None:
                network, version, seq = self.ledger.load_network()
                self._planner = Planner(network, validate=False)  # validated when it was put
                self.version, self.seq = version, seq
                gc.freeze()  # long-lived: spare the garbage collector (see server.process)
            elif seq != self.seq:
                self.seq, positions = self.ledger.stock.changes_since(self.seq)
                self._planner.inventory.set_positions(positions)
