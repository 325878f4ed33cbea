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
import hashlib
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from omniroute.files import forecast_from_json
from omniroute.inbound import inbound_node_ids
from omniroute.ledger import Ledger, NoNetwork
from omniroute.lookahead import opportunity_costs
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
PRICES_REFRESH = 60.0  # seconds between recomputations of the opportunity costs
BIG_MOVE = 0.01  # ... and sooner when this share of the stock positions changed since


@dataclass(frozen=True, slots=True)
class Prices:
    """Opportunity costs in force: θ·λ per unit of each SKU at each node, (nodes, SKUs) in
    the planner's index order, computed from forecast ``forecast_version`` on the stock as
    of change ``seq`` of network ``network_version`` (the network's version and its inbound
    nodes' version: prices have a row per node of the planner's index)."""

    matrix: np.ndarray
    forecast_version: int
    network_version: tuple[int, int]
    seq: int
    theta: float
    computed_at: float

    @property
    def version(self) -> str:
        """What a plan priced by them reports: forecast version and stock change seq."""
        return f"{self.forecast_version}.{self.seq}"

    @property
    def priced_positions(self) -> int:
        return int(np.count_nonzero(self.matrix))


class LiveNetwork:
    """The current planner for a ledger's network."""

    def __init__(self, ledger: Ledger, shared: Path | None = None) -> None:
        self.ledger = ledger
        self.shared = shared if fcntl is not None else None  # the snapshot directory
        self._lock = threading.Lock()
        self._planner: Planner | None = None
        self.version = -1
        self.inbound = -1  # the ledger's inbound version (omniroute.ledger.inbound)
        self.seq = -1
        self._token: int | None = None
        self._expiry_checked = 0.0
        self.forecast_version = 0  # the ledger's latest forecast (0: none put)
        self._prices: Prices | None = None
        self._pricing = threading.Lock()  # one computation of the prices at a time
        self._starting = threading.Lock()  # one pricing thread
        self._wake = threading.Event()
        self._pricer: threading.Thread | None = None
        self._closed = False
        self.prices_refresh = PRICES_REFRESH

    def close(self) -> None:
        """Stop pricing in the background (before the ledger closes); a computation under
        way finishes, and its result is dropped."""
        self._closed = True
        self._wake.set()
        pricer = self._pricer
        if pricer is not None:
            pricer.join(timeout=5.0)

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
            version, seq, self.forecast_version, inbound = self.ledger.versions()
            if version == 0:
                return
            fresh = False
            if version != self.version or inbound != self.inbound or self._planner is None:
                self.inbound = inbound
                network, self.version, self.seq = self._load()
                self._planner = Planner(network, validate=False)  # validated when it was put
                gc.freeze()  # long-lived: spare the garbage collector (see server.process)
                fresh = True
            if seq != self.seq:
                self.seq, positions = self.ledger.stock.changes_since(self.seq)
                self._planner.inventory.set_positions(positions)
                fresh = True
            if fresh and self._planner.index.fences.active:  # what channel fences count against
                self._planner.inventory.set_channel_holds(
                    self.ledger.reservations.held_by_channel()
                )
            if self._planner.index.has_capacity:  # the days full since (cheap: full ones only)
                today = datetime.now(UTC).date()
                self._planner.inventory.set_full_days(self.ledger.ship_days.full(today))

    # ------------------------------------------------------------------------- look-ahead

    def prices(self, wait: bool) -> Prices | None:
        """The opportunity costs in force for look-ahead routing; None when no forecast is
        in force (or, without ``wait``, none are ready for this network yet). As of the
        last :meth:`refresh`, which the caller made when it took its planner.

        They are recomputed in the background (:meth:`_price_loop`) when a new forecast
        is put, when :data:`BIG_MOVE` of the positions changed, and every
        :attr:`prices_refresh` seconds; until then the last ones stay in force, whole (the
        reference is swapped at once). ``wait``: compute them now when none are ready
        for the current forecast and network (the first look-ahead call pays for it).
        """
        planner = self._planner
        if self.forecast_version == 0 or planner is None:
            return None
        self._start_pricer()
        current = self._prices
        fresh = (
            current is not None
            and current.network_version == (self.version, self.inbound)
            and current.forecast_version == self.forecast_version
        )
        if fresh:
            if self._moved(current, planner):
                self._wake.set()
            return current
        if wait:
            return self._compute()
        self._wake.set()
        usable = current is not None and current.network_version == (self.version, self.inbound)
        return current if usable else None

    def warm(self) -> None:
        """At start: price the stock now when a forecast is in force (so that the first
        calls are routed look-ahead), and keep the prices fresh from then on."""
        if self.forecast_version and self._planner is not None:
            self._compute()
            self._start_pricer()

    def _moved(self, prices: Prices | None, planner: Planner) -> bool:
        """Whether the stock moved enough since ``prices`` were computed to price again."""
        if prices is None:
            return True
        positions = max(1, len(planner.inventory.table))
        return self.seq - prices.seq >= max(1, BIG_MOVE * positions)

    def _compute(self) -> Prices | None:
        """Price the stock now from the ledger's latest forecast (None: none in force or
        it no longer fits the network, which is logged) and swap the result in."""
        with self._pricing:
            stored = self.ledger.forecasts.latest()
            if stored is None:
                return None
            with self._lock:  # the planner, its version and a copy of its stock, together
                planner = self._planner
                if planner is None:
                    return None
                network_version, seq = (self.version, self.inbound), self.seq
                inventory = planner.inventory.copy()  # a consistent view, off the lock
            current = self._prices
            if current is not None and (
                current.forecast_version,
                current.network_version,
                current.seq,
            ) == (stored.version, network_version, seq):
                return current
            forecast, violations = forecast_from_json(stored.forecast, planner.network)
            if forecast is None:
                problems = "; ".join(f"{v.field}: {v.description}" for v in violations[:5])
                log.warning("forecast %d does not fit the network: %s", stored.version, problems)
                self._prices = None
                return None
            costs = opportunity_costs(planner.index, inventory, forecast)
            theta = stored.theta if stored.theta > 0 else costs.theta  # 0: the model's default
            prices = Prices(
                theta * costs.matrix(planner.index),
                stored.version,
                network_version,
                seq,
                theta,
                time.time(),
            )
            self._prices = prices
            log.info(
                "opportunity costs %s: %d positions priced", prices.version, prices.priced_positions
            )
            return prices

    def _start_pricer(self) -> None:
        if self._pricer is None and not self._closed:
            with self._starting:
                if self._pricer is None:
                    self._pricer = threading.Thread(
                        target=self._price_loop, name="omniroute-prices", daemon=True
                    )
                    self._pricer.start()

    def _price_loop(self) -> None:
        """Recompute the prices when woken (new forecast, stock moved) or on the timer."""
        while not self._closed:
            self._wake.wait(self.prices_refresh)
            self._wake.clear()
            if self._closed:
                return
            try:
                self.refresh()
                if self.forecast_version:
                    self._compute()
            except Exception:  # keep the last prices; try again on the next wake
                if self._closed:  # the ledger closed under the computation: done
                    return
                log.exception("recomputing the opportunity costs failed")

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
    node_ids = [n.id for n in network.nodes] + inbound_node_ids(network.inbound_supply)
    table = StockTable.of(network.stock).recoded(node_ids, [s.id for s in network.skus])
    return replace(network, stock=table.by_sku()), version, seq


def _label(network: Network, version: int) -> str:
    """What a stock snapshot is of: the network version and, with supply in transit, its
    inbound nodes (a digest of their ids: the rows of the snapshot's node coding)."""
    inbound = inbound_node_ids(network.inbound_supply)
    if not inbound:
        return str(version)
    digest = hashlib.sha256("\n".join(inbound).encode()).hexdigest()[:12]
    return f"{version}.{digest}"


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
        found = list(directory.glob(f"v{_label(network, version)}-s*"))
        if found:
            snapshot = found[0]  # one a version
        else:
            network, version, seq = _load_for_planning(ledger)
            snapshot = directory / f"v{_label(network, version)}-s{seq}"
            StockTable.of(network.stock).save(snapshot)
            for old in [*directory.glob("v*"), *directory.glob(".*.partial")]:
                if old != snapshot:
                    shutil.rmtree(old, ignore_errors=True)  # mapped copies stay readable
        seq = int(snapshot.name.rsplit("-s", 1)[1])
        return replace(network, stock=StockTable.open(snapshot)), version, seq
