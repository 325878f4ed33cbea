"""The columnar stock table: what it holds, how files stream into it, and how the planner
reads it without copying (also from a file mapped read-only, as server workers share it)."""

from __future__ import annotations

import json
import mmap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from omniroute import files
from omniroute.demo_data import demo_dataset
from omniroute.model import Network, Order, StockPosition, ValidationError
from omniroute.planner import Planner
from omniroute.stock_table import StockTable, StockTableBuilder


@pytest.fixture(scope="module")
def demo() -> tuple[Network, list[Order]]:
    return demo_dataset(seed=4, orders=150)


def mapped(array: np.ndarray) -> bool:
    """Whether ``array`` is a view of a memory-mapped file."""
    while array is not None:
        if isinstance(array, (np.memmap, mmap.mmap)):
            return True
        array = array.base
    return False


def test_a_table_holds_exactly_its_positions() -> None:
    positions = [
        StockPosition("B", "X", 5, 1, 2),
        StockPosition("A", "Y", 0),
        StockPosition("A", "X", 7, 0, 0),
    ]
    table = StockTable.of(positions)
    assert list(table) == positions and table == positions and len(table) == 3
    assert table[1] == positions[1] and list(table[1:]) == positions[1:]
    assert StockTable.of(table) is table
    ordered = table.recoded(["A", "B"], ["X", "Y"]).by_sku()
    assert list(ordered) == [positions[2], positions[0], positions[1]]
    assert ordered.is_by_sku() and ordered.by_sku() is ordered
    assert ordered.sku_starts().tolist() == [0, 2, 3]
    unknown = table.recoded(["A"], ["X", "Y"])
    assert unknown.unknown().tolist() == [0]  # node B is not in the list
    assert repr(table) == f"StockTable({positions!r})"
    assert table.find([("A", "X"), ("B", "X"), ("C", "X"), ("A", "Z")]) == {
        ("A", "X"): 2,
        ("B", "X"): 0,
    }
    assert [len(c) for c in table.chunks(2)] == [2, 1]


def test_the_builder_interns_ids_in_order_of_appearance() -> None:
    builder = StockTableBuilder()
    builder.add(["N2", "N1"], ["S"] * 2, [1, 2], [0, 0])
    builder.add(["N3", "N2"], ["T", "S"], [3, 4], [1, 1], [1, 0])
    table = builder.build()
    assert table.node_ids == ("N2", "N1", "N3") and table.sku_ids == ("S", "T")
    assert [p.on_hand for p in table] == [1, 2, 3, 4] and table[2].reserved == 1


def test_a_saved_table_maps_back_read_only(tmp_path: Path, demo: tuple[Network, list]) -> None:
    network, _ = demo
    table = StockTable.of(network.stock)
    table.save(tmp_path / "snapshot")
    opened = StockTable.open(tmp_path / "snapshot")
    assert opened == table and opened.node_ids == table.node_ids
    assert mapped(opened.on_hand) and not opened.on_hand.flags.writeable
    assert not list(tmp_path.glob(".*partial"))  # written whole, then renamed


def test_plans_on_a_mapped_table_equal_plans_on_positions(
    tmp_path: Path, demo: tuple[Network, list[Order]]
) -> None:
    """The planner reads a table mapped read-only from a file (as server workers share it)
    without copying it, plans exactly as on a tuple of positions, and its changes (taking
    stock, setting positions) go to copies of the changed SKUs' arrays."""
    network, orders = demo
    plain = replace(network, stock=tuple(network.stock))
    index_order = StockTable.of(network.stock).recoded(
        [n.id for n in network.nodes], [s.id for s in network.skus]
    )
    index_order.by_sku().save(tmp_path / "snapshot")
    table = StockTable.open(tmp_path / "snapshot")
    shared = Planner(replace(network, stock=table), validate=False)
    assert shared.inventory.table is table  # no copy of the stock
    assert mapped(shared.inventory.sku(0).on_hand)
    private = Planner(plain)
    for order in orders[:60]:
        a, b = shared.plan(order).plan, private.plan(order).plan
        assert a == b
    before = table.on_hand.copy()
    first = next(iter(table))
    shared.inventory.take({(first.node_id, first.sku_id): 1})
    shared.inventory.set_positions([replace(first, on_hand=first.on_hand + 9)])
    assert shared.inventory.atp_of(first.node_id, first.sku_id) == first.atp + 9
    assert np.array_equal(table.on_hand, before)


def test_a_network_file_streams_into_a_table(
    tmp_path: Path, demo: tuple[Network, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read in small blocks and batches, a network file gives what decoding the whole JSON
    gives, however it is laid out, with the stock in any place among the fields."""
    network, _ = demo
    monkeypatch.setattr(files, "_BLOCK", 4096)
    monkeypatch.setattr(files, "_BATCH", 1500)
    data = files.network_to_json(network)
    stock_first = {"stock": data["stock"], **{k: v for k, v in data.items() if k != "stock"}}
    for layout, text in {
        "compact": json.dumps(data, separators=(",", ":")),
        "indented": json.dumps(data, indent=2),
        "stock first": json.dumps(stock_first, indent=1),
    }.items():
        path = tmp_path / "network.json"
        path.write_text(text, encoding="utf-8")
        read = files.read_network(path)
        assert read == network, layout
        assert isinstance(read.stock, StockTable)


def violations(path: Path) -> list[str]:
    with pytest.raises(ValidationError) as error:
        files.read_network(path)
    return [str(v) for v in error.value.violations]


def test_a_streamed_file_reports_what_the_whole_file_reports(
    tmp_path: Path, demo: tuple[Network, list], monkeypatch: pytest.MonkeyPatch
) -> None:
    network, _ = demo
    data = files.network_to_json(network)
    far = len(data["stock"]) - 3
    data["stock"][far]["onHand"] = "many"
    data["stock"][7]["nodeId"] = "NOWHERE"
    data["stock"][9]["skuId"] = 'SKU},"odd'  # a cut after this "}," falls inside a string
    data["stock"][11] = None
    path = tmp_path / "network.json"
    texts = {
        "schema": json.dumps(data, indent=2),
        "network": json.dumps({**data, "stock": [p for p in data["stock"][:far] if p]}),
        "syntax": json.dumps(data, indent=2)[:-40] + "\n]}",
    }
    for case, text in texts.items():
        path.write_text(text, encoding="utf-8")
        with monkeypatch.context() as whole:

            def refuse(path: Path) -> None:
                raise files._NotStreamed()

            whole.setattr(files, "_stream_network", refuse)
            expected = violations(path)
        monkeypatch.setattr(files, "_BLOCK", 4096)
        monkeypatch.setattr(files, "_BATCH", 1500)
        assert violations(path) == expected, case
    assert expected[0].startswith(f"{path}: not JSON: ")
