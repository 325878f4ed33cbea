"""After the plan: a node rejects its pick, and a customer returns an item.

``Planner.reroute`` keeps the rest of the plan, never uses the rejecting node again and
re-plans only the missing units; ``Planner.plan_return`` sends returned units where they
are worth most (back on this store's shelf, to a store short of them, or to a DC).
"""

from pathlib import Path

import omniroute
from omniroute import Condition, ReturnItem

DATA = Path(__file__).parent / "data"
network = omniroute.read_network(DATA / "network.json")
planner = omniroute.Planner(network)
order = omniroute.read_orders(DATA / "orders.jsonl", network)[1]  # a coat and four jeans

plan = planner.plan(order).plan
print("planned:", ", ".join(f"{s.node_id} ({s.units} units)" for s in plan.shipments))
rejecting = plan.shipments[0].node_id
rerouted = planner.reroute(order, plan, rejecting)  # it cannot ship anything it was to ship
print(
    f"{rejecting} rejects: now",
    ", ".join(f"{s.node_id} ({s.units} units)" for s in rerouted.plan.shipments) or "nothing",
    f"[{rerouted.plan.status.value}]",
)

returned = planner.plan_return(
    [ReturnItem("COAT", 1, Condition.RESALEABLE), ReturnItem("TEE", 1, Condition.NEEDS_INSPECTION)],
    store_id="ST2",
)
for leg in returned.legs:
    print(
        f"return leg: {leg.action.value} at {leg.node_id}, cost {leg.cost:.2f}, "
        f"value {leg.value:.2f}"
    )
print(f"net cost of the return: {returned.net_cost:.2f}")
