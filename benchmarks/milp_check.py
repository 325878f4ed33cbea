"""An independent MILP check of the optimiser's CHEAPEST plans, solved by HiGHS (``highspy``).

For every order the optimiser completes, the cheapest complete plan is found a second time as
one textbook mixed-integer programme and the two costs are compared.

What is independent of the optimiser: the search. None of the optimiser's code after
candidate generation runs here (no fast paths, no dynamic programme, no dominance rules,
no bounds, no CP-SAT, no warm start); the model below is solved by HiGHS' branch and cut
with ``mip_rel_gap = 0``, and its solution is re-costed from its integer units with the cost
model (:func:`omniroute.cost.parcels_array`, the ``ceil(W / P - 1e-9)`` parcel rule) and
checked for feasibility here.

What is shared: the candidates and the lane prices, i.e. :func:`omniroute.candidates.
build_problem` (which nodes are usable and not excluded, their ATP, and for each node and
carrier service within the promise its zone's base, per-kg price, parcel limit and the
node's handling costs). A bug there would be invisible to this check; the brute-force
tests (tests/engine/test_optimizer.py) cover it on tiny networks.

The model, per order (lanes ``l``, distinct SKUs ``k``, candidate nodes ``i``)::

    y_l in {0, 1}                 lane l ships
    x_lk in {0, ..., min(d_k, atp_ik)}   units of SKU k on lane l (only where atp_ik > 0)
    p_l integer >= 0              parcels (lanes with a parcel limit P_l only)

    sum_l x_lk = d_k                              every unit of the order ships
    sum_{l of i} y_l <= 1                         one shipment per node
    sum_{l of i} x_lk <= atp_ik                   ATP (redundant with the above; kept)
    x_lk <= min(d_k, atp_ik) y_l                  only a used lane ships
    y_l <= sum_k x_lk                             a used lane ships something
    p_l >= y_l,  P_l p_l >= sum_k w_k x_lk - 1e-9 P_l     parcels = max(1, ceil(W/P - 1e-9))
    sum_l y_l <= max_shipments                    when the order sets a limit

    min  sum_l [ base_l p_l + per_kg_l sum_k w_k x_lk + hs_l y_l + hu_l sum_k x_lk ]
         + split_penalty (sum_l y_l - 1)

(lanes without a parcel limit, including the pick-up store's hand-over, ship one parcel:
their base price goes on ``y_l``).

HiGHS runs with ``mip_rel_gap = 0``, ``mip_abs_gap = 1e-7`` and ``mip_feasibility_tolerance =
1e-9`` on one thread. An order matches when both the re-costed plan and HiGHS' objective
equal the optimiser's ``total_cost`` within ``1e-6 * max(1, |cost|)``. An order whose MILP
runs out of time is *unchecked* (never a match) unless its incumbent is cheaper than the
optimiser's plan or its lower bound is above it, which refutes the optimiser.

Run ``python -m benchmarks.milp_check --network FILE --orders FILE [--limit N]
[--time-limit S] [--out FILE.json]``: a JSON summary on stdout, a one-line summary on
stderr, exit status 1 when any compared order's costs differ. Orders the optimiser does not
complete are skipped; orders whose MILP hits the time limit are reported as unchecked.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import highspy
import numpy as np

from omniroute.candidates import OrderProblem, build_problem
from omniroute.cost import PARCEL_TOLERANCE, parcels_array
from omniroute.dating import HAND_OVER
from omniroute.files import read_network, read_orders
from omniroute.joint_model import new_highs
from omniroute.model import Order, Plan, PlanStatus, Policy, Proof
from omniroute.planner import Planner
from omniroute.server.progress import progress

DEFAULT_TIME_LIMIT = 60.0
MATCH_TOLERANCE = 1e-6  # relative: |a - b| <= 1e-6 * max(1, |a|)

OPTIMAL = "OPTIMAL"
TIME_LIMIT = "TIME_LIMIT"
INFEASIBLE = "INFEASIBLE"
BAD_SOLUTION = "BAD_SOLUTION"  # HiGHS' rounded solution breaks a constraint of the order


@dataclass(frozen=True, slots=True)
class MilpShipment:
    node_id: str
    service_id: str  # "" = handed over at the pick-up store
    units: dict[str, int]  # SKU id -> units
    cost: float


@dataclass(frozen=True, slots=True)
class MilpResult:
    """The MILP's answer for one order.

    ``objective`` is HiGHS' objective value; ``cost`` is the plan of its rounded solution
    re-costed with the cost model (None when there is no solution or it breaks a constraint).
    ``bound`` is HiGHS' proven lower bound.
    """

    status: str
    objective: float | None
    cost: float | None
    seconds: float
    bound: float | None = None
    shipments: tuple[MilpShipment, ...] = ()
    problems: tuple[str, ...] = ()
    columns: int = 0
    rows: int = 0


def matches(a: float, b: float) -> bool:
    return abs(a - b) <= MATCH_TOLERANCE * max(1.0, abs(a))


class _Rows:
    """Rows in coordinate form, handed to HiGHS row-wise."""

    def __init__(self) -> None:
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.row: list[np.ndarray] = []
        self.col: list[np.ndarray] = []
        self.val: list[np.ndarray] = []
        self.count = 0

    def add(
        self,
        lower: np.ndarray,
        upper: np.ndarray,
        row: np.ndarray,
        col: np.ndarray,
        val: np.ndarray,
    ) -> None:
        """Rows ``lower <= sum val * x[col] <= upper``; ``row`` numbers them from 0."""
        n = len(lower)
        if n == 0:
            return
        self.lower.append(np.asarray(lower, dtype=np.float64))
        self.upper.append(np.asarray(upper, dtype=np.float64))
        self.row.append(np.asarray(row, dtype=np.int64) + self.count)
        self.col.append(np.asarray(col, dtype=np.int64))
        self.val.append(np.asarray(val, dtype=np.float64))
        self.count += n

    def into(self, highs: highspy.Highs) -> None:
        if not self.count:
            return
        row = np.concatenate(self.row)
        col = np.concatenate(self.col)
        val = np.concatenate(self.val)
        order = np.lexsort((col, row))
        row, col, val = row[order], col[order], val[order]
        starts = np.searchsorted(row, np.arange(self.count)).astype(np.int32)
        highs.addRows(
            self.count,
            np.concatenate(self.lower),
            np.concatenate(self.upper),
            len(val),
            starts,
            col.astype(np.int32),
            val,
        )


def milp_plan_cost(problem: OrderProblem, time_limit: float = DEFAULT_TIME_LIMIT) -> MilpResult:
    """The cheapest complete plan of ``problem`` by HiGHS (see the module docstring)."""
    start = time.perf_counter()
    lanes = problem.lanes
    demand = problem.demand.astype(np.int64)
    weight = problem.weight.astype(np.float64)
    atp = problem.atp.astype(np.int64)
    split = problem.index.split_penalty
    order = problem.order
    n_lanes, m = len(lanes), len(demand)
    inf = highspy.kHighsInf

    lane_node = lanes.node.astype(np.int64)
    finite = np.isfinite(lanes.max_parcel)
    # x columns: one per (lane, SKU) whose node holds ATP of the SKU.
    cap = np.minimum(demand[None, :], atp[lane_node])
    x_lane, x_sku = np.nonzero(cap > 0)
    x_cap = cap[x_lane, x_sku].astype(np.float64)
    n_x = len(x_lane)
    p_lane = np.nonzero(finite)[0]
    n_p = len(p_lane)
    y0, x0, p0 = 0, n_lanes, n_lanes + n_x  # first column of each kind
    n_cols = n_lanes + n_x + n_p

    # Bounds and costs.
    lower = np.zeros(n_cols)
    upper = np.empty(n_cols)
    cost = np.empty(n_cols)
    upper[y0:x0] = 1.0
    cost[y0:x0] = lanes.handling_shipment + np.where(finite, 0.0, lanes.base) + split
    upper[x0:p0] = x_cap
    cost[x0:p0] = lanes.per_kg[x_lane] * weight[x_sku] + lanes.handling_unit[x_lane]
    lane_weight_max = np.zeros(n_lanes)
    np.add.at(lane_weight_max, x_lane, x_cap * weight[x_sku])
    if n_p:
        upper[p0:] = parcels_array(lane_weight_max[p_lane], lanes.max_parcel[p_lane])
        cost[p0:] = lanes.base[p_lane]

    rows = _Rows()
    # Every unit ships.
    rows.add(demand, demand, x_sku, x0 + np.arange(n_x), np.ones(n_x))
    # One shipment per node.
    rows.add(
        np.full(len(problem.nodes), -inf),
        np.ones(len(problem.nodes)),
        lane_node,
        y0 + np.arange(n_lanes),
        np.ones(n_lanes),
    )
    # ATP per node and SKU (over the node's lanes).
    pair = lane_node[x_lane] * max(m, 1) + x_sku
    pairs, pair_row = np.unique(pair, return_inverse=True)
    rows.add(
        np.full(len(pairs), -inf),
        atp[pairs // max(m, 1), pairs % max(m, 1)].astype(np.float64),
        pair_row,
        x0 + np.arange(n_x),
        np.ones(n_x),
    )
    # x <= cap * y.
    ar = np.arange(n_x)
    rows.add(
        np.full(n_x, -inf),
        np.zeros(n_x),
        np.concatenate([ar, ar]),
        np.concatenate([x0 + ar, y0 + x_lane]),
        np.concatenate([np.ones(n_x), -x_cap]),
    )
    # y <= sum_k x.
    rows.add(
        np.full(n_lanes, -inf),
        np.zeros(n_lanes),
        np.concatenate([np.arange(n_lanes), x_lane]),
        np.concatenate([y0 + np.arange(n_lanes), x0 + ar]),
        np.concatenate([np.ones(n_lanes), -np.ones(n_x)]),
    )
    if n_p:
        pr = np.arange(n_p)
        # p >= y.
        rows.add(
            np.zeros(n_p),
            np.full(n_p, inf),
            np.concatenate([pr, pr]),
            np.concatenate([p0 + pr, y0 + p_lane]),
            np.concatenate([np.ones(n_p), -np.ones(n_p)]),
        )
        # P p - sum_k w_k x >= -1e-9 P.
        p_row = np.full(n_lanes, -1)
        p_row[p_lane] = pr
        on_p = p_row[x_lane] >= 0
        rows.add(
            -PARCEL_TOLERANCE * lanes.max_parcel[p_lane],
            np.full(n_p, inf),
            np.concatenate([pr, p_row[x_lane][on_p]]),
            np.concatenate([p0 + pr, x0 + ar[on_p]]),
            np.concatenate([lanes.max_parcel[p_lane], -weight[x_sku][on_p]]),
        )
    if order.max_shipments > 0:
        rows.add(
            np.array([-inf]),
            np.array([float(order.max_shipments)]),
            np.zeros(n_lanes, np.int64),
            y0 + np.arange(n_lanes),
            np.ones(n_lanes),
        )

    if (np.bincount(x_sku, minlength=m) == 0).any():  # a SKU no candidate holds: "0 = d_k"
        return MilpResult(INFEASIBLE, None, None, time.perf_counter() - start, columns=n_cols)

    highs = new_highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 1e-7)
    # Integrality and rows to 1e-9 (default 1e-6), so that the objective is the re-costed
    # plan's cost to ~1e-12 and the parcel rows are not relaxed by the solver's tolerance.
    highs.setOptionValue("mip_feasibility_tolerance", 1e-9)
    highs.setOptionValue("time_limit", float(time_limit))
    highs.addVars(n_cols, lower, upper)
    highs.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), cost)
    highs.changeColsIntegrality(
        n_cols,
        np.arange(n_cols, dtype=np.int32),
        np.full(n_cols, int(highspy.HighsVarType.kInteger), dtype=np.uint8),
    )
    highs.changeObjectiveOffset(-split)
    rows.into(highs)
    highs.run()
    status = highs.getModelStatus()
    info = highs.getInfo()
    columns, row_count = n_cols, rows.count
    if status == highspy.HighsModelStatus.kInfeasible:
        return MilpResult(
            INFEASIBLE, None, None, time.perf_counter() - start, columns=columns, rows=row_count
        )
    if status == highspy.HighsModelStatus.kOptimal:
        name = OPTIMAL
    elif status == highspy.HighsModelStatus.kTimeLimit:
        name = TIME_LIMIT
    else:
        name = highs.modelStatusToString(status)
    bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
    if info.primal_solution_status != int(highspy.SolutionStatus.kSolutionStatusFeasible):
        return MilpResult(
            name, None, None, time.perf_counter() - start, bound, columns=columns, rows=row_count
        )
    objective = float(info.objective_function_value)
    values = np.asarray(highs.getSolution().col_value)
    x = np.rint(values[x0:p0]).astype(np.int64)
    units = np.zeros((n_lanes, m), dtype=np.int64)
    np.add.at(units, (x_lane, x_sku), x)
    total_cost, shipments, problems = recost(problem, units)
    seconds = time.perf_counter() - start
    if problems:
        return MilpResult(
            BAD_SOLUTION,
            objective,
            None,
            seconds,
            bound,
            shipments,
            tuple(problems),
            columns=columns,
            rows=row_count,
        )
    return MilpResult(
        name, objective, total_cost, seconds, bound, shipments, columns=columns, rows=row_count
    )


def recost(
    problem: OrderProblem, units: np.ndarray
) -> tuple[float, tuple[MilpShipment, ...], list[str]]:
    """Cost of shipping ``units[l, k]`` on lane ``l`` under the cost model, its shipments,
    and every constraint of the order it breaks."""
    lanes = problem.lanes
    index = problem.index
    problems: list[str] = []
    shipped = units.sum(axis=0) if len(units) else np.zeros(len(problem.demand), np.int64)
    if not np.array_equal(shipped, problem.demand):
        problems.append(f"ships {shipped.tolist()} of demand {problem.demand.tolist()}")
    used = np.nonzero(units.sum(axis=1) > 0)[0]
    if (units < 0).any():
        problems.append("negative units")
    nodes = lanes.node[used]
    if len(np.unique(nodes)) != len(nodes):
        problems.append("two shipments from one node")
    per_node = np.zeros_like(problem.atp)
    np.add.at(per_node, lanes.node[used], units[used])
    if (per_node > problem.atp).any():
        problems.append("a node ships above its ATP")
    if problem.order.max_shipments and len(used) > problem.order.max_shipments:
        problems.append(f"{len(used)} shipments exceed maxShipments")
    weights = units[used] @ problem.weight
    count = units[used].sum(axis=1).astype(np.float64)
    costs = (
        parcels_array(weights, lanes.max_parcel[used]) * lanes.base[used]
        + lanes.per_kg[used] * weights
        + lanes.handling_shipment[used]
        + lanes.handling_unit[used] * count
    )
    total = math.fsum(costs.tolist()) + index.split_penalty * (len(used) - 1) if len(used) else 0.0
    shipments = []
    for j, lane in enumerate(used.tolist()):
        service = int(lanes.service[lane])
        shipments.append(
            MilpShipment(
                index.node_ids[int(problem.nodes[lanes.node[lane]])],
                "" if service == HAND_OVER else index.services[service].id,
                {
                    index.sku_ids[int(problem.sku[k])]: int(q)
                    for k, q in enumerate(units[lane].tolist())
                    if q
                },
                float(costs[j]),
            )
        )
    return total, tuple(shipments), problems


def compare(optimiser_cost: float, milp: MilpResult) -> bool | None:
    """True when the MILP proves ``optimiser_cost`` minimal (its re-costed solution and its
    objective both equal it), False when it refutes it, None when it decides nothing.

    A proven optimum decides; so do an infeasible model and a solution that breaks the
    order's constraints (both mean the check or the optimiser is wrong). Out of time, the
    MILP still refutes the optimiser when its incumbent is cheaper or its lower bound is
    above the optimiser's cost; otherwise the order is unchecked (never a match).
    """
    if milp.status == OPTIMAL:
        assert milp.cost is not None and milp.objective is not None
        return matches(optimiser_cost, milp.cost) and matches(optimiser_cost, milp.objective)
    if milp.status in (INFEASIBLE, BAD_SOLUTION):
        return False
    slack = MATCH_TOLERANCE * max(1.0, abs(optimiser_cost))
    if milp.cost is not None and milp.cost < optimiser_cost - slack:
        return False
    if milp.bound is not None and milp.bound > optimiser_cost + slack:
        return False
    return None


def describe_plan(plan: Plan) -> list[dict[str, Any]]:
    """The optimiser's shipments as (node, service, units per SKU, cost)."""
    described = []
    for shipment in plan.shipments:
        units: dict[str, int] = {}
        for line in shipment.lines:
            units[line.sku_id] = units.get(line.sku_id, 0) + line.quantity
        described.append(
            {
                "node": shipment.node_id,
                "service": shipment.service_id,
                "units": units,
                "cost": shipment.cost,
            }
        )
    return described


def describe_milp(result: MilpResult) -> list[dict[str, Any]]:
    return [
        {"node": s.node_id, "service": s.service_id, "units": s.units, "cost": s.cost}
        for s in result.shipments
    ]


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    return float(np.percentile(np.asarray(values), q))


def check_orders(
    planner: Planner, orders: Sequence[Order], time_limit: float = DEFAULT_TIME_LIMIT
) -> dict[str, Any]:
    """Plan every order (CHEAPEST) and compare each complete plan's cost with the MILP's."""
    compared = matched = proven = 0
    skipped: list[str] = []
    unchecked: list[dict[str, Any]] = []
    mismatches: list[dict[str, Any]] = []
    objective_gaps: list[float] = []  # |MILP objective - optimiser cost|, proven orders
    recost_gaps: list[float] = []  # |re-costed MILP plan - optimiser cost|, proven orders
    milp_seconds: list[float] = []
    plan_seconds: list[float] = []
    for order in progress(orders, len(orders), "milp-check"):
        t = time.perf_counter()
        result = planner.plan(order, Policy.CHEAPEST, validate=False)
        plan_seconds.append(time.perf_counter() - t)
        plan = result.plan
        if plan.status is not PlanStatus.COMPLETE:
            skipped.append(order.id)
            continue
        optimiser_proven = result.stats.proof is Proof.OPTIMAL
        proven += optimiser_proven
        problem = build_problem(order, planner.index, planner.inventory)
        milp = milp_plan_cost(problem, time_limit)
        milp_seconds.append(milp.seconds)
        row = {
            "order": order.id,
            "optimiser_cost": plan.total_cost,
            "optimiser_proven": optimiser_proven,
            "milp_status": milp.status,
            "milp_objective": milp.objective,
            "milp_cost": milp.cost,
            "milp_bound": milp.bound,
            "milp_seconds": round(milp.seconds, 3),
            "lanes": len(problem.lanes),
            "columns": milp.columns,
        }
        if milp.status == OPTIMAL and milp.objective is not None and milp.cost is not None:
            objective_gaps.append(abs(milp.objective - plan.total_cost))
            recost_gaps.append(abs(milp.cost - plan.total_cost))
        verdict = compare(plan.total_cost, milp)
        if verdict is None:
            unchecked.append(row)
            print(f"\n{order.id}: unchecked ({milp.status}, {milp.seconds:.1f} s)", file=sys.stderr)
            continue
        compared += 1
        if verdict:
            matched += 1
        else:
            row["optimiser_plan"] = describe_plan(plan)
            row["milp_plan"] = describe_milp(milp)
            row["milp_problems"] = list(milp.problems)
            mismatches.append(row)
            print(
                f"\n{order.id}: MISMATCH optimiser {plan.total_cost} MILP {milp.status} "
                f"cost {milp.cost} objective {milp.objective}",
                file=sys.stderr,
            )
    complete = len(orders) - len(skipped)
    return {
        "orders": len(orders),
        "complete": complete,
        "skipped_not_complete": len(skipped),
        "compared": compared,
        "matches": matched,
        "mismatches": mismatches,
        "unchecked": unchecked,
        "optimiser_proven_share": proven / complete if complete else None,
        "milp_seconds_p50": percentile(milp_seconds, 50),
        "milp_seconds_p90": percentile(milp_seconds, 90),
        "milp_seconds_max": max(milp_seconds, default=None),
        "milp_seconds_total": sum(milp_seconds),
        "optimiser_seconds_p50": percentile(plan_seconds, 50),
        "optimiser_seconds_max": max(plan_seconds, default=None),
        "max_abs_difference_recosted": max(recost_gaps, default=None),
        "max_abs_difference_objective": max(objective_gaps, default=None),
        "time_limit": time_limit,
        "tolerance": f"|a - b| <= {MATCH_TOLERANCE} * max(1, |a|)",
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.milp_check",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--network", required=True, type=Path, help="network JSON file")
    parser.add_argument("--orders", required=True, type=Path, help="orders JSONL file")
    parser.add_argument("--limit", type=int, default=0, help="check only the first N orders")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=DEFAULT_TIME_LIMIT,
        help=f"seconds HiGHS may take per order (default {DEFAULT_TIME_LIMIT:g})",
    )
    parser.add_argument("--out", type=Path, help="also write the JSON summary here")
    args = parser.parse_args(argv)

    t = time.perf_counter()
    network = read_network(args.network)
    orders = read_orders(args.orders, network)
    if args.limit > 0:
        orders = orders[: args.limit]
    planner = Planner(network, validate=False)
    print(
        f"loaded {len(network.nodes):,} nodes and {len(orders):,} orders "
        f"in {time.perf_counter() - t:.1f} s",
        file=sys.stderr,
    )
    summary = check_orders(planner, orders, args.time_limit)
    summary["network"] = str(args.network)
    summary["orders_file"] = str(args.orders)
    text = json.dumps(summary, indent=1, default=str)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)

    def secs(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f} s"

    print(
        f"milp-check: {summary['compared']} compared, {summary['matches']} match, "
        f"{len(summary['mismatches'])} mismatch, {len(summary['unchecked'])} unchecked "
        f"(time limit), {summary['skipped_not_complete']} not complete; MILP p50 "
        f"{secs(summary['milp_seconds_p50'])}, max {secs(summary['milp_seconds_max'])}",
        file=sys.stderr,
    )
    return 1 if summary["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
