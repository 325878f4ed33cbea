"""omniroute: minimal-cost, proven-optimal split-fulfilment order routing.

The front door for Python users (no server needed):

>>> import omniroute
>>> network = omniroute.read_network("network.json")
>>> orders = omniroute.read_orders("orders.jsonl", network)
>>> planner = omniroute.Planner(network)
>>> result = planner.plan(orders[0])
>>> result.plan.total_cost, result.stats.proof
(21.35, <Proof.OPTIMAL: 'OPTIMAL'>)

:class:`Planner` does every job against one network and its stock, each a method of the
same shape (validated input in, a typed result out): :meth:`~Planner.plan`,
:meth:`~Planner.quote`, :meth:`~Planner.availability`, :meth:`~Planner.reroute`,
:meth:`~Planner.plan_return`, :meth:`~Planner.allocate` and :meth:`~Planner.replay`. The
model types are frozen dataclasses; files are read and written by :mod:`omniroute.files`.
See ``docs/python.md``.

Subpackages: :mod:`omniroute.server` (the gRPC service and the ``omniroute`` command),
:mod:`omniroute.ledger` (stock, reservations and the rest of what the service stores) and
:mod:`omniroute.v1` (the generated API modules).
"""

from omniroute.availability import Availability, Fulfilment, NodeOffer
from omniroute.budget import Budget
from omniroute.calendars import Calendar
from omniroute.files import (
    read_forecast,
    read_network,
    read_orders,
    write_forecast,
    write_network,
    write_orders,
)
from omniroute.joint import JointResult
from omniroute.lookahead import DemandForecast, DemandRegion, OpportunityCosts
from omniroute.model import (
    Alternative,
    CarrierService,
    Channel,
    ChannelFence,
    CostBreakdown,
    Explanation,
    FieldViolation,
    InboundSupply,
    Location,
    Network,
    Node,
    NodeAdjustment,
    NodeKind,
    Order,
    OrderLine,
    Plan,
    PlanResult,
    PlanStats,
    PlanStatus,
    Policy,
    Proof,
    SearchLimit,
    Shipment,
    ShipmentLine,
    Sku,
    SourcingProfile,
    StockChange,
    StockPosition,
    UnfilledLine,
    UnfilledReason,
    ValidationError,
    Zone,
)
from omniroute.planner import Planner, PreparedPlan, Quote
from omniroute.reroute import Reroute
from omniroute.returns import Action, Condition, ReturnItem, ReturnLegPlan, ReturnPlan
from omniroute.scenario import (
    Changes,
    OrderOutcome,
    Replay,
    ReplayMode,
    ScenarioKpis,
    apply_changes,
    read_changes,
)

__version__ = "0.2.0"

__all__ = [
    "Action",
    "Alternative",
    "Availability",
    "Budget",
    "Calendar",
    "CarrierService",
    "Changes",
    "Channel",
    "ChannelFence",
    "Condition",
    "CostBreakdown",
    "DemandForecast",
    "DemandRegion",
    "Explanation",
    "FieldViolation",
    "InboundSupply",
    "Fulfilment",
    "JointResult",
    "Location",
    "Network",
    "Node",
    "NodeAdjustment",
    "NodeKind",
    "NodeOffer",
    "OpportunityCosts",
    "Order",
    "OrderLine",
    "OrderOutcome",
    "Plan",
    "PlanResult",
    "PlanStats",
    "PlanStatus",
    "Planner",
    "Policy",
    "PreparedPlan",
    "Proof",
    "Quote",
    "Replay",
    "ReplayMode",
    "Reroute",
    "ReturnItem",
    "ReturnLegPlan",
    "ReturnPlan",
    "ScenarioKpis",
    "SearchLimit",
    "Shipment",
    "ShipmentLine",
    "Sku",
    "SourcingProfile",
    "StockChange",
    "StockPosition",
    "UnfilledLine",
    "UnfilledReason",
    "ValidationError",
    "Zone",
    "__version__",
    "apply_changes",
    "read_changes",
    "read_forecast",
    "read_network",
    "read_orders",
    "write_forecast",
    "write_network",
    "write_orders",
]
