"""Worker processes share one stock snapshot per network version (server.live)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from omniroute.demo_data import demo_dataset
from omniroute.ledger import open_ledger
from omniroute.model import StockChange
from omniroute.server.live import LiveNetwork
from tests.engine.test_stock_table import mapped


def test_processes_map_one_snapshot_and_apply_later_changes(tmp_path: Path) -> None:
    network, orders = demo_dataset(seed=6, orders=40)
    db = tmp_path / "ledger.db"
    open_ledger(db).put_network(network)
    shared = tmp_path / "shared"
    first, second = LiveNetwork(open_ledger(db), shared), LiveNetwork(open_ledger(db), shared)
    a = first.planner()
    (snapshot,) = shared.glob("v*")
    b = second.planner()
    assert list(shared.glob("v*")) == [snapshot]  # the second process mapped the first's
    for planner in (a, b):
        assert mapped(planner.inventory.sku(0).on_hand)
        assert planner.inventory.table == planner.index.network.stock

    # a change after the snapshot reaches every process; the snapshot stays as it was
    position = b.inventory.table[5]
    first.ledger.stock.update(
        [StockChange(position.node_id, position.sku_id, set_on_hand=position.on_hand + 40)]
    )
    first.refresh(force=True)  # its own write (the others see the database change)
    for live in (first, second):
        assert live.planner().inventory.atp_of(position.node_id, position.sku_id) == (
            position.atp + 40
        )
    assert b.inventory.table[5] == position

    # plans from the shared stock are the plans of a private load
    private = LiveNetwork(open_ledger(db))
    for order in orders:
        assert second.planner().plan(order).plan == private.planner().plan(order).plan

    # a new network version gets a new snapshot; the old one goes
    first.ledger.put_network(replace(network, split_penalty=network.split_penalty + 1))
    second.refresh(force=True)
    assert [p.name.split("-")[0] for p in shared.glob("v*")] == ["v2"]
    assert second.planner().index.network.split_penalty == network.split_penalty + 1
