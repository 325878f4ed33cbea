"""What-if scenarios: change the network, replay a day of orders against it, measure KPIs.

A *changes* document (JSON) says what differs from the base network:

```json
{
  "closeNodes": ["DC-MEL"],
  "addNodes": [{"id": "DC-PER", "kind": "DC", "location": {...}, ...}],
  "addStock": [{"nodeId": "DC-PER", "skuId": "TEE-0001", "onHand": 100}],
  "carrierRates": {"byCarrier": {"Australia Post": 1.1}, "byService": {"ROAD-FREIGHT": 0.9}},
  "safetyStock": {"byKind": {"STORE": 2}, "byNode": {"ST-GEELONG": 0}},
  "processingDays": {"byKind": {"STORE": 1}, "byNode": {}},
  "capacity": {"byKind": {"STORE": 40}, "byNode": {"DC-SYD": 3000}},
  "splitPenalty": 3.0
}
```

Every key is optional. Rates scale both the base and the per-kg prices of every zone;
safety stock, processing days and capacity are set (node settings win over kind settings);
new nodes and stock are validated with the network. :func:`parse_changes` lists every
problem of a document at once.

:func:`replay` (:meth:`omniroute.Planner.replay`) plans the orders in time order with stock
depleting as orders ship and each node's daily shipment capacity shared over the replay:
``SEQUENTIAL`` plans each order optimally on what is left; ``BATCH`` allocates each window of
orders jointly. :func:`kpis` measures the outcomes (:class:`ScenarioKpis`).
"""

from __future__ import annotations

import enum
import json
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from omniroute.files import nodes_from_json, stock_from_json, timestamp_key
from omniroute.joint import DEFAULT_UNFILLED_PENALTY, allocate, plan_sequential
from omniroute.model import (
    Channel,
    FieldViolation,
    Location,
    Network,
    Node,
    NodeKind,
    Order,
    Plan,
    PlanStatus,
    StockPosition,
    ValidationError,
)
from omniroute.validation import network_violations

if TYPE_CHECKING:
    from omniroute.planner import Planner

STANDARD_PROMISE_DAYS = 5  # orders without a promise count as on time within this
KNOWN_KEYS = {
    "closeNodes",
    "addNodes",
    "addStock",
    "carrierRates",
    "safetyStock",
    "processingDays",
    "capacity",
    "splitPenalty",
}


@dataclass(frozen=True)
class Changes:
    """A validated changes document."""

    close_nodes: tuple[str, ...] = ()
    add_nodes: tuple[Node, ...] = ()
    add_stock: tuple[StockPosition, ...] = ()
    rate_by_carrier: Mapping[str, float] = field(default_factory=dict)
    rate_by_service: Mapping[str, float] = field(default_factory=dict)
    safety_by_kind: Mapping[NodeKind, int] = field(default_factory=dict)
    safety_by_node: Mapping[str, int] = field(default_factory=dict)
    processing_by_kind: Mapping[NodeKind, int] = field(default_factory=dict)
    processing_by_node: Mapping[str, int] = field(default_factory=dict)
    capacity_by_kind: Mapping[NodeKind, int] = field(default_factory=dict)
    capacity_by_node: Mapping[str, int] = field(default_factory=dict)
    split_penalty: float | None = None


def parse_changes(data: Any, network: Network) -> Changes:
    """Validate a changes document (the JSON of ``omniroute.v1.ScenarioChanges``) against
    ``network``; raise :class:`ValidationError` with every problem."""
    problems: list[FieldViolation] = []
    if not isinstance(data, dict):
        raise ValidationError([FieldViolation("(root)", "must be a JSON object")], "changes")
    for key in data:
        if key not in KNOWN_KEYS:
            problems.append(
                FieldViolation(key, f"unknown change; known: {', '.join(sorted(KNOWN_KEYS))}")
            )
    node_ids = {n.id for n in network.nodes}
    new_nodes, node_problems = nodes_from_json(data.get("addNodes", []), "addNodes")
    problems += node_problems
    all_ids = node_ids | {n.id for n in new_nodes}
    new_stock, stock_problems = stock_from_json(data.get("addStock", []), "addStock")
    problems += stock_problems

    close = data.get("closeNodes", [])
    if not isinstance(close, list):
        problems.append(FieldViolation("closeNodes", "must be a list of node ids"))
        close = []
    for i, node_id in enumerate(close):
        if not isinstance(node_id, str):
            problems.append(
                FieldViolation(f"closeNodes[{i}]", f"must be a node id, got {node_id!r}")
            )
        elif node_id not in node_ids:
            problems.append(FieldViolation(f"closeNodes[{i}]", f"unknown node {node_id!r}"))

    carriers = {s.carrier for s in network.carrier_services}
    services = {s.id for s in network.carrier_services}
    rates = _section(data, "carrierRates", ("byCarrier", "byService"), problems)
    by_carrier = _numbers(
        rates.get("byCarrier", {}),
        "carrierRates.byCarrier",
        carriers,
        "carrier",
        problems,
        positive=True,
    )
    by_service = _numbers(
        rates.get("byService", {}),
        "carrierRates.byService",
        services,
        "service",
        problems,
        positive=True,
    )
    settings = {}
    for key in ("safetyStock", "processingDays", "capacity"):
        section = _section(data, key, ("byKind", "byNode"), problems)
        kinds = {k.value for k in NodeKind}
        by_kind = _numbers(
            section.get("byKind", {}), f"{key}.byKind", kinds, "node kind", problems, integer=True
        )
        by_node = _numbers(
            section.get("byNode", {}), f"{key}.byNode", all_ids, "node", problems, integer=True
        )
        settings[key] = (
            {NodeKind(k): int(v) for k, v in by_kind.items()},
            {k: int(v) for k, v in by_node.items()},
        )
    penalty = data.get("splitPenalty")
    if penalty is not None and (
        not isinstance(penalty, int | float)
        or isinstance(penalty, bool)
        or not math.isfinite(penalty)
        or penalty < 0
    ):
        problems.append(FieldViolation("splitPenalty", "must be a number >= 0"))
    changes = Changes(
        close_nodes=tuple(close),
        add_nodes=tuple(new_nodes),
        add_stock=tuple(new_stock),
        rate_by_carrier=by_carrier,
        rate_by_service=by_service,
        safety_by_kind=settings["safetyStock"][0],
        safety_by_node=settings["safetyStock"][1],
        processing_by_kind=settings["processingDays"][0],
        processing_by_node=settings["processingDays"][1],
        capacity_by_kind=settings["capacity"][0],
        capacity_by_node=settings["capacity"][1],
        split_penalty=float(penalty) if isinstance(penalty, int | float) else None,
    )
    if not problems:  # the changed network must itself be valid
        problems += [
            FieldViolation(f"(changed network) {v.field}", v.description)
            for v in network_violations(apply_changes(network, changes))
        ]
    if problems:
        raise ValidationError(problems, "changes")
    return changes


def read_changes(source: str | Path | Mapping[str, Any] | None, network: Network) -> Changes:
    """A changes document from a JSON file (or already as a dict; None: no changes),
    validated against ``network``; :class:`ValidationError` lists every problem."""
    if source is None:
        data: Any = {}
    elif isinstance(source, Mapping):
        data = dict(source)
    else:
        try:
            data = json.loads(Path(source).read_text())
        except FileNotFoundError:
            raise ValidationError(
                [FieldViolation(str(source), "no such file")], "changes"
            ) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValidationError(
                [FieldViolation(str(source), f"not JSON: {error}")], "changes"
            ) from None
    return parse_changes(data, network)


def _section(data: dict, key: str, keys: tuple[str, ...], problems: list[FieldViolation]) -> dict:
    section = data.get(key, {})
    if not isinstance(section, dict):
        problems.append(FieldViolation(key, f"must be an object with {' / '.join(keys)}"))
        return {}
    for name in section:
        if name not in keys:
            problems.append(FieldViolation(f"{key}.{name}", f"unknown; use {' or '.join(keys)}"))
    return section


def _numbers(
    values: Any,
    where: str,
    known: set[str],
    what: str,
    problems: list[FieldViolation],
    positive: bool = False,
    integer: bool = False,
) -> dict[str, float]:
    if not isinstance(values, dict):
        problems.append(FieldViolation(where, "must be an object"))
        return {}
    result = {}
    for name, value in values.items():
        if name not in known:
            problems.append(FieldViolation(f"{where}.{name}", f"unknown {what} {name!r}"))
            continue
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if ok and integer:
            ok = float(value).is_integer() and value >= 0
        if ok and positive:
            ok = value > 0
        if not ok:
            kind = "a whole number >= 0" if integer else "a number > 0" if positive else "a number"
            problems.append(FieldViolation(f"{where}.{name}", f"must be {kind}, got {value!r}"))
            continue
        result[name] = float(value)
    return result


def apply_changes(network: Network, changes: Changes) -> Network:
    """The base network with the changes applied (a new object; the base is unchanged)."""

    def setting(
        node: Node, by_kind: Mapping[NodeKind, int], by_node: Mapping[str, int], current: int
    ) -> int:
        return by_node.get(node.id, by_kind.get(node.kind, current))

    nodes = []
    for node in (*network.nodes, *changes.add_nodes):
        nodes.append(
            replace(
                node,
                disabled=node.disabled or node.id in changes.close_nodes,
                processing_days=setting(
                    node,
                    changes.processing_by_kind,
                    changes.processing_by_node,
                    node.processing_days,
                ),
                daily_shipment_capacity=setting(
                    node,
                    changes.capacity_by_kind,
                    changes.capacity_by_node,
                    node.daily_shipment_capacity,
                ),
            )
        )
    kinds = {n.id: n.kind for n in nodes}
    services = []
    for service in network.carrier_services:
        factor = changes.rate_by_carrier.get(service.carrier, 1.0) * changes.rate_by_service.get(
            service.id, 1.0
        )
        zones = tuple(
            replace(z, base_cost=z.base_cost * factor, cost_per_kg=z.cost_per_kg * factor)
            for z in service.zones
        )
        services.append(replace(service, zones=zones))
    stock = []
    for position in (*network.stock, *changes.add_stock):
        node_id = position.node_id
        safety = changes.safety_by_node.get(
            node_id,
            changes.safety_by_kind.get(kinds.get(node_id, NodeKind.STORE), position.safety_stock),
        )
        stock.append(replace(position, safety_stock=safety))
    return replace(
        network,
        nodes=tuple(nodes),
        carrier_services=tuple(services),
        stock=tuple(stock),
        split_penalty=network.split_penalty
        if changes.split_penalty is None
        else changes.split_penalty,
    )


# ----------------------------------------------------------------------------- replay


class ReplayMode(enum.Enum):
    """How a replay plans: each order in turn, or windows of orders jointly."""

    SEQUENTIAL = "SEQUENTIAL"
    BATCH = "BATCH"


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    """One replayed order, compactly (what the KPIs and reports need)."""

    order_id: str
    channel: Channel
    status: PlanStatus
    units_ordered: int
    units_filled: int
    cost: float
    delivery_days: int
    promise_days: int
    shipments: tuple[tuple[str, int], ...]  # (node id, units)
    destination: tuple[float, float]  # (latitude, longitude)

    def to_json(self) -> dict[str, Any]:
        """One line of ``outcomes.jsonl`` (lowerCamelCase keys, enums by name)."""
        return {
            "orderId": self.order_id,
            "channel": self.channel.value,
            "status": self.status.value,
            "unitsOrdered": self.units_ordered,
            "unitsFilled": self.units_filled,
            "cost": round(self.cost, 2),
            "deliveryDays": self.delivery_days,
            "promiseDays": self.promise_days,
            "shipments": [list(s) for s in self.shipments],
            "destination": list(self.destination),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderOutcome:
        """Read :meth:`to_json` output."""
        return cls(
            order_id=str(data["orderId"]),
            channel=Channel(data["channel"]),
            status=PlanStatus(data["status"]),
            units_ordered=int(data["unitsOrdered"]),
            units_filled=int(data["unitsFilled"]),
            cost=float(data["cost"]),
            delivery_days=int(data["deliveryDays"]),
            promise_days=int(data["promiseDays"]),
            shipments=tuple((str(n), int(u)) for n, u in data["shipments"]),
            destination=(float(data["destination"][0]), float(data["destination"][1])),
        )


@dataclass(frozen=True, slots=True)
class ScenarioKpis:
    """The KPIs of a replay.

    ``cost_per_order``, ``split_rate`` and ``mean_delivery_days`` are over orders that
    shipped anything; ``on_time_rate`` is the share of *all* orders shipped complete within
    their promise (``standard_promise_days`` when they have none). Rates are fractions
    (0.25 is 25%; human displays show percent, see :data:`KPI_LABELS`); money is in the
    network's currency, rounded to cents.
    """

    orders: int
    orders_shipped: int
    orders_complete: int
    units_ordered: int
    units_filled: int
    total_cost: float
    cost_per_order: float
    split_rate: float
    mean_delivery_days: float
    on_time_rate: float
    standard_promise_days: int
    shipments_by_node: Mapping[str, int] = field(default_factory=dict)
    orders_by_delivery_days: Mapping[int, int] = field(default_factory=dict)  # days -> orders

    def headline(self) -> dict[str, float | int]:
        """The :data:`HEADLINE_KPIS`, by field name."""
        return {name: getattr(self, name) for name in HEADLINE_KPIS}

    def to_json(self) -> dict[str, Any]:
        """As written to ``kpis.json``: lowerCamelCase keys (days as string keys)."""
        data: dict[str, Any] = {}
        for name in self.__slots__:  # type: ignore[attr-defined]
            value = getattr(self, name)
            if name == "orders_by_delivery_days":
                value = {str(days): count for days, count in value.items()}
            elif isinstance(value, Mapping):
                value = dict(value)
            data[camel_case(name)] = value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScenarioKpis:
        """Read :meth:`to_json` output (unknown keys are ignored)."""
        values = {}
        for name in cls.__slots__:  # type: ignore[attr-defined]
            value = data[camel_case(name)]
            if name == "orders_by_delivery_days":
                value = {int(days): int(count) for days, count in value.items()}
            values[name] = value
        return cls(**values)


def camel_case(name: str) -> str:
    """``cost_per_order`` -> ``costPerOrder`` (the JSON names of files and the API)."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True, slots=True)
class Replay:
    """A replay's outcomes (in time order) and their KPIs."""

    outcomes: tuple[OrderOutcome, ...]
    kpis: ScenarioKpis


def replay(
    planner: Planner,
    orders: Sequence[Order],
    mode: ReplayMode = ReplayMode.SEQUENTIAL,
    window: int = 200,
    unfilled_penalty: float = DEFAULT_UNFILLED_PENALTY,
    progress: Callable[[int, int], bool | None] | None = None,
    time_limit: float = 2.0,
    prices: np.ndarray | None = None,
) -> Replay:
    """Replay validated ``orders`` in time order against ``planner``'s network, stock
    depleting and capacity shared (``time_limit``: seconds per joint window in batch mode);
    ``progress`` returning True stops early; ``prices``: look-ahead routing (see
    :meth:`omniroute.Planner.plan`). See :meth:`omniroute.Planner.replay`."""
    from omniroute.planner import Planner

    ordered = sorted(orders, key=lambda o: timestamp_key(o.create_time))  # stable for ties
    network, index = planner.network, planner.index
    stock = planner.inventory.copy()
    capacity = {n.id: n.daily_shipment_capacity for n in network.nodes if n.daily_shipment_capacity}
    plans: list[Plan] = []
    step = window if mode is ReplayMode.BATCH else 50
    for start in range(0, len(ordered), step):
        batch = ordered[start : start + step]
        if mode is ReplayMode.BATCH:
            result = allocate(
                batch,
                Planner(network, stock, index=index, validate=False),
                unfilled_penalty,
                time_limit=time_limit,
                capacity=capacity,
                prices=prices,
            )
            chunk = list(result.plans)
        else:
            chunk = plan_sequential(batch, index, stock, capacity, prices=prices)
        for plan in chunk:
            for shipment in plan.shipments:  # undated: the replay's one day of capacity
                if shipment.node_id in capacity and shipment.ship_date is None:
                    capacity[shipment.node_id] -= 1
            stock.ship(plan)  # dated shipments count against their ship dates
        plans += chunk
        if progress and progress(min(start + step, len(ordered)), len(ordered)):
            break
    nodes = {n.id: n for n in network.nodes}
    outcomes = tuple(_outcome(o, p, nodes) for o, p in zip(ordered, plans, strict=False))
    return Replay(outcomes, kpis(outcomes))


def outcomes_of(
    orders: Sequence[Order], plans: Sequence[Plan], network: Network
) -> tuple[OrderOutcome, ...]:
    """Planned orders as outcomes, to measure them with :func:`kpis`."""
    nodes = {n.id: n for n in network.nodes}
    return tuple(_outcome(o, p, nodes) for o, p in zip(orders, plans, strict=True))


def _outcome(order: Order, plan: Plan, nodes: Mapping[str, Node]) -> OrderOutcome:
    where = nodes[order.pickup_store_id].location if order.pickup_store_id else order.destination
    assert isinstance(where, Location)
    return OrderOutcome(
        order.id,
        order.channel,
        plan.status,
        sum(line.quantity for line in order.lines),
        plan.units,
        plan.total_cost,
        plan.delivery_days,
        order.promise_days,
        tuple((s.node_id, s.units) for s in plan.shipments),
        (where.latitude, where.longitude),
    )


HEADLINE_KPIS = (
    "orders",
    "orders_complete",
    "units_ordered",
    "units_filled",
    "total_cost",
    "cost_per_order",
    "split_rate",
    "mean_delivery_days",
    "on_time_rate",
)
"""The KPIs shown first in tables and reports (fields of :class:`ScenarioKpis`)."""

KPI_LABELS = {
    "orders": "orders",
    "orders_shipped": "orders shipped",
    "orders_complete": "orders complete",
    "units_ordered": "units ordered",
    "units_filled": "units filled",
    "total_cost": "total cost ({currency})",
    "cost_per_order": "cost per order ({currency})",
    "split_rate": "split rate (%)",
    "mean_delivery_days": "mean delivery days",
    "on_time_rate": "on time (%)",
    "standard_promise_days": "standard promise (days)",
}
"""Plain-word labels of the KPIs for human displays (tables, reports); ``{currency}`` is
the network's currency code. Rates (:data:`RATE_KPIS`) are shown as percent under a
"(%)" label, while files and the API keep them as fractions."""

RATE_KPIS = frozenset({"split_rate", "on_time_rate"})
"""KPIs that are rates: fractions 0..1 in files and the API, percent in human displays."""

MONEY_KPIS = frozenset({"total_cost", "cost_per_order"})
"""KPIs in the network's currency, rounded to cents."""


def kpi_label(name: str, currency: str = "") -> str:
    """The plain-word label of KPI ``name`` (snake_case field or lowerCamelCase key)."""
    field_name = snake_case(name)
    label = KPI_LABELS.get(field_name, field_name.replace("_", " "))
    return label.format(currency=currency).replace(" ()", "")


def kpi_display(name: str, value: float | int) -> float | int:
    """A KPI's value as a human display shows it: rates in percent (one decimal), money to
    cents, means to two decimals, counts unchanged."""
    field_name = snake_case(name)
    if field_name in RATE_KPIS:
        return round(100.0 * value, 1)
    if field_name in MONEY_KPIS:
        return round(value, 2)
    if isinstance(value, float):
        return round(value, 2)
    return value


def snake_case(name: str) -> str:
    """``costPerOrder`` -> ``cost_per_order`` (snake_case names pass unchanged)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def kpis(
    outcomes: Sequence[OrderOutcome], standard_promise: int = STANDARD_PROMISE_DAYS
) -> ScenarioKpis:
    """The KPIs of replayed (or planned) orders; see :class:`ScenarioKpis`."""
    shipped = [o for o in outcomes if o.units_filled > 0]
    cost = sum(o.cost for o in shipped)
    on_time = sum(
        1
        for o in outcomes
        if o.status is PlanStatus.COMPLETE
        and o.delivery_days <= (o.promise_days or standard_promise)
    )
    by_node: Counter[str] = Counter()
    for o in shipped:
        for node_id, _ in o.shipments:
            by_node[node_id] += 1
    days = Counter(o.delivery_days for o in shipped)
    n = len(outcomes)

    def share(count: float, among: int) -> float:
        return round(count / among, 6) if among else 0.0

    return ScenarioKpis(
        orders=n,
        orders_shipped=len(shipped),
        orders_complete=sum(o.status is PlanStatus.COMPLETE for o in outcomes),
        units_ordered=sum(o.units_ordered for o in outcomes),
        units_filled=sum(o.units_filled for o in outcomes),
        total_cost=round(cost, 2),
        cost_per_order=round(cost / len(shipped), 2) if shipped else 0.0,
        split_rate=share(sum(len(o.shipments) > 1 for o in shipped), len(shipped)),
        mean_delivery_days=share(sum(o.delivery_days for o in shipped), len(shipped)),
        on_time_rate=share(on_time, n),
        standard_promise_days=standard_promise,
        shipments_by_node=dict(sorted(by_node.items())),
        orders_by_delivery_days=dict(sorted(days.items())),
    )
