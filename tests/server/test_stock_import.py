"""omniroute stock import / export: snapshot and delta files into a real SQLite ledger, every
problem listed with its line number, all rows or none, idempotent request ids, round trips,
and a running server that sees the imported stock."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from omniroute.ledger import Ledger, ReservationLine, new_reservation_id, open_ledger
from omniroute.model import Network, Order
from omniroute.server.cli import main
from omniroute.server.client import OmnirouteClient
from omniroute.server.launch import serve_process

Positions = dict[tuple[str, str], tuple[int, int, int]]


@pytest.fixture()
def db(tmp_path: Path, tiny_network: Network) -> Path:
    """A ledger file holding the tiny network (as ``serve --network`` creates it)."""
    path = tmp_path / "ledger.db"
    ledger = open_ledger(path)
    ledger.put_network(tiny_network)
    ledger.close()
    return path


def stock(db: Path) -> Positions:
    """(node, SKU) -> (on-hand, safety stock, reserved)."""
    ledger = open_ledger(db)
    try:
        return {
            (p.node_id, p.sku_id): (p.on_hand, p.safety_stock, p.reserved)
            for p in ledger.stock.get()
        }
    finally:
        ledger.close()


def feed(db: Path) -> tuple[int, int]:
    """(network version, last change-feed seq): what running servers watch."""
    ledger = open_ledger(db)
    try:
        return ledger.state()
    finally:
        ledger.close()


def check(db: Path) -> list[str]:
    ledger = open_ledger(db)
    try:
        return ledger.check()
    finally:
        ledger.close()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``omniroute ARGS`` in this process: the exit status and standard error."""
    status = main([str(a) for a in args])
    return status, capsys.readouterr().err


def jsonl(path: Path, *rows: dict[str, object] | str) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def hold(db: Path, *lines: tuple[str, str, int]) -> str:
    ledger = open_ledger(db)
    try:
        reservation_id = new_reservation_id()
        ledger.reservations.reserve(
            reservation_id,
            reservation_id,
            b"",
            "order",
            [ReservationLine(*line) for line in lines],
            600,
            b"",
        )
        return reservation_id
    finally:
        ledger.close()


def test_snapshot_sets_and_zeroes(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A snapshot sets the positions in the file (new ones too) and gives every other
    position on-hand 0, keeping its safety stock; the history reconciles."""
    before = stock(db)
    version, seq = feed(db)
    file = jsonl(
        tmp_path / "snap.jsonl",
        {"nodeId": "DC1", "skuId": "TEE", "onHand": 12, "safetyStock": 2},
        {"node_id": "ST2", "sku_id": "TEE", "on_hand": "4"},  # proto names, numeric string
        {"nodeId": "ST1", "skuId": "TEE", "onHand": 3, "safetyStock": 1},  # unchanged
    )
    status, err = run(capsys, "stock", "import", "--db", db, file, "--mode", "snapshot")
    assert status == 0, err
    after = stock(db)
    assert after[("DC1", "TEE")] == (12, 2, 0)
    assert after[("ST2", "TEE")] == (4, 0, 0)
    assert after[("ST1", "TEE")] == (3, 1, 0)
    assert after[("DC1", "COAT")] == (0, 1, 0)  # zeroed, safety stock kept
    for key in set(before) - {("DC1", "TEE"), ("ST1", "TEE")}:
        assert after[key][0] == 0
    assert len(after) == len(before) + 1
    assert "3 rows, 8 positions changed (1 new, 6 zeroed)" in err
    new_version, new_seq = feed(db)
    assert new_version == version and new_seq == seq + 8  # one change-feed row per position
    assert check(db) == []


def test_delta_adds(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A delta adds to on-hand (or sets it), sets safety stock, creates positions, and leaves
    every other position alone."""
    before = stock(db)
    file = jsonl(
        tmp_path / "delta.jsonl",
        {"nodeId": "DC1", "skuId": "TEE", "deltaOnHand": 5},
        {"nodeId": "DC1", "skuId": "JEANS", "deltaOnHand": -5, "safetyStock": 1},
        {"nodeId": "ST1", "skuId": "COAT", "safetyStock": 2},
        {"nodeId": "ST2", "skuId": "COAT", "setOnHand": 9},
        {"nodeId": "VN1", "skuId": "TEE", "deltaOnHand": 3},  # a new position
    )
    status, err = run(capsys, "stock", "import", "--db", db, file, "--mode", "delta")
    assert status == 0, err
    after = stock(db)
    assert after[("DC1", "TEE")] == (15, 0, 0)
    assert after[("DC1", "JEANS")] == (0, 1, 0)
    assert after[("ST1", "COAT")] == (2, 2, 0)
    assert after[("ST2", "COAT")] == (9, 0, 0)
    assert after[("VN1", "TEE")] == (3, 0, 0)
    untouched = set(before) - {("DC1", "TEE"), ("DC1", "JEANS"), ("ST1", "COAT"), ("ST2", "COAT")}
    assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched}
    assert "5 rows, 5 positions changed (1 new, 0 zeroed), on-hand +11 units" in err
    assert check(db) == []


def test_invalid_file_lists_every_problem_and_changes_nothing(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every problem is listed with its line number, the exit status is 2, and nothing
    changes: not the stock, not the change feed."""
    before, state = stock(db), feed(db)
    file = jsonl(
        tmp_path / "bad.jsonl",
        {"nodeId": "DC1", "skuId": "TEE", "onHand": 1},
        "",  # blank lines count in the numbering
        {"nodeId": "DC1", "skuId": "SOCKS", "onHand": 1},
        {"nodeId": "DC1", "skuId": "JEANS", "onHand": 2},
        {"nodeId": "ST1", "skuId": "TEE", "onHand": -3},
        {"nodeId": "DC9", "skuId": "COAT", "onHand": 1.5, "colour": "red"},
        "not json",
        {"nodeId": "DC1", "skuId": "TEE", "onHand": 4},
    )
    status, err = run(capsys, "stock", "import", "--db", db, file, "--mode", "snapshot")
    assert status == 2
    lines = err.splitlines()
    assert lines[0] == f"error: stock file {file} is invalid (7 problems):"
    assert lines[1:] == [
        "  line 3: skuId: unknown SKU 'SOCKS'",
        "  line 5: onHand: must be >= 0, got -3",
        "  line 6: onHand: must be a whole number, got 1.5",
        "  line 6: colour: unknown field (a StockPosition row of --mode snapshot has nodeId, skuId, onHand, "
        "safetyStock, reserved, atp)",
        "  line 6: nodeId: unknown node 'DC9'",
        "  line 7: not JSON: Expecting value: line 1 column 1 (char 0)",
        "  line 8: second row for node 'DC1' and SKU 'TEE' (first on line 1): give each "
        "position once",
    ]
    assert stock(db) == before and feed(db) == state

    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("nodeId,sku,onHand\nDC1,TEE,1\n")
    status, err = run(capsys, "stock", "import", "--db", db, csv_file, "--mode", "snapshot")
    assert status == 2
    assert (
        'line 1: unknown column "sku" (a StockPosition row of --mode snapshot has nodeId, skuId'
        in err
    )
    assert "line 1: the header has no column skuId" in err

    delta = jsonl(
        tmp_path / "bad-delta.jsonl",
        {"nodeId": "DC1", "skuId": "TEE", "deltaOnHand": -11},
        {"nodeId": "DC1", "skuId": "JEANS", "setOnHand": 1, "deltaOnHand": 1},
        {"nodeId": "DC1", "skuId": "COAT"},
        {"nodeId": "DC1", "skuId": "RUG", "onHand": 1},
        {"nodeId": "ST1", "skuId": "TEE", "deltaOnHand": 2**31 - 1},
    )
    status, err = run(capsys, "stock", "import", "--db", db, delta, "--mode", "delta")
    assert status == 2
    assert "line 1: deltaOnHand: would make on-hand -1 (< 0)" in err
    assert "line 2: give setOnHand or deltaOnHand, not both" in err
    assert "line 3: nothing to change" in err
    assert (
        "line 4: onHand: unknown field (a StockUpdate row of --mode delta has nodeId, skuId, setOnHand"
        in err
    )
    assert stock(db) == before and feed(db) == state


def test_problems_are_capped(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file with thousands of bad rows lists the first 100 and counts the rest."""
    file = jsonl(
        tmp_path / "many.jsonl", *({"nodeId": "DC1", "skuId": f"X{i}"} for i in range(250))
    )
    status, err = run(capsys, "stock", "import", "--db", db, file, "--mode", "snapshot")
    assert status == 2
    lines = err.splitlines()
    assert lines[0].endswith("is invalid (250 problems):")
    assert lines[100] == "  line 100: skuId: unknown SKU 'X99'"
    assert lines[101] == "  ... and 150 more"


def test_reservations_are_kept_and_never_undercut(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Held units stay reserved through a snapshot; a position cannot end with fewer units
    on hand than it has reserved, whether its row says so or a snapshot leaves it out."""
    hold(db, ("DC1", "TEE", 4))
    state = feed(db)
    low = jsonl(tmp_path / "low.jsonl", {"nodeId": "DC1", "skuId": "TEE", "onHand": 3})
    status, err = run(capsys, "stock", "import", "--db", db, low, "--mode", "snapshot")
    assert status == 2
    assert "line 1: on-hand 3 would fall below the 4 reserved" in err
    missing = jsonl(tmp_path / "missing.jsonl", {"nodeId": "DC1", "skuId": "JEANS", "onHand": 3})
    status, err = run(capsys, "stock", "import", "--db", db, missing, "--mode", "snapshot")
    assert status == 2
    assert "node 'DC1', SKU 'TEE' (not in the file): on-hand 0 would fall below the 4" in err
    delta = jsonl(tmp_path / "d.jsonl", {"nodeId": "DC1", "skuId": "TEE", "deltaOnHand": -7})
    status, err = run(capsys, "stock", "import", "--db", db, delta, "--mode", "delta")
    assert status == 2 and "line 1: on-hand 3 would fall below the 4 reserved" in err
    assert feed(db) == state
    enough = jsonl(tmp_path / "ok.jsonl", {"nodeId": "DC1", "skuId": "TEE", "onHand": 4})
    status, err = run(capsys, "stock", "import", "--db", db, enough, "--mode", "snapshot")
    assert status == 0, err
    assert stock(db)[("DC1", "TEE")] == (4, 0, 4)
    assert check(db) == []


def test_request_id_applies_once(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An import repeated with its request id changes nothing; the id cannot be reused for
    another file."""
    file = jsonl(tmp_path / "d.jsonl", {"nodeId": "DC1", "skuId": "TEE", "deltaOnHand": 2})
    args = ("stock", "import", "--db", db, file, "--mode", "delta", "--request-id", "wms-42")
    assert run(capsys, *args)[0] == 0
    state = feed(db)
    status, err = run(capsys, *args)
    assert status == 0 and "'wms-42' was imported before: nothing changed" in err
    assert stock(db)[("DC1", "TEE")] == (12, 0, 0) and feed(db) == state
    other = jsonl(tmp_path / "e.jsonl", {"nodeId": "DC1", "skuId": "TEE", "deltaOnHand": 3})
    status, err = run(
        capsys, "stock", "import", "--db", db, other, "--mode", "delta", "--request-id", "wms-42"
    )
    assert status == 2 and "already used for a different request" in err
    assert stock(db)[("DC1", "TEE")] == (12, 0, 0)


def test_round_trip_is_a_noop(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An export (reserved units and ATP included) imports back as a snapshot that changes
    nothing, and writes nothing to the change feed."""
    hold(db, ("ST1", "COAT", 1))
    for name in ("stock.jsonl", "stock.csv", "stock.jsonl.gz"):
        before, state = stock(db), feed(db)
        file = tmp_path / name
        assert run(capsys, "stock", "export", "--db", db, file)[0] == 0
        status, err = run(capsys, "stock", "import", "--db", db, file, "--mode", "snapshot")
        assert status == 0, err
        assert "8 rows, 0 positions changed" in err
        assert stock(db) == before and feed(db) == state
    with gzip.open(tmp_path / "stock.jsonl.gz", "rt") as exported:
        first = json.loads(exported.readline())
    assert first == {
        "nodeId": "DC1",
        "skuId": "COAT",
        "onHand": 1,
        "safetyStock": 1,
        "reserved": 0,
        "atp": 0,
    }
    assert (tmp_path / "stock.csv").read_text().splitlines()[:2] == [
        "nodeId,skuId,onHand,safetyStock,reserved,atp",
        "DC1,COAT,1,1,0,0",
    ]


def test_csv_and_jsonl_give_the_same_result(
    tmp_path: Path, tiny_network: Network, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same rows as JSON lines, CSV and gzip-compressed CSV give the same stock."""
    rows = [
        ("DC1", "TEE", 7, 1),
        ("ST1", "COAT", 0, 0),
        ("ST2", "RUG", 2, 0),
        ("VN1", "RUG", 40, 5),
    ]
    files = {
        "a.jsonl": "".join(
            json.dumps({"nodeId": n, "skuId": s, "onHand": o, "safetyStock": f}) + "\n"
            for n, s, o, f in rows
        ),
        "b.csv": "skuId,nodeId,safetyStock,onHand\n"
        + "".join(f"{s},{n},{f},{o}\n" for n, s, o, f in rows),
    }
    results = []
    for name, text in [*files.items(), ("c.csv.gz", files["b.csv"])]:
        path = tmp_path / name
        if name.endswith(".gz"):
            path.write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)
        ledger_path = tmp_path / f"{name}.db"
        ledger = open_ledger(ledger_path)
        ledger.put_network(tiny_network)
        ledger.close()
        status, err = run(
            capsys, "stock", "import", "--db", ledger_path, path, "--mode", "snapshot"
        )
        assert status == 0, err
        results.append(stock(ledger_path))
    assert results[0] == results[1] == results[2]
    assert results[0][("VN1", "RUG")] == (40, 5, 0) and results[0][("DC1", "JEANS")] == (0, 0, 0)


def test_request_ids_see_through_the_format(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The request id's fingerprint is the rows, not the bytes: the same rows as CSV are the
    same request."""
    a = jsonl(tmp_path / "a.jsonl", {"nodeId": "DC1", "skuId": "TEE", "deltaOnHand": 1})
    b = tmp_path / "b.csv"
    b.write_text("nodeId,skuId,deltaOnHand\nDC1,TEE,1\n")
    for file in (a, b):
        status, _ = run(
            capsys, "stock", "import", "--db", db, file, "--mode", "delta", "--request-id", "x"
        )
        assert status == 0
    assert stock(db)[("DC1", "TEE")] == (11, 0, 0)


def test_missing_ledger_or_file(
    tmp_path: Path, db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run(capsys, "stock", "import", "--db", tmp_path / "no.db", db, "--mode", "delta")
    assert status == 2 and "does not exist" in err
    assert not (tmp_path / "no.db").exists()
    status, err = run(
        capsys, "stock", "import", "--db", db, tmp_path / "none.jsonl", "--mode", "delta"
    )
    assert status == 2 and "no such file" in err
    status, err = run(capsys, "stock", "import", "--db", db, tmp_path / "x.txt", "--mode", "delta")
    assert status == 2 and "cannot tell the format" in err


def test_running_server_sees_imported_stock(
    tmp_path: Path, data_dir: Path, tiny_orders: dict[str, Order]
) -> None:
    """A real ``omniroute serve`` process plans on the stock an import (another process)
    wrote, and reads it back, with no restart."""
    db = tmp_path / "served.db"
    order = tiny_orders["one-tee-melbourne"]
    with (
        serve_process(
            "--db",
            str(db),
            "--network",
            str(data_dir / "tiny_network.json"),
            "--workers",
            "1",
            "--grace",
            "3",
            output=None,
            ready_timeout=60,
        ) as (_, port),
        OmnirouteClient(f"localhost:{port}") as client,
    ):
        assert [s.node_id for s in client.plan_order(order).plan.shipments] == ["DC1"]
        file = jsonl(tmp_path / "d.jsonl", {"nodeId": "DC1", "skuId": "TEE", "setOnHand": 0})
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "omniroute.server.cli",
                "stock",
                "import",
                "--db",
                str(db),
                str(file),
                "--mode",
                "delta",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        dc_tee = client.get_stock(sku_ids=["TEE"], node_ids=["DC1"]).positions[0]
        assert dc_tee.on_hand == 0 and dc_tee.atp == 0
        assert [s.node_id for s in client.plan_order(order).plan.shipments] == ["ST1"]


def test_ledger_api(db: Path, tmp_path: Path) -> None:
    """The ledger's bulk import on its own: staged rows applied in one transaction."""
    from omniroute.ledger.bulk import ImportMode, ImportSummary, Problems

    ledger: Ledger = open_ledger(db)
    try:
        with ledger.stock.importer(ImportMode.DELTA) as importer:
            assert "DC1" in importer.nodes and "TEE" in importer.skus
            importer.stage([(1, "DC1", "TEE", None, -1, None), (2, "ST1", "TEE", 8, None, 0)])
            summary = importer.apply(Problems(), "rows")
        assert summary == ImportSummary("delta", 2, 2, 0, 0, 4, 1)
        assert [p.on_hand for p in ledger.stock.get(["TEE"], ["DC1", "ST1"])] == [9, 8]
        assert ledger.check() == []
    finally:
        ledger.close()


def test_bulk_changes_reach_the_planner_inventory(tiny_network: Network) -> None:
    """What a server applies from the change feed after an import (many positions at once,
    new ones, repeats) gives the inventory built from the final positions."""
    import random

    from omniroute.model import StockPosition
    from omniroute.network_index import Inventory, NetworkIndex

    index = NetworkIndex(tiny_network)
    rng = random.Random(3)
    nodes = [n.id for n in tiny_network.nodes]
    skus = [s.id for s in tiny_network.skus]
    for _ in range(30):
        final = {(p.node_id, p.sku_id): p for p in tiny_network.stock}
        inventory = Inventory(index, final.values())
        changes = [
            StockPosition(
                rng.choice(nodes), rng.choice(skus), rng.randint(0, 9), rng.randint(0, 2), 0
            )
            for _ in range(rng.randint(1, 12))
        ]
        inventory.set_positions(changes)
        final.update({(p.node_id, p.sku_id): p for p in changes})
        expected = Inventory(index, final.values())
        for k in range(len(skus)):
            got, want = inventory.sku(k), expected.sku(k)
            for name in ("nodes", "on_hand", "safety_stock", "reserved"):
                assert getattr(got, name).tolist() == getattr(want, name).tolist()
