"""Domain model: the network, orders and plans as frozen, slotted dataclasses.

These mirror the messages of ``proto/omniroute/v1`` (their meaning is documented in
``docs/cost-model.md`` and the .proto files) without depending on protobuf;
``omniroute.server.convert`` maps between the two. Objects are immutable; derive changed
copies with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

from omniroute.calendars import Calendar


class NodeKind(enum.Enum):
    """What kind of place a node is."""

    DC = "DC"
    STORE = "STORE"
    THIRD_PARTY = "THIRD_PARTY"
    DROP_SHIP = "DROP_SHIP"


class Channel(enum.Enum):
    """Where an order was placed."""

    WEB = "WEB"
    STORE = "STORE"
    CALL_CENTER = "CALL_CENTER"
    MARKETPLACE = "MARKETPLACE"
    WHOLESALE = "WHOLESALE"


class Policy(enum.Enum):
    """How a plan is chosen (docs/cost-model.md, "Policies")."""

    CHEAPEST = "CHEAPEST"
    FASTEST = "FASTEST"
    BASELINE = "BASELINE"


class PlanStatus(enum.Enum):
    COMPLETE = "COMPLETE"
    PARTIAL = "PARTIAL"
    UNFULFILLABLE = "UNFULFILLABLE"


class Proof(enum.Enum):
    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"


class SearchLimit(enum.Enum):
    """What stopped a search before it proved its plan (``PlanStats.stopped_by``)."""

    TIME_LIMIT = "TIME_LIMIT"  # the budget's seconds (request timeout or call deadline)
    CANCELLED = "CANCELLED"  # the caller went away, or the server is shutting down
    MEMORY_LIMIT = "MEMORY_LIMIT"  # the search would need more than the budget's memory


class UnfilledReason(enum.Enum):
    OUT_OF_STOCK = "OUT_OF_STOCK"
    NO_SERVICE_WITHIN_PROMISE = "NO_SERVICE_WITHIN_PROMISE"
    EXCEEDS_MAX_SHIPMENTS = "EXCEEDS_MAX_SHIPMENTS"
    NO_SERVICE_TO_DESTINATION = "NO_SERVICE_TO_DESTINATION"
    PARTIAL_NOT_ALLOWED = "PARTIAL_NOT_ALLOWED"
    NOT_TOGETHER = "NOT_TOGETHER"


# --------------------------------------------------------------------------- network


@dataclass(frozen=True, slots=True)
class Location:
    """A point in decimal degrees."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Zone:
    """A distance band of a carrier service."""

    max_distance_km: float
    base_cost: float
    cost_per_kg: float
    transit_days: int


@dataclass(frozen=True, slots=True)
class CarrierService:
    """A carrier product with distance zones and a parcel weight limit (0 = none)."""

    id: str
    carrier: str
    name: str
    max_parcel_weight_kg: float
    zones: tuple[Zone, ...]
    calendar_id: str = ""  # its pickup and transit days ("": every day)


@dataclass(frozen=True, slots=True)
class Node:
    """A DC, store, 3PL warehouse or drop-ship vendor."""

    id: str
    kind: NodeKind
    location: Location
    handling_cost_per_shipment: float = 0.0
    handling_cost_per_unit: float = 0.0
    processing_days: int = 0
    service_ids: tuple[str, ...] = ()
    pickup: bool = False
    daily_shipment_capacity: int = 0
    disabled: bool = False
    name: str = ""
    time_zone: str = ""  # IANA id ("": the network's)
    calendar_id: str = ""  # its working days ("": every day)
    cutoff_time: time | None = None  # local time after which an order is released tomorrow


@dataclass(frozen=True, slots=True)
class Sku:
    id: str
    weight_kg: float
    name: str = ""
    ship_alone: bool = False  # each unit is a parcel of its own
    release_date: date | None = None  # pre-order: no unit ships before it (dated orders)


@dataclass(frozen=True, slots=True)
class StockPosition:
    """On-hand and safety stock of one SKU at one node; ``reserved`` is held by reservations."""

    node_id: str
    sku_id: str
    on_hand: int
    safety_stock: int = 0
    reserved: int = 0

    @property
    def atp(self) -> int:
        """Available to promise: ``max(0, on_hand - reserved - safety_stock)``."""
        return max(0, self.on_hand - self.reserved - self.safety_stock)


@dataclass(frozen=True, slots=True)
class StockChange:
    """A requested change to one position: set or add to on-hand, optionally set safety stock."""

    node_id: str
    sku_id: str
    set_on_hand: int | None = None
    delta_on_hand: int | None = None
    safety_stock: int | None = None


@dataclass(frozen=True, slots=True)
class NodeAdjustment:
    """A cost added to every shipment from one node (``node_id``) or from every node of one
    ``kind``; negative for a preferred node (docs/sourcing-profiles.md)."""

    cost_per_shipment: float
    node_id: str = ""
    kind: NodeKind | None = None


@dataclass(frozen=True, slots=True)
class SourcingProfile:
    """Merchant rules that shape the sourcing of the orders it applies to: an order uses
    the profile it names, else the first whose ``channels`` include its channel."""

    id: str
    channels: tuple[Channel, ...] = ()
    allowed_node_kinds: tuple[NodeKind, ...] = ()  # (): every kind
    excluded_node_ids: tuple[str, ...] = ()
    max_distance_km: float = 0.0  # 0: no limit
    max_shipments: int = 0  # for orders that set none; 0: no limit
    node_adjustments: tuple[NodeAdjustment, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelFence:
    """Stock kept for one channel, or a cap on what it may take, at some positions (see
    ``proto/omniroute/v1/network.proto``, ChannelFence, and docs/channel-fences.md).

    Exactly one of ``units``, ``share`` (a fence) and ``max_share`` (a cap) is set.
    """

    channel: Channel | None  # None only in an input that fails validation
    node_id: str = ""  # one node, or
    node_kind: NodeKind | None = None  # every node of a kind; neither: every node
    sku_id: str = ""  # "": every SKU
    units: int = 0
    share: float = 0.0
    max_share: float = 0.0

    @property
    def is_cap(self) -> bool:
        return self.max_share > 0


@dataclass(frozen=True, slots=True)
class InboundSupply:
    """Units on their way to a node (a purchase order, a transfer), expected on
    ``arrival_date``: promised to dated orders before they arrive, shipping no earlier than
    the arrival plus the node's processing days (docs/future-stock.md)."""

    id: str
    node_id: str
    sku_id: str
    quantity: int
    arrival_date: date | None  # None only in an input that fails validation


@dataclass(frozen=True, slots=True)
class Network:
    """Everything the optimiser needs to know about the fulfilment network."""

    nodes: tuple[Node, ...]
    carrier_services: tuple[CarrierService, ...]
    skus: tuple[Sku, ...]
    stock: Sequence[StockPosition] = ()  # a tuple, or a columnar omniroute.stock_table.StockTable
    split_penalty: float = 0.0
    currency: str = ""
    time_zone: str = ""  # IANA id ("": UTC): the nodes' default; dated orders' days count in it
    calendars: tuple[Calendar, ...] = ()
    sourcing_profiles: tuple[SourcingProfile, ...] = ()
    channel_fences: tuple[ChannelFence, ...] = ()
    inbound_supply: tuple[InboundSupply, ...] = ()


# --------------------------------------------------------------------------- orders


@dataclass(frozen=True, slots=True)
class OrderLine:
    id: str
    sku_id: str
    quantity: int
    ship_together_group: str = ""  # lines of one group ship from one node, together
    allow_backorder: bool = False  # units short within the promise may wait for supply


@dataclass(frozen=True, slots=True)
class Order:
    """A customer order; see ``proto/omniroute/v1/order.proto`` for each field's meaning."""

    id: str
    lines: tuple[OrderLine, ...]
    destination: Location | None = None
    channel: Channel = Channel.WEB
    promise_days: int = 0
    max_shipments: int = 0
    excluded_node_ids: tuple[str, ...] = ()
    allow_partial: bool = False
    pickup_store_id: str = ""
    create_time: str = ""  # RFC 3339, as in the JSON files; "" when unknown
    customer_id: str = ""  # the customer's id in the retailer's systems ("": not given)
    promise_date: date | None = None  # latest delivery date (needs create_time)
    sourcing_profile_id: str = ""  # "": the first profile for its channel, if any


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True, slots=True)
class ShipmentLine:
    line_id: str
    sku_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """The parts of a shipment's cost; they sum to the shipment cost."""

    carrier_parcels: float
    carrier_weight: float
    handling_shipment: float
    handling_units: float
    profile_adjustment: float = 0.0  # the sourcing profile's cost for the node

    @property
    def total(self) -> float:
        return (
            self.carrier_parcels
            + self.carrier_weight
            + self.handling_shipment
            + self.handling_units
            + self.profile_adjustment
        )


@dataclass(frozen=True, slots=True)
class Shipment:
    """One node shipping some units with one service ("" = handed over at the pick-up store)."""

    node_id: str
    service_id: str
    lines: tuple[ShipmentLine, ...]
    weight_kg: float
    parcels: int
    distance_km: float
    cost: float
    delivery_days: int
    breakdown: CostBreakdown
    ship_date: date | None = None  # dated orders only
    delivery_date: date | None = None
    backorder: bool = False  # supply in transit past the order's promise (backorder lines)
    preorder: bool = False  # units of a SKU not yet released on the order's date

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


@dataclass(frozen=True, slots=True)
class UnfilledLine:
    line_id: str
    quantity: int
    reason: UnfilledReason


@dataclass(frozen=True, slots=True)
class Plan:
    """A set of shipments for one order with its total cost and delivery days."""

    status: PlanStatus
    shipments: tuple[Shipment, ...] = ()
    total_cost: float = 0.0
    delivery_days: int = 0
    unfilled_lines: tuple[UnfilledLine, ...] = ()
    split_penalty_cost: float = 0.0
    delivery_date: date | None = None  # the latest shipment's, on a dated plan
    # the look-ahead's price of the units the plan uses (not in total_cost); 0 when myopic
    opportunity_cost: float = 0.0

    @property
    def objective(self) -> float:
        """What the optimiser minimised: the total cost plus the opportunity cost."""
        return self.total_cost + self.opportunity_cost

    @property
    def units(self) -> int:
        return sum(shipment.units for shipment in self.shipments)


@dataclass(frozen=True, slots=True)
class PlanStats:
    """How a plan was found and what is proven about it."""

    proof: Proof
    method: str
    solve_micros: int = 0
    gap: float | None = None
    lower_bound: float | None = None
    candidate_nodes: int = 0
    stopped_by: SearchLimit | None = None  # set when a limit left the plan unproven
    opportunity_costs_version: str = ""  # look-ahead: the prices' version (server-set)


@dataclass(frozen=True, slots=True)
class Alternative:
    name: str
    plan: Plan | None
    verdict: str


@dataclass(frozen=True, slots=True)
class Explanation:
    summary: str
    alternatives: tuple[Alternative, ...] = ()


@dataclass(frozen=True, slots=True)
class PlanResult:
    """The result of planning one order (the ``PlanOrderResponse`` of the API)."""

    order_id: str
    plan: Plan
    stats: PlanStats
    options: tuple[Plan, ...] = ()
    explanation: Explanation | None = None


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One problem with an input, located by its JSON field path (``nodes[3].location``)."""

    field: str
    description: str

    def __str__(self) -> str:
        # One line per problem whatever the input held: a newline or other control
        # character in a name or value is shown escaped.
        text = f"{self.field}: {self.description}"
        if text.isprintable():
            return text
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def counted(count: int, noun: str, plural: str = "") -> str:
    """``1 order``, ``2 orders``: a count with its noun in the right number (``plural``
    defaults to the noun with an "s")."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {plural or noun + 's'}"


def problem_count(count: int) -> str:
    """``1 problem``, ``2 problems``: a count of problems for a message."""
    return counted(count, "problem")


class ValidationError(Exception):
    """Raised at the edge when an input has violations; carries all of them."""

    def __init__(self, violations: list[FieldViolation], subject: str = "input") -> None:
        super().__init__(subject)
        self.violations = list(violations)
        self.subject = subject

    def __str__(self) -> str:
        lines = [f"{self.subject} is invalid ({problem_count(len(self.violations))}):"]
        lines += [f"  {violation}" for violation in self.violations]
        return "\n".join(lines)
