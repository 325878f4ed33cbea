"""Channel ring-fencing: stock kept for one channel, and caps on what a channel may take,
compiled into the ATP each channel's orders see (docs/channel-fences.md).

At a position with on-hand ``H``, safety stock ``S`` and held units ``R`` (all channels),
of which ``R[c]`` are held by orders of channel ``c``:

* a **fence** keeps ``F[c] = units`` or ``floor(share * H)`` units for channel ``c``. Its own
  holds there count against it first, so ``max(0, F[c] - R[c])`` of it is still unused;
* a **cap** lets channel ``c`` hold at most ``floor(max_share * H)`` units of the position.

Channel ``c`` may then take

    ATP[c] = max(0, H - S - R - sum over c' != c of max(0, F[c'] - R[c']))

capped, when ``c`` has a cap there, at ``max(0, floor(max_share * H) - R[c])``. Without fences
and caps ``ATP[c]`` is the plain ATP, ``max(0, H - S - R)``. Fences are on the stock as it
stands: when a position's on-hand falls, a share fence falls with it, and a fixed fence
keeps its units until the stock runs below it.

The planner applies this per order (its channel's ATP, :meth:`Fences.stock_for`), the ledger
per hold (:meth:`Fences.position_atp`, the same arithmetic), so a plan is never made with
units the ledger would refuse. Where several entries of one channel and kind (fence or cap)
match a position, the most specific wins: a node over a node kind over every node, then a
SKU over every SKU.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from omniroute.model import Channel, ChannelFence, NodeKind

if TYPE_CHECKING:
    from omniroute.network_index import NetworkIndex, SkuStock

EPSILON = 1e-9  # shares times on-hand are rounded down after adding this (0.3 * 10 is 3)


@dataclass(frozen=True)
class _Rule:
    rank: int  # specificity: the highest matching rank wins
    nodes: np.ndarray  # bool per node index: where the rule applies
    sku: int  # SKU index, -1: every SKU
    units: int
    share: float  # a fence's share, or a cap's max share


class Fences:
    """The network's channel fences and caps, resolved per (channel, SKU) over the nodes
    holding the SKU (see the module docstring)."""

    def __init__(self, index: NetworkIndex) -> None:
        fences = index.network.channel_fences
        self.active = bool(fences)
        count = len(index.node_ids)
        kinds = [node.kind for node in index.network.nodes]
        rules: dict[tuple[Channel, bool], list[_Rule]] = {}
        for fence in fences:
            if fence.channel is None:
                continue
            rules.setdefault((fence.channel, fence.is_cap), []).append(
                _rule(fence, index, count, kinds)
            )
        for found in rules.values():
            found.sort(key=lambda rule: rule.rank)  # stable: equal scopes keep file order
        self._rules = rules
        self.fencing = tuple(sorted({c for c, cap in rules if not cap}, key=lambda c: c.value))
        # per (channel, cap, SKU): the node array resolved (kept, so compared by identity)
        # and its (units, share), or None when no entry applies to the SKU
        self._cache: dict[
            tuple[Channel, bool, int], tuple[np.ndarray, np.ndarray, np.ndarray] | None
        ] = {}

    def resolve(
        self, channel: Channel, cap: bool, sku: int, nodes: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(units, share) per node of ``nodes`` (node indexes) for the channel's fences
        (``cap`` False) or caps; None when no entry applies to the SKU."""
        key = (channel, cap, sku)
        cached = self._cache.get(key, ())
        if cached is None:
            return None
        if cached and cached[0] is nodes:
            return cached[1], cached[2]
        matching = [r for r in self._rules.get((channel, cap), ()) if r.sku in (sku, -1)]
        if not matching:
            self._cache[key] = None
            return None
        units = np.zeros(len(nodes), dtype=np.int64)
        share = np.zeros(len(nodes), dtype=np.float64)
        for rule in matching:  # least specific first: later rules overwrite
            where = rule.nodes[nodes]
            units[where] = rule.units
            share[where] = rule.share
        self._cache[key] = (nodes, units, share)
        return units, share

    def atp(
        self,
        channel: Channel,
        sku: int,
        nodes: np.ndarray,
        on_hand: np.ndarray,
        safety: np.ndarray,
        reserved: np.ndarray,
        held: Mapping[Channel, np.ndarray],
    ) -> np.ndarray | None:
        """``channel``'s ATP at each of ``nodes`` for SKU ``sku`` (``held``: units held per
        channel at each node); None when no fence or cap touches the SKU (plain ATP)."""
        left = on_hand - safety - reserved
        touched = False
        for other in self.fencing:
            if other is channel:
                continue
            rules = self.resolve(other, False, sku, nodes)
            if rules is None:
                continue
            touched = True
            units, share = rules
            fenced = units + np.floor(share * on_hand + EPSILON).astype(np.int64)
            own = held.get(other)
            unused = fenced - own if own is not None else fenced
            left = left - np.maximum(0, unused)
        atp = np.maximum(0, left)
        caps = self.resolve(channel, True, sku, nodes)
        if caps is not None:
            touched = True
            _, max_share = caps
            limit = np.floor(max_share * on_hand + EPSILON).astype(np.int64)
            own = held.get(channel)
            if own is not None:
                limit = limit - own
            capped = max_share > 0
            atp = np.where(capped, np.minimum(atp, np.maximum(0, limit)), atp)
        return atp if touched else None

    def stock_for(
        self, channel: Channel, sku: int, stock: SkuStock, held: Mapping[Channel, Mapping[int, int]]
    ) -> SkuStock:
        """The SKU's stock as ``channel``'s orders see it: the units fenced for other
        channels (or over the channel's cap) count as reserved."""
        if not self.active:
            return stock
        atp = self.atp(
            channel,
            sku,
            stock.nodes,
            stock.on_hand,
            stock.safety_stock,
            stock.reserved,
            _held_arrays(stock.nodes, held),
        )
        if atp is None:
            return stock
        from omniroute.network_index import SkuStock

        reserved = np.maximum(stock.reserved, stock.on_hand - stock.safety_stock - atp)
        return SkuStock(stock.nodes, stock.on_hand, stock.safety_stock, reserved)

    def position_atp(
        self,
        channel: Channel,
        node: int,
        sku: int,
        on_hand: int,
        safety: int,
        reserved: int,
        held: Mapping[Channel, int],
    ) -> int | None:
        """One position's ATP for ``channel`` (what the ledger checks when it holds); None
        when no fence or cap touches it."""
        one = np.array([node], dtype=np.int64)
        atp = self.atp(
            channel,
            sku,
            one,
            np.array([on_hand]),
            np.array([safety]),
            np.array([reserved]),
            {c: np.array([units]) for c, units in held.items()},
        )
        return None if atp is None else int(atp[0])

    def touches(self, node: int, sku: int) -> bool:
        """Whether some fence or cap applies at the position."""
        return any(
            r.sku in (sku, -1) and bool(r.nodes[node])
            for rules in self._rules.values()
            for r in rules
        )


def _rule(fence: ChannelFence, index: NetworkIndex, count: int, kinds: list[NodeKind]) -> _Rule:
    if fence.node_id:
        nodes = np.zeros(count, dtype=bool)
        nodes[index.node_pos[fence.node_id]] = True
        level = 2
    elif fence.node_kind is not None:
        nodes = np.array([kind is fence.node_kind for kind in kinds], dtype=bool)
        level = 1
    else:
        nodes = np.ones(count, dtype=bool)
        level = 0
    sku = index.sku_pos[fence.sku_id] if fence.sku_id else -1
    share = fence.max_share if fence.is_cap else fence.share
    return _Rule(level * 2 + (sku >= 0), nodes, sku, fence.units, share)


def _held_arrays(
    nodes: np.ndarray, held: Mapping[Channel, Mapping[int, int]]
) -> dict[Channel, np.ndarray]:
    """Units held per channel as arrays over ``nodes`` (sorted node indexes)."""
    arrays: dict[Channel, np.ndarray] = {}
    for channel, by_node in held.items():
        if not by_node:
            continue
        values = np.zeros(len(nodes), dtype=np.int64)
        keys = np.fromiter(by_node, dtype=np.int64, count=len(by_node))
        where = np.searchsorted(nodes, keys)
        found = where < len(nodes)
        found[found] = nodes[where[found]] == keys[found]
        np.add.at(values, where[found], np.fromiter(by_node.values(), dtype=np.int64)[found])
        arrays[channel] = values
    return arrays
