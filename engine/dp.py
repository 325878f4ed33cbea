"""Exact dynamic programme over nodes for orders with few units.

State: how many units of each distinct SKU are already covered (a vector ``c <= demand``),
optionally with the number of shipments used (when ``maxShipments`` binds). Nodes are added
one at a time; each either ships nothing or ships one load ``q`` (``c + q <= demand``,
``q <= ATP``) with its cheapest lane for that load. Because every node is decided once,
"at most one shipment per node" and ATP hold by construction, so the optimum over all
states is the exact optimum of the cost model (docs/cost-model.md) for the order, for every
delivery-day cap at once (one row per cap).

Values are integers: micro-units of currency times ``SHIP_SCALE`` plus the shipment count,
so that ties in cost are broken by fewer shipments. The split penalty is charged on every
shipment and refunded once at the end.

The programme runs in ``omniroute._core`` (``Dp``, over the candidates that
``omniroute._core.reduce`` keeps); this module holds its scales and its size.
"""

from __future__ import annotations

MONEY_SCALE = 1_000_000  # micro-units of currency
SHIP_SCALE = 1 << 10  # value = micros * SHIP_SCALE + shipments
INF = 1 << 61  # INF + INF still fits in int64


def pair_count(demand: tuple[int, ...], max_shipments: int) -> int:
    """Number of (state, load) transitions: the DP's work per node and cap."""
    count = 1
    for d in demand:
        count *= (d + 1) * (d + 2) // 2
    return (count - state_count(demand)) * max(1, max_shipments)


def state_count(demand: tuple[int, ...]) -> int:
    """Number of covered-demand vectors ``c <= demand``."""
    count = 1
    for d in demand:
        count *= d + 1
    return count
