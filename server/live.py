"""The served network in one process: a planner kept in step with the shared ledger.

Every call refreshes cheaply first (the database's change token tells whether another
process committed anything); a new network version rebuilds the planner, stock changes are
applied position by position from the ledger's change feed, and on a network with daily
shipment capacities the full ship days are read again.

Worker processes share the stock of a network version: the first process to load it writes
its columnar table to a snapshot (:func:`shared_network`), and every process maps that file
read-only, so 10 million positions take their 400 MB once, not once per worker. What changes
after the snapshot (holds, adjustments) each process applies to copies of the changed SKUs'
arrays only.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from omniroute.ledger import Ledger, NoNetwork
from omniroute.model import Network
from omniroute.planner import Planner
from omniroute.stock_table import StockTable

try:
    import fcntl
except ImportError:  # not a POSIX platform: each process loads its own stock
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("omniroute.server")

EXPIRY_CHECK = 0.1  # seconds between checks for expired holds (holds are also expired by
# every write, so a reservation never fails on an expired hold)


class LiveNetwork:
    """The current planner for a ledger's network."""

    def __init__(self, ledger: Ledger, shared: Path | None = None) -> None:
        self.ledger = ledger
        self.shared = shared if fcntl is not None else None  # the snapshot directory
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
                network, self.version, self.seq = self._load()
                self._planner = Planner(network, validate=False)  # validated when it was put
                gc.freeze()  # long-lived: spare the garbage collector (see server.process)
            if seq != self.seq:
                self.seq, positions = self.ledger.stock.changes_since(self.seq)
                self._planner.inventory.set_positions(positions)
            if self._planner.index.has_capacity:  # the days full since (cheap: full ones only)
                today = datetime.now(UTC).date()
                self._planner.inventory.set_full_days(self.ledger.ship_days.full(today))

    def _load(self) -> tuple[Network, int, int]:
        try:
            if self.shared is not None:
                try:
                    return shared_network(self.ledger, self.shared)
                except OSError as error:  # e.g. no space for the snapshot: load privately
                    log.warning("stock not shared between processes (%s)", error)
                    self.shared = None
            return _load_for_planning(self.ledger)
        finally:
            _release_freed_memory()


def _load_for_planning(ledger: Ledger) -> tuple[Network, int, int]:
    """The ledger's network with its stock in the planner's order (by SKU, then node, coded
    by the network's own node and SKU order), so that the planner reads it without a copy."""
    network, version, seq = ledger.load_network()
    table = StockTable.of(network.stock).recoded(
        [n.id for n in network.nodes], [s.id for s in network.skus]
    )
    return replace(network, stock=table.by_sku()), version, seq


def _release_freed_memory() -> None:
    """Give the memory freed after loading (the batches a big stock table is read in) back
    to the system: glibc keeps freed heap blocks for reuse, which would leave a worker that
    loaded 10 million positions holding hundreds of MB it no longer uses."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def shared_network(ledger: Ledger, directory: Path) -> tuple[Network, int, int]:
    """The ledger's network, its version and a change seq, its stock mapped read-only from
    a snapshot of that version in ``directory`` (written by the first process to ask, under
    a file lock; older versions' snapshots are removed). Changes after the returned seq are
    in the ledger's change feed."""
    with _locked(directory):
        network, version, _ = ledger.load_network(stock=False)
        found = list(directory.glob(f"v{version}-s*"))
        if found:
            snapshot = found[0]  # one a version
        else:
            network, version, seq = _load_for_planning(ledger)
            snapshot = directory / f"v{version}-s{seq}"
            StockTable.of(network.stock).save(snapshot)
            for old in [*directory.glob("v*"), *directory.glob(".*.partial")]:
                if old != snapshot:
                    shutil.rmtree(old, ignore_errors=True)  # mapped copies stay readable
        seq = int(snapshot.name.rsplit("-s", 1)[1])
        return replace(network, stock=StockTable.open(snapshot)), version, seq
