"""Future stock: supply in transit to a node, promised before it arrives (docs/future-stock.md).

The planner sees each (node, arrival date) of a network's inbound supply as an **inbound
node** of its own, ``NODE@YYYY-MM-DD``: a copy of the node (the same place, lanes and
costs) whose stock is the supply's units not yet received, and which ships no earlier than
the node would ship an order released on the arrival date (the arrival plus its processing
days, on its calendar). So the optimiser weighs a later date from supply in transit against
every other node exactly as it weighs any date, and its plans stay proven optimal. Inbound
nodes serve dated orders only (an order with a ``createTime``: its dates are what the
arrival is compared with); they hand nothing over in store and count no daily capacity.

The ledger keeps the inbound nodes' stock as ordinary positions (on-hand: the units in
transit; reserved: the units promised), so holds against future stock are the same atomic
holds as on the shelf, never more than is inbound; receiving a supply moves its units and
holds to the node itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date

from omniroute.model import InboundSupply, Network, StockPosition
from omniroute.stock_table import StockTable

SEPARATOR = "@"


def inbound_node_id(node_id: str, arrival: date) -> str:
    """The id of the inbound node of ``node_id`` for supply arriving on ``arrival``."""
    return f"{node_id}{SEPARATOR}{arrival.isoformat()}"


def split_inbound_node_id(node_id: str) -> tuple[str, date] | None:
    """(node id, arrival date) of an inbound node's id; None for any other id."""
    head, separator, tail = node_id.rpartition(SEPARATOR)
    if not separator or not head:
        return None
    try:
        return head, date.fromisoformat(tail)
    except ValueError:
        return None


def inbound_positions(supplies: Iterable[InboundSupply]) -> dict[tuple[str, str], int]:
    """Units in transit per (inbound node id, SKU id)."""
    units: dict[tuple[str, str], int] = {}
    for supply in supplies:
        assert supply.arrival_date is not None  # validated
        key = (inbound_node_id(supply.node_id, supply.arrival_date), supply.sku_id)
        units[key] = units.get(key, 0) + supply.quantity
    return units


def inbound_arrivals(supplies: Iterable[InboundSupply]) -> list[tuple[str, date]]:
    """The (node id, arrival date) of each inbound node, in the order they follow the
    network's own nodes."""
    return sorted({(s.node_id, s.arrival_date) for s in supplies if s.arrival_date})


def inbound_node_ids(supplies: Iterable[InboundSupply]) -> list[str]:
    """The ids of the inbound nodes, in the order they follow the network's own nodes."""
    return [inbound_node_id(node_id, arrival) for node_id, arrival in inbound_arrivals(supplies)]


def with_inbound_nodes(network: Network) -> tuple[Network, dict[int, date]]:
    """The network with its inbound nodes after its own (in id order), and the arrival date
    of each inbound node by node index. Stock positions for the supplies' units are added
    when the stock has none at any inbound node (a network file; the ledger keeps them)."""
    if not network.inbound_supply:
        return network, {}
    by_id = {node.id: node for node in network.nodes}
    arrivals = inbound_arrivals(network.inbound_supply)
    added = tuple(
        replace(
            by_id[node_id],
            id=inbound_node_id(node_id, arrival),
            name=f"{by_id[node_id].name or node_id} (inbound {arrival.isoformat()})",
            pickup=False,
            daily_shipment_capacity=0,
        )
        for node_id, arrival in arrivals
    )
    ids = {node.id for node in added}
    stock = network.stock
    node_ids = getattr(stock, "node_ids", None)
    held = set(node_ids) & ids if node_ids is not None else {p.node_id for p in stock} & ids
    if not held:
        positions = [
            StockPosition(node_id, sku_id, units, 0, 0)
            for (node_id, sku_id), units in sorted(
                inbound_positions(network.inbound_supply).items()
            )
        ]
        stock = (*stock, *positions) if node_ids is None else _append(stock, positions)
    first = len(network.nodes)
    augmented = replace(network, nodes=(*network.nodes, *added), stock=stock)
    return augmented, {first + i: arrival for i, (_, arrival) in enumerate(arrivals)}


def _append(table: Sequence[StockPosition], positions: list[StockPosition]) -> StockTable:
    """A columnar stock table with ``positions`` added."""
    return StockTable.of((*table, *positions))
