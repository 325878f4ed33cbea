"""Replaying orders under a routing policy, and what hindsight could have done.

*Replay* (:func:`replay`): orders in time order (``createTime``, then file order) against the
network's stock, depleting it; each order is planned as if it allowed partial plans, so a
policy ships every unit some node can ship when the order arrives (the engine's partial
plans ship the most units first) and loses only the rest, at the lost-sale cost ``P`` each.
Walk-ins (in-store sales, orders for pick-up at their store) come between the orders at
their times and take what their store's shelf has, at no shipping cost; what they do not
find is lost too. ``totalCost = shippingCost + P·lostUnits``.

*Hindsight* (:func:`hindsight`): all orders known in advance, on the same initial stock.

* ``clairvoyantLowerBound``: the LP relaxation of the joint allocation model
  (``omniroute.joint_model``) over every order with the unfilled penalty ``P``: no
  allocation in hindsight, with or without any rule, costs less.
* ``hindsightCost`` ``H``: the best allocation in hindsight in which, like the policies,
  every order ships the most units it could on the stock left when it arrives. The joint
  model plus running columns ``before_nk(t)`` / ``after_nk(t)`` (units of SKU ``k`` taken
  from node ``n`` by the orders before ``t`` / up to and including ``t``) and, per order
  (:func:`rule_of`):

  - an order that may ship from all its candidates (the *per-SKU rule*): a binary
    ``z_tk`` ("something of k is lost") with ``shipped_tk + d_tk z_tk >= d_tk`` and
    ``after_nk(t) >= atp_nk z_tk`` for every candidate ``n``: a unit is lost only when no
    candidate has any left;
  - an order with a shipment limit ``s`` (the *set rule*): ``shipped_t >= sum_k min(d_tk,
    sum_{n in S} (atp_nk - before_nk(t)))`` for every set ``S`` of ``s`` candidates (the
    minimum by a binary per term): it ships at least what any ``s`` nodes could send it,
    exact; when the sets are more than ``MAX_RULE_SETS``, single candidates only (a
    relaxation);
  - an order with ship-together groups: no rule (a relaxation).

  Solved by HiGHS within a time limit. ``H`` is exact when HiGHS proves it and every
  order's rule is exact; otherwise the result is a lower bound on ``H``, which makes a gap
  closed measured against it an underestimate.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import highspy
import numpy as np

from omniroute.candidates import OrderProblem
from omniroute.files import timestamp_key
from omniroute.joint_model import (
    INF,
    BatchModel,
    Rows,
    day_capacity_can_fill,
    days_within_room,
    new_highs,
)
from omniroute.lookahead import (
    DEFAULT_SAMPLES,
    DemandForecast,
    DemandRegion,
    LookaheadPolicy,
    basket_problem,
    default_lost_sale_cost,
    default_theta,
    estimate_forecast,
    node_regions,
    region_shipping,
    uses_baskets,
)
from omniroute.model import Location, Network, Order, PlanResult, Policy
from omniroute.network_index import NetworkIndex
from omniroute.planner import Planner

ORDERS_PER_PLACE = 5  # default regions: destinations when they average this many orders
MAX_RULE_SETS = 300  # sets of candidates the hindsight rule of a shipment limit may list

Route = Callable[[Planner, Order], PlanResult]
"""A routing policy: the plan of one order against the planner's current stock."""


def myopic(planner: Planner, order: Order) -> PlanResult:
    """Today's CHEAPEST on the stock left."""
    return planner.plan(order, Policy.CHEAPEST, validate=False)


@dataclass(frozen=True, slots=True)
class Replayed:
    """One policy's replay: its plans of the orders (in replay order) and what they cost.
    ``lost_units`` counts the orders' lost units and the walk-ins' (``walkin_lost``)."""

    orders: tuple[Order, ...]  # in replay order
    results: tuple[PlanResult, ...]
    shipping_cost: float
    lost_units: int
    total_cost: float
    walkin_units: int = 0  # units walk-ins asked for
    walkin_lost: int = 0  # ... of which their store did not have


def replay(
    network: Network,
    orders: Sequence[Order],
    route: Route,
    lost_sale_cost: float,
    walkins: Sequence[Order] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Replayed:
    """Replay ``orders`` in time order under ``route`` (module docstring), with the
    ``walkins`` (orders for pick-up at a store, each taking what its store's shelf has, at
    no shipping cost) at their times between them; ``progress(done, total)`` hears of the
    orders routed."""
    base = Planner(network, validate=False)
    stock = base.inventory.copy()
    planner = Planner(network, stock, index=base.index, validate=False)
    events = merged(orders, walkins)
    results = []
    ordered = []
    shipping, lost, walkin_units, walkin_lost = 0.0, 0, 0, 0
    for order, walkin in events:
        if walkin:
            plan = planner.plan(order, Policy.CHEAPEST, validate=False).plan
            stock.ship(plan)
            units = sum(line.quantity for line in order.lines)
            walkin_units += units
            walkin_lost += units - plan.units
            continue
        result = route(planner, order)
        ordered.append(order)
        results.append(result)
        stock.ship(result.plan)
        shipping += result.plan.total_cost
        lost += sum(line.quantity for line in order.lines) - result.plan.units
        if progress is not None:
            progress(len(results), len(orders))
    lost += walkin_lost
    return Replayed(
        tuple(ordered),
        tuple(results),
        shipping,
        lost,
        shipping + lost_sale_cost * lost,
        walkin_units,
        walkin_lost,
    )


def merged(orders: Sequence[Order], walkins: Sequence[Order]) -> list[tuple[Order, bool]]:
    """Orders and walk-ins (flagged True) in time order, all as allowing partial plans; an
    order comes before a walk-in at the same time, and equals keep their file order."""
    events = [(o, False) for o in orders] + [(w, True) for w in walkins]
    events.sort(key=lambda e: (timestamp_key(e[0].create_time) if e[0].create_time else (0, 0),
                               e[1]))  # fmt: skip
    return [(replace(o, allow_partial=True), walkin) for o, walkin in events]


@dataclass(frozen=True, slots=True)
class Hindsight:
    """What hindsight could have done (module docstring)."""

    lower_bound: float  # clairvoyantLowerBound: the LP relaxation, no rule
    cost: float  # the best allocation found under the rule (inf: none found)
    bound: float  # a proven lower bound on H (= cost when proven)
    proven: bool
    seconds: float
    exact_rule: bool = True  # False: some order's rule was left out (:func:`ruled`), so
    # even a proven cost is a lower bound on H

    @property
    def best_known(self) -> float:
        """H when proven, else the proven lower bound on it."""
        return self.cost if self.proven else self.bound


def hindsight(
    network: Network,
    orders: Sequence[Order],
    lost_sale_cost: float,
    time_limit: float = 60.0,
    walkins: Sequence[Order] = (),
) -> Hindsight:
    """The clairvoyant lower bound and the hindsight cost H of ``orders`` and ``walkins``
    (module docstring; a walk-in is served from its store at no cost, as in :func:`replay`)."""
    start = time.perf_counter()
    planner = Planner(network, validate=False)
    index, inventory = planner.index, planner.inventory
    problems = [
        basket_problem(o, walkin, index, inventory) for o, walkin in merged(orders, walkins)
    ]
    # The model holds a dated order to its ship day, where a replay moves it to a later day
    # when the day is full: when the orders could fill a day, the days' room is left out
    # (a relaxation, so H and the bound stay below what any allocation costs), and H is
    # exact only if its allocation fits every day's room anyway.
    fill = day_capacity_can_fill(problems, inventory)
    exact_rule = all(ruled(p) for p in problems)
    model = BatchModel(problems, inventory, lost_sale_cost, {}, day_capacity=not fill)
    if model.columns == 0:  # nothing can ship: every unit is lost
        return Hindsight(model.offset, model.offset, model.offset, True, 0.0, exact_rule)
    relaxed = model.solve(time_limit, relax=True).bound
    highs = new_highs()
    model.load(highs, time_limit)
    _add_rule(highs, model, index)
    highs.run()
    info = highs.getInfo()
    bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else -np.inf
    status = highs.getModelStatus()
    feasible = info.primal_solution_status == int(highspy.SolutionStatus.kSolutionStatusFeasible)
    cost = float(info.objective_function_value) if feasible else np.inf
    proven = status == highspy.HighsModelStatus.kOptimal
    if fill:
        values = np.asarray(highs.getSolution().col_value)
        exact_rule &= feasible and days_within_room(model, values)
    return Hindsight(
        lower_bound=relaxed,
        cost=cost,
        bound=cost if proven else max(bound, relaxed),
        proven=proven,
        seconds=time.perf_counter() - start,
        exact_rule=exact_rule,
    )


def rule_of(problem: OrderProblem) -> str:
    """Which hindsight rule an order gets (module docstring): ``"sku"``, the per-SKU rule,
    exact for an order that may ship from all its candidates; ``"subsets"``, the rule over
    every set of as many candidates as its shipment limit (it ships at least what any such
    set still has of it), exact; ``"node"``, the same over single candidates, a relaxation
    for a limit above one whose sets are too many (more than ``MAX_RULE_SETS``); ``""`` for
    an order with ship-together groups (no rule: a relaxation)."""
    if problem.group is not None:
        return ""
    limit = problem.order.max_shipments
    if not limit or limit >= len(problem.nodes):
        return "sku"
    if limit == 1 or math.comb(len(problem.nodes), limit) <= MAX_RULE_SETS:
        return "subsets"
    return "node"


def ruled(problem: OrderProblem) -> bool:
    """Whether the order's hindsight rule is exact for it (:func:`rule_of`)."""
    return rule_of(problem) in ("sku", "subsets")


def _add_rule(highs: highspy.Highs, model: BatchModel, index: NetworkIndex) -> None:
    """The hindsight rule's columns and rows (module docstring) on a loaded model."""
    n_skus = len(index.sku_ids)
    columns = model.columns
    running: dict[int, int] = {}  # position key -> its running column (units taken so far)
    lower: list[float] = []
    upper: list[float] = []
    entries: list[tuple[int, int, float]] = []  # (row, column, value)
    rows = 0
    new_columns: list[tuple[float, float, bool]] = []  # (lower, upper, integer)

    def column(lo: float, hi: float, integer: bool) -> int:
        nonlocal columns
        new_columns.append((lo, hi, integer))
        columns += 1
        return columns - 1

    def row(terms: list[tuple[int, float]], lo: float, hi: float) -> None:
        nonlocal rows
        entries.extend((rows, c, v) for c, v in terms)
        lower.append(lo)
        upper.append(hi)
        rows += 1

    atp: dict[int, float] = {}

    def atp_of(key: int) -> float:
        if key not in atp:
            atp[key] = float(model.position_atp(np.array([key]))[0])
        return atp[key]

    for o, problem in enumerate(model.problems):
        cols, nodes, skus = model.x_columns(o)
        keys = nodes * n_skus + skus
        rule = rule_of(problem)
        before = {key: running[key] for key in np.unique(keys).tolist() if key in running}
        after: dict[int, int] = {}
        for key in np.unique(keys).tolist():  # after = before + taken now, for every order
            a = column(0.0, INF, False)
            terms = [(a, 1.0)] + ([(before[key], -1.0)] if key in before else [])
            row(terms + [(c, -1.0) for c in cols[keys == key].tolist()], 0.0, 0.0)
            after[key] = running[key] = a
        if rule == "sku":
            for k in np.unique(skus).tolist():
                mine = skus == k
                demand = float(problem.demand[int(np.flatnonzero(problem.sku == k)[0])])
                z = column(0.0, 1.0, True)  # something of k is lost
                row([(c, 1.0) for c in cols[mine].tolist()] + [(z, demand)], demand, INF)
                for key in np.unique(keys[mine]).tolist():
                    # everything there was taken when anything is lost: after >= atp z
                    row([(after[key], 1.0), (z, -atp_of(key))], 0.0, INF)
        elif rule:
            # shipped >= sum_k min(d_k, sum_{n in S} left_nk) for every set S of candidates
            # (as many as the limit, or single ones), left = atp - before
            shipped = [(c, 1.0) for c in cols.tolist()]
            demand_of = dict(zip(problem.sku.tolist(), problem.demand.tolist(), strict=True))
            held = np.unique(nodes).tolist()
            size = problem.order.max_shipments if rule == "subsets" else 1
            for chosen in itertools.combinations(held, min(size, len(held))):
                terms = list(shipped)
                in_set = np.isin(nodes, chosen)
                for k in np.unique(skus[in_set]).tolist():
                    positions = np.unique(keys[in_set & (skus == k)]).tolist()
                    d = float(demand_of[k])
                    total = sum(atp_of(key) for key in positions)
                    m = column(0.0, INF, False)  # >= min(d, sum of what is left)
                    b = column(0.0, 1.0, True)  # 1: what is left is the smaller
                    row([(m, 1.0), (b, d)], d, INF)  # m >= d (1 - b)
                    # m >= sum (atp - before) - sum atp (1 - b)
                    left = [(m, 1.0), (b, -total)]
                    left += [(before[key], 1.0) for key in positions if key in before]
                    row(left, 0.0, INF)
                    terms.append((m, -1.0))
                row(terms, 0.0, INF)
    if not new_columns:
        return
    lo, hi, integer = (np.array(v) for v in zip(*new_columns, strict=True))
    count = len(new_columns)
    highs.addVars(count, lo.astype(np.float64), hi.astype(np.float64))
    added = np.arange(model.columns, model.columns + count, dtype=np.int32)
    kind = np.where(
        integer, int(highspy.HighsVarType.kInteger), int(highspy.HighsVarType.kContinuous)
    ).astype(np.uint8)
    highs.changeColsIntegrality(count, added, kind)
    added_rows = Rows()
    added_rows.add_entries(lower, upper, entries)
    added_rows.into(highs)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Every policy's replay of the same orders, and hindsight (:func:`evaluate`)."""

    lost_sale_cost: float
    forecast: str  # "perfect" (the orders' own rates) or "given"
    policies: dict[str, Replayed]
    hindsight: Hindsight
    theta: float
    refresh: int
    opportunity_costs: str = "units"  # λ from "baskets" or from rates per SKU ("units")

    def summary(self, shipping: Mapping[str, float] | None = None) -> dict[str, object]:
        """The JSON-ready ``evaluation.json`` (docs/lookahead.md); ``shipping``: the policies'
        shipping costs as written (rounded plans), in place of the unrounded sums."""
        p = self.lost_sale_cost
        totals: dict[str, dict[str, object]] = {}
        for name, run in self.policies.items():
            cost = shipping[name] if shipping is not None else run.shipping_cost
            totals[name] = {
                "shippingCost": round(cost, 2),
                "lostUnits": run.lost_units,
                "totalCost": round(cost + p * run.lost_units, 2),
            }
            if run.walkin_units:
                totals[name]["walkInLostUnits"] = run.walkin_lost
        h = self.hindsight
        best = h.best_known
        myopic_total = float(totals["myopic"]["totalCost"])  # type: ignore[arg-type]
        room = myopic_total - best
        gaps = {
            name: round((myopic_total - float(t["totalCost"])) / room, 4) if room > 1e-9 else None  # type: ignore[arg-type]
            for name, t in totals.items()
        }
        first = next(iter(self.policies.values()))
        return {
            "orders": len(first.orders),
            "walkIns": first.walkin_units,
            "lostSaleCost": round(p, 4),
            "forecast": self.forecast,
            "theta": self.theta,
            "opportunityCosts": self.opportunity_costs,
            "refreshEvery": self.refresh,
            "policies": totals,
            "hindsightCost": round(best, 2),
            "hindsightProven": h.proven and h.exact_rule,
            "hindsightFound": round(h.cost, 2) if np.isfinite(h.cost) else None,
            "clairvoyantLowerBound": round(h.lower_bound, 2),
            "gapClosed": gaps,
            "hindsightSeconds": round(h.seconds, 2),
        }


def evaluate(
    network: Network,
    orders: Sequence[Order],
    lost_sale_cost: float | None = None,
    forecast: DemandForecast | None = None,
    walkins: Sequence[Order] = (),
    theta: float | None = None,
    refresh: int | None = None,
    samples: int = DEFAULT_SAMPLES,
    time_limit: float = 60.0,
    progress: Callable[[str, int, int], None] | None = None,
) -> Evaluation:
    """Replay ``orders`` (and ``walkins``) under the myopic and the look-ahead policy and
    work out hindsight (docs/lookahead.md).

    ``forecast``: rates per day; None for the perfect forecast, the orders' (and walk-ins')
    own rates over the replay's span (:func:`perfect_forecast`). ``lost_sale_cost``: None for
    the default (:func:`default_lost_sale`). λ is refreshed every ``refresh`` orders
    (default: 50 refreshes over the replay). ``theta``: None for the default of the model
    that prices the stock (:attr:`omniroute.lookahead.OpportunityCosts.theta`); the
    evaluation reports the θ and model of the first prices."""
    index = NetworkIndex(network)
    regions = forecast.regions if forecast is not None else default_regions(index, orders)
    p = lost_sale_cost if lost_sale_cost is not None else default_lost_sale(index, regions, orders)
    events = merged(orders, walkins)
    span, remaining = replay_clock(events, forecast)
    kind = "given"
    if forecast is None:
        forecast = perfect_forecast(index, regions, orders, span, walkins)
        kind = "perfect"
    forecast = replace(forecast, lost_sale_cost=dict.fromkeys(index.sku_ids, p))
    every = refresh if refresh is not None else max(1, len(orders) // 50)

    def step(name: str) -> Callable[[int, int], None] | None:
        return (lambda done, total: progress(name, done, total)) if progress else None

    ahead = LookaheadPolicy(forecast, remaining, theta, every, samples)
    policies = {
        "myopic": replay(network, orders, myopic, p, walkins, step("myopic")),
        "lookahead": replay(network, orders, ahead, p, walkins, step("lookahead")),
    }
    if progress:
        progress("hindsight", 0, 1)
    seen = hindsight(network, orders, p, time_limit, walkins)
    if progress:
        progress("hindsight", 1, 1)
    if not ahead.refreshes:  # no order to route: what the forecast alone tells
        used = ("baskets" if uses_baskets(forecast) else "units",
                default_theta(forecast) if theta is None else theta)  # fmt: skip
    else:
        used = (ahead.model, ahead.theta_used)
    return Evaluation(p, kind, policies, seen, used[1], every, used[0])


def replay_clock(
    events: Sequence[tuple[Order, bool]], forecast: DemandForecast | None
) -> tuple[float, Callable[[Order], float]]:
    """The replay's span in days and, per order, the days left after it arrives: from the
    ``createTime``s when they span any time, else spread evenly over the forecast's horizon
    (1 day for the perfect forecast) in replay order."""
    times = [timestamp_key(o.create_time)[0] for o, _ in events if o.create_time]
    orders = [o for o, walkin in events if not walkin]
    if len(times) == len(events) and times and max(times) > min(times):
        last = max(times)
        span = (last - min(times)) / 86400
        left = {o.id: (last - timestamp_key(o.create_time)[0]) / 86400 for o in orders}
    else:
        span = forecast.horizon_days if forecast is not None else 1.0
        left = {o.id: span * (1 - i / max(len(orders), 1)) for i, o in enumerate(orders)}
    return span, lambda order: left.get(order.id, 0.0)


def perfect_forecast(
    index: NetworkIndex,
    regions: Sequence[DemandRegion],
    orders: Sequence[Order],
    span: float,
    walkins: Sequence[Order] = (),
) -> DemandForecast:
    """The orders' own aggregate rates per (region, SKU, order class) and the walk-ins' per
    (store, SKU) over ``span`` days: the papers' "perfect forecast" (the totals, not when
    they come); and the orders themselves as baskets, each at once per span, planned as in
    a replay (partial plans allowed)."""
    orders = [replace(o, allow_partial=True) for o in orders]
    return estimate_forecast(orders, index, regions, span, span, prior_units=0.0, walkins=walkins)


def default_regions(index: NetworkIndex, orders: Sequence[Order]) -> list[DemandRegion]:
    """The orders' distinct destinations (to 0.01°) when they average at least
    ``ORDERS_PER_PLACE`` orders each; else the network's stores (:func:`node_regions`)."""
    places: dict[tuple[float, float], Location] = {}
    for order in orders:
        if order.destination is not None:
            key = (round(order.destination.latitude, 2), round(order.destination.longitude, 2))
            places.setdefault(key, order.destination)
    if places and len(places) * ORDERS_PER_PLACE <= len(orders):
        return [DemandRegion(f"{a:.2f},{b:.2f}", Location(a, b)) for a, b in places]
    return node_regions(index)


def default_lost_sale(
    index: NetworkIndex, regions: Sequence[DemandRegion], orders: Sequence[Order]
) -> float:
    """Twice the dearest cost of shipping one unit of any SKU the orders name from any node
    to any region (:func:`omniroute.lookahead.default_lost_sale_cost`)."""
    skus = sorted({index.sku_pos[line.sku_id] for o in orders for line in o.lines})
    if not skus:
        return 1.0
    shipping = region_shipping(index, regions)
    return max(default_lost_sale_cost(index, regions, k, shipping) for k in skus)
