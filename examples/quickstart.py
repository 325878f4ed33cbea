"""Quick start: read a network and orders, plan each order, and look at what was proven.

Run from anywhere: ``python examples/quickstart.py`` (after ``make demo`` or any install of
omniroute). It plans the three orders of ``examples/data/orders.jsonl`` against
``examples/data/network.json``: a single-node order, a split order and a pick-up order.
"""

from pathlib import Path

import omniroute
from omniroute import Policy

DATA = Path(__file__).parent / "data"

network = omniroute.read_network(DATA / "network.json")  # validated: every problem listed
orders = omniroute.read_orders(DATA / "orders.jsonl", network)
planner = omniroute.Planner(network)

for order in orders:
    result = planner.plan(order)  # CHEAPEST; proven optimal or reported with its gap
    plan = result.plan
    print(
        f"{order.id}: {plan.status.value}, {plan.total_cost:.2f} {network.currency}, "
        f"{plan.delivery_days} day(s), {result.stats.proof.value} by {result.stats.method}"
    )
    for shipment in plan.shipments:
        units = ", ".join(f"{line.quantity} x {line.sku_id}" for line in shipment.lines)
        print(
            f"  {shipment.node_id} via {shipment.service_id or 'hand-over'}: {units} "
            f"({shipment.cost:.2f}, {shipment.delivery_days} day(s))"
        )

# The fastest plan, the price/date options and why this plan beats the obvious ones.
split = orders[1]
fastest = planner.plan(split, Policy.FASTEST)
print(
    f"\n{split.id} fastest: {fastest.plan.delivery_days} day(s) for {fastest.plan.total_cost:.2f}"
)
options = planner.plan(split, options=True).options
print("options:", ", ".join(f"{p.delivery_days} d for {p.total_cost:.2f}" for p in options))
explained = planner.plan(split, explain=True).explanation
assert explained is not None
print("why:", explained.summary)
