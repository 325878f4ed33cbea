"""The event outbox on a real ledger (SQLite, and a real PostgreSQL server): every state change appends exactly one event in its own
transaction, a change that fails or rolls back appends none, and cursors are 1, 2, 3, ... in
commit order, even with writers on several connections at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from omniroute.ledger import (
    Ledger,
    ReservationLine,
    ReservationNotHeld,
    Shortage,
    new_reservation_id,
    open_ledger,
)
from omniroute.ledger.bulk import ImportInvalid, ImportMode, Problems
from omniroute.ledger.events import EventType, NewEvent, append
from omniroute.ledger.records import Rejection, RejectionReason
from omniroute.model import (
    Location,
    Network,
    Order,
    OrderLine,
    Plan,
    PlanStatus,
    StockChange,
    ValidationError,
)
from omniroute.returns import Action, Condition, ReturnItem, ReturnLegPlan

T = EventType


@pytest.fixture()
def target(ledger_target: str) -> str:
    """Where the ledger lives: a SQLite file, then a PostgreSQL database (tests/conftest.py)."""
    return ledger_target


@pytest.fixture()
def store(target: str, tiny_network: Network) -> Iterator[Ledger]:
    ledger = open_ledger(target)
    ledger.put_network(tiny_network)
    yield ledger
    ledger.close()


def order(order_id: str, customer_id: str = "") -> Order:
    return Order(
        order_id,
        (OrderLine("1", "TEE", 1),),
        Location(-37.85, 145.0),
        customer_id=customer_id,
    )


def hold(
    store: Ledger,
    request_id: str,
    *lines: tuple[str, str, int],
    ttl: float = 60.0,
    customer_id: str = "",
) -> str:
    reservation_id = new_reservation_id()
    store.reservations.reserve(
        reservation_id,
        request_id,
        request_id.encode(),
        f"O-{request_id}",
        [ReservationLine(*x) for x in lines],
        ttl,
        reservation_id.encode(),
        order=(order(f"O-{request_id}", customer_id), Plan(PlanStatus.COMPLETE)),
    )
    return reservation_id


def new_events(store: Ledger, cursor: int) -> list:
    return list(store.events.read(cursor, 10_000).events)


def test_each_change_appends_one_event(store: Ledger, tiny_network: Network) -> None:
    """Held, committed, released, expired, re-routed, return planned and received, stock
    updated (UpdateStock and import), network replaced: one event each, with its ids."""
    first = store.events.read(0).events
    assert [e.type for e in first] == [T.NETWORK_REPLACED]
    assert first[0].seq == 1 and first[0].payload["version"] == 1
    cursor = store.events.last_cursor()

    def step(expected: list[EventType]) -> list:
        nonlocal cursor
        found = new_events(store, cursor)
        assert [e.type for e in found] == expected
        cursor = store.events.last_cursor()
        return found

    a = hold(store, "r1", ("DC1", "TEE", 3), customer_id="C-42")
    (held,) = step([T.RESERVATION_HELD])
    assert (held.reservation_id, held.order_id, held.request_id, held.customer_id) == (
        a,
        "O-r1",
        "r1",
        "C-42",
    )
    assert held.payload["lines"] == [{"nodeId": "DC1", "skuId": "TEE", "quantity": 3}]
    assert held.payload["units"] == 3

    hold(store, "r1", ("DC1", "TEE", 3), customer_id="C-42")  # a retry holds nothing more
    step([])
    store.reservations.commit(a)
    (committed,) = step([T.RESERVATION_COMMITTED])
    assert (committed.reservation_id, committed.customer_id, committed.request_id) == (
        a,
        "C-42",
        "r1",
    )
    store.reservations.commit(a)  # committing again changes nothing
    step([])

    b = hold(store, "r2", ("DC1", "JEANS", 1))
    store.reservations.release(b)
    held_b, released = step([T.RESERVATION_HELD, T.RESERVATION_RELEASED])
    assert released.reservation_id == b and released.customer_id == ""
    assert released.payload["lines"] == [{"nodeId": "DC1", "skuId": "JEANS", "quantity": 1}]

    c = hold(store, "r3", ("ST1", "COAT", 1), ttl=0.05, customer_id="C-7")
    time.sleep(0.1)
    assert store.reservations.expire_due() == 1
    _, expired = step([T.RESERVATION_HELD, T.RESERVATION_EXPIRED])
    assert (expired.reservation_id, expired.customer_id) == (c, "C-7")

    d = hold(store, "r4", ("DC1", "TEE", 1), customer_id="C-9")
    step([T.RESERVATION_HELD])
    record = store.orders.get(reservation_id=d)
    store.reservations.reroute(
        record,
        "rr1",
        b"rr1",
        [ReservationLine("DC1", "TEE", 1)],
        [ReservationLine("ST1", "TEE", 1)],
        record.plan,
        ["ST1"],
        Rejection("DC1", RejectionReason.DAMAGED, (("1", 1),)),
        b"answer",
    )
    (rerouted,) = step([T.ORDER_REROUTED])
    assert (rerouted.reservation_id, rerouted.customer_id, rerouted.request_id) == (
        d,
        "C-9",
        "rr1",
    )
    assert rerouted.payload["held"] == [{"nodeId": "ST1", "skuId": "TEE", "quantity": 1}]
    assert rerouted.payload["nodeId"] == "DC1" and rerouted.payload["reason"] == "DAMAGED"

    store.stock.update([StockChange("DC1", "TEE", delta_on_hand=5)], request_id="s1")
    store.stock.update([StockChange("DC1", "TEE", delta_on_hand=5)], validate_only=True)
    (updated,) = step([T.STOCK_UPDATED])
    assert updated.request_id == "s1"
    assert updated.payload["positions"][0]["onHandDelta"] == 5

    with store.stock.importer(ImportMode.DELTA) as importer:
        importer.stage([(1, "DC1", "JEANS", None, 2, None)])
        importer.apply(Problems(), "stock.csv", request_id="imp1", reference="stock.csv")
    (imported,) = step([T.STOCK_UPDATED])
    assert imported.payload["source"] == "import" and imported.payload["changed"] == 1

    leg = ReturnLegPlan(
        Action.RESTOCK_HERE,
        "ST1",
        "",
        (ReturnItem("TEE", 2, Condition.RESALEABLE),),
        0.0,
        0.0,
        20.0,
        0,
    )
    planned = store.returns.plan("ret1", b"ret1", [leg])
    store.returns.receive(planned.id)
    store.returns.receive(planned.id)  # receiving again changes nothing
    planned_event, received = step([T.RETURN_PLANNED, T.RETURN_RECEIVED])
    assert planned_event.return_id == received.return_id == planned.id
    assert received.payload["legs"][0]["items"] == [{"skuId": "TEE", "quantity": 2}]

    # a network without ST1's TEE: the re-routed hold is released with the replacement
    smaller = replace(
        tiny_network,
        stock=tuple(p for p in tiny_network.stock if (p.node_id, p.sku_id) != ("ST1", "TEE")),
    )
    store.put_network(smaller)
    released_d, replaced = step([T.RESERVATION_RELEASED, T.NETWORK_REPLACED])
    assert released_d.reservation_id == d and released_d.payload["cause"] == "NETWORK_REPLACED"
    assert replaced.payload["version"] == 2
    assert store.check() == []


def test_failed_changes_append_nothing(store: Ledger) -> None:
    """A shortage, an invalid update or import, a settled reservation, a rolled-back
    transaction: no event, and the cursor does not move."""
    before = store.events.last_cursor()
    with pytest.raises(Shortage):
        hold(store, "r1", ("DC1", "TEE", 3), ("ST2", "COAT", 2))
    with pytest.raises(ValidationError):
        store.stock.update([StockChange("DC1", "TEE", set_on_hand=-1)])
    with store.stock.importer(ImportMode.DELTA) as importer:
        importer.stage([(1, "DC1", "TEE", None, -100, None)])
        with pytest.raises(ImportInvalid):
            importer.apply(Problems(), "stock.csv")
    a = hold(store, "r2", ("DC1", "TEE", 1))
    store.reservations.commit(a)
    after_commit = store.events.last_cursor()
    assert after_commit == before + 2
    with pytest.raises(ReservationNotHeld):
        store.reservations.release(a)
    with pytest.raises(RuntimeError), store.db.write() as tx:
        append(tx, time.time(), [NewEvent(T.STOCK_UPDATED, payload={"x": 1})])
        raise RuntimeError("the change fails after its event was appended")
    assert store.events.last_cursor() == after_commit
    assert [e.seq for e in new_events(store, before)] == [before + 1, before + 2]


def test_cursor_is_commit_order_across_connections(
    store: Ledger, target: str, tiny_network: Network
) -> None:
    """Writers on four connections at once: cursors 1..N with no gap or repeat, each
    reservation's HELD before its RELEASED; reading on from any cursor gives the rest once."""
    store.stock.update([StockChange("DC1", "TEE", set_on_hand=1000)])
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        ledger = open_ledger(target)
        try:
            for i in range(15):
                r = hold(ledger, f"w{w}-{i}", ("DC1", "TEE", 1))
                if i % 2:
                    ledger.reservations.release(r)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            ledger.close()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    every = new_events(store, 0)
    assert [e.seq for e in every] == list(range(1, len(every) + 1))
    assert len(every) == 2 + 4 * (15 + 7)  # network, stock update, holds and releases
    position = {}
    for event in every:
        position[(event.type, event.reservation_id)] = event.seq
    for (kind, reservation), seq in position.items():
        if kind is T.RESERVATION_RELEASED:
            assert position[(T.RESERVATION_HELD, reservation)] < seq
    # resume from every cursor with a small page: the rest, once each
    for start in (0, 1, 17, len(every) - 1, len(every)):
        seen, cursor = [], start
        while page := store.events.read(cursor, 7).events:
            seen += [e.seq for e in page]
            cursor = page[-1].seq
        assert seen == list(range(start + 1, len(every) + 1))
    # a type filter skips the others and still reaches the newest cursor
    page = store.events.read(0, 10_000, [T.RESERVATION_RELEASED])
    assert len(page.events) == 4 * 7 and page.cursor == len(every)


def test_a_large_stock_update_carries_totals_only(
    store: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An UpdateStock batch of more positions than an event lists gives one event with the
    totals (an event must stay small enough for any consumer to receive)."""
    from omniroute.ledger import events

    cursor = store.events.last_cursor()
    store.stock.update([StockChange("DC1", "TEE", delta_on_hand=1)])
    monkeypatch.setattr(events, "MAX_LISTED", 1)
    store.stock.update(
        [StockChange("DC1", "TEE", delta_on_hand=1), StockChange("DC1", "JEANS", delta_on_hand=2)]
    )
    small, large = new_events(store, cursor)
    assert small.payload["positions"][0]["onHandDelta"] == 1
    assert (large.payload["changed"], large.payload["onHandDelta"]) == (2, 3)
    assert "positions" not in large.payload
