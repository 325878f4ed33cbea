"""The entry point of the engine: :class:`Planner`, one network version and a stock view,
with every job as a method of the same shape: validated input in, a typed result out."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from omniroute.availability import (
    DEFAULT_MAX_NODES,
    DEFAULT_MAX_PICKUP_DISTANCE_KM,
    Availability,
    availability,
)
from omniroute.backorders import in_parts, plan_in_parts
from omniroute.baseline import plan_baseline
from omniroute.budget import Budget
from omniroute.candidates import OrderProblem, build_problem
from omniroute.dating import DatesOutOfRange, Dating
from omniroute.explain import explain as explain_plan
from omniroute.joint import DEFAULT_TIME_LIMIT as JOINT_TIME_LIMIT
from omniroute.joint import DEFAULT_UNFILLED_PENALTY, JointResult, allocate
from omniroute.model import (
    Channel,
    FieldViolation,
    Location,
    Network,
    Order,
    OrderLine,
    Plan,
    PlanResult,
    PlanStats,
    PlanStatus,
    Policy,
    Shipment,
    UnfilledReason,
    ValidationError,
)
from omniroute.network_index import Inventory, NetworkIndex
from omniroute.optimizer import DEFAULT_TIME_LIMIT, Solve, prepare
from omniroute.plans import plan_from_shipments
from omniroute.reroute import Reroute, reroute
from omniroute.returns import DEFAULT_UNIT_VALUE, ReturnItem, ReturnPlan, plan_return
from omniroute.scenario import Replay, ReplayMode, replay
from omniroute.validation import network_violations, order_violations, orders_violations


@dataclass(frozen=True, slots=True)
class Quote:
    """Delivery options for a cart: fastest first, each cheaper than every faster one."""

    options: tuple[Plan, ...]
    stats: PlanStats


class PreparedPlan:
    """One order made ready to plan: its problem is built and the bounds are known, so
    :attr:`search_work` tells how much search :meth:`solve` will need (0: none)."""

    def __init__(self, planner: Planner, problem: OrderProblem, policy: Policy, options: bool):
        self.planner = planner
        self.problem = problem
        self.policy = policy
        self._solve: Solve | None = None
        if policy is not Policy.BASELINE:
            self._solve = prepare(problem, policy, options)

    @property
    def search_work(self) -> float:
        """Work units of search left after the bounds (0 when they decide; inf beyond the
        exact dynamic programme, i.e. enumeration or CP-SAT)."""
        return 0.0 if self._solve is None else self._solve.search_work

    def solve(self, budget: Budget | None = None, explain: bool = False) -> PlanResult:
        """The plan (proven optimal, or with its gap when ``budget`` ran out)."""
        try:
            result = plan_baseline(self.problem) if self._solve is None else self._solve.run(budget)
            if explain:
                explanation = explain_plan(self.problem, result, self.policy)
                result = replace(result, explanation=explanation)
        except OverflowError as error:
            raise _dates_out_of_range(self.problem.order, error) from None
        return result


class PlannedInParts:
    """An order with backorder lines or unreleased SKUs, planned part by part
    (:mod:`omniroute.backorders`); the same interface as :class:`PreparedPlan`. Its only
    option is its plan (when complete); explanations are not given for such orders."""

    search_work = float("inf")  # several searches: run where long work runs

    def __init__(
        self,
        planner: Planner,
        order: Order,
        policy: Policy,
        prices: np.ndarray | None,
        options: bool = False,
    ) -> None:
        self.planner = planner
        self.order = order
        self.policy = policy
        self.prices = prices
        self.options = options

    def solve(self, budget: Budget | None = None, explain: bool = False) -> PlanResult:
        planner, index = self.planner, self.planner.index

        def solve(part: Order, used: frozenset[str], supply_only: bool) -> PlanResult:
            on = planner
            if used or supply_only:
                skus = [x.sku_id for x in part.lines]
                on = planner.restricted(skus, used, shelf=not supply_only)
            return on._prepare_one(part, self.policy, False, self.prices).solve(budget)

        def rebuild(
            order: Order,
            shipments: Sequence[Shipment],
            reasons: Mapping[str, UnfilledReason],
            opportunity_cost: float,
            backorders: Collection[str],
        ) -> Plan:
            return plan_from_shipments(
                order,
                index,
                [
                    (s.node_id, s.service_id, {x.line_id: x.quantity for x in s.lines})
                    for s in shipments
                ],
                reasons,
                dating=Dating.of(order, index.dates, planner.inventory.full_days),
                opportunity_cost=opportunity_cost,
                backorders=backorders,
            )

        result = plan_in_parts(self.order, index, solve, rebuild)
        if self.options and result.plan.status is PlanStatus.COMPLETE:
            # one option: the plan (its parts' dates are what the customer is offered)
            result = replace(result, options=(result.plan,))
        return result


class Planner:
    """Plans orders against one network version and a stock view.

    Parameters
    ----------
    network
        The fulfilment network (nodes, carrier services, SKUs, stock).
    inventory
        The stock to plan against; by default the network's own stock positions.
    index
        A prebuilt index of ``network`` (to share one between planners).
    validate
        Check ``network`` first (default); pass False only for a network validated before.

    Raises
    ------
    ValidationError
        When ``validate`` and the network has problems (every one is listed).

    Examples
    --------
    >>> planner = Planner(read_network("network.json"))
    >>> result = planner.plan(order)
    >>> result.plan.total_cost, result.stats.proof
    """

    def __init__(
        self,
        network: Network,
        inventory: Inventory | None = None,
        index: NetworkIndex | None = None,
        validate: bool = True,
    ) -> None:
        if validate and index is None:
            violations = network_violations(network)
            if violations:
                raise ValidationError(violations, "network")
        self.index = index if index is not None else NetworkIndex(network)
        self.inventory = inventory if inventory is not None else Inventory.from_network(self.index)

    @property
    def network(self) -> Network:
        return self.index.network

    def restricted(
        self, sku_ids: Iterable[str], nodes: Iterable[str], shelf: bool = True
    ) -> Planner:
        """A planner on a copy of the stock in which these SKUs have no ATP at ``nodes``
        and, without ``shelf``, only in transit (:meth:`Inventory.restricted`)."""
        inventory = self.inventory.restricted(sku_ids, nodes, shelf)
        return Planner(self.network, inventory, self.index, validate=False)

    # ------------------------------------------------------------------------- one order

    def plan(
        self,
        order: Order,
        policy: Policy = Policy.CHEAPEST,
        *,
        options: bool = False,
        explain: bool = False,
        time_limit: float | None = None,
        budget: Budget | None = None,
        validate: bool = True,
        prices: np.ndarray | None = None,
    ) -> PlanResult:
        """Plan one order against the current stock.

        Parameters
        ----------
        order
            The order (validated against the network unless ``validate`` is False).
        policy
            CHEAPEST (default), FASTEST or BASELINE (the rule-based router, for comparison).
        options
            Also return the price/date options front (``PlanResult.options``).
        explain
            Compare the plan with the best single-node plan and the baseline.
        time_limit, budget
            Seconds the search may take (default 10), or a :class:`Budget` that can also be
            cancelled; after it the best plan found is returned with its gap.
        prices
            Look-ahead routing: a price per unit of each SKU at each node (a (nodes, SKUs)
            array in the index's order, >= 0; θ·λ from
            :func:`omniroute.lookahead.opportunity_costs`). The plan then minimises its
            cost plus the prices of the units it uses, proven exactly as without them;
            ``plan.opportunity_cost`` reports the prices apart from ``plan.total_cost``.

        Returns
        -------
        PlanResult
            The plan, the options, how it was proven (``stats.proof``, ``stats.gap``) and
            how long it took.

        Raises
        ------
        ValidationError
            When the order has problems against the network (every one is listed).
        """
        if budget is None and time_limit is not None:
            budget = Budget(time_limit)
        prepared = self.prepare(order, policy, options=options, validate=validate, prices=prices)
        return prepared.solve(budget, explain=explain)

    def prepare(
        self,
        order: Order,
        policy: Policy = Policy.CHEAPEST,
        *,
        options: bool = False,
        validate: bool = True,
        prices: np.ndarray | None = None,
    ) -> PreparedPlan | PlannedInParts:
        """The first, cheap half of :meth:`plan`: the order's problem and bounds, and how
        much search is left (see :class:`PreparedPlan`)."""
        if validate:
            self._check_order(order)
        if in_parts(order, self.index):
            return PlannedInParts(self, order, policy, prices, options)
        return self._prepare_one(order, policy, options, prices)

    def _prepare_one(
        self, order: Order, policy: Policy, options: bool, prices: np.ndarray | None
    ) -> PreparedPlan:
        try:
            priced = prices if policy is not Policy.BASELINE else None
            problem = build_problem(order, self.index, self.inventory, priced)
        except OverflowError as error:
            raise _dates_out_of_range(order, error) from None
        return PreparedPlan(self, problem, policy, options)

    def quote(
        self,
        lines: Sequence[OrderLine],
        destination: Location | None = None,
        *,
        pickup_store_id: str = "",
        create_time: str = "",
        time_limit: float | None = None,
        budget: Budget | None = None,
        validate: bool = True,
        channel: Channel = Channel.WEB,
    ) -> Quote:
        """Delivery options (price against arrival) for a cart; nothing is reserved.

        Parameters
        ----------
        lines
            The cart: SKUs and quantities.
        destination, pickup_store_id
            Where it goes: a location, or collection at a pick-up store.
        create_time
            When the customer looks (RFC 3339): the options are dated as an order placed
            then would be ("": days only).
        channel
            Where the customer buys: its channel fences and caps bound the stock used.

        Returns
        -------
        Quote
            The options front, fastest first.

        Raises
        ------
        ValidationError
            Unknown SKUs, bad quantities, no destination, not a pick-up store.
        """
        order = Order(
            "quote",
            tuple(lines),
            destination=destination,
            channel=channel,
            pickup_store_id=pickup_store_id,
            create_time=create_time,
        )
        if validate:
            violations = order_violations(order, self.index.lookup)
            violations = [v for v in violations if v.field != "id"]
            if violations:
                raise ValidationError(violations, "quote")
        try:
            result = self.plan(
                order, options=True, time_limit=time_limit, budget=budget, validate=False
            )
        except DatesOutOfRange:
            raise DatesOutOfRange("time", "quote") from None
        return Quote(result.options, result.stats)

    def availability(
        self,
        sku_ids: Sequence[str],
        *,
        store_id: str = "",
        location: Location | None = None,
        max_nodes: int = DEFAULT_MAX_NODES,
        max_pickup_distance_km: float = DEFAULT_MAX_PICKUP_DISTANCE_KM,
        create_time: str = "",
        validate: bool = True,
        channel: Channel | None = None,
    ) -> Availability:
        """Where the SKUs can be had ("save the sale"): in this store, at a pick-up store
        within ``max_pickup_distance_km`` (0: any distance), delivered; with a location,
        the ship-to-home options too. ``max_nodes`` (0: 20) caps the pick-up stores and the
        delivery nodes separately. With ``create_time`` (RFC 3339, when the customer looks)
        the offers carry delivery and ready dates. ``channel``: whose stock to show, its
        channel fences and caps applied (default STORE with a store, else WEB).

        Raises
        ------
        ValidationError
            Unknown SKUs or store, neither a store nor a location, negative ``max_nodes``
            or ``max_pickup_distance_km``.
        """
        if validate:
            violations = []
            if not sku_ids:
                violations.append(FieldViolation("skuIds", "at least one SKU is required"))
            for i, sku_id in enumerate(sku_ids):
                if sku_id not in self.index.sku_pos:
                    violations.append(FieldViolation(f"skuIds[{i}]", f"unknown SKU {sku_id!r}"))
            if store_id and store_id not in self.index.nodes_by_id:
                violations.append(FieldViolation("storeId", f"unknown node {store_id!r}"))
            if not store_id and location is None:
                violations.append(FieldViolation("location", "is required (or give storeId)"))
            if max_nodes < 0:
                violations.append(FieldViolation("maxNodes", "must be >= 0"))
            if not 0 <= max_pickup_distance_km < math.inf:
                violations.append(
                    FieldViolation(
                        "maxPickupDistanceKm", "must be a finite number >= 0 (0 = any distance)"
                    )
                )
            if violations:
                raise ValidationError(violations, "availability request")
        try:
            return availability(
                self,
                sku_ids,
                store_id,
                location,
                max_nodes or DEFAULT_MAX_NODES,
                max_pickup_distance_km,
                create_time,
                channel,
            )
        except (DatesOutOfRange, OverflowError):
            if not create_time:
                raise
            raise DatesOutOfRange("time", "availability request") from None

    def reroute(
        self,
        order: Order,
        plan: Plan,
        node_id: str,
        rejected: Mapping[str, int] | None = None,
        *,
        avoid: Sequence[str] = (),
    ) -> Reroute:
        """Re-plan the units ``node_id`` rejects (all it ships when ``rejected`` is empty),
        never using it or any node in ``avoid`` again; the rest of ``plan`` is kept.

        Raises
        ------
        ValidationError
            When the node ships nothing in the plan, or rejects more than it ships.
        """
        return reroute(self, order, plan, node_id, dict(rejected or {}), avoid)

    def plan_return(
        self,
        items: Sequence[ReturnItem],
        *,
        origin: Location | None = None,
        store_id: str = "",
        unit_value: float = DEFAULT_UNIT_VALUE,
        validate: bool = True,
    ) -> ReturnPlan:
        """Where returned items should go: back on the shelf where handed in, to the node
        that needs them most, or to a DC for inspection.

        Raises
        ------
        ValidationError
            Unknown SKUs, bad quantities, not a store, no origin, negative unit value.
        """
        if validate:
            violations = []
            if not items:
                violations.append(FieldViolation("lines", "at least one line is required"))
            for i, item in enumerate(items):
                if item.sku_id not in self.index.sku_pos:
                    violations.append(
                        FieldViolation(f"lines[{i}].skuId", f"unknown SKU {item.sku_id!r}")
                    )
                if item.quantity <= 0:
                    violations.append(FieldViolation(f"lines[{i}].quantity", "must be > 0"))
            if store_id:
                node = self.index.nodes_by_id.get(store_id)
                if node is None or node.kind.value != "STORE":
                    violations.append(FieldViolation("storeId", f"{store_id!r} is not a store"))
            elif origin is None:
                violations.append(FieldViolation("origin", "is required (or give storeId)"))
            if unit_value < 0:
                violations.append(FieldViolation("unitValue", "must be >= 0"))
            if violations:
                raise ValidationError(violations, "return")
        return plan_return(self.index, self.inventory, items, origin, store_id, unit_value)

    # ------------------------------------------------------------------------- many orders

    def allocate(
        self,
        orders: Sequence[Order],
        *,
        unfilled_penalty: float = DEFAULT_UNFILLED_PENALTY,
        time_limit: float = JOINT_TIME_LIMIT,
        capacity: Mapping[str, int] | None = None,
        lower_bound: bool = True,
        validate: bool = True,
    ) -> JointResult:
        """Allocate a batch jointly against shared stock and daily shipment capacity:
        minimum total cost plus ``unfilled_penalty`` per unit left unfilled, with a proven
        lower bound and the gap. The planner's stock is not changed.

        Raises
        ------
        ValidationError
            Problems with any order (paths ``orders[i]...``), a negative penalty.
        """
        if validate:
            violations = orders_violations(orders, self.network)
            if not orders:
                violations.append(FieldViolation("orders", "at least one order is required"))
            if unfilled_penalty < 0:
                violations.append(FieldViolation("unfilledPenalty", "must be >= 0"))
            if violations:
                raise ValidationError(violations, "orders")
        return allocate(
            orders,
            self,
            unfilled_penalty,
            time_limit=time_limit,
            capacity=dict(capacity) if capacity is not None else None,
            lower_bound=lower_bound,
        )

    def replay(
        self,
        orders: Sequence[Order],
        *,
        mode: ReplayMode = ReplayMode.SEQUENTIAL,
        window: int = 200,
        unfilled_penalty: float = DEFAULT_UNFILLED_PENALTY,
        time_limit: float = 2.0,
        progress: Callable[[int, int], bool | None] | None = None,
        validate: bool = True,
        prices: np.ndarray | None = None,
    ) -> Replay:
        """Replay orders in time order, stock depleting as they ship and each node's daily
        capacity shared (a what-if scenario; the planner's stock is not changed).

        Parameters
        ----------
        mode
            SEQUENTIAL: each order optimally in turn; BATCH: ``window`` orders at a time
            allocated jointly (``time_limit`` seconds per window).
        progress
            Called with (orders done, orders in all) after each chunk; returning True stops
            the replay (the result then covers the orders done).
        prices
            Look-ahead routing: every order (and window) priced as :meth:`plan` and
            :meth:`allocate` price them.

        Returns
        -------
        Replay
            One outcome per order (in time order) and the KPIs.
        """
        if validate:
            violations = orders_violations(orders, self.network)
            if violations:
                raise ValidationError(violations, "orders")
        return replay(self, orders, mode, window, unfilled_penalty, progress, time_limit, prices)

    # ------------------------------------------------------------------------- helpers

    def _check_order(self, order: Order) -> None:
        violations = order_violations(order, self.index.lookup)
        if violations:
            raise ValidationError(violations, f"order {order.id or '(no id)'}")


__all__ = ["DEFAULT_TIME_LIMIT", "Planner", "PreparedPlan", "Quote"]


def _dates_out_of_range(order: Order, error: OverflowError) -> Exception:
    """What an overflow while planning ``order`` is: for a dated order, dates past the
    calendar (a :class:`~omniroute.dating.DatesOutOfRange` validation error, not a crash)."""
    return DatesOutOfRange() if order.create_time else error
