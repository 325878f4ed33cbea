"""The joint allocation's mixed-integer programme, solved by HiGHS.

One model for a batch of orders sharing ATP and each node's daily shipment capacity. Per
order ``o`` (its lanes ``l``, its SKUs ``k``, its candidate nodes ``i``)::

    y_l in {0, 1}                          lane l ships
    x_lk in {0, ..., min(d_k, atp_ik)}     units of SKU k on lane l (where atp_ik > 0)
    p_l integer >= 0                       parcels (lanes with a parcel limit P_l and a base)
    s_o in {0, 1}                          the order ships something (one split penalty less)
    f_o in {0, 1}                          a whole-or-nothing order ships in full

    sum_{l of i} y_l <= 1                  one shipment per node
    x_lk <= min(d_k, atp_ik) y_l           only a used lane ships
    y_l <= sum_k x_lk                      a used lane ships something
    p_l >= y_l,  P_l p_l >= sum_k w_k x_lk - 1e-9 P_l     parcels = max(1, ceil(W/P - 1e-9))
    s_o <= sum_l y_l
    sum_l x_lk <= d_k                      (an order that allows partial plans)
    sum_l x_lk = d_k f_o                   (a whole-or-nothing order)
    sum_l y_l <= max_shipments             when the order sets a limit

and across orders::

    sum_{o, l of node n} x_lk <= atp_nk    shared ATP of every stock position
    sum_{o, l of node n} y_l <= c_n        shipments left today at a node with a capacity
                                           (dated orders: per node and ship date, the
                                           room left on the day each lane ships)

    min  sum_l [ base_l p_l + (hs_l + split) y_l + sum_k (per_kg_l w_k + hu_l) x_lk ]
         - split sum_o s_o + penalty sum_o sum_k (d_k - sum_l x_lk)

(lanes without a parcel limit ship one parcel: their base goes on ``y_l``). An order with
ship-alone SKUs pays ``base_l`` on each of their units in ``x_lk`` instead, and ``p_l``
counts the other units' parcels: ``U p_l >= sum_{k not alone} x_lk`` (``U`` its units) in
place of ``p_l >= y_l``, on every lane with a base. A ship-together group ``g`` has a
binary ``z_gi`` per candidate ``i`` with ``sum_{l of i} x_lk = d_k z_gi`` for each of its
items ``k``: whole from one node, or not at all. This is the cost
model of ``docs/cost-model.md`` exactly, so the optimum of the model is the joint optimum
and HiGHS' dual bound is a proven lower bound on it. Its LP relaxation gives the bound for
batches too large to solve whole.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import highspy
import numpy as np

from omniroute.candidates import OrderProblem
from omniroute.cost import PARCEL_TOLERANCE, parcels_array
from omniroute.network_index import Inventory
from omniroute.plans import Allocation

INF = highspy.kHighsInf


@dataclass(frozen=True, slots=True)
class BatchSolution:
    """What HiGHS found: allocations per order (None when it found no solution), a proven
    lower bound on the batch objective, and whether the solution is proven optimal."""

    allocations: list[list[Allocation]] | None
    bound: float
    optimal: bool


class Rows:
    """Rows ``lower <= sum val * x[col] <= upper`` in coordinate form, added to HiGHS at once."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.count = 0

    def add(
        self, n: int, lower: object, upper: object, row: np.ndarray, col: np.ndarray, val: object
    ) -> None:
        """``n`` rows; ``row`` numbers their entries from 0."""
        if n == 0:
            return
        lo = np.broadcast_to(np.asarray(lower, dtype=np.float64), (n,))
        hi = np.broadcast_to(np.asarray(upper, dtype=np.float64), (n,))
        values = np.broadcast_to(np.asarray(val, dtype=np.float64), (len(row),))
        self.parts.append((lo, hi, np.asarray(row) + self.count, np.asarray(col), values))
        self.count += n

    def add_entries(
        self,
        lower: Sequence[float] | np.ndarray,
        upper: Sequence[float] | np.ndarray,
        entries: Sequence[tuple[int, int, float]],
    ) -> None:
        """Rows given by their bounds and ``(row, column, value)`` entries, rows from 0."""
        if entries:
            row, col, val = (np.array(v) for v in zip(*entries, strict=True))
        else:
            row, col, val = np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        self.add(len(lower), lower, upper, row, col, val)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Every row's lower and upper bound, in row order."""
        if not self.count:
            return np.zeros(0), np.zeros(0)
        return (np.concatenate([p[0] for p in self.parts]),
                np.concatenate([p[1] for p in self.parts]))  # fmt: skip

    def into(self, highs: highspy.Highs) -> None:
        if not self.count:
            return
        lower, upper, row, col, val = (np.concatenate(p) for p in zip(*self.parts, strict=True))
        order = np.lexsort((col, row))
        row, col, val = row[order], col[order], val[order]
        starts = np.searchsorted(row, np.arange(self.count)).astype(np.int32)
        highs.addRows(self.count, lower, upper, len(val), starts, col.astype(np.int32), val)


@dataclass(frozen=True, slots=True)
class _Order:
    """Where one order's columns are: lanes' y from ``y0``, its x columns (lane, SKU) from
    ``x0``, parcel columns (lane) from ``p0``, ``s`` and ``f`` (-1: none)."""

    y0: int
    x0: int
    x_lane: np.ndarray
    x_sku: np.ndarray
    p0: int
    p_lane: np.ndarray
    s: int
    f: int


class BatchModel:
    """The model of the module docstring for ``problems`` against ``inventory``'s ATP (built
    once, solved by :meth:`solve`); ``progress(done, total)`` hears of the orders added.
    ``penalty``: per unit not shipped, one for every SKU or an array by the network's SKU
    index.

    Order ``o``'s columns are ``order_columns[o]`` (a range) and its own rows (all but the
    shared ones) ``order_rows[o]``; ``position_rows`` is the first shared ATP row and the
    positions (``global node * SKUs + global SKU``) of those rows, in order.
    ``day_capacity=False`` leaves out the dated orders' rows of room per ship day (a
    relaxation when the orders could fill a day: :func:`day_capacity_can_fill`)."""

    def __init__(
        self,
        problems: Sequence[OrderProblem],
        inventory: Inventory,
        penalty: float | np.ndarray,
        capacity: dict[str, int],
        progress: Callable[[int, int], None] | None = None,
        day_capacity: bool = True,
    ) -> None:
        self.problems = problems
        self.inventory = inventory
        index = inventory.index
        split = index.split_penalty
        penalties = np.broadcast_to(np.asarray(penalty, dtype=np.float64), (len(index.sku_ids),))
        self.order_columns: list[range] = []
        self.order_rows: list[range] = []
        self.position_rows: tuple[int, np.ndarray] = (0, np.zeros(0, dtype=np.int64))
        lower: list[np.ndarray] = []
        upper: list[np.ndarray] = []
        cost: list[np.ndarray] = []
        integral: list[np.ndarray] = []
        rows = Rows()
        shared_x: list[tuple[np.ndarray, np.ndarray]] = []  # (position key, column)
        shared_y: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (node, day, column)
        self.orders: list[_Order] = []
        self.offset = 0.0
        columns = 0

        def new(lo: np.ndarray, hi: np.ndarray, c: np.ndarray, integer: bool) -> int:
            nonlocal columns
            first = columns
            lower.append(np.asarray(lo, dtype=np.float64))
            upper.append(np.asarray(hi, dtype=np.float64))
            cost.append(np.asarray(c, dtype=np.float64))
            integral.append(np.full(len(lower[-1]), integer))
            columns += len(lower[-1])
            return first

        n_skus = len(index.sku_ids)
        for done, problem in enumerate(problems):
            if progress is not None and done % 50 == 0:
                progress(done, len(problems))
            first_column, first_row = columns, rows.count
            lanes = problem.lanes
            demand = problem.demand.astype(np.float64)
            weight = problem.weight.astype(np.float64)
            n_lanes, m = len(lanes), len(demand)
            lane_node = lanes.node.astype(np.int64)
            cap = np.minimum(problem.demand[None, :], problem.atp[lane_node]).astype(np.float64)
            x_lane, x_sku = np.nonzero(cap > 0)
            x_cap = cap[x_lane, x_sku]
            alone = problem.alone
            if alone is None:
                with_parcels = np.isfinite(lanes.max_parcel) & (lanes.base > 0)
                rest_x = np.ones(len(x_lane), dtype=bool)
                alone_base = np.zeros(len(x_lane))
            else:  # ship-alone units pay a base each; p counts the other units' parcels
                with_parcels = lanes.base > 0
                rest_x = ~alone[x_sku]
                alone_base = np.where(alone[x_sku], lanes.base[x_lane], 0.0)
            p_lane = np.flatnonzero(with_parcels)
            y0 = new(
                np.zeros(n_lanes),
                np.ones(n_lanes),
                lanes.handling_shipment + np.where(with_parcels, 0.0, lanes.base) + split,
                True,
            )
            x0 = new(
                np.zeros(len(x_lane)),
                x_cap,
                lanes.per_kg[x_lane] * weight[x_sku]
                + lanes.handling_unit[x_lane]
                + alone_base
                - penalties[problem.sku[x_sku]],
                True,
            )
            heaviest = np.zeros(n_lanes)
            np.add.at(heaviest, x_lane, x_cap * weight[x_sku] * rest_x)
            p0 = new(
                np.zeros(len(p_lane)),
                parcels_array(heaviest[p_lane], lanes.max_parcel[p_lane]),
                lanes.base[p_lane],
                True,
            )
            s = new(np.zeros(1), np.ones(1), np.array([-split]), True) if n_lanes else -1
            f = (
                -1
                if problem.order.allow_partial
                else new(np.zeros(1), np.ones(1), np.zeros(1), True)
            )
            self.orders.append(_Order(y0, x0, x_lane, x_sku, p0, p_lane, s, f))
            self.offset += float(penalties[problem.sku] @ demand)
            ys = y0 + np.arange(n_lanes)
            xs = x0 + np.arange(len(x_lane))
            ar = np.arange(len(x_lane))
            # one shipment per node; x <= cap y; y <= sum_k x
            node_row = np.unique(lane_node, return_inverse=True)[1]
            rows.add(int(node_row.max(initial=-1)) + 1, -INF, 1.0, node_row, ys, 1.0)
            rows.add(
                len(ar), -INF, 0.0, np.concatenate([ar, ar]), np.concatenate([xs, y0 + x_lane]),
                np.concatenate([np.ones(len(ar)), -x_cap]),
            )  # fmt: skip
            rows.add(
                n_lanes, -INF, 0.0, np.concatenate([np.arange(n_lanes), x_lane]),
                np.concatenate([ys, xs]),
                np.concatenate([np.ones(n_lanes), -np.ones(len(ar))]),
            )  # fmt: skip
            if len(p_lane):
                pr = np.arange(len(p_lane))
                ps = p0 + pr
                p_row = np.full(n_lanes, -1)
                p_row[p_lane] = pr
                if alone is None:  # p >= y
                    rows.add(
                        len(pr), 0.0, INF, np.concatenate([pr, pr]),
                        np.concatenate([ps, y0 + p_lane]),
                        np.concatenate([np.ones(len(pr)), -np.ones(len(pr))]),
                    )  # fmt: skip
                else:  # p >= 1 when the lane ships any unit that does not ship alone
                    on = (p_row[x_lane] >= 0) & rest_x
                    most = float(demand.sum())
                    rows.add(
                        len(pr), 0.0, INF, np.concatenate([pr, p_row[x_lane][on]]),
                        np.concatenate([ps, xs[on]]),
                        np.concatenate([np.full(len(pr), most), -np.ones(int(on.sum()))]),
                    )  # fmt: skip
                limited = np.isfinite(lanes.max_parcel[p_lane])
                lr = np.full(len(pr), -1)
                lr[limited] = np.arange(int(limited.sum()))
                on = (p_row[x_lane] >= 0) & rest_x
                on[on] = lr[p_row[x_lane][on]] >= 0
                rows.add(
                    int(limited.sum()),
                    -PARCEL_TOLERANCE * lanes.max_parcel[p_lane][limited],
                    INF,
                    np.concatenate([lr[limited], lr[p_row[x_lane][on]]]),
                    np.concatenate([ps[limited], xs[on]]),
                    np.concatenate([lanes.max_parcel[p_lane][limited], -weight[x_sku][on]]),
                )
            if s >= 0:
                rows.add(1, -INF, 0.0, np.zeros(n_lanes + 1, np.int64), np.append(ys, s),
                         np.append(-np.ones(n_lanes), 1.0))  # fmt: skip
            if problem.order.max_shipments and n_lanes:
                rows.add(1, -INF, float(problem.order.max_shipments),
                         np.zeros(n_lanes, np.int64), ys, 1.0)  # fmt: skip
            # units per SKU: at most the demand, or exactly the demand when filled
            if f < 0:
                rows.add(m, -INF, demand, x_sku, xs, 1.0)
            else:
                rows.add(m, 0.0, 0.0, np.concatenate([np.arange(m), x_sku]),
                         np.concatenate([np.full(m, f), xs]),
                         np.concatenate([-demand, np.ones(len(xs))]))  # fmt: skip
            if problem.group is not None:  # a group whole from one node, or not at all
                for g in sorted(set(problem.group.tolist()) - {-1}):
                    items = np.flatnonzero(problem.group == g)
                    for candidate in np.unique(lane_node).tolist():
                        z = new(np.zeros(1), np.ones(1), np.zeros(1), True)
                        for k in items.tolist():  # sum of its units there = d_k z
                            on = (lane_node[x_lane] == candidate) & (x_sku == k)
                            count = int(on.sum())
                            rows.add(
                                1,
                                0.0,
                                0.0,
                                np.zeros(count + 1, np.int64),
                                np.append(xs[on], z),
                                np.append(np.ones(count), -demand[k]),
                            )
            nodes = problem.nodes[lane_node]
            shared_x.append((nodes[x_lane] * n_skus + problem.sku[x_sku], xs))
            shared_y.append((nodes, _ship_days(problem, nodes), ys))
            self.order_columns.append(range(first_column, columns))
            self.order_rows.append(range(first_row, rows.count))
        self.columns = columns
        if progress is not None:
            progress(len(problems), len(problems))
        # shared ATP per stock position and shipments per node with a capacity
        if shared_x:
            keys = np.concatenate([k for k, _ in shared_x])
            cols = np.concatenate([c for _, c in shared_x])
            positions, row = np.unique(keys, return_inverse=True)
            atp = _position_atp(inventory, positions, n_skus)
            self.position_rows = (rows.count, positions)
            rows.add(len(positions), -INF, atp, row, cols, 1.0)
        limited = {index.node_pos[n]: c for n, c in capacity.items() if n in index.node_pos}
        if shared_y:
            nodes = np.concatenate([n for n, _, _ in shared_y])
            days = np.concatenate([d for _, d, _ in shared_y])
            cols = np.concatenate([c for _, _, c in shared_y])
            # undated shipments: the shipments left today at a node with a capacity
            keep = (days < 0) & np.isin(nodes, list(limited))
            if keep.any():
                at, row = np.unique(nodes[keep], return_inverse=True)
                left = np.array([max(0, limited[int(n)]) for n in at], dtype=np.float64)
                rows.add(len(at), -INF, left, row, cols[keep], 1.0)
            # dated shipments: the room left on the day each ships (per node and date)
            keep = days >= 0
            if keep.any() and day_capacity:
                pairs, row = np.unique(
                    np.stack([nodes[keep], days[keep]], axis=1), axis=0, return_inverse=True
                )
                room = [max(0, _room_left(inventory, n, d)) for n, d in pairs.tolist()]
                rows.add(
                    len(pairs),
                    -INF,
                    np.array(room, dtype=np.float64),
                    row.reshape(-1),
                    cols[keep],
                    1.0,
                )
        self.lower = np.concatenate(lower) if lower else np.zeros(0)
        self.upper = np.concatenate(upper) if upper else np.zeros(0)
        self.cost = np.concatenate(cost) if cost else np.zeros(0)
        self.integral = np.concatenate(integral) if integral else np.zeros(0, dtype=bool)
        self.rows = rows

    def load(self, highs: highspy.Highs, time_limit: float, relax: bool = False) -> None:
        """Put the model (its LP relaxation when ``relax``) and the solver options into
        ``highs``: one thread, a fixed seed, a relative gap of 0, ``time_limit`` seconds."""
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("threads", 1)
        highs.setOptionValue("random_seed", 0)
        highs.setOptionValue("time_limit", max(0.05, float(time_limit)))
        highs.setOptionValue("mip_rel_gap", 0.0)
        highs.setOptionValue("mip_abs_gap", 1e-6)
        highs.setOptionValue("mip_feasibility_tolerance", 1e-9)
        n = self.columns
        highs.addVars(n, self.lower, self.upper)
        every = np.arange(n, dtype=np.int32)
        highs.changeColsCost(n, every, self.cost)
        if not relax:
            kind = np.where(
                self.integral,
                int(highspy.HighsVarType.kInteger),
                int(highspy.HighsVarType.kContinuous),
            ).astype(np.uint8)
            highs.changeColsIntegrality(n, every, kind)
        highs.changeObjectiveOffset(self.offset)
        self.rows.into(highs)

    def add_prices(self, prices: np.ndarray | None) -> None:
        """Add a cost per unit taken from each stock position (a (nodes, SKUs) array, e.g.
        look-ahead's θ·λ) to the unit columns' costs."""
        if prices is None:
            return
        for o in range(len(self.problems)):
            columns, nodes, skus = self.x_columns(o)
            self.cost[columns] += prices[nodes, skus]

    def x_columns(self, o: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Order ``o``'s unit columns: (column, global node, global SKU) arrays."""
        problem, at = self.problems[o], self.orders[o]
        nodes = problem.nodes[problem.lanes.node[at.x_lane]]
        return at.x0 + np.arange(len(at.x_lane)), nodes, problem.sku[at.x_sku]

    def position_atp(self, keys: np.ndarray) -> np.ndarray:
        """ATP of stock positions given as ``global node * SKUs + global SKU``."""
        return _position_atp(self.inventory, keys, len(self.inventory.index.sku_ids))

    def solve(self, time_limit: float, relax: bool = False) -> BatchSolution:
        """Solve the model (its LP relaxation when ``relax``: the bound only) within
        ``time_limit`` seconds. The caller keeps the better of the solution and the plans it
        already has (HiGHS is not warm-started: highspy 1.16 can return the given start in
        place of the better solution it reports)."""
        if self.columns == 0:
            return BatchSolution([[] for _ in self.problems], self.offset, True)
        highs = new_highs()
        self.load(highs, time_limit, relax)
        highs.run()
        status = highs.getModelStatus()
        info = highs.getInfo()
        if relax:
            if status != highspy.HighsModelStatus.kOptimal:
                return BatchSolution(None, -np.inf, False)
            return BatchSolution(None, float(info.objective_function_value), False)
        bound = float(info.mip_dual_bound)
        bound = bound if np.isfinite(bound) else -np.inf
        if info.primal_solution_status != int(highspy.SolutionStatus.kSolutionStatusFeasible):
            return BatchSolution(None, bound, False)
        values = np.rint(np.asarray(highs.getSolution().col_value))
        optimal = status == highspy.HighsModelStatus.kOptimal
        objective = float(info.objective_function_value)
        if abs(float(self.cost @ values) + self.offset - objective) > 1e-6 * max(1.0, objective):
            return BatchSolution(None, bound, False)  # not the solution HiGHS reports
        return BatchSolution(self._allocations(values), bound, optimal)

    def _allocations(self, values: np.ndarray) -> list[list[Allocation]]:
        result = []
        for problem, at in zip(self.problems, self.orders, strict=True):
            units = np.zeros((len(problem.lanes), len(problem.demand)), dtype=np.int64)
            x = values[at.x0 : at.x0 + len(at.x_lane)].astype(np.int64)
            np.add.at(units, (at.x_lane, at.x_sku), x)
            used = np.flatnonzero(units.sum(axis=1) > 0)
            result.append([Allocation(int(lane), units[lane]) for lane in used])
        return result


def day_capacity_can_fill(problems: Sequence[OrderProblem], inventory: Inventory) -> bool:
    """Whether the batch's dated orders could fill a node's ship day: more of them could
    ship from the node on that day than it has room left (an order ships at most once from
    a node). When none can, no allocation meets a full day, so holding each dated order to
    its day (as the model does) loses nothing and the model is exact."""
    wanting: dict[tuple[int, int], int] = {}  # (node, ship day ordinal) -> orders
    for problem in problems:
        nodes = np.unique(problem.nodes[problem.lanes.node])
        for node, day in zip(nodes.tolist(), _ship_days(problem, nodes).tolist(), strict=True):
            if day >= 0:
                wanting[(node, day)] = wanting.get((node, day), 0) + 1
    return not _within_room(wanting, inventory)


def days_within_room(model: BatchModel, values: np.ndarray) -> bool:
    """Whether a solution (column values) of ``model`` ships, from every node on every ship
    day, no more dated shipments than the day's room left: then it is also a solution with
    the days' room in the model."""
    used: dict[tuple[int, int], int] = {}  # (node, ship day ordinal) -> shipments
    for problem, at in zip(model.problems, model.orders, strict=True):
        nodes = problem.nodes[problem.lanes.node]
        days = _ship_days(problem, nodes)
        ships = values[at.y0 : at.y0 + len(nodes)] > 0.5
        for node, day in zip(nodes[ships].tolist(), days[ships].tolist(), strict=True):
            if day >= 0:
                used[(node, day)] = used.get((node, day), 0) + 1
    return _within_room(used, model.inventory)


def _within_room(shipments: dict[tuple[int, int], int], inventory: Inventory) -> bool:
    """Whether every (node, ship day ordinal)'s shipments fit the room left that day."""
    return all(n <= _room_left(inventory, node, day) for (node, day), n in shipments.items())


def _room_left(inventory: Inventory, node: int, day: int) -> int:
    """Shipments the node (index) can still take on the day (ordinal) against its daily
    capacity (negative when over)."""
    return int(inventory.index.capacity[node]) - inventory.shipments_on(node, date.fromordinal(day))


def _ship_days(problem: OrderProblem, nodes: np.ndarray) -> np.ndarray:
    """Per lane (by its network node), the ordinal of its ship date when the order is dated
    and the node has a daily capacity; -1 otherwise."""
    index = problem.index
    days = np.full(len(nodes), -1, dtype=np.int64)
    if problem.dating is None or not index.has_capacity:
        return days
    for i in np.flatnonzero(index.capacity[nodes] > 0).tolist():
        days[i] = problem.dating.ship_of_node(int(nodes[i])).toordinal()
    return days


def _position_atp(inventory: Inventory, positions: np.ndarray, n_skus: int) -> np.ndarray:
    """ATP of each stock position (global node * n_skus + global SKU) in ``inventory`` (an
    order's problem may cap its ATP at the order's demand, so it is read from the stock)."""
    atp = np.zeros(len(positions))
    for k in np.unique(positions % n_skus).tolist():
        stock = inventory.sku(k)
        mine = np.flatnonzero(positions % n_skus == k)
        nodes = positions[mine] // n_skus
        at = np.minimum(np.searchsorted(stock.nodes, nodes), max(len(stock.nodes) - 1, 0))
        held = (len(stock.nodes) > 0) & (stock.nodes[at] == nodes) if len(stock.nodes) else False
        atp[mine] = np.where(held, stock.atp()[at] if len(stock.nodes) else 0, 0)
    return atp


_banner_shown = False


def new_highs() -> highspy.Highs:
    """A HiGHS instance. The first one prints HiGHS' banner on standard output from C code,
    whatever the options; it goes to /dev/null, so that commands writing JSON to standard
    output stay parseable and people see only omniroute's own output."""
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    sys.stdout.flush()
    try:
        saved = os.dup(1)
        quiet = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return highspy.Highs()
    try:
        os.dup2(quiet, 1)
        highs = highspy.Highs()
        with contextlib.suppress(OSError, AttributeError):  # no C library handle
            ctypes.CDLL(None).fflush(None)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(quiet)
    _banner_shown = True
    return highs
