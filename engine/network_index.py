"""Hot per-node data as numpy arrays, built once per network version, and the stock ledger
view the planners read (ATP per node and SKU).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from omniroute import _core
from omniroute.dating import NetworkDates
from omniroute.fences import Fences
from omniroute.inbound import SEPARATOR, with_inbound_nodes
from omniroute.model import (
    CarrierService,
    Channel,
    Network,
    Node,
    NodeKind,
    Plan,
    StockPosition,
)
from omniroute.profiles import Sourcing
from omniroute.stock_table import StockTable
from omniroute.validation import lookup_of

NODE_KINDS = tuple(NodeKind)


class NetworkIndex:
    """Immutable array view of a :class:`~omniroute.model.Network` for vectorised planning.

    Parameters
    ----------
    network
        A validated network. Its stock is *not* part of the index; see :class:`Inventory`.
    """

    def __init__(self, network: Network) -> None:
        # supply in transit: one inbound node per (node, arrival date), after the network's
        # own (omniroute.inbound); ``arrivals``: their arrival dates by node index
        network, self.arrivals = with_inbound_nodes(network)
        self.inbound_nodes = np.array(sorted(self.arrivals), dtype=np.int64)
        self.network = network
        nodes = network.nodes
        self.nodes: tuple[Node, ...] = nodes
        self.node_ids: list[str] = [node.id for node in nodes]
        self.node_pos: dict[str, int] = {node_id: i for i, node_id in enumerate(self.node_ids)}
        self.nodes_by_id: dict[str, Node] = {node.id: node for node in nodes}
        self.latitude = np.array([n.location.latitude for n in nodes], dtype=np.float64)
        self.longitude = np.array([n.location.longitude for n in nodes], dtype=np.float64)
        self.handling_shipment = np.array(
            [n.handling_cost_per_shipment for n in nodes], dtype=np.float64
        )
        self.handling_unit = np.array([n.handling_cost_per_unit for n in nodes], dtype=np.float64)
        self.processing_days = np.array([n.processing_days for n in nodes], dtype=np.int64)
        self.usable = np.array([not n.disabled for n in nodes], dtype=bool)
        self.kind = np.array([NODE_KINDS.index(n.kind) for n in nodes], dtype=np.int8)
        self.pickup = np.array([n.pickup for n in nodes], dtype=bool)
        # each node's place in the order of node ids (for ties broken by id)
        self.id_rank = np.empty(len(nodes), dtype=np.int64)
        self.id_rank[np.argsort(np.array(self.node_ids, dtype=object), kind="stable")] = np.arange(
            len(nodes)
        )

        self.services: tuple[CarrierService, ...] = network.carrier_services
        self.service_pos = {service.id: s for s, service in enumerate(self.services)}
        self.offers = np.zeros((len(nodes), len(self.services)), dtype=bool)
        for i, node in enumerate(nodes):
            for service_id in node.service_ids:
                self.offers[i, self.service_pos[service_id]] = True
        # Per service: zone upper bounds and prices, for searchsorted zone lookup.
        self.zone_max = [np.array([z.max_distance_km for z in s.zones]) for s in self.services]
        self.zone_base = [np.array([z.base_cost for z in s.zones]) for s in self.services]
        self.zone_per_kg = [np.array([z.cost_per_kg for z in s.zones]) for s in self.services]
        self.zone_transit = [
            np.array([z.transit_days for z in s.zones], dtype=np.int64) for s in self.services
        ]
        # The same as padded (services, zones) tables for vectorised lookup; padding never
        # matches (max distance +inf is never "below" a distance; index = zones below).
        zones = max((len(z) for z in self.zone_max), default=0)
        self.zone_count = np.array([len(z) for z in self.zone_max], dtype=np.int64)
        self.zone_max_table = np.full((len(self.services), zones), np.inf)
        self.zone_base_table = np.zeros((len(self.services), zones + 1))
        self.zone_per_kg_table = np.zeros((len(self.services), zones + 1))
        self.zone_transit_table = np.zeros((len(self.services), zones + 1), dtype=np.int64)
        for s, count in enumerate(self.zone_count.tolist()):
            self.zone_max_table[s, :count] = self.zone_max[s]
            self.zone_base_table[s, :count] = self.zone_base[s]
            self.zone_per_kg_table[s, :count] = self.zone_per_kg[s]
            self.zone_transit_table[s, :count] = self.zone_transit[s]
        self.max_parcel = np.array(
            [
                s.max_parcel_weight_kg if s.max_parcel_weight_kg > 0 else np.inf
                for s in self.services
            ]
        )

        self.sku_ids: list[str] = [sku.id for sku in network.skus]
        self.sku_pos: dict[str, int] = {sku_id: k for k, sku_id in enumerate(self.sku_ids)}
        self.sku_weight = np.array([sku.weight_kg for sku in network.skus], dtype=np.float64)
        # the same weights as Python floats, for code that reads them one at a time
        self.sku_weight_kg: list[float] = [float(w) for w in self.sku_weight.tolist()]
        # pre-orders: the release date of each SKU that has one (omniroute.backorders)
        self.releases = {s.id: s.release_date for s in network.skus if s.release_date}
        self.sku_alone = np.array([sku.ship_alone for sku in network.skus], dtype=bool)
        self.has_alone = bool(self.sku_alone.any())
        self.sku_alone_list: list[bool] = self.sku_alone.tolist()
        self.split_penalty = float(network.split_penalty)
        self.dates = NetworkDates(network, nodes)  # time zones, cut-offs, calendars
        self.dates.arrivals = self.arrivals  # inbound nodes ship after their arrival
        # the inbound nodes of each node (an order excluding a node excludes them too)
        self.inbound_of: dict[int, list[int]] = {}
        for node in self.inbound_nodes.tolist():
            real = self.node_pos[self.node_ids[node].rpartition(SEPARATOR)[0]]
            self.inbound_of.setdefault(real, []).append(node)
        self.sourcing = Sourcing(network)  # the sourcing profiles, compiled
        self.capacity = np.array([n.daily_shipment_capacity for n in nodes], dtype=np.int64)
        self.has_capacity = bool((self.capacity > 0).any())  # any daily shipment capacity
        self.lookup = lookup_of(network)  # ids for validating orders against this network
        self._core: _core.Network | None = None
        self._fences: Fences | None = None

    @property
    def fences(self) -> Fences:
        """The network's channel fences and caps, compiled (built on first use)."""
        if self._fences is None:
            self._fences = Fences(self)
        return self._fences

    @property
    def core(self) -> _core.Network:
        """The network as the C++ core reads it (built on first use)."""
        if self._core is None:
            self._core = _core.Network(
                self.latitude,
                self.longitude,
                self.handling_shipment,
                self.handling_unit,
                self.processing_days,
                self.usable,
                self.offers,
                self.zone_max_table,
                self.zone_base_table,
                self.zone_per_kg_table,
                self.zone_transit_table,
                self.zone_count,
                self.max_parcel,
            )
        return self._core


@dataclass(slots=True)
class SkuStock:
    """Stock of one SKU: the nodes holding it (ascending node index) and their quantities."""

    nodes: np.ndarray
    on_hand: np.ndarray
    safety_stock: np.ndarray
    reserved: np.ndarray

    def atp(self) -> np.ndarray:
        """``max(0, onHand - reserved - safetyStock)`` per holding node."""
        return np.maximum(0, self.on_hand - self.reserved - self.safety_stock)


class Inventory:
    """ATP per (node, SKU) for planning, stored per SKU.

    A planning-time view: the authoritative ledger with reservations lives in the server's
    store. Scenario replays and batch planning change it with :meth:`take`.

    It also knows the *full days* of nodes with a daily shipment capacity: the ship dates
    on which a node has no room for another shipment (``full_days``, node index -> dates),
    from the ledger (:meth:`set_full_days`) or counted as plans ship (:meth:`count_shipments`).
    Dated orders ship from such a node on its next working day with room.
    """

    def __init__(self, index: NetworkIndex, positions: Iterable[StockPosition]) -> None:
        self.index = index
        given = StockTable.of(positions)
        table = given.recoded(index.node_ids, index.sku_ids)
        unknown = table.unknown()
        if len(unknown):
            first = given[int(unknown[0])]
            raise ValueError(f"stock of unknown node or SKU: {first.node_id!r}, {first.sku_id!r}")
        table = table.by_sku()
        self.table = table  # shared, read-only: changes go to per-SKU copies
        starts = table.sku_starts().tolist()
        # views into the table: no copy of the stock (a table mapped from a file stays shared)
        self._stock: list[SkuStock] = [
            SkuStock(
                table.node[a:b], table.on_hand[a:b], table.safety_stock[a:b], table.reserved[a:b]
            )
            for a, b in zip(starts[:-1], starts[1:], strict=True)
        ]
        self.full_days: dict[int, frozenset[date]] = {}
        self._shipments: dict[tuple[int, date], int] = {}  # counted by count_shipments
        # units held per SKU, channel and node, where the network has fences (the ledger's)
        self.channel_held: dict[int, dict[Channel, dict[int, int]]] = {}
        self._fences = index.fences if index.fences.active else None  # None: no fences

    @classmethod
    def from_network(cls, index: NetworkIndex) -> Inventory:
        """The stock positions of the indexed network."""
        return cls(index, index.network.stock)

    def copy(self) -> Inventory:
        """An independent copy (for simulations that take stock): cheap, since every change
        replaces a SKU's arrays rather than writing into them."""
        clone = Inventory.__new__(Inventory)
        clone.index, clone.table, clone._stock = self.index, self.table, list(self._stock)
        clone.full_days, clone._shipments = dict(self.full_days), dict(self._shipments)
        clone.channel_held, clone._fences = self.channel_held, self._fences
        return clone

    def restricted(
        self, sku_ids: Iterable[str], nodes: Iterable[str], shelf: bool = True
    ) -> Inventory:
        """A copy in which these SKUs have no ATP at ``nodes`` (ids) and, without
        ``shelf``, at none of the network's own nodes: only supply in transit
        (:mod:`omniroute.inbound`), what a backorder may wait for."""
        clone = self.copy()
        closed = np.array([self.index.node_pos[n] for n in nodes], dtype=np.int64)
        inbound = self.index.inbound_nodes
        for sku_id in set(sku_ids):
            k = self.index.sku_pos[sku_id]
            stock = clone._stock[k]
            keep = ~np.isin(stock.nodes, closed)
            if not shelf:
                keep &= np.isin(stock.nodes, inbound)
            on_hand = np.where(keep, stock.on_hand, 0)
            clone._stock[k] = SkuStock(stock.nodes, on_hand, stock.safety_stock, stock.reserved)
        return clone

    def set_channel_holds(self, holds: Iterable[tuple[str, str, Channel, int]]) -> None:
        """Replace the units held per (node id, SKU id, channel) (the ledger's HELD
        reservations, by their orders' channels): what channel fences count against."""
        held: dict[int, dict[Channel, dict[int, int]]] = {}
        sku_pos, node_pos = self.index.sku_pos, self.index.node_pos
        for node_id, sku_id, channel, units in holds:
            if node_id in node_pos and sku_id in sku_pos:
                by_node = held.setdefault(sku_pos[sku_id], {}).setdefault(channel, {})
                by_node[node_pos[node_id]] = by_node.get(node_pos[node_id], 0) + units
        self.channel_held = held

    def sku_for(self, sku_index: int, channel: Channel) -> SkuStock:
        """The SKU's stock as orders of ``channel`` see it: with the network's channel
        fences and caps applied (omniroute.fences), else :meth:`sku`."""
        stock = self._stock[sku_index]
        if self._fences is None:
            return stock
        held = self.channel_held.get(sku_index, {})
        return self._fences.stock_for(channel, sku_index, stock, held)

    def set_full_days(self, full: Mapping[str, Iterable[date]]) -> None:
        """The full ship dates of each node (by node id; unknown ids are ignored: the
        ledger may still count days of a node an older network had)."""
        node_pos = self.index.node_pos
        self.full_days = {node_pos[n]: frozenset(d) for n, d in full.items() if n in node_pos}

    def ship(self, plan: Plan) -> None:
        """A plan ships: its units leave on-hand (:meth:`take`) and its dated shipments
        count against their nodes' days (:meth:`count_shipments`)."""
        taken: dict[tuple[str, str], int] = {}
        for shipment in plan.shipments:
            for line in shipment.lines:
                key = (shipment.node_id, line.sku_id)
                taken[key] = taken.get(key, 0) + line.quantity
        if taken:
            self.take(taken)
        self.count_shipments((s.node_id, s.ship_date) for s in plan.shipments)

    def shipments_on(self, node: int, day: date) -> int:
        """Shipments counted at the node of index ``node`` on ``day`` (by
        :meth:`count_shipments`; the ledger's full days are counted as full)."""
        if day in self.full_days.get(node, ()):
            return max(int(self.index.capacity[node]), self._shipments.get((node, day), 0))
        return self._shipments.get((node, day), 0)

    def count_shipments(self, shipments: Iterable[tuple[str, date | None]]) -> None:
        """Count shipped ``(node id, ship date)`` pairs against the nodes' daily capacity,
        as the ledger does for holds (replays and joint allocation); a day that reaches its
        node's capacity becomes full. Undated shipments (ship date None) do not count."""
        capacity = self.index.capacity
        for node_id, shipped in shipments:
            node = self.index.node_pos[node_id]
            if shipped is None or capacity[node] <= 0:
                continue
            key = (node, shipped)
            count = self._shipments.get(key, 0) + 1
            self._shipments[key] = count
            if count >= capacity[node]:
                self.full_days[node] = self.full_days.get(node, frozenset()) | {shipped}

    def sku(self, sku_index: int) -> SkuStock:
        return self._stock[sku_index]

    def atp_of(self, node_id: str, sku_id: str) -> int:
        """ATP of one position (0 when the node does not hold the SKU)."""
        stock = self._stock[self.index.sku_pos[sku_id]]
        node = self.index.node_pos[node_id]
        where = np.searchsorted(stock.nodes, node)
        if where < len(stock.nodes) and stock.nodes[where] == node:
            return int(stock.atp()[where])
        return 0

    def atp_map(self) -> dict[tuple[str, str], int]:
        """All positions as ``{(node_id, sku_id): atp}``."""
        result: dict[tuple[str, str], int] = {}
        for k, stock in enumerate(self._stock):
            for node, atp in zip(stock.nodes.tolist(), stock.atp().tolist(), strict=True):
                result[(self.index.node_ids[node], self.index.sku_ids[k])] = atp
        return result

    def set_positions(self, positions: Iterable[StockPosition]) -> None:
        """Replace the quantities of some positions (adding positions not held before; for
        a position given twice, the later wins).

        Copy-on-write per SKU: a plan running concurrently keeps a consistent view of each
        SKU's arrays. Each changed SKU is rebuilt once, however many of its positions
        changed, so a bulk import of millions of positions applies in seconds.
        """
        per_sku: dict[int, dict[int, tuple[int, int, int]]] = {}
        sku_pos, node_pos = self.index.sku_pos, self.index.node_pos
        for p in positions:
            per_sku.setdefault(sku_pos[p.sku_id], {})[node_pos[p.node_id]] = (
                p.on_hand,
                p.safety_stock,
                p.reserved,
            )
        for k, changes in per_sku.items():
            old = self._stock[k]
            nodes = np.fromiter(changes, dtype=np.int64, count=len(changes))
            values = np.array(list(changes.values()), dtype=np.int64).reshape(-1, 3)
            where = np.searchsorted(old.nodes, nodes)
            held = where < len(old.nodes)
            held[held] = old.nodes[where[held]] == nodes[held]
            arrays = [a.copy() for a in (old.nodes, old.on_hand, old.safety_stock, old.reserved)]
            for column in range(3):
                arrays[column + 1][where[held]] = values[held, column]
            added = ~held
            if added.any():
                arrays[0] = np.concatenate([arrays[0], nodes[added]])
                for column in range(3):
                    arrays[column + 1] = np.concatenate([arrays[column + 1], values[added, column]])
                order = np.argsort(arrays[0], kind="stable")
                arrays = [a[order] for a in arrays]
            self._stock[k] = SkuStock(*arrays)

    def take(self, quantities: Mapping[tuple[str, str], int]) -> None:
        """Remove shipped units from on-hand (e.g. when a replayed order ships).

        Copy-on-write per SKU, like :meth:`set_positions`: the table and other copies of
        this inventory are untouched.
        """
        per_sku: dict[int, list[tuple[int, int]]] = {}
        sku_pos, node_pos = self.index.sku_pos, self.index.node_pos
        for (node_id, sku_id), quantity in quantities.items():
            per_sku.setdefault(sku_pos[sku_id], []).append((node_pos[node_id], quantity))
        for k, taken in per_sku.items():
            stock = self._stock[k]
            nodes, units = zip(*taken, strict=True)
            on_hand = stock.on_hand.copy()
            np.subtract.at(on_hand, np.searchsorted(stock.nodes, nodes), units)
            self._stock[k] = SkuStock(stock.nodes, on_hand, stock.safety_stock, stock.reserved)
