"""The ledger: the served network, its stock, reservations, reserved orders, idempotency
keys, long-running operations and returns, behind one :class:`Database`."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from omniroute.ledger import forecasts
from omniroute.ledger import inbound as inbound_table
from omniroute.ledger import network as network_table
from omniroute.ledger.audit import Audit
from omniroute.ledger.database import Database, Transaction, open_database
from omniroute.ledger.errors import NoNetwork
from omniroute.ledger.events import Events
from omniroute.ledger.forecasts import Forecasts
from omniroute.ledger.fulfilment import Fulfilment
from omniroute.ledger.inbound import Inbound
from omniroute.ledger.operations import Operations
from omniroute.ledger.orders import Orders
from omniroute.ledger.positions import last_seq, replace_all, stock_table
from omniroute.ledger.reservations import Fenced, Reservations, carried_over, expire_due
from omniroute.ledger.returns import Returns
from omniroute.ledger.ship_days import ShipDays, recount_days
from omniroute.ledger.stock import Stock
from omniroute.model import Network
from omniroute.network_index import NetworkIndex
from omniroute.stock_table import StockTable
from omniroute.validation import require_valid_network


class Ledger:
    """Everything omniroute stores, by concern.

    Parameters
    ----------
    database
        The backend (see :func:`open_ledger` for the usual way to get one).

    Attributes
    ----------
    stock, reservations, orders, fulfilment, operations, returns, audit, events, ship_days,
    forecasts, inbound
        The concerns; each method is one transaction (``events``: the outbox every change
        appends to, :mod:`omniroute.ledger.events`).
    """

    def __init__(self, database: Database) -> None:
        self.db = database
        self._ids: tuple[int, tuple[set[str], set[str]]] | None = None
        self._fenced: tuple[tuple[int, int], Fenced | None] | None = None
        self.stock = Stock(database, self._known_ids)
        self.reservations = Reservations(database, self._fences)
        self.orders = Orders(database)
        self.fulfilment = Fulfilment(database)
        self.operations = Operations(database)
        self.returns = Returns(database)
        self.audit = Audit(database)
        self.events = Events(database)
        self.ship_days = ShipDays(database)
        self.forecasts = Forecasts(database)
        self.inbound = Inbound(database, self._known_ids, self.reservations)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------------- network

    def put_network(self, network: Network) -> int:
        """Replace the network and all stock (validated first); return the new version.

        Holds whose positions all still exist carry over (their units stay reserved); the
        others are released. Each position's history restarts with an IMPORT movement.
        Supply in transit: the network's ``inbound_supply`` when it has some, else the
        ledger's supplies whose node and SKU the new network still has.
        """
        require_valid_network(network)
        with self.db.write() as tx:
            now = time.time()
            expire_due(tx, now)
            supplies, in_transit = inbound_table.carried(tx, network)
            stock = StockTable.of(network.stock)
            if in_transit:
                stock = StockTable.of((*stock, *in_transit))
            reserved = carried_over(tx, stock, now)
            version = network_table.store(tx, replace(network, inbound_supply=()))
            replace_all(tx, stock, reserved, version)
            inbound_table.replace_rows(tx, supplies, now)
            recount_days(tx, network)
        return version

    def has_network(self) -> bool:
        with self.db.read() as tx:
            return network_table.version(tx) > 0

    def load_network(self, stock: bool = True) -> tuple[Network, int, int]:
        """The network, its version and the last change seq; its stock positions as a
        columnar table (:class:`~omniroute.stock_table.StockTable`), or none when not
        ``stock``."""
        with self.db.read() as tx:
            found = network_table.load(tx)
            if found is None:
                raise NoNetwork()
            network, version = found
            table = stock_table(tx) if stock else StockTable.of(())
            seq = last_seq(tx)
            supplies = tuple(inbound_table.supplies(tx, live_only=True))
        return replace(network, stock=table, inbound_supply=supplies), version, seq

    def state(self) -> tuple[int, int]:
        """(network version, last stock change seq): cheap, for refresh checks."""
        with self.db.read() as tx:
            return network_table.version(tx), last_seq(tx)

    def versions(self) -> tuple[int, int, int, int]:
        """:meth:`state`, the latest forecast version (0: none) and the inbound version
        (changes when the inbound nodes may have: omniroute.ledger.inbound), in one read."""
        with self.db.read() as tx:
            return (
                network_table.version(tx),
                last_seq(tx),
                forecasts.latest_version(tx),
                inbound_table.version(tx),
            )

    def change_token(self) -> int:
        """Changes whenever another connection commits (see :class:`Database`)."""
        return self.db.change_token()

    # ------------------------------------------------------------------------- checks

    def check(self) -> list[str]:
        """Integrity and reconciliation problems (empty when the ledger is sound)."""
        problems = list(getattr(self.db, "integrity_problems", lambda: [])())
        return problems + self.stock.reconciliation_problems()

    def _fences(self, tx: Transaction) -> Fenced | None:
        """The served network's channel fences, compiled once per network version and, for a
        network with fences, per version of its inbound nodes (None: it has none)."""
        network_version = network_table.version(tx)
        cached = self._fenced
        if cached is not None and cached[0][0] == network_version and cached[1] is None:
            return None  # no fences: every hold skips the check at the cost of one read
        version = (network_version, inbound_table.version(tx))
        if cached is not None and cached[0] == version:
            return cached[1]
        found = network_table.load(tx)
        fenced = None
        if found is not None and found[0].channel_fences:
            # with its inbound nodes, which the node-kind and every-node entries cover
            supplies = tuple(inbound_table.supplies(tx, live_only=True))
            index = NetworkIndex(replace(found[0], inbound_supply=supplies))
            fenced = (index, index.fences)
        self._fenced = (version, fenced)
        return fenced

    def _known_ids(self, tx: Transaction) -> tuple[set[str], set[str]]:
        """Node and SKU ids of the current network (cached per network version)."""
        version = network_table.version(tx)
        if self._ids is None or self._ids[0] != version:
            found = network_table.load(tx)
            if found is None:
                return set(), set()
            network = found[0]
            self._ids = (version, ({n.id for n in network.nodes}, {s.id for s in network.skus}))
        return self._ids[1]


def open_ledger(target: str | Path, synchronous: str = "FULL") -> Ledger:
    """The ledger at ``target`` (a SQLite file path, or a ``postgresql://`` URI), its
    schema migrated to the latest."""
    return Ledger(open_database(target, synchronous=synchronous))
