"""The application layer: one method per use case, between the gRPC servicers and the
engine and ledger. It knows neither protobuf nor gRPC: servicers turn each request into a
command (``omniroute.server.requests``, every field violation listed), call one method
here, and turn its typed result into the response (``omniroute.server.convert``).

A PlanOrder reads top to bottom: the planner is chosen when the request is read (the served
network or an inline one), the solve budget is made once from the request's timeout and the
call's deadline (:func:`budget_for`), the order is prepared (its problem and bounds), and
the search left decides, before it starts, whether it runs on the event loop (no search, or
a small one) or on the planning pool (a large DP, enumeration or CP-SAT), so slow orders
never hold up fast ones. With ``reserve`` the plan is held by :meth:`Application._hold`, the
one plan-and-hold loop with its shortage retries, shared with RerouteOrder. Idempotent
answers are stored by the ledger as versioned JSON of these results
(:mod:`omniroute.ledger.codec`), in the transaction of the change they answer.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from omniroute.availability import (
    DEFAULT_MAX_NODES,
    DEFAULT_MAX_PICKUP_DISTANCE_KM,
    Availability,
)
from omniroute.backorders import in_parts
from omniroute.budget import Budget
from omniroute.inbound import inbound_node_ids
from omniroute.joint import DEFAULT_UNFILLED_PENALTY, JointResult
from omniroute.ledger import (
    ChangedConcurrently,
    Ledger,
    NotHeld,
    OperationError,
    OperationRecord,
    OrderPage,
    OrderRecord,
    OrderState,
    OrderView,
    Rejection,
    RejectionReason,
    Reservation,
    ReservationLine,
    ReservationNotHeld,
    ReservationState,
    ReturnRecord,
    Shortage,
    UnknownOperation,
    codec,
    new_reservation_id,
    plan_lines,
)
from omniroute.ledger.errors import InboundHeld
from omniroute.ledger.inbound import Preview, Repromise
from omniroute.ledger.operations import OperationPage
from omniroute.ledger.ship_days import ship_days_of
from omniroute.ledger.stock import StockPage
from omniroute.model import (
    Channel,
    InboundSupply,
    Location,
    Network,
    Order,
    OrderLine,
    PlanResult,
    Policy,
    StockChange,
    StockPosition,
    ValidationError,
)
from omniroute.optimizer import DEFAULT_TIME_LIMIT
from omniroute.planner import PlannedInParts, Planner, PreparedPlan, Quote
from omniroute.reroute import repromise
from omniroute.returns import ReturnItem
from omniroute.scenario import ReplayMode, ScenarioKpis
from omniroute.server.batching import MicroBatcher
from omniroute.server.live import LiveNetwork, Prices
from omniroute.server.metrics import Metrics

log = logging.getLogger("omniroute.server")
T = TypeVar("T")

ANSWER_MARGIN = 0.005  # seconds kept back from the deadline to send the answer
HOLD_ATTEMPTS = 4  # plan-and-hold attempts before ABORTED
INLINE_WORK = 50_000  # search work planned on the event loop (about a millisecond)
DEFAULT_TTL = 15 * 60.0  # seconds a hold lasts unless committed or released
DEFAULT_SOLVE_MEMORY_MB = 1024  # memory one order's search may use (serve --solve-memory-mb)


# ----------------------------------------------------------------------------- failures


class ServiceFailure(Exception):
    """A state-dependent failure of a use case; ``omniroute.server.errors`` gives its code."""

    reason = "FAILED"

    def __init__(self, message: str, metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.metadata = dict(metadata or {})


class NoForecast(ServiceFailure):
    """Look-ahead routing was asked for and no demand forecast is in force."""

    reason = "NO_FORECAST"


class StockChanged(ServiceFailure):
    """Stock kept changing between planning and holding: retry the call."""

    reason = "STOCK_CHANGED"


class DeadlineTooShort(ServiceFailure):
    """The call's deadline leaves no time to plan."""

    reason = "DEADLINE_TOO_SHORT"


class Overloaded(ServiceFailure):
    """The process sheds load: retry with backoff."""

    reason = "OVERLOADED"


def _still_held(record: OrderRecord, command: RerouteCommand) -> dict[str, int]:
    """The units a node rejects: those asked, or (none asked) all it still holds for the
    order; shipped or cancelled units cannot be rejected (:class:`NotHeld`). Units beyond
    what the plan has the node ship are left to the planner, which names them."""
    held = {
        line_id: units
        for (node_id, line_id), units in record.open_units().items()
        if node_id == command.node_id
    }
    planned = {
        line_id: units
        for (node_id, line_id), units in record.planned_units().items()
        if node_id == command.node_id
    }
    rejected = dict(command.rejected) if command.rejected else dict(held)
    if planned and not held:
        raise NotHeld(
            f"{command.node_id} holds nothing more of order {record.order_id}: what it was to "
            "ship has shipped or was cancelled",
            {"reservationId": record.reservation_id},
        )
    for line_id, units in sorted(rejected.items()):
        if held.get(line_id, 0) < units <= planned.get(line_id, 0):
            raise NotHeld(
                f"{command.node_id} holds {held.get(line_id, 0)} unit(s) of line {line_id} of "
                f"order {record.order_id} (the rest shipped or was cancelled), not {units}",
                {"reservationId": record.reservation_id},
            )
    return rejected


def budget_for(
    timeout: float | None, time_remaining: float | None, memory_mb: int | None = None
) -> Budget:
    """The solve budget: the smaller of the request's ``timeout`` (default 10 s) and the
    call's remaining time less :data:`ANSWER_MARGIN` to send the answer, and the memory one
    search may use (None: unbounded)."""
    seconds = DEFAULT_TIME_LIMIT if timeout is None else timeout
    if time_remaining is not None:
        if time_remaining <= ANSWER_MARGIN:
            raise DeadlineTooShort("the call's deadline has passed")
        seconds = min(seconds, time_remaining - ANSWER_MARGIN)
    return Budget(seconds, memory_mb)


def _stamped(result: PlanResult, prices: Prices | None) -> PlanResult:
    """A result with the version of the opportunity costs it was priced with, if any."""
    if prices is None:
        return result
    stats = replace(result.stats, opportunity_costs_version=prices.version)
    return replace(result, stats=stats)


# ----------------------------------------------------------------------------- commands


class Routing(enum.Enum):
    """PlanOrder's routing: AUTO is look-ahead when opportunity costs are in force."""

    AUTO = "ROUTING_UNSPECIFIED"
    MYOPIC = "MYOPIC"
    LOOKAHEAD = "LOOKAHEAD"


@dataclass(frozen=True)
class PlanOrderCommand:
    planner: Planner = field(repr=False, compare=False)
    order: Order
    policy: Policy = Policy.CHEAPEST
    options: bool = False
    explain: bool = False
    reserve: bool = False
    request_id: str = ""
    timeout: float | None = None
    inline_network: bool = False
    validate_only: bool = False
    routing: Routing = Routing.AUTO

    @property
    def fingerprint(self) -> bytes:
        """What makes two requests the same (not the timeout: a retry may wait longer)."""
        parts: list[object] = [self.order, self.policy, self.options, self.explain, self.reserve]
        if self.routing is not Routing.AUTO:
            parts.append(self.routing.value)
        return codec.fingerprint(parts)


@dataclass(frozen=True)
class PutForecastCommand:
    forecast: dict[str, object] = field(repr=False)  # proto3 JSON, checked
    theta: float  # 0: the default of the model that prices the stock (OpportunityCosts.theta)
    validate_only: bool = False


@dataclass(frozen=True)
class PlannedOrder:
    """A planned order, with the reservation holding its stock when it was reserved."""

    result: PlanResult
    reservation_id: str = ""


@dataclass(frozen=True)
class PlanOrdersCommand:
    planner: Planner = field(repr=False, compare=False)
    orders: tuple[Order, ...]
    unfilled_penalty: float = DEFAULT_UNFILLED_PENALTY
    timeout: float | None = None
    validate_only: bool = False


@dataclass(frozen=True)
class QuoteCommand:
    planner: Planner = field(repr=False, compare=False)
    lines: tuple[OrderLine, ...]
    destination: Location | None = None
    pickup_store_id: str = ""
    timeout: float | None = None
    create_time: str = ""  # RFC 3339: a dated quote; "": undated
    channel: Channel = Channel.WEB


@dataclass(frozen=True)
class AvailabilityCommand:
    planner: Planner = field(repr=False, compare=False)
    sku_ids: tuple[str, ...]
    store_id: str = ""
    location: Location | None = None
    max_nodes: int = DEFAULT_MAX_NODES
    max_pickup_distance_km: float = DEFAULT_MAX_PICKUP_DISTANCE_KM
    create_time: str = ""  # RFC 3339: dated offers; "": undated
    channel: Channel | None = None  # None: STORE with a store, else WEB


@dataclass(frozen=True)
class RerouteCommand:
    reservation_id: str
    node_id: str
    rejected: tuple[tuple[str, int], ...]  # (line id, units); empty: all the node ships
    reason: RejectionReason
    request_id: str

    @property
    def fingerprint(self) -> bytes:
        return codec.fingerprint(self)


@dataclass(frozen=True)
class OrderStatus:
    """A reserved order as it stands, with its reservation's state."""

    record: OrderRecord
    state: ReservationState


@dataclass(frozen=True)
class PutInboundCommand:
    """InventoryService.PutInboundSupply."""

    supplies: tuple[InboundSupply, ...]
    request_id: str = ""
    validate_only: bool = False

    @property
    def fingerprint(self) -> bytes:
        return codec.fingerprint([self.supplies, self.validate_only])


@dataclass(frozen=True)
class ReceiveInboundCommand:
    """InventoryService.ReceiveInboundSupply."""

    supply_id: str
    quantity: int
    request_id: str = ""

    @property
    def fingerprint(self) -> bytes:
        return codec.fingerprint([self.supply_id, self.quantity])


@dataclass(frozen=True)
class ShipCommand:
    """OrderService.ConfirmShipment: ``lines`` (line id, units), empty: all the node holds;
    ``shipped_at`` None: now."""

    order_id: str
    node_id: str
    lines: tuple[tuple[str, int], ...]
    tracking_number: str
    carrier: str
    shipped_at: float | None
    request_id: str

    @property
    def fingerprint(self) -> bytes:
        return codec.fingerprint(
            [
                self.order_id,
                self.node_id,
                self.lines,
                self.tracking_number,
                self.carrier,
                self.shipped_at,
            ]
        )


@dataclass(frozen=True)
class DeliverCommand:
    """OrderService.ConfirmDelivery (``delivered_at`` None: now)."""

    order_id: str
    tracking_number: str
    delivered_at: float | None
    request_id: str

    @property
    def fingerprint(self) -> bytes:
        return codec.fingerprint([self.order_id, self.tracking_number, self.delivered_at])


@dataclass(frozen=True)
class CancelCommand:
    """OrderService.CancelOrder (``line_ids`` empty: the whole order)."""

    order_id: str
    line_ids: tuple[str, ...]
    reason: str
    request_id: str

    @property
    def fingerprint(self) -> bytes:
        return codec.fingerprint([self.order_id, sorted(self.line_ids), self.reason])


@dataclass(frozen=True)
class ListOrdersCommand:
    """OrderService.ListOrders: by customer and/or node, in ``states`` (any when empty)."""

    customer_id: str
    node_id: str
    states: tuple[OrderState, ...]
    page_size: int
    after: str


@dataclass(frozen=True)
class ReturnCommand:
    planner: Planner = field(repr=False, compare=False)
    items: tuple[ReturnItem, ...]
    origin: Location | None
    store_id: str
    unit_value: float
    request_id: str
    order_id: str = ""  # the reserved order the items came from ("": not given)

    @property
    def fingerprint(self) -> bytes:
        given = [self.order_id] if self.order_id else []  # (as before order ids existed)
        return codec.fingerprint([self.items, self.origin, self.store_id, self.unit_value, *given])


@dataclass(frozen=True)
class UpdateStockCommand:
    changes: tuple[StockChange, ...]
    request_id: str = ""
    validate_only: bool = False

    @property
    def fingerprint(self) -> bytes:
        return codec.fingerprint([self.changes, self.validate_only])


@dataclass(frozen=True)
class ListStockCommand:
    clauses: tuple[tuple[str, str, Any], ...]  # (column, operator, value), all must hold
    page_size: int
    after: tuple[str, str] | None


@dataclass(frozen=True)
class PutNetworkCommand:
    network: Network
    validate_only: bool = False


@dataclass(frozen=True)
class ScenarioCommand:
    network: Network = field(repr=False, compare=False)  # the changed network
    orders: tuple[Order, ...]
    mode: ReplayMode
    display_name: str
    request_id: str
    changes: Any  # the changes as given (part of the fingerprint)

    @property
    def fingerprint(self) -> bytes:
        return codec.fingerprint([self.orders, self.mode, self.display_name, self.changes])


@dataclass(frozen=True)
class ScenarioProgress:
    """The metadata of a scenario operation."""

    display_name: str
    orders_done: int
    orders_total: int


# ----------------------------------------------------------------------------- the layer


class Application:
    """What the servicers of one process share: the ledger, the served network kept in step
    with it, the planning pool, the micro-batcher and the metrics."""

    def __init__(
        self,
        ledger: Ledger,
        metrics: Metrics,
        threads: int = 2,
        reservation_ttl: float = DEFAULT_TTL,
        batch_window_ms: float = 0.0,
        solve_memory_mb: int | None = DEFAULT_SOLVE_MEMORY_MB,
        shared_stock: Path | None = None,
    ) -> None:
        self.ledger = ledger
        self.solve_memory_mb = solve_memory_mb
        self.metrics = metrics
        self.reservation_ttl = reservation_ttl
        self.live = LiveNetwork(ledger, shared_stock)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="plan")
        self.scenario_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scenario")
        self.batcher = MicroBatcher(self, batch_window_ms) if batch_window_ms > 0 else None
        self._running: set[asyncio.Future[None]] = set()
        # records a state-changing call: (principal, method, request id, resource, outcome)
        self.audit: Callable[[str, str, str, str, str], Awaitable[None]] | None = None

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the planning pool."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn)

    def budget(self, timeout: float | None, time_remaining: float | None) -> Budget:
        """The solve budget of one call (:func:`budget_for`) with this server's memory bound."""
        return budget_for(timeout, time_remaining, self.solve_memory_mb)

    def close(self) -> None:
        self.live.close()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.scenario_pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------------- routing

    async def plan_order(self, command: PlanOrderCommand, budget: Budget) -> PlannedOrder:
        """Plan one order; with ``reserve``, plan and hold its stock atomically."""
        started = self.start_plan(command, budget)
        return started if isinstance(started, PlannedOrder) else await started

    def start_plan(
        self, command: PlanOrderCommand, budget: Budget
    ) -> PlannedOrder | Awaitable[PlannedOrder]:
        """Plan one order: the answer at once when it is planned here and now (no hold, no
        micro-batch, a search within ``INLINE_WORK``), else an awaitable of it (the planning
        pool or the batcher)."""
        if command.reserve:
            return self.run(lambda: self._plan_and_hold(command, budget))
        prices = self._prices(command)
        if (
            self.batcher is not None
            and prices is None
            and command.policy is Policy.CHEAPEST
            and not (command.options or command.explain or command.inline_network)
            and not in_parts(command.order, command.planner.index)  # joint: no parts
        ):
            return self._batched(command)
        prepared = command.planner.prepare(
            command.order,
            command.policy,
            options=command.options,
            validate=False,
            prices=None if prices is None else prices.matrix,
        )
        if prepared.search_work > INLINE_WORK:
            return self._solved_on_pool(prepared, command, budget, prices)
        result = _stamped(prepared.solve(budget, command.explain), prices)
        self.metrics.observe_plan(result)
        return PlannedOrder(result)

    def _prices(self, command: PlanOrderCommand) -> Prices | None:
        """The opportunity costs the order is routed with (None: myopic)."""
        if command.routing is Routing.MYOPIC or command.inline_network:
            return None
        prices = self.live.prices(wait=command.routing is Routing.LOOKAHEAD)
        if prices is None and command.routing is Routing.LOOKAHEAD:
            raise NoForecast(
                "look-ahead routing needs a demand forecast that fits the served network: "
                "put one with PutDemandForecast (or omniroute lookahead put-forecast)"
            )
        return prices

    async def _batched(self, command: PlanOrderCommand) -> PlannedOrder:
        assert self.batcher is not None
        return PlannedOrder(await self.batcher.plan(command.order))

    async def _solved_on_pool(
        self,
        prepared: PreparedPlan | PlannedInParts,
        command: PlanOrderCommand,
        budget: Budget,
        prices: Prices | None,
    ) -> PlannedOrder:
        result = _stamped(await self.run(lambda: prepared.solve(budget, command.explain)), prices)
        self.metrics.observe_plan(result)
        return PlannedOrder(result)

    def _plan_and_hold(self, command: PlanOrderCommand, budget: Budget) -> PlannedOrder:
        ledger = self.ledger
        stored = self._stored_answer(command.request_id, "PlanOrder", command.fingerprint)
        if stored is not None:
            return codec.load_as(PlannedOrder, stored)

        prices = self._prices(command)

        def attempt(planner: Planner) -> PlannedOrder:
            result = planner.plan(
                command.order,
                command.policy,
                options=command.options,
                explain=command.explain,
                budget=budget,
                validate=False,
                prices=None if prices is None else prices.matrix,
            )
            result = _stamped(result, prices)
            self.metrics.observe_plan(result)
            if not result.plan.shipments:
                return PlannedOrder(result)  # nothing to hold
            answer = PlannedOrder(result, new_reservation_id())
            encoded = codec.dumps(answer)
            stored = ledger.reservations.reserve(
                answer.reservation_id,
                command.request_id,
                command.fingerprint,
                command.order.id,
                plan_lines(result.plan),
                self.reservation_ttl,
                encoded,
                order=(command.order, result.plan),
                ship_days=ship_days_of(result.plan, planner.index.nodes_by_id),
            )
            # A racing retry with the same request id may have stored the answer first.
            return answer if stored is encoded else codec.load_as(PlannedOrder, stored)

        return self._hold(attempt, {"orderId": command.order.id})

    def _hold(self, attempt: Callable[[Planner], T], metadata: Mapping[str, str]) -> T:
        """Plan on the current ATP and hold, again on fresh ATP when the ledger reports a
        shortage (another caller took the stock since), up to :data:`HOLD_ATTEMPTS` times."""
        for _ in range(HOLD_ATTEMPTS):
            try:
                return attempt(self.live.planner())
            except (Shortage, ChangedConcurrently):
                continue
            finally:
                self.live.refresh(force=True)
        raise StockChanged(
            f"stock changed while planning {HOLD_ATTEMPTS} times in a row; retry the call",
            metadata,
        )

    def _stored_answer(self, request_id: str, method: str, fingerprint: bytes) -> bytes | None:
        from omniroute.ledger import idempotency

        with self.ledger.db.read() as tx:
            return idempotency.seen(tx, request_id, method, fingerprint)

    async def plan_orders(self, command: PlanOrdersCommand, budget: Budget) -> JointResult:
        """Allocate a batch jointly (nothing is held)."""
        return await self.run(
            lambda: command.planner.allocate(
                command.orders,
                unfilled_penalty=command.unfilled_penalty,
                time_limit=max(0.5, budget.remaining()),
                validate=False,
            )
        )

    async def quote(self, command: QuoteCommand, budget: Budget) -> Quote:
        quote = await self.run(
            lambda: command.planner.quote(
                command.lines,
                command.destination,
                pickup_store_id=command.pickup_store_id,
                create_time=command.create_time,
                budget=budget,
                validate=False,
                channel=command.channel,
            )
        )
        return quote

    async def availability(self, command: AvailabilityCommand) -> Availability:
        return await self.run(
            lambda: command.planner.availability(
                command.sku_ids,
                store_id=command.store_id,
                location=command.location,
                max_nodes=command.max_nodes,
                max_pickup_distance_km=command.max_pickup_distance_km,
                create_time=command.create_time,
                validate=False,
                channel=command.channel,
            )
        )

    async def reroute(self, command: RerouteCommand) -> OrderStatus:
        """Re-plan the units a node rejects and move their holds, atomically."""
        return await self.run(lambda: self._reroute(command))

    def _reroute(self, command: RerouteCommand) -> OrderStatus:
        ledger = self.ledger
        stored = self._stored_answer(command.request_id, "RerouteOrder", command.fingerprint)
        if stored is not None:
            return codec.load_as(OrderStatus, stored)

        def attempt(planner: Planner) -> OrderStatus:
            record = ledger.orders.get(reservation_id=command.reservation_id)
            rerouted = planner.reroute(
                record.order,
                record.plan,
                command.node_id,
                _still_held(record, command),
                avoid=[r.node_id for r in record.rejections],
            )
            rejection = Rejection(
                command.node_id, command.reason, tuple(sorted(rerouted.rejected.items()))
            )
            now = time.time()
            after = OrderRecord(
                record.order_id,
                record.reservation_id,
                record.order,
                rerouted.plan,
                tuple(sorted(set(record.rerouted) | rerouted.rerouted)),
                (
                    *record.rejections,
                    Rejection(rejection.node_id, rejection.reason, rejection.lines, now),
                ),
                now,
            )
            answer = OrderStatus(after, ReservationState.HELD)
            encoded = codec.dumps(answer)
            stored = ledger.reservations.reroute(
                record,
                command.request_id,
                command.fingerprint,
                [ReservationLine(*line) for line in rerouted.release],
                [ReservationLine(*line) for line in rerouted.hold],
                rerouted.plan,
                sorted(rerouted.rerouted),
                rejection,
                encoded,
                ship_days=ship_days_of(
                    rerouted.plan,
                    planner.index.nodes_by_id,
                    only={s.node_id for s in rerouted.plan.shipments}
                    - {s.node_id for s in record.plan.shipments},
                ),
            )
            return answer if stored is encoded else codec.load_as(OrderStatus, stored)

        return self._hold(attempt, {"reservationId": command.reservation_id})

    async def order_status(self, order_id: str) -> OrderStatus:
        def read() -> OrderStatus:
            record = self.ledger.orders.get(order_id=order_id)
            reservation = self.ledger.reservations.get(record.reservation_id)
            return OrderStatus(record, reservation.state)

        return await self.run(read)

    # ------------------------------------------------------------------------- inbound

    async def put_inbound(self, command: PutInboundCommand) -> list[InboundSupply]:
        """Create or replace supplies in transit; the planner promises them at once. Orders
        promised units a change takes away (a later date, fewer units) are promised again,
        in the same transaction (:meth:`_repromises`)."""
        self.live.planner()  # a network must exist

        def attempt(planner: Planner) -> list[InboundSupply]:
            preview = self.ledger.inbound.preview(command.supplies)
            try:
                return self.ledger.inbound.put(
                    command.supplies,
                    command.request_id,
                    command.fingerprint,
                    command.validate_only,
                    self._repromises(planner, preview) if preview.displaced else (),
                )
            except (InboundHeld, ReservationNotHeld) as raced:
                # an order was promised the supply, or a displaced hold ended, meanwhile
                raise ChangedConcurrently(str(raced)) from None

        return await self.run(lambda: self._hold(attempt, {}))

    def _repromises(self, planner: Planner, preview: Preview) -> list[Repromise]:
        """Plan again the units of the orders a supply change takes away, oldest order
        first, each on the stock the change, the release of those units and the orders
        before it leave: the rest of each plan stays (omniroute.reroute.repromise)."""
        index = planner.index
        first = min(index.arrivals, default=len(index.nodes))
        base = replace(index.network, nodes=index.network.nodes[:first], inbound_supply=())
        known = {n.id for n in base.nodes} | set(inbound_node_ids(preview.supplies))
        network = replace(
            base,
            inbound_supply=preview.supplies,
            stock=tuple(p for p in preview.positions if p.node_id in known),
        )
        after = Planner(network, validate=False)
        # the network's own nodes keep their indices: their full days and channel holds carry
        after.inventory.full_days = {
            node: days for node, days in planner.inventory.full_days.items() if node < first
        }
        after.inventory.channel_held = {
            sku: {
                channel: {node: units for node, units in held.items() if node < first}
                for channel, held in channels.items()
            }
            for sku, channels in planner.inventory.channel_held.items()
        }
        moved: dict[str, set[tuple[str, str]]] = {}
        for displaced in preview.displaced:
            moved.setdefault(displaced.reservation_id, set()).add(
                (displaced.node_id, displaced.sku_id)
            )
        records = sorted(
            (self.ledger.orders.get(reservation_id=rid) for rid in moved),
            key=lambda record: (self.ledger.reservations.get(record.reservation_id).created,),
        )
        repromises = []
        for record in records:
            sku_of = {line.id: line.sku_id for line in record.order.lines}
            units: dict[str, dict[str, int]] = {}
            for (node_id, line_id), quantity in record.open_units().items():
                if (node_id, sku_of[line_id]) in moved[record.reservation_id]:
                    units.setdefault(node_id, {})[line_id] = quantity
            again = repromise(after, record.order, record.plan, units)
            taken: dict[tuple[str, str], int] = {}
            for node_id, sku_id, quantity in again.hold:
                taken[(node_id, sku_id)] = taken.get((node_id, sku_id), 0) + quantity
            after.inventory.take(taken)
            after.inventory.count_shipments(  # the days they take count for the next ones
                (s.node_id, s.ship_date)
                for s in again.plan.shipments
                if s.node_id in again.rerouted
            )
            repromises.append(
                Repromise(
                    record,
                    tuple(ReservationLine(*line) for line in again.release),
                    tuple(ReservationLine(*line) for line in again.hold),
                    again.plan,
                    tuple(sorted(again.rerouted)),
                    tuple(
                        ship_days_of(
                            again.plan,
                            after.index.nodes_by_id,
                            only={s.node_id for s in again.plan.shipments}
                            - {s.node_id for s in record.plan.shipments},
                        )
                    ),
                )
            )
        return repromises

    async def inbound_supply(self, node_id: str = "") -> list[InboundSupply]:
        self.live.planner()
        return await self.run(lambda: self.ledger.inbound.pending(node_id))

    async def receive_inbound(self, command: ReceiveInboundCommand) -> list[StockPosition]:
        """Units of a supply arrived."""
        self.live.planner()
        positions = await self.run(
            lambda: self.ledger.inbound.receive(
                command.supply_id, command.quantity, command.request_id, command.fingerprint
            )
        )
        self.live.refresh(force=True)
        return positions

    # ------------------------------------------------------------------------- order life

    async def confirm_shipment(self, command: ShipCommand) -> OrderView:
        """A node shipped units of a reserved order (they leave on-hand)."""
        view = await self.run(
            lambda: self.ledger.fulfilment.ship(
                command.order_id,
                command.node_id,
                command.lines,
                command.tracking_number,
                command.carrier,
                command.shipped_at,
                command.request_id,
                command.fingerprint,
            )
        )
        self.live.refresh(force=True)
        return view

    async def confirm_delivery(self, command: DeliverCommand) -> OrderView:
        return await self.run(
            lambda: self.ledger.fulfilment.deliver(
                command.order_id,
                command.tracking_number,
                command.delivered_at,
                command.request_id,
                command.fingerprint,
            )
        )

    async def cancel_order(self, command: CancelCommand) -> OrderView:
        """Cancel lines of a reserved order: their unshipped units are released."""
        view = await self.run(
            lambda: self.ledger.fulfilment.cancel(
                command.order_id,
                command.line_ids,
                command.reason,
                command.request_id,
                command.fingerprint,
            )
        )
        self.live.refresh(force=True)
        return view

    async def order_view(self, order_id: str) -> OrderView:
        """An order and its timeline."""
        return await self.run(lambda: self.ledger.orders.status(order_id))

    async def list_orders(self, command: ListOrdersCommand) -> OrderPage:
        return await self.run(
            lambda: self.ledger.orders.page(
                command.customer_id,
                command.node_id,
                command.states,
                command.page_size,
                command.after,
            )
        )

    async def plan_return(self, command: ReturnCommand) -> ReturnRecord:
        """Plan where returned items go and record it (stock changes when received)."""
        plan = await self.run(
            lambda: command.planner.plan_return(
                command.items,
                origin=command.origin,
                store_id=command.store_id,
                unit_value=command.unit_value,
                validate=False,
            )
        )
        return await self.run(
            lambda: self.ledger.returns.plan(
                command.request_id, command.fingerprint, plan.legs, command.order_id
            )
        )

    # ------------------------------------------------------------------------- inventory

    async def update_stock(self, command: UpdateStockCommand) -> list[StockPosition]:
        self.live.planner()  # a network must exist
        positions = await self.run(
            lambda: self.ledger.stock.update(
                command.changes,
                validate_only=command.validate_only,
                request_id=command.request_id,
                fingerprint=command.fingerprint,
            )
        )
        if not command.validate_only:
            self.live.refresh(force=True)
        return positions

    async def get_stock(
        self, sku_ids: Sequence[str], node_ids: Sequence[str]
    ) -> list[StockPosition]:
        self.live.planner()
        return await self.run(lambda: self.ledger.stock.get(sku_ids, node_ids))

    async def list_stock(self, command: ListStockCommand) -> StockPage:
        self.live.planner()
        return await self.run(
            lambda: self.ledger.stock.page(command.clauses, command.page_size, command.after)
        )

    async def commit(self, reservation_id: str) -> Reservation:
        return await self._settle(self.ledger.reservations.commit, reservation_id)

    async def release(self, reservation_id: str) -> Reservation:
        return await self._settle(self.ledger.reservations.release, reservation_id)

    async def _settle(
        self, settle: Callable[[str], Reservation], reservation_id: str
    ) -> Reservation:
        reservation = await self.run(lambda: settle(reservation_id))
        self.live.refresh(force=True)
        return reservation

    async def reservation(self, reservation_id: str) -> Reservation:
        return await self.run(lambda: self.ledger.reservations.get(reservation_id))

    async def receive_return(self, return_id: str) -> list[StockPosition]:
        positions = await self.run(lambda: self.ledger.returns.receive(return_id))
        self.live.refresh(force=True)
        return positions

    # ------------------------------------------------------------------------- network

    async def put_network(self, command: PutNetworkCommand) -> int:
        """Replace the served network and its stock; the new version (0 for validate-only)."""
        if command.validate_only:
            return 0
        version = await self.run(lambda: self.ledger.put_network(command.network))
        self.live.refresh(force=True)
        return version

    def network(self) -> Network:
        """The served network (its stock as the planner sees it)."""
        return self.live.planner().network

    async def put_forecast(self, command: PutForecastCommand) -> Prices | None:
        """Store a demand forecast (none with ``validate_only``) and price the stock by it
        in this process; other processes on the ledger price it as they notice it."""
        if command.validate_only:
            return None
        await self.run(lambda: self.ledger.forecasts.put(command.forecast, command.theta))
        self.live.refresh(force=True)
        return await self.run(lambda: self.live.prices(wait=True))

    # ------------------------------------------------------------------------- operations

    async def start_scenario(self, command: ScenarioCommand) -> OperationRecord:
        """Start a scenario replay as a long-running operation (in this process)."""
        operations = self.ledger.operations
        progress = ScenarioProgress(command.display_name, 0, len(command.orders))
        record, new = await self.run(
            lambda: operations.start(
                "scenario",
                len(command.orders),
                codec.dumps(progress),
                command.request_id,
                command.fingerprint,
            )
        )
        if new:
            future = asyncio.get_running_loop().run_in_executor(
                self.scenario_pool, lambda: self._run_scenario(record.name, command)
            )
            self._running.add(future)
            future.add_done_callback(self._running.discard)
        return record

    def _run_scenario(self, name: str, command: ScenarioCommand) -> None:
        operations = self.ledger.operations
        last = [0.0]

        def progress(done: int, total: int) -> bool:
            now = time.monotonic()
            if now - last[0] < 0.2 and done < total:
                return False
            last[0] = now
            meta = codec.dumps(ScenarioProgress(command.display_name, done, total))
            return operations.progress(name, done, meta)  # True: cancel requested

        try:
            planner = Planner(command.network, validate=False)
            replay = planner.replay(
                command.orders, mode=command.mode, progress=progress, validate=False
            )
            done = len(replay.outcomes)
            meta = codec.dumps(ScenarioProgress(command.display_name, done, len(command.orders)))
            if done < len(command.orders):
                operations.finish(
                    name,
                    error=OperationError("CANCELLED", "the operation was cancelled"),
                    metadata=meta,
                )
            else:
                operations.finish(name, result=codec.dumps(replay.kpis), metadata=meta)
        except UnknownOperation:
            log.info("scenario %s was deleted while it ran; stopped", name)
        except ValidationError as error:
            violations = tuple((v.field, v.description) for v in error.violations)
            operations.finish(
                name, error=OperationError("INVALID_ARGUMENT", str(error), violations)
            )
        except Exception as error:  # recorded on the operation, not lost
            log.exception("scenario %s failed", name)
            operations.finish(
                name, error=OperationError("INTERNAL", f"{type(error).__name__}: {error}")
            )

    async def operation(self, name: str) -> OperationRecord:
        return await self.run(lambda: self.ledger.operations.get(name))

    async def operations(self, page_size: int, after: str) -> OperationPage:
        return await self.run(lambda: self.ledger.operations.list(page_size, after))

    async def cancel_operation(self, name: str) -> OperationRecord:
        return await self.run(lambda: self.ledger.operations.request_cancel(name))

    async def delete_operation(self, name: str) -> None:
        await self.run(lambda: self.ledger.operations.delete(name))

    async def wait_operation(self, name: str, seconds: float) -> OperationRecord:
        """The operation once done, or as it stands after ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            record = await self.operation(name)
            if record.done or time.monotonic() >= deadline:
                return record
            await asyncio.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


def kpis_of(record: OperationRecord) -> ScenarioKpis | None:
    """The KPIs a finished scenario operation stored."""
    return None if record.result is None else codec.load_as(ScenarioKpis, record.result)


def progress_of(record: OperationRecord) -> ScenarioProgress:
    if record.metadata is None:
        return ScenarioProgress("", record.progress_done, record.progress_total)
    return codec.load_as(ScenarioProgress, record.metadata)
