"""The stock ledger on both backends (a real SQLite file and a real PostgreSQL database):
atomic holds, commit/release/expiry, idempotency, reconciliation, and a hypothesis state
machine checking conservation after every step."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from omniroute.ledger import (
    Ledger,
    RequestIdReused,
    ReservationLine,
    ReservationNotHeld,
    ReservationState,
    SchemaUnsupported,
    Shortage,
    UnknownReservation,
    new_reservation_id,
    open_ledger,
)
from omniroute.model import Network, StockChange

HELD, COMMITTED = ReservationState.HELD, ReservationState.COMMITTED
RELEASED, EXPIRED = ReservationState.RELEASED, ReservationState.EXPIRED


def position(store: Ledger, node: str, sku: str):
    return store.stock.get([sku], [node])[0]


def hold(store: Ledger, request_id: str, *lines: tuple[str, str, int], ttl: float = 60.0) -> str:
    """Hold lines under a new reservation; the stored answer is the reservation id."""
    reservation_id = new_reservation_id()
    answer = store.reservations.reserve(
        reservation_id,
        request_id,
        request_id.encode(),
        "order",
        [ReservationLine(*x) for x in lines],
        ttl,
        reservation_id.encode(),
    )
    return answer.decode()


def test_all_lines_or_none(store: Ledger) -> None:
    """When one line is short, nothing is held."""
    with pytest.raises(Shortage) as caught:
        hold(store, "r1", ("DC1", "TEE", 3), ("ST2", "COAT", 2))
    assert caught.value.positions == [("ST2", "COAT", 2)]
    assert position(store, "DC1", "TEE").reserved == 0
    assert store.check() == []


def test_hold_commit_release(store: Ledger) -> None:
    """Held units leave ATP; commit takes them off on-hand; release gives them back."""
    first = hold(store, "r1", ("DC1", "TEE", 3))
    tee = position(store, "DC1", "TEE")
    assert (tee.on_hand, tee.reserved, tee.atp) == (10, 3, 7)
    committed = store.reservations.commit(first)
    assert committed.state is COMMITTED
    assert store.reservations.commit(first).state is COMMITTED  # idempotent
    tee = position(store, "DC1", "TEE")
    assert (tee.on_hand, tee.reserved, tee.atp) == (7, 0, 7)
    with pytest.raises(ReservationNotHeld) as caught:
        store.reservations.release(first)
    assert caught.value.reason == "RESERVATION_COMMITTED"

    second = hold(store, "r2", ("DC1", "TEE", 2), ("ST1", "COAT", 1))
    assert store.reservations.release(second).state is RELEASED
    assert store.reservations.release(second).state is RELEASED  # idempotent
    assert position(store, "DC1", "TEE").atp == 7 and position(store, "ST1", "COAT").atp == 2
    with pytest.raises(UnknownReservation):
        store.reservations.get("R-nope")
    assert store.check() == []


def test_safety_stock_is_not_reservable(store: Ledger) -> None:
    """DC1 has one coat, all of it safety stock: nothing can be held."""
    with pytest.raises(Shortage):
        hold(store, "r1", ("DC1", "COAT", 1))


def test_expired_holds_stop_counting(store: Ledger) -> None:
    reservation = hold(store, "r1", ("ST2", "COAT", 1), ttl=0.05)
    assert position(store, "ST2", "COAT").atp == 0
    time.sleep(0.1)
    assert store.reservations.get(reservation).state is EXPIRED
    assert position(store, "ST2", "COAT").atp == 1
    with pytest.raises(ReservationNotHeld) as caught:
        store.reservations.commit(reservation)
    assert caught.value.reason == "RESERVATION_EXPIRED"
    hold(store, "r2", ("ST2", "COAT", 1))  # the unit can be held again
    assert store.check() == []


def test_same_request_id_holds_once(store: Ledger) -> None:
    first = hold(store, "same", ("DC1", "JEANS", 2))
    assert hold(store, "same", ("DC1", "JEANS", 2)) == first
    assert position(store, "DC1", "JEANS").reserved == 2
    with pytest.raises(RequestIdReused):
        store.reservations.reserve(
            new_reservation_id(),
            "same",
            b"different",
            "order",
            [ReservationLine("DC1", "JEANS", 1)],
            60,
            b"",
        )


def test_stock_update_below_reserved_is_refused(store: Ledger) -> None:
    from omniroute.model import ValidationError

    hold(store, "r1", ("DC1", "JEANS", 4))
    with pytest.raises(ValidationError):
        store.stock.update([StockChange("DC1", "JEANS", set_on_hand=3)])
    assert store.check() == []


def test_put_network_carries_holds(store: Ledger, tiny_network: Network) -> None:
    """Holds on positions that still exist survive a network replace; the others are released."""
    kept = hold(store, "r1", ("DC1", "TEE", 2))
    dropped = hold(store, "r2", ("ST2", "JEANS", 1))
    without_st2_jeans = replace(
        tiny_network,
        stock=tuple(p for p in tiny_network.stock if (p.node_id, p.sku_id) != ("ST2", "JEANS")),
    )
    store.put_network(without_st2_jeans)
    assert store.reservations.get(kept).state is HELD
    assert store.reservations.get(dropped).state is RELEASED
    assert position(store, "DC1", "TEE").reserved == 2
    assert store.check() == []


def test_put_network_releases_holds_its_stock_cannot_cover(
    store: Ledger, tiny_network: Network
) -> None:
    """A network whose on-hand is below what is held keeps the oldest holds it can still
    cover and releases the rest (a commit must never take on-hand below zero)."""
    older = hold(store, "r1", ("DC1", "JEANS", 2))
    newer = hold(store, "r2", ("DC1", "JEANS", 2))
    lower = replace(
        tiny_network,
        stock=tuple(
            replace(p, on_hand=3) if (p.node_id, p.sku_id) == ("DC1", "JEANS") else p
            for p in tiny_network.stock
        ),
    )
    store.put_network(lower)
    assert store.reservations.get(older).state is HELD
    assert store.reservations.get(newer).state is RELEASED
    assert position(store, "DC1", "JEANS").reserved == 2
    store.reservations.commit(older)
    assert position(store, "DC1", "JEANS").on_hand == 1
    assert store.check() == []


def test_check_finds_drift(store: Ledger) -> None:
    """The reconciliation notices a position changed behind the ledger's back."""
    hold(store, "r1", ("DC1", "TEE", 1))
    with store.db.write() as db:
        db.execute("UPDATE stock SET reserved = 5 WHERE node_id = 'DC1' AND sku_id = 'TEE'")
    problems = store.check()
    assert any("reserved 5 but holds total 1" in p for p in problems)


# ----------------------------------------------------------------------------- state machine

POSITIONS = [("DC1", "TEE"), ("DC1", "JEANS"), ("ST1", "TEE"), ("ST1", "COAT"), ("ST2", "COAT")]


class LedgerMachine(RuleBasedStateMachine):
    """Random reserve / commit / release / expire / stock updates, checked against a model."""

    postgres = ""  # a server's URI: each run on a fresh database of it (else SQLite)

    def __init__(self) -> None:
        super().__init__()
        self.counter = 0

    @initialize()
    def open_store(self) -> None:
        from omniroute.files import read_network

        self.directory = tempfile.TemporaryDirectory()
        if self.postgres:
            self.target = pg.fresh_database(self.postgres)
            self.store = open_ledger(self.target)
        else:
            self.store = open_ledger(Path(self.directory.name) / "m.db", synchronous="OFF")
        network = read_network(Path(__file__).parents[1] / "data" / "tiny_network.json")
        self.store.put_network(network)
        self.on_hand = {(p.node_id, p.sku_id): p.on_hand for p in network.stock}
        self.safety = {(p.node_id, p.sku_id): p.safety_stock for p in network.stock}
        self.held: dict[str, list[tuple[str, str, int]]] = {}
        self.ttl_short: set[str] = set()

    def reserved(self, key: tuple[str, str]) -> int:
        return sum(q for lines in self.held.values() for n, s, q in lines if (n, s) == key)

    @rule(
        picks=st.lists(
            st.tuples(st.sampled_from(POSITIONS), st.integers(1, 4)), min_size=1, max_size=3
        ),
        short=st.booleans(),
    )
    def reserve(self, picks: list, short: bool) -> None:
        self.counter += 1
        request = f"req-{self.counter}"
        self._expire_model()
        lines = [(n, s, q) for (n, s), q in picks]
        wanted: dict[tuple[str, str], int] = {}
        for n, s, q in lines:
            wanted[(n, s)] = wanted.get((n, s), 0) + q
        fits = all(
            self.on_hand[k] - self.reserved(k) - self.safety[k] >= q for k, q in wanted.items()
        )
        try:
            rid = hold(self.store, request, *lines, ttl=0.0001 if short else 60.0)
        except Shortage:
            assert not fits
            return
        assert fits
        self.held[rid] = lines
        if short:
            self.ttl_short.add(rid)

    @rule(data=st.data())
    def commit(self, data: st.DataObject) -> None:
        if not self.held:
            return
        rid = data.draw(st.sampled_from(sorted(self.held)))
        self._expire_model()
        if rid not in self.held:
            with pytest.raises(ReservationNotHeld):
                self.store.reservations.commit(rid)
            return
        self.store.reservations.commit(rid)
        for n, s, q in self.held.pop(rid):
            self.on_hand[(n, s)] -= q

    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        if not self.held:
            return
        rid = data.draw(st.sampled_from(sorted(self.held)))
        self._expire_model()
        if rid not in self.held:
            return
        self.store.reservations.release(rid)
        del self.held[rid]

    @rule()
    def expire(self) -> None:
        time.sleep(0.001)
        self.store.reservations.expire_due()
        self._expire_model()

    @rule(key=st.sampled_from(POSITIONS), delta=st.integers(-3, 5))
    def adjust(self, key: tuple[str, str], delta: int) -> None:
        from omniroute.model import ValidationError

        self._expire_model()
        self.store.reservations.expire_due()
        new = self.on_hand[key] + delta
        try:
            self.store.stock.update([StockChange(*key, delta_on_hand=delta)])
        except ValidationError:
            assert new < 0 or new < self.reserved(key)
            return
        assert new >= 0 and new >= self.reserved(key)
        self.on_hand[key] = new

    def _expire_model(self) -> None:
        time.sleep(0.0002)
        for rid in list(self.held):
            if rid in self.ttl_short:
                del self.held[rid]

    @invariant()
    def conserved(self) -> None:
        if not hasattr(self, "store"):
            return
        self.store.reservations.expire_due()
        self._expire_model()
        assert self.store.check() == []
        for p in self.store.stock.get():
            key = (p.node_id, p.sku_id)
            assert p.on_hand == self.on_hand[key]
            assert p.reserved == self.reserved(key)
            assert p.atp >= 0

    def teardown(self) -> None:
        if hasattr(self, "store"):
            self.store.close()
            self.directory.cleanup()
            if self.postgres:
                pg.drop_database(self.target)


MACHINE_SETTINGS = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_ledger_state_machine(backend: str, request: pytest.FixtureRequest) -> None:
    """Random operations keep the ledger conserved and equal to a model, on each backend."""
    machine: Callable[[], LedgerMachine] = LedgerMachine
    if backend == "postgresql":
        uri = request.getfixturevalue("postgres_uri")
        machine = type("PostgresLedgerMachine", (LedgerMachine,), {"postgres": uri})
        # (fewer runs: each creates a database, ~0.2 s on a busy machine)
        run_state_machine_as_test(machine, settings=settings(MACHINE_SETTINGS, max_examples=25))
        return
    run_state_machine_as_test(machine, settings=MACHINE_SETTINGS)


def test_old_layout_is_refused(tmp_path: Path) -> None:
    """A file written before versioned schemas is refused with a way out, not half-read."""
    import sqlite3

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE stock (node_id TEXT, sku_id TEXT)")
    with pytest.raises(SchemaUnsupported, match="new file"):
        open_ledger(path)


def test_foreign_postgres_database_is_refused(postgres_uri: str) -> None:
    """A PostgreSQL database holding someone else's 'stock' table is not taken over."""
    import psycopg

    uri = pg.fresh_database(postgres_uri, migrated=False)
    try:
        with psycopg.connect(uri, autocommit=True) as db:
            db.execute("CREATE TABLE stock (node_id TEXT, sku_id TEXT)")
        with pytest.raises(SchemaUnsupported, match="database of its own"):
            open_ledger(uri)
    finally:
        pg.drop_database(uri)


def test_migrations_run_once(ledger_target: str, tiny_network: Network) -> None:
    """Opening a ledger again keeps its data and its schema version."""
    from omniroute.ledger import schema

    first = open_ledger(ledger_target)
    assert first.db.schema_version() == schema.LATEST
    first.put_network(tiny_network)
    first.close()
    again = open_ledger(ledger_target)
    assert again.db.migrate() == schema.LATEST
    assert again.has_network()
    again.close()
