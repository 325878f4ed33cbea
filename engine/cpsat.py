"""The exact fallback: one OR-Tools CP-SAT model for an order (hard cases only).

The model is built by small named functions, one per part of the cost model
(docs/cost-model.md). Costs are integers in micro-units of currency and weights in
milligrams; the reported plan is re-costed exactly by ``omniroute.plans.build_plan``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from omniroute.budget import Budget
from omniroute.candidates import OrderProblem
from omniroute.dp import MONEY_SCALE
from omniroute.plans import Allocation

WEIGHT_SCALE = 1_000_000  # mg per kg


class Objective(enum.Enum):
    CHEAPEST = "complete plans within the cap: cost, then shipments"
    MOST_UNITS = "units shipped, then cost, then shipments"


@dataclass(frozen=True, slots=True)
class CpSatResult:
    allocations: list[Allocation]
    optimal: bool
    cost_micros: int  # cost of the solution in micro-units
    bound_micros: int  # proven lower bound on the cost (== cost when optimal)
    feasible: bool  # a solution was found
    infeasible: bool = False  # proven that no solution exists


@dataclass
class _Model:
    """CP-SAT variables of one order."""

    model: cp_model.CpModel
    lanes: np.ndarray  # lane ids in the model
    use: dict[int, cp_model.IntVar]  # lane -> shipment chosen
    units: dict[tuple[int, int], cp_model.IntVar]  # (lane, sku) -> units
    parcels: dict[int, cp_model.IntVar]
    cost: cp_model.LinearExpr | int = 0
    shipments: cp_model.LinearExpr | int = 0
    shipped: cp_model.LinearExpr | int = 0
    prefix: str = ""
    filled: cp_model.IntVar | None = None


def _lanes_by_node(m: _Model, problem: OrderProblem) -> dict[int, list[int]]:
    """The model's lanes of each candidate, candidates ascending, lanes in model order."""
    by_node: dict[int, list[int]] = {}
    for lane, candidate in zip(m.lanes.tolist(), problem.lanes.node[m.lanes].tolist(), strict=True):
        by_node.setdefault(candidate, []).append(lane)
    return dict(sorted(by_node.items()))


def _add_shipment_choice(m: _Model, problem: OrderProblem) -> None:
    # "at most one shipment per node, each with one service"
    for of_node in _lanes_by_node(m, problem).values():
        m.model.add_at_most_one(m.use[lane] for lane in of_node)


def _add_atp(m: _Model, problem: OrderProblem) -> None:
    # "no node gives more of a SKU than its ATP" (items of one SKU share it: a SKU on lines
    # of several ship-together groups is an item per group)
    items_of: dict[int, list[int]] = {}
    for k, sku in enumerate(problem.sku.tolist()):
        items_of.setdefault(sku, []).append(k)
    for candidate, of_node in _lanes_by_node(m, problem).items():
        for items in items_of.values():
            terms = [
                m.units[(int(lane), k)]
                for lane in of_node
                for k in items
                if (int(lane), k) in m.units
            ]
            if terms:
                m.model.add(sum(terms) <= int(problem.atp[candidate, items[0]]))


def _add_ship_together(m: _Model, problem: OrderProblem) -> None:
    # "lines with the same shipTogetherGroup are all allocated to one node": each group
    # ships whole from one candidate, or (partial plans) not at all
    if problem.group is None:
        return
    by_node = _lanes_by_node(m, problem)
    for g in sorted(set(problem.group.tolist()) - {-1}):
        items = np.flatnonzero(problem.group == g).tolist()
        chosen = []
        for candidate, of_node in by_node.items():
            at = m.model.new_bool_var(f"{m.prefix}group_{g}_{candidate}")
            chosen.append(at)
            for k in items:
                units = [m.units[(int(lane), k)] for lane in of_node if (int(lane), k) in m.units]
                m.model.add(sum(units) == int(problem.demand[k]) * at)
        m.model.add_at_most_one(chosen)


def _add_demand(m: _Model, problem: OrderProblem, demand: str) -> None:
    # "every line's quantity is fully allocated": exactly ("complete"), at most ("partial"),
    # or all or nothing ("whole", a boolean `filled`; used by joint allocation)
    if demand == "whole":
        m.filled = m.model.new_bool_var(f"{m.prefix}filled")
    for k, need in enumerate(problem.demand.tolist()):
        terms = [var for (lane, sku), var in m.units.items() if sku == k]
        if demand == "complete":
            m.model.add(sum(terms) == need)
        elif demand == "whole":
            m.model.add(sum(terms) == need * m.filled)
        else:
            m.model.add(sum(terms) <= need)
    m.shipped = sum(m.units.values())


def _add_parcels(m: _Model, problem: OrderProblem) -> None:
    # "parcels p = ceil(W / maxParcelWeightKg), at least 1"; with ship-alone SKUs, their
    # units are a parcel each (charged per unit in _add_cost) and p counts the other units'
    # weight, 0 when there are none
    lanes = problem.lanes
    grams = np.rint(problem.weight * WEIGHT_SCALE).astype(np.int64)
    units_of: dict[int, list[tuple[int, cp_model.IntVar]]] = {}
    for (on, k), var in m.units.items():
        units_of.setdefault(on, []).append((k, var))
    if problem.alone is not None:
        _add_rest_parcels(m, problem, units_of, grams)
        return
    for lane in m.lanes.tolist():
        limit = lanes.max_parcel[lane]
        if not np.isfinite(limit) or lanes.base[lane] == 0:
            continue
        weight = sum(int(grams[k]) * var for k, var in units_of.get(lane, ()))
        most = int(np.ceil(float(problem.demand @ problem.weight) / limit)) + 1
        parcels = m.model.new_int_var(0, most, f"{m.prefix}parcels_{lane}")
        m.model.add(parcels * int(round(limit * WEIGHT_SCALE)) >= weight)
        m.model.add(parcels >= m.use[lane])
        m.parcels[lane] = parcels


def _add_rest_parcels(
    m: _Model,
    problem: OrderProblem,
    units_of: dict[int, list[tuple[int, cp_model.IntVar]]],
    grams: np.ndarray,
) -> None:
    """The parcels of each lane's units that do not ship alone: at least one when there
    are any (a boolean ``rest`` says so), enough for their weight under the limit."""
    assert problem.alone is not None
    lanes = problem.lanes
    total = int(problem.demand.sum())
    for lane in m.lanes.tolist():
        rest = [(k, var) for k, var in units_of.get(lane, ()) if not problem.alone[k]]
        if not rest or lanes.base[lane] == 0:
            continue  # no parcel charge beyond the ship-alone units
        present = m.model.new_bool_var(f"{m.prefix}rest_{lane}")
        m.model.add(sum(var for _, var in rest) <= total * present)
        limit = lanes.max_parcel[lane]
        if not np.isfinite(limit):
            m.parcels[lane] = present
            continue
        weight = sum(int(grams[k]) * var for k, var in rest)
        most = int(np.ceil(float(problem.demand @ problem.weight) / limit)) + 1
        parcels = m.model.new_int_var(0, most, f"{m.prefix}parcels_{lane}")
        m.model.add(parcels * int(round(limit * WEIGHT_SCALE)) >= weight)
        m.model.add(parcels >= present)
        m.parcels[lane] = parcels


def _add_cost(m: _Model, problem: OrderProblem) -> None:
    # "cost = p * baseCost + costPerKg * W + handlingPerShipment + handlingPerUnit * u",
    # plus "splitPenalty * (shipments - 1)" (charged per shipment; the constant is dropped)
    lanes = problem.lanes
    penalty = problem.index.split_penalty
    terms = []
    for lane in m.lanes.tolist():
        fixed = lanes.handling_shipment[lane] + penalty
        if lane in m.parcels:
            terms.append(int(round(lanes.base[lane] * MONEY_SCALE)) * m.parcels[lane])
        elif problem.alone is None:
            fixed += lanes.base[lane]
        terms.append(int(round(fixed * MONEY_SCALE)) * m.use[lane])
    for (lane, k), var in m.units.items():
        per_unit = lanes.per_kg[lane] * problem.weight[k] + lanes.handling_unit[lane]
        if problem.price is not None:  # the look-ahead's price of the unit at the node
            per_unit += problem.price[lanes.node[lane], k]
        if problem.alone is not None and problem.alone[k]:
            per_unit += lanes.base[lane]  # a parcel of its own
        terms.append(int(round(per_unit * MONEY_SCALE)) * var)
    m.cost = sum(terms)
    m.shipments = sum(m.use.values())


def _add_max_shipments(m: _Model, problem: OrderProblem) -> None:
    # "the number of shipments <= maxShipments (when set)"
    if problem.order.max_shipments:
        m.model.add(sum(m.use.values()) <= problem.order.max_shipments)


def build_model(
    problem: OrderProblem,
    max_days: int,
    complete: bool | str,
    keep: np.ndarray | None = None,
    model: cp_model.CpModel | None = None,
    prefix: str = "",
) -> _Model:
    """Variables and constraints for plans arriving within ``max_days`` from the candidates
    in ``keep`` (all by default). ``complete``: True / False or a demand mode of
    :func:`_add_demand`. Several orders can share one ``model`` (names get ``prefix``)."""
    model = model if model is not None else cp_model.CpModel()
    usable = problem.lanes.days <= max_days
    if keep is not None:
        usable &= keep[problem.lanes.node]
    lanes = np.flatnonzero(usable)
    m = _Model(model, lanes, {}, {}, {}, prefix=prefix)
    for lane in lanes.tolist():
        m.use[lane] = model.new_bool_var(f"{prefix}use_{lane}")
        candidate = problem.lanes.node[lane]
        for k in range(len(problem.demand)):
            most = int(min(problem.atp[candidate, k], problem.demand[k]))
            if most > 0:
                var = model.new_int_var(0, most, f"{prefix}units_{lane}_{k}")
                model.add(var <= most * m.use[lane])
                m.units[(lane, k)] = var
        # a chosen lane ships at least one unit
        model.add(sum(m.units.get((lane, k), 0) for k in range(len(problem.demand))) >= m.use[lane])
    for build in (
        _add_shipment_choice,
        _add_atp,
        _add_ship_together,
        _add_parcels,
        _add_cost,
        _add_max_shipments,
    ):
        build(m, problem)
    if isinstance(complete, bool):
        complete = "complete" if complete else "partial"
    _add_demand(m, problem, complete)
    return m


# CP-SAT's memory for a model: a fixed part and a part per variable (the model, its copies
# and the search's state); measured on a national order with 6,000 and 59,000 variables
# (31 and 80 MiB), rounded up.
BASE_MEGABYTES = 24.0
BYTES_PER_VARIABLE = 1536


# Building the model in Python takes time too: about 20 us per variable, measured on
# national orders of 1,700 to 49,000 variables. A model is built only when that fits in half
# the time left, so that a deadline is not spent before the search starts.
BUILD_SECONDS_PER_VARIABLE = 2.5e-5


def model_variables(problem: OrderProblem, max_days: int, keep: np.ndarray | None = None) -> int:
    """About how many variables the order's model has: per usable lane its choice, parcels
    and cost, and a units variable per SKU its node holds."""
    lanes = problem.lanes
    usable = lanes.days <= max_days
    if keep is not None:
        usable &= keep[lanes.node]
    held = int((problem.atp[lanes.node[usable]] > 0).sum())
    return held + 3 * int(usable.sum())


def model_megabytes(variables: int) -> float:
    """About how much memory (MiB) CP-SAT needs for a model of ``variables`` variables (see
    :data:`BYTES_PER_VARIABLE`)."""
    return BASE_MEGABYTES + variables * BYTES_PER_VARIABLE / 2**20


def solve(
    problem: OrderProblem,
    objective: Objective,
    max_days: int,
    hint: list[Allocation] | None = None,
    budget: Budget | float = 10.0,
    keep: np.ndarray | None = None,
    seed: int = 0,
) -> CpSatResult:
    """Solve one model; deterministic (one worker, fixed seed) within the budget (or seconds).

    ``keep`` restricts the candidates (e.g. to those dominance pruning leaves). Cancelling the
    budget stops the search; the best solution so far is returned, unproven. When building
    the model would take more than half the time left, or it would need more than the
    budget's memory bound, no search starts (nothing found, not infeasible).
    """
    if not isinstance(budget, Budget):
        budget = Budget(budget)
    variables = model_variables(problem, max_days, keep)
    build_seconds = variables * BUILD_SECONDS_PER_VARIABLE
    if not (budget.affords(2 * build_seconds) and budget.fits(model_megabytes(variables))):
        return CpSatResult([], False, 0, 0, False, False)  # no time to build it, or too large
    complete = objective is not Objective.MOST_UNITS
    m = build_model(problem, max_days, complete, keep)
    solver = cp_model.CpSolver()
    if budget.memory_mb is not None:
        solver.parameters.max_memory_in_mb = max(1, budget.memory_mb)
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = max(0.001, budget.remaining())
    # Presolve costs more than it saves on these small models (measured: 2-3x slower).
    solver.parameters.cp_model_presolve = False
    if objective is Objective.MOST_UNITS:
        # Two phases: most units, then the cheapest way to ship that many.
        m.model.maximize(m.shipped)
        with budget.stoppable(solver.stop_search):
            status = solver.solve(m.model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return CpSatResult([], False, 0, 0, False, status == cp_model.INFEASIBLE)
        best_units = int(solver.value(m.shipped))
        m.model.clear_objective()
        m.model.add(m.shipped == best_units)
        first_phase_optimal = status == cp_model.OPTIMAL
    else:
        first_phase_optimal = True
    ships_scale = len(m.lanes) + 1
    m.model.minimize(m.cost * ships_scale + m.shipments)
    if hint:
        _add_hint(m, problem, hint)
    solver.parameters.max_time_in_seconds = max(0.001, budget.remaining())
    with budget.stoppable(solver.stop_search):
        status = solver.solve(m.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return CpSatResult([], False, 0, 0, False, status == cp_model.INFEASIBLE)
    allocations = solution_allocations(m, problem, solver)
    # the model charges the split penalty on every shipment; refund it once
    refund = round(problem.index.split_penalty * MONEY_SCALE) if allocations else 0
    cost = int(solver.value(m.cost)) - refund
    bound = int(solver.best_objective_bound) // ships_scale - refund
    optimal = status == cp_model.OPTIMAL and first_phase_optimal
    return CpSatResult(allocations, optimal, cost, min(bound, cost), True)


def _add_hint(m: _Model, problem: OrderProblem, hint: list[Allocation]) -> None:
    chosen = {a.lane: a.units for a in hint}
    for lane, var in m.use.items():
        m.model.add_hint(var, lane in chosen)
    for (lane, k), var in m.units.items():
        m.model.add_hint(var, int(chosen[lane][k]) if lane in chosen else 0)


def solution_allocations(
    m: _Model, problem: OrderProblem, solver: cp_model.CpSolver
) -> list[Allocation]:
    """The lanes the solver's solution uses for ``problem`` and the units on each."""
    allocations = []
    for lane, var in m.use.items():
        if solver.value(var):
            units = np.array(
                [
                    solver.value(m.units[(lane, k)]) if (lane, k) in m.units else 0
                    for k in range(len(problem.demand))
                ],
                dtype=np.int64,
            )
            allocations.append(Allocation(lane, units))  # a chosen lane ships >= 1 unit
    return allocations
