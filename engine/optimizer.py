"""The exact split-fulfilment optimiser for one order: CHEAPEST, FASTEST and the options front.

Every policy is answered from the *front*: for each delivery-day cap ``D`` (the distinct
day counts the order's lanes can achieve), the best complete plan arriving within ``D`` —
lowest cost, then fewest shipments. CHEAPEST is the best plan at the largest cap, moved to
the smallest cap that still reaches that cost (ties broken by fewer days); FASTEST is the
best plan at the smallest cap that has one; the options are the caps whose best plan is
strictly cheaper than every faster one. Caps are evaluated lazily: CHEAPEST usually needs
one, FASTEST the first feasible ones.

At each cap the best plan is found by the first method that proves it:

1. ``single-node-bound``: the best single-node plan, when a lower bound on every plan with
   two or more shipments (the two cheapest possible shipments plus the split penalty, or a
   per-unit decomposition) exceeds it.
2. ``dp``: the exact dynamic programme of ``omniroute.dp`` over the candidates an optimal plan
   may need (for every load, the cheapest few nodes that can ship it), for orders with few
   units; before it, the best pair (and, when no cheaper plan has more than three
   shipments, the best triple) from each load's cheapest nodes, which usually settles it.
3. ``branch-and-bound``: for orders with too many units for the DP and few candidate
   nodes, an exact search with parcels counted exactly (``omniroute.branch``, run by
   ``omniroute._exact``): best first over node sets, lanes and parcel counts, bounded by a
   Lagrangian relaxation of the parcels' weight limits; proven when it finishes within its
   limits.
4. ``enumeration``: for orders with too many units for the DP and few shipments, node sets
   enumerated with branch and bound on the one-parcel relaxation (``omniroute.enumeration``);
   proven when no shipment of the best set needs a second parcel.
5. ``cp-sat``: a CP-SAT model (``omniroute.cpsat``) warm-started from the best plan known, with
   a time limit; proven when CP-SAT proves it, otherwise reported with its gap.

Orders whose SKUs fall into groups no node connects (a drop-ship vendor's line beside
apparel from the DCs) are split into independent parts, solved separately and added up:
every plan is a union of part plans on disjoint nodes, so this is exact.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from omniroute import _core, branch, cpsat
from omniroute.baseline import baseline_allocations
from omniroute.budget import Budget
from omniroute.candidates import Lanes, OrderProblem
from omniroute.dominance import dominated_nodes
from omniroute.dp import INF, MONEY_SCALE, SHIP_SCALE, pair_count, state_count
from omniroute.enumeration import Relaxed, solve_relaxed
from omniroute.model import Plan, PlanResult, PlanStats, Policy, Proof
from omniroute.plans import Allocation, build_plan, cheapest_lane, evaluate, sku_reasons

DP_STATE_LIMIT = 50_000  # covered-demand states (product of quantity + 1 over SKUs)
DP_PAIR_LIMIT = 400_000  # (state, load) transitions per node and cap
DP_WORK_LIMIT = 40_000_000  # candidates x caps x transitions before enumeration or CP-SAT
PARTS_RANKED = 4  # shipment counts the bound by loads tells apart (parts_bounds)
SPLIT_STEP_LIMIT = 65_536  # nodes x loads of the DP's first step in one _core.split_step
EPSILON = 1e-6  # currency units; bounds must beat plans by more than this to decide
DEFAULT_TIME_LIMIT = 10.0  # seconds of CP-SAT when the caller gives none
METHOD_RANK = {
    "candidates": 0,
    "single-node-bound": 1,
    "dp": 2,
    "branch-and-bound": 3,
    "enumeration": 4,
    "cp-sat": 5,
}
# stats.method: the strongest method a plan needed, e.g. "dp"; "... (2 parts)" when the order
# was solved as independent parts.

Outcome = tuple[Plan, list[Plan], Proof, str, float | None]  # plan, options, proof, method, bound


@dataclass(slots=True)
class CapBest:
    """Best complete plan known at one delivery-day cap."""

    cost: float  # inf when there is none
    ships: int
    allocations: list[Allocation]
    optimal: bool  # proven best (lowest cost, then fewest shipments) at this cap
    bound: float  # proven lower bound on the cost at this cap
    dearer: bool = False  # only proven: no plan at this cap is as cheap as the asked target
    # proven the only plan this cheap at this cap, on no faster lanes: no plan at a smaller
    # cap is as cheap (so CHEAPEST need not look for one)
    unique: bool = False

    @classmethod
    def none(cls, proven: bool = True) -> CapBest:
        return cls(np.inf, 0, [], proven, np.inf if proven else -np.inf)


def optimise(
    problem: OrderProblem,
    policy: Policy = Policy.CHEAPEST,
    include_options: bool = False,
    budget: Budget | None = None,
) -> PlanResult:
    """Plan one order optimally for ``policy``; see the module docstring for the method.

    ``budget`` bounds the time CP-SAT may take (default 10 s) and can cancel it; a plan not
    proven in time is returned as ``FEASIBLE`` with its gap.
    """
    return prepare(problem, policy, include_options).run(budget)


def prepare(
    problem: OrderProblem, policy: Policy = Policy.CHEAPEST, include_options: bool = False
) -> Solve:
    """The solve of one order, with what it will cost known before it starts.

    The cheap part (the single-node plans and the split bounds of the caps the policy looks
    at) is done here; :attr:`Solve.search_work` then says how much search is left (0 when
    the bounds decide), so a caller can choose where to run :meth:`Solve.run`.
    """
    return Solve(problem, policy, include_options)


class Solve:
    """One order's optimisation, prepared by :func:`prepare` and finished by :meth:`run`."""

    def __init__(self, problem: OrderProblem, policy: Policy, include_options: bool) -> None:
        self.start = time.perf_counter()
        self.problem = problem
        self.policy = policy
        self.include_options = include_options
        # the candidates' ATP of every SKU covers its demand (in Python: tiny arrays)
        self.complete_possible = len(problem.lanes) > 0 and all(
            map(int.__ge__, problem.atp_in_promise.tolist(), problem.demand.tolist())
        )
        self.front = (
            _front_for(problem, Budget(DEFAULT_TIME_LIMIT)) if self.complete_possible else None
        )
        self.packed = problem.packed
        self._search_work: float | None = None

    @property
    def search_work(self) -> float:
        """Search left after the bounds: 0 when they decide, else the DP's work (inf beyond
        the DP), computed on first use from bounds the solve itself reuses."""
        if self._search_work is None:
            if self.front is not None:
                self._search_work = self.front.search_work(self.policy, self.include_options)
            elif self.packed:
                self._search_work = np.inf  # CP-SAT for the most units
            else:
                self._search_work = _no_complete_plan_work(self.problem)
        return self._search_work

    def run(self, budget: Budget | None = None) -> PlanResult:
        """Finish the solve within ``budget`` (default 10 s); the plan and how it was proven."""
        budget = budget if budget is not None else Budget(DEFAULT_TIME_LIMIT)
        problem = self.problem
        if self.front is not None:
            self.front.use(budget)
            outcome = _from_front(problem, self.front, self.policy, self.include_options)
        else:
            outcome = None
        if outcome is None:
            outcome = _no_complete_plan(problem, self.policy, budget)
        plan, options, proof, method, bound = outcome
        micros = int((time.perf_counter() - self.start) * 1e6)
        gap = None
        if proof is Proof.OPTIMAL:
            gap = 0.0
        elif bound is not None and plan.objective > 0:
            gap = max(0.0, (plan.objective - bound) / plan.objective)
        stats = PlanStats(
            proof=proof,
            method=method,
            solve_micros=micros,
            gap=gap,
            lower_bound=plan.objective if proof is Proof.OPTIMAL else bound,
            candidate_nodes=len(problem.nodes),
            stopped_by=budget.stopped_by() if proof is Proof.FEASIBLE else None,
        )
        return PlanResult(problem.order.id, plan, stats, options=tuple(options))


def _from_front(
    problem: OrderProblem,
    front: FrontSolver | CompositeFront | PackedFront,
    policy: Policy,
    include_options: bool,
) -> Outcome | None:
    """The policy's plan from the front; None when no complete plan exists."""
    chosen = _choose(front, policy, include_options)
    if chosen is None:
        return None
    best, options, proven = chosen
    plan = build_plan(problem, best.allocations)
    option_plans = [build_plan(problem, option.allocations) for option in options]
    bound = None if proven or not np.isfinite(best.bound) else float(best.bound)
    return plan, option_plans, Proof.OPTIMAL if proven else Proof.FEASIBLE, front.method, bound


# ----------------------------------------------------------------------------- policies


def _choose(
    front: FrontSolver | CompositeFront | PackedFront, policy: Policy, include_options: bool
) -> tuple[CapBest, list[CapBest], bool] | None:
    """The policy's plan (and options) from a lazily evaluated front; None: no plan at all.

    Returns the chosen cap's best, the options, and whether every decision was proven.
    """
    caps = front.cap_list
    seen: list[CapBest] = []

    def at(j: int, target: float = np.inf) -> CapBest:
        best = front.at(j, target)
        seen.append(best)
        return best

    if include_options:
        # The best plan at the largest cap arrives within some cap d; at every cap from d
        # up it is also the best (nothing cheaper arrives later), so only the faster caps
        # need a search, and each only for a plan cheaper than every faster one.
        top = at(len(caps) - 1)
        if not math.isfinite(top.cost):
            return None
        within = bisect_left(caps, front.days_of(top))
        options: list[CapBest] = []
        for j in range(within):
            best = at(j, options[-1].cost - EPSILON if options else np.inf)
            if best.dearer or not math.isfinite(best.cost):
                continue
            if not options or best.cost < options[-1].cost - EPSILON:
                options.append(best)
        if not options or top.cost < options[-1].cost - EPSILON:
            options.append(top)
        chosen = options[0] if policy is Policy.FASTEST else options[-1]
        return chosen, options, all(b.optimal for b in seen)
    if policy is Policy.FASTEST:
        for j in range(len(caps)):
            if front.lower(j) == np.inf:
                continue  # no plan can arrive this fast
            best = at(j)
            if math.isfinite(best.cost):
                return best, [], all(b.optimal for b in seen)
        return None
    # CHEAPEST: the best plan at the largest cap, then the smallest cap reaching its cost.
    best = at(len(caps) - 1)
    if not math.isfinite(best.cost):
        return None
    while not best.unique:
        days = front.days_of(best)
        j = bisect_left(caps, days) - 1  # the largest cap below the plan's days
        if j < 0 or front.lower(j) > best.cost + EPSILON:
            break
        faster = at(j, best.cost)  # only whether a plan at most as dear arrives faster
        if faster.cost > best.cost + EPSILON:
            break
        best = faster
    return best, [], all(b.optimal for b in seen)


# ----------------------------------------------------------------------------- fronts


def _front_for(problem: OrderProblem, budget: Budget) -> FrontSolver | CompositeFront | PackedFront:
    """One front solver, or a composite of independent parts when the SKUs separate; for
    an order with ship-alone SKUs or ship-together groups, CP-SAT at every cap."""
    if problem.packed:
        return PackedFront(problem, budget)
    if problem.order.max_shipments:
        return FrontSolver(problem, budget)  # the shipment limit couples the parts
    if len(problem.demand) == 1:
        return FrontSolver(problem, budget)
    groups = _sku_groups(problem)
    if len(groups) == 1:
        return FrontSolver(problem, budget)
    parts = []
    for group in groups:
        part, lane_map = FrontSolver.part_of(problem, group, budget)
        parts.append((part, lane_map, group))
    return CompositeFront(problem, parts)


class DpShape(NamedTuple):
    """What :meth:`FrontSolver._dp` needs of a problem at every cap: the shipments the DP
    counts (``maxShipments`` when it binds, else 0), the loads, the DP's transitions per
    node, the most shipments a plan can have, whether two shipments are allowed, whether
    the first step is one ``_core.split_step`` call, and the problem's ``core_args``."""

    tracked: int
    loads: int
    pairs: int
    limit: int
    allowed: bool
    direct: bool
    args: tuple[np.ndarray, ...]


class FrontSolver:
    """Exact best plan per cap for one problem, computed on demand and cached.

    The front of a part of an order (:meth:`part_of`) starts from its bounds alone: the
    part's own problem is built only if a search needs it.
    """

    def __init__(self, problem: OrderProblem, budget: Budget) -> None:
        # one call for the caps (the distinct lane days) and the bounds at each
        bounds = _core.front_bounds(
            *problem.core_args(), problem.index.split_penalty, problem.order.max_shipments
        )
        self._start(problem, None, [], bounds, problem.demand, budget)

    @classmethod
    def part_of(
        cls, whole: OrderProblem, skus: list[int], budget: Budget
    ) -> tuple[FrontSolver, np.ndarray]:
        """The front of the part of ``whole`` for some SKUs, and the part's lanes in
        ``whole`` (see :func:`_restrict`)."""
        front = cls.__new__(cls)
        caps, cost, lane, split, lane_map = _core.part_bounds(
            *whole.core_args(), skus, whole.index.split_penalty, whole.order.max_shipments
        )
        front._start(None, whole, skus, (caps, cost, lane, split), whole.demand[skus], budget)
        front.lane_map = lane_map
        return front, lane_map

    def _start(
        self,
        problem: OrderProblem | None,
        whole: OrderProblem | None,
        skus: list[int],
        bounds: tuple[list[int], list[float], list[int], list[float]],
        demand: np.ndarray,
        budget: Budget,
    ) -> None:
        self._problem = problem
        self._whole = whole  # a part's: the whole order's problem and the part's SKUs
        self._skus = skus
        self.lane_map: np.ndarray | None = None  # a part's lanes in the whole problem
        self.budget = budget
        caps, cost, lane, split = bounds
        self.cap_list: list[int] = caps
        self.caps = np.array(caps, dtype=np.int64)
        self.singles = SingleNodePlans(demand, cost, lane)
        self.split: list[float] = split  # the split bound per cap (inf: no split plan)
        self.cache: dict[int, CapBest] = {}
        self.method = "single-node-bound"
        self._upper: np.ndarray | None = None
        self._lower: np.ndarray | None = None
        self._relaxed: dict[int, Relaxed] = {}  # unproven relaxations: CP-SAT hint and bound
        self._shape: DpShape | bool | None = None  # _dp_shape (False: beyond the DP)
        self._pairs: _core.Reduction | None = None  # the K = 2 reduction, a row per cap
        self._pair_rows: dict[int, int] = {}

    @property
    def problem(self) -> OrderProblem:
        """The problem this front solves (a part's is built on first use)."""
        if self._problem is None:
            assert self._whole is not None
            self._problem = _restrict(self._whole, np.array(self._skus))[0]
        return self._problem

    def use(self, budget: Budget) -> None:
        """Search within ``budget`` from now on."""
        self.budget = budget

    def lower(self, j: int) -> float:
        """A lower bound on the cost of any complete plan at cap ``j`` (inf: none exists)."""
        if j in self.cache:
            return self.cache[j].bound
        return min(self.singles.cost[j], self.split[j])

    def decided(self, j: int) -> bool:
        """Whether the bounds alone prove the best plan at cap ``j`` (no search)."""
        if j in self.cache:
            return True
        split = self.split[j]
        return split == math.inf or self.singles.cost[j] < split - EPSILON

    def search_work(self, policy: Policy, include_options: bool) -> float:
        """Search the policy will need after the bounds: 0 when they decide every cap it
        looks at, else the DP's work for one cap (inf beyond the DP: enumeration, CP-SAT).

        A dry run of :func:`_choose` over the bounds: the caps CHEAPEST, FASTEST or the
        options visit, stopping at the first cap the bounds cannot decide.
        """
        for j in _caps_visited(self, policy, include_options):
            if not self.decided(j):
                return self._dp_work()
        return 0.0

    def single_at(self, j: int) -> float:
        return self.singles.cost[j]

    def single_days(self, j: int) -> int:
        """Delivery days of the best single-node plan at cap ``j`` (it has one lane)."""
        lane = self.singles.lane[j]
        if self._problem is None:  # a part's lane, read in the whole problem
            assert self._whole is not None and self.lane_map is not None
            return int(self._whole.lanes.days[self.lane_map[lane]])
        return int(self._problem.lanes.days[lane])

    def _dp_shape(self) -> DpShape | None:
        """What the DP's steps need of the problem, worked out once per front; None when
        the order is beyond the DP's limits."""
        if self._shape is None:
            problem = self.problem
            demand = tuple(problem.demand.tolist())
            tracked = _tracked_shipments(problem)
            loads, pairs = state_count(demand), pair_count(demand, tracked)
            if loads <= DP_STATE_LIMIT and pairs <= DP_PAIR_LIMIT:
                n = len(problem.nodes)
                limit = min(sum(demand), n, problem.order.max_shipments or n)
                self._shape = DpShape(
                    tracked, loads, pairs, limit, tracked == 0 or tracked >= 2,
                    n * loads <= SPLIT_STEP_LIMIT, problem.core_args(),
                )  # fmt: skip
            else:
                self._shape = False
        return self._shape if isinstance(self._shape, DpShape) else None

    def _dp_work(self) -> float:
        shape = self._dp_shape()
        return np.inf if shape is None else float(len(self.problem.nodes) * shape.pairs)

    def days_of(self, best: CapBest) -> int:
        return _days(self.problem, best.allocations)

    def at(self, j: int, target: float = np.inf) -> CapBest:
        """The proven best plan at cap ``j`` (or the best found in time, with its bound).

        With a finite ``target`` the caller only needs the best plan if it costs at most
        ``target``: when none can, an answer proving that (cost above ``target``, not
        cached) may come back instead of the cap's best.
        """
        if j in self.cache:
            return self.cache[j]
        cost = self.singles.cost[j]
        split = self.split[j]
        if split == math.inf or cost < split - EPSILON:
            if cost < math.inf:
                self.cache[j] = CapBest(cost, 1, self.singles[j].allocations, True, cost)
            else:
                self.cache[j] = CapBest.none()
        elif math.isfinite(target) and split > target + EPSILON and cost > target + EPSILON:
            bound = min(cost, split)
            return CapBest(bound, 0, [], True, bound, dearer=True)
        else:
            found = self._dp(j, target) or self._branch(j) or self._enumerate(j) or self._cpsat(j)
            if found.dearer:
                return found  # not the cap's best: not cached
            self.cache[j] = found
        return self.cache[j]

    def lower_bounds(self) -> np.ndarray:
        """:func:`_shipment_lower_bounds` of the problem (computed once)."""
        if self._lower is None:
            self._lower = _shipment_lower_bounds(self.problem)
        return self._lower

    def upper(self) -> np.ndarray:
        """Best known complete-plan cost per cap: single-node plans and the baseline's plan."""
        if self._upper is None:
            upper = np.array([s.cost for s in self.singles])
            allocations = baseline_allocations(self.problem)
            shipped = sum((a.units for a in allocations), np.zeros_like(self.problem.demand))
            if allocations and np.array_equal(shipped, self.problem.demand):
                cost, days, _ = evaluate(self.problem, allocations)
                upper = np.where(self.caps >= days, np.minimum(upper, cost), upper)
            self._upper = upper
        return self._upper

    def _dp(self, j: int, target: float = np.inf) -> CapBest | None:
        """The best plan at cap ``j`` from the candidates an optimal plan may need (for
        every load, the K cheapest nodes that can ship it): first the best plan with two
        shipments, from each load's two cheapest nodes; when no cheaper plan can have more
        than two shipments that, or the single node, is optimal; otherwise the exact DP
        over the K cheapest per load."""
        shape = self._dp_shape()
        if shape is None:
            return None
        problem = self.problem
        tracked, allowed = shape.tracked, shape.allowed
        cap = self.cap_list[j]
        single_cost = self.singles.cost[j]
        penalty = problem.index.split_penalty
        # The two cheapest nodes per load give the best two-shipment plan, and it usually
        # proves that no cheaper plan has more shipments: rank only those first, and more
        # per load only when that proof fails.
        if self.method != "dp":
            self.method = _stronger(self.method, "dp")
        if shape.direct:  # in one call
            step = _core.split_step(
                *shape.args, cap, penalty, single_cost, target, shape.limit, allowed,
                PARTS_RANKED,
            )  # fmt: skip
            pair_cost, na, qa, nb, qb, most, unique = step
            pair_loads: tuple[list[int] | np.ndarray, ...] = (qa, qb)
        else:
            pairs, row = self._pair_row(cap)
            pair_cost, na, sa, nb, sb = pairs.best_pair(row, penalty)
            pair_loads = (_load_vector(problem, sa), _load_vector(problem, sb))
            most, unique = 0, False  # below, once the best so far is known
        best = None  # the single node's plan, unless the pair beats it
        if allowed and pair_cost < math.inf:
            cost = float(pair_cost)  # the cost model's, on each node's cheapest lane
            if not single_cost < math.inf or cost < single_cost - EPSILON:
                shipments = [(na, pair_loads[0]), (nb, pair_loads[1])]
                allocations = _allocations(problem, shipments, cap)
                best = CapBest(cost, 2, allocations, False, -np.inf)
        upper = min(best.cost if best is not None else single_cost, target)
        if not most:
            most = _most_shipments(problem, float(upper), self.lower_bounds())
            if most > 2:  # the relaxation by loads is tighter where prices make units dear
                most = _most_by_parts(pairs.parts_bounds(row, penalty, PARTS_RANKED), upper, most)
        if most <= 2:  # no plan cheaper than the best so far (or the target) has more shipments
            cost = best.cost if best is not None else single_cost
            if cost > target + EPSILON:  # so none is as cheap as the target
                return CapBest(cost, 0, [], True, cost, dearer=True)
            if not cost < math.inf:
                return CapBest.none()
        single = self.singles[j]
        best = best if best is not None else single
        if most <= 2:
            return CapBest(best.cost, best.ships, best.allocations, True, best.cost, unique=unique)
        reduction = _core.Reduction(*problem.core_args(), [cap], most, REDUCE_STATE_LIMIT)
        if most == 3:  # the optimum is the single node, the pair or the best triple
            triple = _best_triple(problem, reduction, cap, best)
            if triple is not None:
                return triple
        incumbent = [int(problem.lanes.node[a.lane]) for a in best.allocations]
        candidates = np.flatnonzero(reduction.kept([most], incumbent))
        if len(candidates) * shape.pairs > DP_WORK_LIMIT:
            return None
        dp = CoreDp(problem, [cap], candidates, tracked)
        value, state = dp.best(0)
        if value >= INF:
            return CapBest.none()
        cost = _value_cost(problem, value)
        if np.isfinite(single.cost) and single.cost <= cost + EPSILON:
            return CapBest(single.cost, 1, single.allocations, True, single.cost)
        allocations = _allocations(problem, dp.shipments(0, state), cap)
        return CapBest(cost, int(value % SHIP_SCALE), allocations, True, cost)

    def _pair_row(self, cap: int) -> tuple[_core.Reduction, int]:
        """The two cheapest nodes per load at ``cap``: one reduction for every cap this
        front searches (its cap-independent half, the loads, holdings and lane types, is
        computed once), and its row for ``cap``."""
        if self._pairs is None:
            self._pairs = _core.Reduction(*self.problem.core_args(), [cap], 2, REDUCE_STATE_LIMIT)
            self._pair_rows[cap] = 0
        elif cap not in self._pair_rows:
            self._pair_rows[cap] = self._pairs.add(cap)
        return self._pairs, self._pair_rows[cap]

    def _branch(self, j: int) -> CapBest | None:
        """The exact branch and bound of :mod:`omniroute.branch` over every candidate,
        parcels counted exactly, for orders with few candidate nodes; None when they have
        too many, or when it gives up (its best plan then warm-starts CP-SAT)."""
        problem = self.problem
        single = self.singles[j]
        most = _most_shipments(problem, np.array([single.cost]), self.lower_bounds())
        keep = np.ones(len(problem.nodes), dtype=bool)
        found = branch.search(problem, int(self.caps[j]), keep, most, float(single.cost))
        if found is None:
            return None
        if not found.proven:
            if found.allocations:
                self._relaxed[j] = Relaxed(found.bound, found.allocations, found.cost, found.ships)
            return None
        self.method = _stronger(self.method, "branch-and-bound")
        if np.isfinite(single.cost) and single.cost <= found.cost + EPSILON:
            return CapBest(single.cost, 1, single.allocations, True, single.cost)
        if not found.allocations:
            return CapBest.none()
        return CapBest(found.cost, found.ships, found.allocations, True, found.cost)

    def _enumerate(self, j: int) -> CapBest | None:
        """The one-parcel relaxation by enumeration; proven when no shipment needs two."""
        problem = self.problem
        upper = self.upper()[j : j + 1]
        if not np.isfinite(upper[0]):
            return None
        keep = _kept(
            problem, [int(self.caps[j])], [_most_shipments(problem, upper)], self.singles[j]
        )

        def most(cost: float) -> int:
            return _most_shipments(problem, np.array([cost]))

        relaxed = solve_relaxed(problem, int(self.caps[j]), keep, float(upper[0]), most)
        if relaxed is None:
            return None
        if not relaxed.proven:
            self._relaxed[j] = relaxed
            return None
        self.method = _stronger(self.method, "enumeration")
        single = self.singles[j]
        if np.isfinite(single.cost) and single.cost <= relaxed.true_cost + EPSILON:
            return CapBest(single.cost, 1, single.allocations, True, single.cost)
        return CapBest(
            relaxed.true_cost, relaxed.ships, relaxed.allocations, True, relaxed.true_cost
        )

    def _cpsat(self, j: int) -> CapBest:
        problem = self.problem
        self.method = _stronger(self.method, "cp-sat")
        cap = int(self.caps[j])
        relaxed = self._relaxed.get(j)
        hint = self.singles[j].allocations or None
        if relaxed is not None and (hint is None or relaxed.true_cost < self.singles[j].cost):
            hint = relaxed.allocations
        if hint is None and np.isfinite(self.upper()[j]):
            hint = baseline_allocations(problem)
        most = _most_shipments(problem, self.upper()[j : j + 1])
        keep = _kept(problem, [cap], [most], self.singles[j], hint)
        result = cpsat.solve(problem, cpsat.Objective.CHEAPEST, cap, hint, self.budget, keep)
        if result.infeasible:
            return CapBest.none()
        # what the bounds prove whatever the search found: no plan is cheaper than the best
        # single node or the split bound
        floor = float(min(self.singles[j].cost, self.split[j]))
        if not result.feasible:  # stopped before any solution: the hint, unproven
            if hint:
                cost, _, ships = evaluate(problem, hint)
                return CapBest(cost, ships, hint, False, min(floor, cost))
            return CapBest.none(proven=False)
        cost, _, ships = evaluate(problem, result.allocations)
        bound = max(result.bound_micros / MONEY_SCALE, floor) if not result.optimal else cost
        if not result.optimal and hint:  # stopped early: never worse than its warm start
            hint_cost, _, hint_ships = evaluate(problem, hint)
            if (hint_cost, hint_ships) < (cost - EPSILON, ships):
                return CapBest(hint_cost, hint_ships, hint, False, min(bound, hint_cost))
        return CapBest(cost, ships, result.allocations, result.optimal, min(bound, cost))


class PackedFront:
    """The front of an order with ship-alone SKUs or ship-together groups, CP-SAT at each
    cap (the model knows both rules; the bounds and searches above count parcels on the
    whole weight and ship each SKU's units freely). Proven when CP-SAT proves it."""

    method = "cp-sat"

    def __init__(self, problem: OrderProblem, budget: Budget) -> None:
        self.problem = problem
        self.budget = budget
        self.cap_list: list[int] = sorted(set(problem.lanes.days.tolist()))
        self.cache: dict[int, CapBest] = {}

    def use(self, budget: Budget) -> None:
        self.budget = budget

    def search_work(self, policy: Policy, include_options: bool) -> float:
        return np.inf  # CP-SAT: never inline

    def lower(self, j: int) -> float:
        return self.cache[j].bound if j in self.cache else 0.0  # shipments cost >= 0

    def days_of(self, best: CapBest) -> int:
        return _days(self.problem, best.allocations)

    def at(self, j: int, target: float = np.inf) -> CapBest:
        if j in self.cache:
            return self.cache[j]
        problem = self.problem
        cap = self.cap_list[j]
        result = cpsat.solve(problem, cpsat.Objective.CHEAPEST, cap, None, self.budget)
        if result.infeasible:
            best = CapBest.none()
        elif not result.feasible:
            best = CapBest.none(proven=False)
        else:
            cost, _, ships = evaluate(problem, result.allocations)
            bound = cost if result.optimal else result.bound_micros / MONEY_SCALE
            best = CapBest(cost, ships, result.allocations, result.optimal, min(bound, cost))
        self.cache[j] = best
        return best


class CompositeFront:
    """The front of an order made of independent parts: part fronts added cap by cap."""

    def __init__(
        self, problem: OrderProblem, parts: list[tuple[FrontSolver, np.ndarray, list[int]]]
    ) -> None:
        self.problem = problem
        self.parts = parts
        self.cap_list: list[int] = sorted({cap for part, _, _ in parts for cap in part.cap_list})
        self.caps = np.array(self.cap_list, dtype=np.int64)
        self.penalty = problem.index.split_penalty * (len(parts) - 1)

    @property
    def method(self) -> str:
        method = "single-node-bound"
        for part, _, _ in self.parts:
            method = _stronger(method, part.method)
        return f"{method} ({len(self.parts)} parts)"

    def use(self, budget: Budget) -> None:
        for part, _, _ in self.parts:
            part.use(budget)

    def decided(self, j: int) -> bool:
        return all(part.decided(k) for part, k in self._parts_at(j) if k >= 0)

    def single_at(self, j: int) -> float:
        total = self.penalty
        for part, k in self._parts_at(j):
            total += np.inf if k < 0 else part.single_at(k)
        return float(total)

    def single_days(self, j: int) -> int:
        return max(part.single_days(k) for part, k in self._parts_at(j))

    def search_work(self, policy: Policy, include_options: bool) -> float:
        """As :meth:`FrontSolver.search_work`, summed over the parts the caps need."""
        work = 0.0
        for j in _caps_visited(self, policy, include_options):
            for part, k in self._parts_at(j):
                if k >= 0 and not part.decided(k):
                    work += part._dp_work()
        return work

    def _parts_at(self, j: int) -> list[tuple[FrontSolver, int]]:
        return [(part, self._part_cap(part, j)) for part, _, _ in self.parts]

    def _part_cap(self, part: FrontSolver, j: int) -> int:
        return bisect_right(part.cap_list, self.cap_list[j]) - 1

    def lower(self, j: int) -> float:
        total = self.penalty
        for part, _, _ in self.parts:
            k = self._part_cap(part, j)
            total += np.inf if k < 0 else part.lower(k)
        return float(total)

    def days_of(self, best: CapBest) -> int:
        return _days(self.problem, best.allocations)

    def at(self, j: int, target: float = np.inf) -> CapBest:
        cost, ships, bound, optimal = self.penalty, 0, self.penalty, True
        allocations: list[Allocation] = []
        m = len(self.problem.demand)
        for part, lane_map, skus in self.parts:
            k = self._part_cap(part, j)
            if k < 0:
                return CapBest.none()
            best = part.at(k)
            if not np.isfinite(best.cost):
                return CapBest.none(best.optimal)
            cost += best.cost
            bound += best.bound
            ships += best.ships
            optimal &= best.optimal
            for allocation in best.allocations:
                units = np.zeros(m, dtype=np.int64)
                units[skus] = allocation.units
                allocations.append(Allocation(int(lane_map[allocation.lane]), units))
        return CapBest(float(cost), ships, allocations, optimal, float(bound))


def _caps_visited(
    front: FrontSolver | CompositeFront, policy: Policy, include_options: bool
) -> list[int]:
    """The caps :func:`_choose` will look at, as far as the bounds tell: every cap for the
    options; for FASTEST the fastest caps up to the first a single node decides; for
    CHEAPEST the largest cap, then faster ones while a single node could still tie."""
    caps = range(len(front.caps))
    if include_options:
        return list(caps)
    visited: list[int] = []
    if policy is Policy.FASTEST:
        for j in caps:
            if front.lower(j) == math.inf:
                continue
            visited.append(j)
            if not front.decided(j) or math.isfinite(front.single_at(j)):
                break
        return visited
    j = len(front.caps) - 1
    visited.append(j)
    if not front.decided(j) or not math.isfinite(front.single_at(j)):
        return visited
    best, days = front.single_at(j), front.single_days(j)
    while True:  # as _choose: the largest cap below the plan's days, while it could tie
        j = bisect_left(front.cap_list, days) - 1
        if j < 0 or front.lower(j) > best + EPSILON:
            return visited
        visited.append(j)
        if not front.decided(j):
            return visited
        faster = front.single_at(j)
        if faster > best + EPSILON:
            return visited
        best, days = faster, front.single_days(j)


def _stronger(a: str, b: str) -> str:
    return a if METHOD_RANK[a] >= METHOD_RANK[b] else b


def _sku_groups(problem: OrderProblem) -> list[list[int]]:
    """SKUs grouped so that no candidate node holds SKUs of two groups (groups in order of
    their union-find label, SKUs ascending)."""
    return _core.sku_group_lists(*problem.core_args())


def _restrict(
    problem: OrderProblem, skus: np.ndarray
) -> tuple[OrderProblem, np.ndarray, np.ndarray]:
    """The part of ``problem`` for some SKUs: their holders and lanes (and the lane map),
    laid out by one ``_core`` call (the holders, in order, and their lanes, renumbered)."""
    layout = _core.part_layout(*problem.core_args(), skus.tolist())
    holders, lane_map, lane_node, base, per_kg, parcel, days, hs, hu = layout[:9]
    atp, demand, weight, price = layout[9:]
    lanes = Lanes(lane_node, problem.lanes.service[lane_map], base, per_kg, parcel, days, hs, hu)
    part = OrderProblem(
        order=problem.order,
        index=problem.index,
        destination=problem.destination,
        sku=problem.sku[skus],
        demand=demand,
        weight=weight,
        line_sku=(),
        nodes=problem.nodes[holders],
        atp=atp,
        distance=problem.distance[holders],
        lanes=lanes,
        atp_usable=problem.atp_usable[skus],
        atp_reachable=problem.atp_reachable[skus],
        atp_in_promise=problem.atp_in_promise[skus],
        price=price,
    )
    return part, lane_map, skus


# ----------------------------------------------------------------------------- bounds


class SingleNodePlans:
    """The best single-node plan per cap (cheapest, then fewer days; proven only among
    single-node plans) as :func:`_bounds` finds them: their costs and lanes as lists, for
    the front's decisions, and each as a :class:`CapBest` made when first asked for."""

    __slots__ = ("demand", "cost", "lane", "_made")

    def __init__(self, demand: np.ndarray, cost: list[float], lane: list[int]) -> None:
        self.demand = demand
        self.cost = cost  # inf: no node ships the whole order within the cap
        self.lane = lane  # -1: none
        self._made: dict[int, CapBest] = {}

    def __len__(self) -> int:
        return len(self.cost)

    def __getitem__(self, j: int) -> CapBest:
        made = self._made.get(j)
        if made is None:
            lane = self.lane[j]
            made = (
                CapBest(self.cost[j], 1, [Allocation(lane, self.demand.copy())], False, -np.inf)
                if lane >= 0
                else CapBest.none(proven=False)
            )
            self._made[j] = made
        return made

    def __iter__(self) -> Iterator[CapBest]:
        return (self[j] for j in range(len(self.cost)))


def _days(problem: OrderProblem, allocations: Sequence[Allocation]) -> int:
    """Delivery days of some allocations: their slowest lane's (0 for none), as
    :func:`omniroute.plans.evaluate` counts them."""
    days = problem.lanes.days
    return max((int(days[a.lane]) for a in allocations), default=0)


def _bounds(problem: OrderProblem, caps: np.ndarray) -> tuple[list[CapBest], np.ndarray]:
    """Per cap: the best plan shipping everything from one node (cheapest, then fewer
    days; proven only among single-node plans) and a lower bound on every complete plan
    with two or more shipments (inf: none exists).

    The bound is the larger of: the two cheapest single-unit shipments from distinct nodes
    plus the split penalty; and each unit's cheapest per-unit price plus the two cheapest
    fixed parts (one parcel and handling) plus the penalty.
    """
    cost, lane, split = _core.bounds(
        *problem.core_args(),
        [int(c) for c in caps],
        problem.index.split_penalty,
        problem.order.max_shipments,
    )
    singles = [
        CapBest(float(c), 1, [Allocation(int(lane_), problem.demand.copy())], False, -np.inf)
        if lane_ >= 0
        else CapBest.none(proven=False)
        for c, lane_ in zip(cost.tolist(), lane.tolist(), strict=True)
    ]
    return singles, split


def _single_node_plans(problem: OrderProblem, caps: np.ndarray) -> list[CapBest]:
    """The best single-node plan per cap (see :func:`_bounds`)."""
    return _bounds(problem, caps)[0]


# ----------------------------------------------------------------------------- DP helpers


REDUCE_STATE_LIMIT = DP_STATE_LIMIT  # loads per order the candidate reduction enumerates
DOMINANCE_LANE_LIMIT = 2_000  # lanes for the pairwise dominance rules (tables of lanes^2)


def _reduced(
    problem: OrderProblem, caps: list[int], most: list[int], keep: list[int]
) -> np.ndarray:
    """The candidates an optimal plan may need (ascending), with ``keep`` among them.

    For every cap and every load, only the K cheapest nodes that can ship it within the cap
    (and ties) are kept, where K (``most``) bounds the shipments of an optimal plan at that
    cap: if a plan ships load q from a node outside them, one of the K is unused by the plan
    (it has at most K - 1 other shipments) and ships q for no more cost within the cap.
    """
    reduction = _core.Reduction(*problem.core_args(), caps, max(most), REDUCE_STATE_LIMIT)
    return np.flatnonzero(reduction.kept(most, keep))


def _kept(
    problem: OrderProblem,
    caps: list[int],
    most: list[int],
    single: CapBest,
    hint: list[Allocation] | None = None,
) -> np.ndarray:
    """:func:`_reduced` as a mask over the candidates, keeping the nodes of the best single
    node plan and of ``hint`` (so that a warm start stays feasible)."""
    keep = [int(problem.lanes.node[a.lane]) for a in (*single.allocations, *(hint or ()))]
    if state_count(tuple(problem.demand.tolist())) > REDUCE_STATE_LIMIT:
        # too many loads to rank: the pairwise dominance rules instead, where their
        # (lanes x lanes) tables stay small; otherwise every candidate
        if len(problem.lanes) > DOMINANCE_LANE_LIMIT:
            return np.ones(len(problem.nodes), dtype=bool)
        mask = ~dominated_nodes(problem, max(most))
        mask[keep] = True
        return mask
    mask = np.zeros(len(problem.nodes), dtype=bool)
    mask[_reduced(problem, caps, most, keep)] = True
    return mask


class CoreDp:
    """The exact DP of :mod:`omniroute.dp` over some candidates, run by ``omniroute._core``:
    one row per cap; values are micro-units times ``SHIP_SCALE`` plus shipments."""

    def __init__(
        self, problem: OrderProblem, caps: list[int], candidates: np.ndarray, tracked: int
    ) -> None:
        self.dp = _core.Dp(
            *problem.core_args(),
            caps,
            [int(c) for c in candidates],
            tracked,
            problem.index.split_penalty,
        )
        self.final = self.dp.final()
        self.loads = self.dp.loads()
        self.size = len(self.loads)
        self.tracked = tracked

    @property
    def units(self) -> np.ndarray:
        return self.loads.sum(axis=1)

    def best(self, j: int, load: int | None = None) -> tuple[int, int]:
        """(value, state) of the best plan covering exactly ``load`` (default: all)."""
        load = self.size - 1 if load is None else load
        if not self.tracked:
            return int(self.final[j, load]), load
        column = self.final[j, load :: self.size]
        count = int(np.argmin(column))
        return int(column[count]), count * self.size + load

    def shipments(self, j: int, state: int) -> list[tuple[int, np.ndarray]]:
        """(candidate, units per SKU) of the plan ending in ``state`` under cap row ``j``."""
        return [(int(c), self.loads[s]) for c, s in self.dp.reconstruct(j, state)]


def _tracked_shipments(problem: OrderProblem) -> int:
    """``maxShipments`` when it can bind (the DP then counts shipments), else 0."""
    limit = problem.order.max_shipments
    if limit and limit < min(problem.total_units, len(problem.nodes)):
        return limit
    return 0


def _shipment_lower_bounds(problem: OrderProblem) -> np.ndarray:
    """``lower[k - 1]``: a lower bound on the cost of any plan with ``k`` shipments.

    A plan with ``k`` shipments costs at least ``k - 1`` split penalties plus the larger of:
    the ``k`` cheapest possible one-unit shipments from distinct nodes; and the ``k``
    cheapest fixed parts (one parcel and handling) plus every unit at its cheapest price.
    """
    return _core.lower_bounds(*problem.core_args(), problem.index.split_penalty)


def _most_shipments(
    problem: OrderProblem, upper: np.ndarray | float, lower: np.ndarray | None = None
) -> int:
    """The most shipments any plan as cheap as ``upper`` (one cost, or the dearest of
    several) can have (``lower`` from :func:`_shipment_lower_bounds`, computed when not
    given)."""
    limit = min(problem.total_units, len(problem.nodes))
    if problem.order.max_shipments:
        limit = min(limit, problem.order.max_shipments)
    if isinstance(upper, float):  # one cost: in scalars (the DP's step, once per cap)
        top = upper
    else:
        top = float(upper.max()) if len(upper) and np.all(np.isfinite(upper)) else math.inf
    if not math.isfinite(top):
        return max(1, limit)
    if lower is None:
        lower = _shipment_lower_bounds(problem)
    within = int(lower.searchsorted(top + EPSILON, side="right"))
    return min(limit, max(1, within))


def _most_by_parts(bounds: Sequence[float], upper: float, most: int) -> int:
    """``most`` lowered by :meth:`omniroute._core.Reduction.parts_bounds`: the most shipments
    a plan as cheap as ``upper`` can have when ``bounds[k - 1]`` bounds the plans with k
    shipments (the last entry: with that many or more)."""
    if not bounds or bounds[-1] <= upper + EPSILON:
        return most
    within = [k for k, bound in enumerate(bounds, start=1) if bound <= upper + EPSILON]
    return min(most, max(within, default=1))


def _best_triple(
    problem: OrderProblem, reduction: _core.Reduction, cap: int, best: CapBest
) -> CapBest | None:
    """The best plan at ``cap`` when no plan as cheap as ``best`` (the single node's or the
    best pair's) has more than three shipments: ``best`` or the cheapest plan with three
    (:meth:`omniroute._core.Reduction.best_triple`, from each load's three cheapest nodes,
    exact like the DP over them and without its pass over every candidate). None when the
    reduction could not rank the loads (the DP then decides)."""
    cost, na, sa, nb, sb, nc, sc = reduction.best_triple(0, problem.index.split_penalty)
    if math.isnan(cost):
        return None
    if cost < best.cost - EPSILON:
        shipments = [(n, _load_vector(problem, s)) for n, s in ((na, sa), (nb, sb), (nc, sc))]
        return CapBest(cost, 3, _allocations(problem, shipments, cap), True, cost)
    if not best.cost < math.inf:
        return CapBest.none()
    return CapBest(best.cost, best.ships, best.allocations, True, best.cost)


def _load_vector(problem: OrderProblem, load: int) -> np.ndarray:
    """Load vector number ``load`` in the order of :func:`_load_vectors`."""
    out = np.zeros(len(problem.demand), dtype=np.int64)
    for k in range(len(out) - 1, -1, -1):
        load, out[k] = divmod(load, int(problem.demand[k]) + 1)
    return out


def _value_cost(problem: OrderProblem, value: int) -> float:
    """Currency cost of a DP value (the per-shipment penalty refunded once)."""
    micros = value // SHIP_SCALE - round(problem.index.split_penalty * MONEY_SCALE)
    return micros / MONEY_SCALE


def _allocations(
    problem: OrderProblem, shipments: Sequence[tuple[int, list[int] | np.ndarray]], cap: int
) -> list[Allocation]:
    """Shipments (candidate, units per item, as a list or an array) as allocations on each
    node's cheapest lane (one ``_core`` call; ship-alone units count parcels of their own,
    in Python)."""
    units = [np.array(load, dtype=np.int64) for _, load in shipments]  # copies
    if problem.alone is not None:
        pairs = zip(shipments, units, strict=True)
        lanes = [cheapest_lane(problem, c, u, max_days=cap) for (c, _), u in pairs]
    else:
        candidates = [int(c) for c, _ in shipments]
        loads = [u.tolist() for u in units]
        lanes = _core.cheapest_lanes(*problem.core_args(), candidates, loads, cap)
    return [Allocation(lane, u) for lane, u in zip(lanes, units, strict=True)]


# ----------------------------------------------------------------------------- no complete plan


def _no_complete_plan_work(problem: OrderProblem) -> float:
    """Search :func:`_no_complete_plan` will need (see :meth:`FrontSolver.search_work`)."""
    order = problem.order
    if not order.max_shipments:
        if not order.allow_partial:
            return 0.0  # reasons from the stock figures
        capped = np.minimum(problem.demand, problem.atp.sum(axis=0))
        skus = np.flatnonzero(capped > 0)
        if len(skus) == 0:
            return 0.0
        part, _, _ = _restrict(problem, skus)
        part = replace(part, demand=capped[skus])
        return _front_for(part, Budget(DEFAULT_TIME_LIMIT)).search_work(Policy.CHEAPEST, False)
    if len(problem.lanes) == 0 or problem.atp.sum() == 0:
        return 0.0
    demand = tuple(problem.demand.tolist())
    tracked = _tracked_shipments(problem)
    if state_count(demand) > DP_STATE_LIMIT or pair_count(demand, tracked) > DP_PAIR_LIMIT:
        return np.inf
    return float(len(problem.nodes) * pair_count(demand, tracked))


def _no_complete_plan(problem: OrderProblem, policy: Policy, budget: Budget) -> Outcome:
    """No complete plan exists: the most units (then cheapest) when partial plans are
    allowed, otherwise nothing, with a reason per line."""
    order = problem.order
    if problem.packed and (order.allow_partial or order.max_shipments):
        return _most_units_packed(problem, policy, budget)
    if not order.allow_partial and not order.max_shipments:
        # Without a shipment limit every SKU with the stock and service ships in full, so
        # the reasons follow from the stock figures alone: no search needed.
        fillable = np.array([problem.sku_reason(k) is None for k in range(len(problem.demand))])
        return (
            build_plan(problem, [], sku_reasons(problem, fillable)),
            [],
            Proof.OPTIMAL,
            "candidates",
            None,
        )
    if order.allow_partial and not order.max_shipments:
        return _most_available(problem, policy, budget)
    return _most_units_outcome(problem, _most_units(problem, policy, budget))


def _most_units_packed(problem: OrderProblem, policy: Policy, budget: Budget) -> Outcome:
    """No complete plan for an order with ship-alone SKUs or ship-together groups: the
    most units (whole groups only), then the cheapest, by CP-SAT."""
    caps = np.unique(problem.lanes.days)
    return _most_units_outcome(problem, _most_units_cp_sat(problem, policy, budget, caps))


def _most_units_outcome(
    problem: OrderProblem, most: tuple[list[Allocation], bool, str] | None
) -> Outcome:
    """The outcome of a most-units search: its plan when the order allows partial plans
    (else none), with the reasons for what it leaves; None (the search could not decide in
    time) gives stock-level reasons only."""
    if most is None:
        return build_plan(problem, []), [], Proof.FEASIBLE, "cp-sat", None
    allocations, proven, method = most
    shipped = sum((a.units for a in allocations), np.zeros_like(problem.demand))
    reasons = sku_reasons(problem, shipped >= problem.demand)
    if not problem.order.allow_partial:
        allocations = []
    plan = build_plan(problem, allocations, reasons)
    return plan, [], Proof.OPTIMAL if proven else Proof.FEASIBLE, method, None


def _most_available(problem: OrderProblem, policy: Policy, budget: Budget) -> Outcome:
    """A partial order without a shipment limit: the most units that can ship are every
    SKU's demand capped at its available stock, so its best plan is the best complete plan
    for that capped demand, found by the usual methods."""
    capped = np.minimum(problem.demand, problem.atp.sum(axis=0))
    reasons = sku_reasons(problem, capped >= problem.demand)
    skus = np.flatnonzero(capped > 0)
    if len(skus) == 0:
        return build_plan(problem, [], reasons), [], Proof.OPTIMAL, "candidates", None
    part, lane_map, _ = _restrict(problem, skus)
    part = replace(part, demand=capped[skus])
    front = _front_for(part, budget)
    chosen = _choose(front, policy, False)
    assert chosen is not None, "the capped demand is available, so a complete plan exists"
    best, _, proven = chosen
    allocations = []
    for allocation in best.allocations:
        units = np.zeros(len(problem.demand), dtype=np.int64)
        units[skus] = allocation.units
        allocations.append(Allocation(int(lane_map[allocation.lane]), units))
    plan = build_plan(problem, allocations, reasons)
    bound = None if proven or not np.isfinite(best.bound) else float(best.bound)
    return plan, [], Proof.OPTIMAL if proven else Proof.FEASIBLE, front.method, bound


def _most_units_one_shipment(problem: OrderProblem, policy: Policy) -> list[Allocation]:
    """With one shipment allowed, the most units any node can ship is all it holds of the
    order (up to the demand): every lane is costed for its node's load, and the best among
    the lanes shipping the most units wins (cheapest, then fastest; or fastest, then
    cheapest), so this is exact in one pass over the lanes."""
    lanes = problem.lanes
    held = np.minimum(problem.atp, problem.demand[None, :])  # (n, m)
    units = held.sum(axis=1)[lanes.node]
    cost = lanes.cost_each(np.arange(len(lanes)), held[lanes.node] @ problem.weight, units)
    if problem.price is not None:
        cost = cost + (held * problem.price).sum(axis=1)[lanes.node]
    best = np.flatnonzero(units == units.max())
    if policy is Policy.FASTEST:
        order = np.lexsort((best, cost[best], lanes.days[best]))
    else:
        order = np.lexsort((best, lanes.days[best], cost[best]))
    lane = int(best[order[0]])
    return [Allocation(lane, held[lanes.node[lane]].astype(np.int64))]


def _most_units(
    problem: OrderProblem, policy: Policy, budget: Budget
) -> tuple[list[Allocation], bool, str] | None:
    """The plan shipping the most units, then best for the policy (empty if nothing ships)."""
    if len(problem.lanes) == 0 or problem.atp.sum() == 0:
        return [], True, "candidates"
    if problem.order.max_shipments == 1:
        return _most_units_one_shipment(problem, policy), True, "candidates"
    caps = np.unique(problem.lanes.days)
    tracked = _tracked_shipments(problem)
    demand = tuple(problem.demand.tolist())
    small = state_count(demand) <= DP_STATE_LIMIT and pair_count(demand, tracked) <= DP_PAIR_LIMIT
    if small:
        most = _most_shipments(problem, np.full(len(caps), np.inf))
        cap_list = [int(c) for c in caps]
        candidates = _reduced(problem, cap_list, [most] * len(caps), [])
        small = len(candidates) * len(caps) * pair_count(demand, tracked) <= DP_WORK_LIMIT
    if small:
        dp = CoreDp(problem, cap_list, candidates, tracked)
        final = dp.final.reshape(len(caps), -1, dp.size).min(axis=1)  # over shipment counts
        reachable = final < INF
        units = np.where(reachable, dp.units[None, :], -1)
        most = units.max()
        if most <= 0:
            return [], True, "dp"
        if policy is Policy.FASTEST:
            j = int(np.flatnonzero((units == most).any(axis=1))[0])
        else:
            j = len(caps) - 1
        loads = np.flatnonzero(units[j] == most)
        load = int(loads[np.argmin(final[j, loads])])
        _, state = dp.best(j, load)
        return _allocations(problem, dp.shipments(j, state), int(caps[j])), True, "dp"
    allocations = branch.most_units(problem, caps, policy)
    if allocations is not None:
        return allocations, True, "branch-and-bound"
    return _most_units_cp_sat(problem, policy, budget, caps)


def _most_units_cp_sat(
    problem: OrderProblem, policy: Policy, budget: Budget, caps: np.ndarray
) -> tuple[list[Allocation], bool, str] | None:
    """:func:`_most_units` by CP-SAT (None: nothing found in time)."""
    if len(problem.lanes) == 0:
        return [], True, "candidates"
    if budget.remaining() <= 0:
        return None
    result = cpsat.solve(problem, cpsat.Objective.MOST_UNITS, int(caps[-1]), None, budget)
    if not result.feasible:
        return None
    if policy is not Policy.FASTEST or not result.optimal:
        return result.allocations, result.optimal, "cp-sat"
    # FASTEST: the most units at the largest cap, then the smallest cap reaching as many
    # (proven at every faster cap, or the plan is only FEASIBLE)
    most = sum(int(a.units.sum()) for a in result.allocations)
    for cap in caps[:-1].tolist():
        faster = cpsat.solve(problem, cpsat.Objective.MOST_UNITS, int(cap), None, budget)
        if faster.infeasible:
            continue
        if not faster.optimal:
            return result.allocations, False, "cp-sat"
        if faster.feasible and sum(int(a.units.sum()) for a in faster.allocations) == most:
            return faster.allocations, True, "cp-sat"
    return result.allocations, True, "cp-sat"
