"""`omniroute lookahead evaluate` through the real command line, checked from its files alone:
every policy's replayed plans are feasible on the stock left when their order arrived, turn
away no unit that could ship, report exact costs, the myopic plans are the cheapest on the
stock left, and evaluation.json adds up; bad input is a usage error that writes nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.joint_bench import scarce_batch
from omniroute.cost import check_plan
from omniroute.evaluation import merged
from omniroute.files import write_network, write_orders
from omniroute.model import NodeKind, Order, OrderLine, Policy
from omniroute.planner import Planner

from .test_cli import omniroute, plan_from_json


def walkins_for(network, orders: list[Order]) -> list[Order]:
    """Three walk-ins at the store with the most units of the orders' SKUs, between orders."""
    wanted = {line.sku_id for order in orders for line in order.lines}
    stores = {n.id for n in network.nodes if n.kind is NodeKind.STORE}
    held = [p for p in network.stock if p.node_id in stores and p.sku_id in wanted and p.on_hand]
    position = max(held, key=lambda p: p.on_hand)
    times = sorted(o.create_time for o in orders)
    return [
        Order(
            f"walk-{i}",
            (OrderLine("1", position.sku_id, 2),),
            pickup_store_id=position.node_id,
            channel=orders[0].channel,
            create_time=times[len(times) * (i + 1) // 4],
        )  # fmt: skip
        for i in range(3)
    ]


def test_evaluate_replays_every_policy_feasibly_and_exactly(tmp_path: Path) -> None:
    network, orders = scarce_batch(5, 40, 1.0)
    walkins = walkins_for(network, orders)
    write_network(network, tmp_path / "network.json")
    write_orders(orders, tmp_path / "orders.jsonl")
    write_orders(walkins, tmp_path / "walkins.jsonl")
    out = tmp_path / "out"
    result = omniroute(
        "lookahead", "evaluate", "--network", str(tmp_path / "network.json"),
        "--orders", str(tmp_path / "orders.jsonl"), "--walkins", str(tmp_path / "walkins.jsonl"),
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "perfect forecast" in result.stdout
    summary = json.loads((out / "evaluation.json").read_text())
    lost_cost = summary["lostSaleCost"]
    assert summary["orders"] == len(orders) and summary["forecast"] == "perfect"
    assert set(summary["policies"]) == {"myopic", "lookahead"}
    events = merged(orders, walkins)
    for name, figures in summary["policies"].items():
        lines = (out / f"plans-{name}.jsonl").read_text().splitlines()
        responses = [json.loads(line) for line in lines]
        ordered = [order for order, walkin in events if not walkin]
        assert [r["orderId"] for r in responses] == [o.id for o in ordered]  # replay order
        plans = iter(plan_from_json(r["plan"]) for r in responses)
        base = Planner(network)
        stock = base.inventory.copy()
        planner = Planner(network, stock, index=base.index)
        shipping, lost = 0.0, 0
        for order, walkin in events:
            best = planner.plan(order, Policy.CHEAPEST).plan  # the cheapest on the stock left
            need = sum(line.quantity for line in order.lines)
            if walkin:  # takes what its store has
                stock.ship(best)
                lost += need - best.units
                continue
            plan = next(plans)
            assert check_plan(order, network, plan, stock.atp_map()) == [], (name, order.id)
            assert plan.units == best.units, (name, order.id)  # nothing turned away
            if name == "myopic":  # shipments are rounded to cents each (docs/cost-model.md)
                cents = 0.01 * max(1, len(plan.shipments))
                assert plan.total_cost == pytest.approx(best.total_cost, abs=cents)
            stock.ship(plan)
            shipping += plan.total_cost
            lost += need - plan.units
        assert figures["shippingCost"] == pytest.approx(shipping, abs=0.011)
        assert figures["lostUnits"] == lost
        assert figures["totalCost"] == pytest.approx(shipping + lost_cost * lost, abs=0.011)
    h = summary["hindsightCost"]
    assert summary["clairvoyantLowerBound"] <= h + 1e-6
    myopic = summary["policies"]["myopic"]["totalCost"]
    assert h <= myopic + 1e-6  # the myopic replay is one allocation hindsight could choose
    for name, figures in summary["policies"].items():
        if myopic - h > 1e-6:
            expected = (myopic - figures["totalCost"]) / (myopic - h)
            assert summary["gapClosed"][name] == pytest.approx(expected, abs=1e-3)


def test_bad_forecasts_and_walkins_are_usage_errors_that_write_nothing(tmp_path: Path) -> None:
    network, orders = scarce_batch(6, 10, 1.0)
    write_network(network, tmp_path / "network.json")
    write_orders(orders, tmp_path / "orders.jsonl")
    forecast = {
        "horizonDays": 0,
        "regions": [{"id": "r", "centre": {"latitude": 95}}],
        "online": [{"regionId": "nowhere", "skuId": "NOPE", "unitsPerDay": -1}],
    }
    (tmp_path / "forecast.json").write_text(json.dumps(forecast))
    out = tmp_path / "out"
    common = ("lookahead", "evaluate", "--network", str(tmp_path / "network.json"),
              "--orders", str(tmp_path / "orders.jsonl"), "--out", str(out))  # fmt: skip
    result = omniroute(*common, "--forecast", str(tmp_path / "forecast.json"))
    assert result.returncode == 2
    for expected in (
        "horizonDays: must be a finite number > 0",
        "regions[0].centre.latitude: must be within [-90, 90]",
        'online[0].regionId: unknown region "nowhere"',
        'online[0].skuId: unknown SKU "NOPE"',
        "online[0].unitsPerDay: must be a finite number >= 0",
    ):
        assert expected in result.stderr, result.stderr
    write_orders([replace(orders[0], id="w1", pickup_store_id="")], tmp_path / "walkins.jsonl")
    result = omniroute(*common, "--walkins", str(tmp_path / "walkins.jsonl"))
    assert result.returncode == 2
    assert "every walk-in names its store as pickupStoreId; 1 do not (w1)" in result.stderr
    assert not out.exists()


def scarce_files(folder: Path, ratio: float) -> None:
    """A scarce demo batch (stock / demand ``ratio``) as network.json and orders.jsonl in
    ``folder``, with its perfect forecast as forecast.json."""
    from omniroute.evaluation import default_regions, perfect_forecast
    from omniroute.files import write_forecast
    from omniroute.network_index import NetworkIndex

    network, orders = scarce_batch(7, 30, ratio)
    write_network(network, folder / "network.json")
    write_orders(orders, folder / "orders.jsonl")
    index = NetworkIndex(network)
    forecast = perfect_forecast(index, default_regions(index, orders), orders, 1.0)
    write_forecast(forecast, folder / "forecast.json")


def test_allocate_prices_stock_by_a_forecast(tmp_path: Path) -> None:
    """`allocate --forecast` adds the opportunity cost of the stock used to the objective and
    reports it; the summary adds up; --theta without --forecast is a usage error."""
    scarce_files(tmp_path, 1.2)
    common = ("allocate", "--network", str(tmp_path / "network.json"),
              "--orders", str(tmp_path / "orders.jsonl"))  # fmt: skip
    result = omniroute(*common, "--out", str(tmp_path / "a"), "--forecast",
                       str(tmp_path / "forecast.json"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "opportunity cost of the stock used" in result.stdout
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    penalty = summary["unfilledPenalty"] * summary["unitsUnfilled"]
    assert summary["opportunityCost"] > 0
    assert summary["objective"] == pytest.approx(
        summary["totalCost"] + penalty + summary["opportunityCost"], abs=0.011
    )
    result = omniroute(*common, "--out", str(tmp_path / "b"), "--theta", "1")
    assert result.returncode == 2
    assert "--theta weighs the opportunity costs of --forecast" in result.stderr


def test_put_forecast_stores_it_for_the_servers(tmp_path: Path, tiny_network) -> None:
    """`lookahead put-forecast` checks the file against the ledger's network and stores it
    (a new version each time); a server on the ledger then routes by it. A bad file exits 2
    with every problem listed and stores nothing."""
    from omniroute.ledger import open_ledger
    from omniroute.server.client import OmnirouteClient
    from omniroute.server.convert import result_from_proto
    from omniroute.server.process import ServerConfig

    from .conftest import ServerThread
    from .test_lookahead_service import orders as some_orders
    from .test_lookahead_service import scarce_forecast

    db = tmp_path / "ledger.db"
    ledger = open_ledger(db)
    ledger.put_network(tiny_network)
    ledger.close()
    bad = scarce_forecast(tiny_network)
    bad["horizonDays"] = -1
    bad["online"][0]["skuId"] = "NOPE"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    result = omniroute("lookahead", "put-forecast", str(tmp_path / "bad.json"), "--db", str(db))
    assert result.returncode == 2
    assert "horizonDays" in result.stderr and "online[0].skuId" in result.stderr
    (tmp_path / "good.json").write_text(json.dumps(scarce_forecast(tiny_network)))
    good = ("lookahead", "put-forecast", str(tmp_path / "good.json"), "--db", str(db))
    checked = omniroute(*good, "--validate-only")
    assert checked.returncode == 0, checked.stderr
    ledger = open_ledger(db)
    assert ledger.forecasts.version() == 0  # bad and validate-only: nothing stored
    ledger.close()
    result = omniroute(*good, "--theta", "1.5")
    assert result.returncode == 0, result.stderr
    assert "version 1" in result.stdout
    ledger = open_ledger(db)
    stored = ledger.forecasts.latest()
    ledger.close()
    assert stored is not None and stored.version == 1 and stored.theta == 1.5
    config = ServerConfig(db=str(db), host="localhost", port=0, grace=1.0)
    with ServerThread(config) as running, OmnirouteClient(running.target, timeout=60) as client:
        answer = result_from_proto(client.plan_order(some_orders(tiny_network)[0]))
    assert answer.stats.opportunity_costs_version.startswith("1.")


def test_scenario_run_routes_look_ahead_with_a_forecast(tmp_path: Path) -> None:
    """`scenario run --forecast` prices the stock by the forecast and routes every order by
    it: its run records the forecast and θ, and routes some orders elsewhere than the
    myopic run; a bad forecast (or --theta alone) exits 2 and writes nothing."""
    scarce_files(tmp_path, 1.0)
    common = ("scenario", "run", "--network", str(tmp_path / "network.json"),
              "--orders", str(tmp_path / "orders.jsonl"))  # fmt: skip
    plain = omniroute(*common, "--out", str(tmp_path / "myopic"))
    assert plain.returncode == 0, plain.stderr
    ahead = omniroute(*common, "--out", str(tmp_path / "ahead"), "--forecast",
                      str(tmp_path / "forecast.json"), "--theta", "2")  # fmt: skip
    assert ahead.returncode == 0, ahead.stderr
    kpis = json.loads((tmp_path / "ahead" / "kpis.json").read_text())
    assert kpis["lookahead"]["theta"] == 2 and kpis["lookahead"]["pricedPositions"] > 0
    assert kpis["inputs"]["forecast"]["sha256"]
    assert "lookahead" not in json.loads((tmp_path / "myopic" / "kpis.json").read_text())

    def routes(run: str) -> list[list[list]]:
        lines = (tmp_path / run / "outcomes.jsonl").read_text().splitlines()
        return [json.loads(line)["shipments"] for line in lines]

    assert routes("ahead") != routes("myopic")
    bad = json.loads((tmp_path / "forecast.json").read_text())
    bad["horizonDays"] = 0
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    result = omniroute(*common, "--out", str(tmp_path / "bad"), "--forecast",
                       str(tmp_path / "bad.json"))  # fmt: skip
    assert result.returncode == 2 and "horizonDays" in result.stderr
    assert not (tmp_path / "bad").exists()
    result = omniroute(*common, "--out", str(tmp_path / "theta"), "--theta", "1")
    assert result.returncode == 2 and not (tmp_path / "theta").exists()
