"""The independent MILP check (benchmarks/milp_check.py): HiGHS agrees with brute force on
tiny hand-made networks, and with the optimiser's CHEAPEST plans on the demo network."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import brute_force as bf
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level folder of the repository
    sys.path.insert(0, str(ROOT))

from benchmarks import milp_check  # noqa: E402
from benchmarks.milp_check import (  # noqa: E402
    INFEASIBLE,
    OPTIMAL,
    MilpResult,
    check_orders,
    compare,
    milp_plan_cost,
)
from omniroute.candidates import build_problem  # noqa: E402
from omniroute.model import (  # noqa: E402
    CarrierService,
    Location,
    Network,
    Node,
    NodeKind,
    Order,
    OrderLine,
    Sku,
    StockPosition,
    Zone,
)
from omniroute.planner import Planner  # noqa: E402

TOL = 1e-6
HERE = Location(-37.80, 145.00)


def milp_against_brute_force(network: Network, order: Order) -> float | None:
    """The MILP's cheapest complete plan equals brute force's (or both have none)."""
    planner = Planner(network)
    problem = build_problem(order, planner.index, planner.inventory)
    milp = milp_plan_cost(problem, time_limit=30)
    expected = bf.cheapest(
        bf.complete(order, bf.all_plans(order, network, planner.inventory.atp_map()))
    )
    if expected is None:
        assert milp.status == INFEASIBLE, (order.id, milp)
        return None
    assert milp.status == OPTIMAL, (order.id, milp)
    assert milp.cost == pytest.approx(expected[0], abs=TOL), (order.id, milp, expected)
    assert milp.objective == pytest.approx(expected[0], abs=TOL), (order.id, milp, expected)
    # the re-costed shipments are a complete plan of the order
    shipped: dict[str, int] = {}
    for shipment in milp.shipments:
        for sku, units in shipment.units.items():
            shipped[sku] = shipped.get(sku, 0) + units
    demand: dict[str, int] = {}
    for line in order.lines:
        demand[line.sku_id] = demand.get(line.sku_id, 0) + line.quantity
    assert shipped == demand
    return milp.cost


def node(
    node_id: str,
    lat: float,
    lon: float,
    services: tuple[str, ...],
    hs: float = 1.0,
    hu: float = 0.25,
    days: int = 0,
    kind: NodeKind = NodeKind.STORE,
) -> Node:
    return Node(
        node_id,
        kind,
        Location(lat, lon),
        hs,
        hu,
        days,
        services,
        pickup=kind is NodeKind.STORE,
    )


def service(
    service_id: str, max_parcel: float, zones: list[tuple[float, float, float, int]]
) -> CarrierService:
    return CarrierService(
        service_id, "C", service_id, max_parcel, tuple(Zone(*zone) for zone in zones)
    )


# Three services: a cheap per-parcel courier with a small parcel limit, a heavier-parcel
# service, and one without a limit that is dear per kg.
SERVICES = (
    service("SMALL", 0.3, [(20, 3.0, 0.5, 1), (400, 6.0, 1.0, 3)]),
    service("BIG", 2.5, [(50, 7.5, 0.2, 2), (400, 9.0, 0.4, 4)]),
    service("NOLIMIT", 0.0, [(400, 5.0, 4.0, 1)]),
)
SKUS = (Sku("A", 0.1), Sku("B", 0.7), Sku("C", 1.2))


def small_network(stock: list[tuple[str, str, int]], split_penalty: float = 1.5) -> Network:
    nodes = (
        node("N0", -37.81, 145.01, ("SMALL", "BIG", "NOLIMIT")),
        node("N1", -37.95, 145.20, ("SMALL", "BIG"), hs=0.5, hu=0.1, days=1),
        node("N2", -38.30, 144.60, ("BIG", "NOLIMIT"), hs=2.0, hu=0.0, kind=NodeKind.DC),
    )
    return Network(
        nodes,
        SERVICES,
        SKUS,
        tuple(StockPosition(n, s, q) for n, s, q in stock),
        split_penalty=split_penalty,
    )


STOCK = [
    ("N0", "A", 3),
    ("N0", "B", 1),
    ("N1", "A", 6),
    ("N1", "C", 2),
    ("N2", "B", 3),
    ("N2", "C", 1),
    ("N2", "A", 2),
]


def order(lines: list[tuple[str, int]], **kwargs: object) -> Order:
    kwargs.setdefault("destination", HERE)
    return Order(
        "o",
        tuple(OrderLine(str(j), sku, q) for j, (sku, q) in enumerate(lines)),
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("lines", "kwargs"),
    [
        ([("A", 3)], {}),  # 3 x 0.1 kg in a 0.3 kg parcel is one parcel (PARCEL_TOLERANCE)
        ([("A", 4)], {}),  # ... and 4 x 0.1 kg is two
        ([("A", 7)], {}),  # no node holds 7: a split
        ([("A", 2), ("B", 2), ("C", 1)], {}),
        ([("A", 2), ("B", 2), ("C", 1)], {"max_shipments": 1}),  # no single node: none
        ([("A", 5), ("C", 2)], {"max_shipments": 2}),
        ([("A", 2), ("A", 1), ("B", 1)], {}),  # the same SKU on two lines
        ([("B", 3), ("C", 1)], {"promise_days": 2}),  # only N2's BIG lane is in promise
        ([("B", 3), ("C", 1)], {"promise_days": 1}),  # ... and none is
        ([("A", 3), ("C", 1)], {"excluded_node_ids": ("N1",)}),
        ([("A", 3), ("B", 1)], {"pickup_store_id": "N0", "destination": None}),  # hand-over
        ([("A", 5), ("B", 2)], {"pickup_store_id": "N1", "destination": None}),
        ([("A", 4), ("B", 4)], {}),  # more B than there is
    ],
)
def test_milp_equals_brute_force_on_hand_made_networks(
    lines: list[tuple[str, int]], kwargs: dict[str, object]
) -> None:
    """Parcel rounding at the tolerance, splits, shipment limits, the promise, exclusions,
    pick-up hand-over and shortages: the MILP's optimum is brute force's, with and without
    a split penalty."""
    for split_penalty in (0.0, 1.5, 6.0):
        milp_against_brute_force(small_network(STOCK, split_penalty), order(lines, **kwargs))


def test_milp_equals_brute_force_on_the_tiny_network(
    tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """The named orders of tests/data: the MILP's optimum is brute force's; most complete."""
    costs = [milp_against_brute_force(tiny_network, o) for o in tiny_orders.values()]
    assert sum(c is not None for c in costs) >= 5


def test_milp_equals_brute_force_on_random_tiny_networks() -> None:
    """Seeded random stock and orders on the hand-made network (many parcel boundaries)."""
    rng = np.random.default_rng(11)
    complete = 0
    for _ in range(40):
        stock = [
            (n, s, int(rng.integers(0, 5)))
            for n in ("N0", "N1", "N2")
            for s in ("A", "B", "C")
            if rng.random() < 0.7
        ]
        skus = rng.choice(["A", "B", "C"], size=int(rng.integers(1, 3)), replace=False)
        lines = [(str(s), int(rng.integers(1, 5))) for s in skus]
        kwargs: dict[str, object] = {
            "max_shipments": int(rng.choice([0, 0, 1, 2])),
            "promise_days": int(rng.choice([0, 0, 2, 3])),
        }
        network = small_network(stock, float(rng.choice([0.0, 1.5, 4.0])))
        complete += milp_against_brute_force(network, order(lines, **kwargs)) is not None
    assert complete >= 10


def test_demo_plans_equal_the_milp() -> None:
    """Every complete CHEAPEST plan on a sample of the demo day costs what HiGHS proves to
    be the minimum, and the MILP decides every one of them."""
    from omniroute.demo_data import demo_dataset

    network, orders = demo_dataset(orders=800)
    summary = check_orders(Planner(network), orders, time_limit=30)
    assert summary["complete"] >= 600
    assert summary["compared"] == summary["complete"]
    assert summary["unchecked"] == []
    assert summary["mismatches"] == []
    assert summary["matches"] == summary["compared"]
    assert summary["max_abs_difference_recosted"] <= 1e-6
    assert summary["max_abs_difference_objective"] <= 1e-6


def test_a_wrong_cost_is_a_mismatch(
    tiny_network: Network, tiny_orders: dict[str, Order], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check can fail: an optimiser a cent too dear (or too cheap) is caught."""
    planner = Planner(tiny_network)
    real_plan = Planner.plan

    def dearer(self: Planner, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        result = real_plan(self, *args, **kwargs)  # type: ignore[arg-type]
        plan = dataclasses.replace(result.plan, total_cost=result.plan.total_cost + 0.01)
        return dataclasses.replace(result, plan=plan)

    monkeypatch.setattr(Planner, "plan", dearer)
    summary = check_orders(planner, list(tiny_orders.values()), time_limit=30)
    assert summary["compared"] > 0
    assert summary["matches"] == 0
    assert len(summary["mismatches"]) == summary["compared"]
    mismatch = summary["mismatches"][0]
    assert mismatch["optimiser_plan"] and mismatch["milp_plan"]

    optimum = MilpResult(OPTIMAL, 10.0, 10.0, 0.1)
    assert compare(10.0, optimum) is True
    assert compare(10.0 - 1e-4, optimum) is False
    assert compare(10.0, dataclasses.replace(optimum, objective=9.99)) is False
    out_of_time = MilpResult(milp_check.TIME_LIMIT, 10.5, 10.5, 60.0, bound=9.0)
    assert compare(10.0, out_of_time) is None  # unchecked, never a match
    assert compare(11.0, out_of_time) is False  # a cheaper incumbent refutes it
    assert compare(8.0, out_of_time) is False  # as does a bound above it


def test_cli_prints_json_and_exits_by_the_verdict(
    data_dir: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """``python -m benchmarks.milp_check`` on the tiny files: JSON on stdout (and --out),
    exit status 0 when every compared order matches."""
    out = tmp_path / "milp.json"
    status = milp_check.main(
        [
            "--network",
            str(data_dir / "tiny_network.json"),
            "--orders",
            str(data_dir / "tiny_orders.jsonl"),
            "--time-limit",
            "20",
            "--out",
            str(out),
        ]
    )
    captured = capfd.readouterr()
    summary = json.loads(captured.out)
    assert status == 0, summary
    assert summary == json.loads(out.read_text())
    assert summary["compared"] > 0 and summary["matches"] == summary["compared"]
    assert summary["orders"] == summary["compared"] + summary["skipped_not_complete"]
    assert "milp-check:" in captured.err
