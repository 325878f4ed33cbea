"""Daily shipment capacity in the ledger, on both backends (a real SQLite file and a real
PostgreSQL database): each dated shipment counts against its node's day atomically with the
hold, a full day refuses the whole hold (DayFull) and changes nothing, releasing or expiring
gives the day back, committing keeps it counted, and racing holds never fill a day past its
capacity."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest

from omniroute.ledger import (
    DayFull,
    Ledger,
    ReservationLine,
    ShipDay,
    Shortage,
    new_reservation_id,
    open_ledger,
)
from omniroute.model import Network

MONDAY = date(2026, 12, 7)


def hold(store: Ledger, request_id: str, day: date, capacity: int = 2, ttl: float = 60.0) -> str:
    """Hold one TEE at DC1 shipping on ``day`` (DC1 ships ``capacity`` a day)."""
    reservation_id = new_reservation_id()
    store.reservations.reserve(
        reservation_id,
        request_id,
        request_id.encode(),
        "order-" + request_id,
        [ReservationLine("DC1", "TEE", 1)],
        ttl,
        reservation_id.encode(),
        ship_days=[ShipDay("DC1", day, capacity)],
    )
    return reservation_id


def reserved(store: Ledger) -> int:
    return store.stock.get(["TEE"], ["DC1"])[0].reserved


def test_a_full_day_refuses_the_hold_and_changes_nothing(store: Ledger) -> None:
    first = hold(store, "a", MONDAY)
    assert store.ship_days.full(MONDAY) == {}
    hold(store, "b", MONDAY)
    assert store.ship_days.full(MONDAY) == {"DC1": frozenset({MONDAY})}
    assert store.ship_days.counts("DC1") == {MONDAY: 2}
    before = reserved(store)
    with pytest.raises(DayFull) as caught:
        hold(store, "c", MONDAY)
    assert isinstance(caught.value, Shortage)  # the application plans again
    assert caught.value.days == [("DC1", MONDAY.isoformat())]
    assert reserved(store) == before  # the stock hold rolled back with the day
    assert store.ship_days.counts("DC1") == {MONDAY: 2}
    hold(store, "c", date(2026, 12, 8))  # the next day has room

    store.reservations.release(first)  # a cancelled order gives its day back
    assert store.ship_days.counts("DC1")[MONDAY] == 1
    assert store.ship_days.full(MONDAY) == {}
    third = hold(store, "d", MONDAY)
    store.reservations.commit(third)  # a shipped order keeps its day
    assert store.ship_days.counts("DC1")[MONDAY] == 2
    assert store.ship_days.full(MONDAY) == {"DC1": frozenset({MONDAY})}


def test_expiry_gives_the_day_back(store: Ledger) -> None:
    hold(store, "a", MONDAY, capacity=1, ttl=0.05)
    assert store.ship_days.full(MONDAY) == {"DC1": frozenset({MONDAY})}
    time.sleep(0.1)
    store.reservations.expire_due()
    assert store.ship_days.full(MONDAY) == {}
    assert store.ship_days.counts("DC1") == {}


def test_racing_holds_never_overfill_a_day(ledger_target: str, store: Ledger) -> None:
    """Four connections race 20 holds for a day of capacity 5: exactly 5 succeed."""
    won: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()

    def worker(w: int) -> None:
        own = open_ledger(ledger_target)
        try:
            for i in range(5):
                try:
                    hold(own, f"w{w}-{i}", MONDAY, capacity=5)
                    outcome = won
                except DayFull:
                    outcome = refused
                with lock:
                    outcome.append(f"w{w}-{i}")
        finally:
            own.close()

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 5 and len(refused) == 15
    assert store.ship_days.counts("DC1") == {MONDAY: 5}
    assert reserved(store) == 5
    assert store.check() == []


def test_a_new_network_recounts_which_days_are_full(store: Ledger, tiny_network: Network) -> None:
    """Two shipments counted on Monday at capacity 5: not full; a network that cuts DC1 to 2
    a day makes Monday full, one without a capacity at DC1 has no full days."""
    import dataclasses

    hold(store, "a", MONDAY, capacity=5)
    hold(store, "b", MONDAY, capacity=5)
    assert store.ship_days.full(MONDAY) == {}

    def with_capacity(capacity: int) -> Network:
        nodes = tuple(
            dataclasses.replace(n, daily_shipment_capacity=capacity) if n.id == "DC1" else n
            for n in tiny_network.nodes
        )
        return dataclasses.replace(tiny_network, nodes=nodes)

    store.put_network(with_capacity(2))
    assert store.ship_days.full(MONDAY) == {"DC1": frozenset({MONDAY})}
    store.put_network(with_capacity(0))
    assert store.ship_days.full(MONDAY) == {}
