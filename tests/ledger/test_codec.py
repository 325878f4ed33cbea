"""Stored values are versioned JSON of the model: they come back as the same objects, a newer
format is refused, and fingerprints tell requests apart."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from omniroute.ledger import OrderRecord, Rejection, RejectionReason, codec, open_ledger, schema
from omniroute.model import Network, Order
from omniroute.planner import Planner
from omniroute.scenario import ScenarioKpis


def test_plan_results_and_order_records_round_trip(
    tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """Every plan result (options and explanation included) and an order record with a
    rejection load back equal to what was stored."""
    from omniroute.model import PlanResult

    planner = Planner(tiny_network)
    for order in tiny_orders.values():
        result = planner.plan(order, options=True, explain=True)
        assert codec.loads(PlanResult, codec.dumps(result)) == result
        record = OrderRecord(
            order.id,
            "R-1",
            order,
            result.plan,
            ("DC1",),
            (Rejection("ST1", RejectionReason.SHORT_PICK, (("1", 2),), 12.5),),
            99.0,
        )
        assert codec.load_as(OrderRecord, codec.dumps(record)) == record


def test_dated_networks_orders_and_plans_round_trip(
    tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    """Calendars (sets of days and holiday dates), cut-off times, promise dates and the
    dates of a plan come back as the same dates and times."""
    import dataclasses
    from datetime import date, time

    from omniroute.calendars import Calendar
    from omniroute.model import PlanResult

    network = dataclasses.replace(
        tiny_network,
        stock=(),
        time_zone="Australia/Melbourne",
        calendars=(Calendar("VIC", frozenset({1, 2, 3, 4, 5}), frozenset({date(2026, 12, 25)})),),
        nodes=tuple(
            dataclasses.replace(n, calendar_id="VIC", cutoff_time=time(14, 30))
            for n in tiny_network.nodes
        ),
    )
    assert codec.loads(Network, codec.dumps(network)) == network
    order = dataclasses.replace(
        tiny_orders["coat-and-jeans"],
        create_time="2026-12-24T04:00:00Z",
        promise_date=date(2027, 1, 8),
    )
    assert codec.load_as(Order, codec.dumps(order)) == order
    result = Planner(dataclasses.replace(network, stock=tiny_network.stock)).plan(order)
    assert result.plan.delivery_date is not None
    assert codec.loads(PlanResult, codec.dumps(result)) == result


def test_mappings_with_enum_and_int_keys_round_trip() -> None:
    """KPIs keep their int-keyed delivery-day counts through JSON's string keys."""
    kpis = ScenarioKpis(3, 2, 2, 5, 4, 30.0, 15.0, 0.5, 2.5, 0.67, 5, {"DC1": 3}, {2: 1, 3: 1})
    assert codec.load_as(ScenarioKpis, codec.dumps(kpis)) == kpis


def test_newer_formats_are_refused() -> None:
    """A value written by a newer format version is not guessed at."""
    stored = json.loads(codec.dumps([1, 2]))
    stored["v"] = codec.FORMAT_VERSION + 1
    with pytest.raises(codec.FormatError, match="format"):
        codec.loads(list[int], json.dumps(stored))


def test_fingerprints_differ_with_content(tiny_orders: dict[str, Order]) -> None:
    """The same command gives the same fingerprint; another gives another."""
    a, b = list(tiny_orders.values())[:2]
    assert codec.fingerprint([a, "x"]) == codec.fingerprint([a, "x"])
    assert codec.fingerprint([a, "x"]) != codec.fingerprint([b, "x"])


def _open(path: str, queue: multiprocessing.Queue) -> None:
    ledger = open_ledger(path)
    queue.put(ledger.db.schema_version())
    ledger.close()


def test_migrations_are_safe_when_processes_open_together(tmp_path: Path) -> None:
    """Four processes opening a new ledger at once all see the latest schema, applied once."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    path = str(tmp_path / "together.db")
    processes = [context.Process(target=_open, args=(path, queue)) for _ in range(4)]
    for process in processes:
        process.start()
    versions = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    assert versions == [schema.LATEST] * 4
