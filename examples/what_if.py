"""What if we closed a DC? Replay a day of orders against the changed network and compare.

``Planner.replay`` plans the orders in time order with stock depleting and daily shipment
capacity shared; the result carries every order's outcome and the KPIs.
"""

import omniroute
from omniroute.demo_data import demo_dataset

network, orders = demo_dataset(seed=7, orders=400)  # the demo retailer, 400 orders
changes = omniroute.read_changes({"closeNodes": ["DC-SYD"]}, network)  # validated
closed = omniroute.apply_changes(network, changes)

base = omniroute.Planner(network).replay(orders).kpis
without = omniroute.Planner(closed).replay(orders).kpis
print(f"{'KPI':22} {'base':>10} {'no DC-SYD':>10}")
for name in (
    "orders_complete",
    "cost_per_order",
    "split_rate",
    "mean_delivery_days",
    "on_time_rate",
):
    print(f"{name:22} {getattr(base, name):10.3f} {getattr(without, name):10.3f}")
print(
    f"DC-SYD shipments: {base.shipments_by_node.get('DC-SYD', 0)} -> "
    f"{without.shipments_by_node.get('DC-SYD', 0)}"
)
