"""Three ``omniroute serve`` replicas on one ledger database, as in a deployment on several
hosts (on PostgreSQL; the first two tests also on a SQLite file the replicas share):

* clients racing for scarce stock through all three hold exactly the stock there is;
* a replica SIGKILLed mid-load loses no acknowledged reservation, and the retries of its
  calls with the same request ids through another replica converge to the same holds;
* PostgreSQL stopped and started mid-load: calls fail UNAVAILABLE, never INTERNAL, health
  says NOT_SERVING meanwhile, the replicas reconnect by themselves, nothing acknowledged is
  lost and retries converge.

After each, the database holds exactly the acknowledged reservations and WatchEvents from
cursor 0 shows each of them once. Real processes, real gRPC, a real PostgreSQL (tests/pg.py);
the harness is ``tests/replicas.py``. A failing test prints every replica's log.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pg
import pytest
from grpc_health.v1 import health_pb2
from replicas import (
    BUSY,
    SCARCE,
    Progress,
    Replicas,
    Wave,
    ledger_holds,
    repeat_wave,
    run_load,
    run_wave,
    scarce_network,
    scarce_orders,
)

from omniroute.model import Network
from omniroute.v1 import inventory_service_pb2 as inv

BAD = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture(params=["postgresql", "sqlite"])
def ledger_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty ledger database, no schema yet (the replicas, starting together, migrate
    it): on PostgreSQL (dropped after), and as a SQLite file the replicas share on this host."""
    if request.param == "sqlite":
        yield str(tmp_path / "replicas.db")
        return
    uri = pg.fresh_database(request.getfixturevalue("postgres_uri"), migrated=False)
    yield uri
    pg.drop_database(uri)


def check_ledger_matches(db: str, wave: Wave, replicas: Replicas) -> None:
    """The database holds exactly the acknowledged reservations, with their lines; every
    replica's GetStock agrees with it; no position is over-reserved; the ledger reconciles."""
    acknowledged = wave.acknowledged()
    stored = ledger_holds(db)
    assert stored.problems == []
    assert set(stored.held) == set(acknowledged), (
        f"held but never acknowledged: {sorted(set(stored.held) - set(acknowledged))}; "
        f"acknowledged but not held: {sorted(set(acknowledged) - set(stored.held))}"
    )
    for reservation_id, outcome in acknowledged.items():
        assert stored.held[reservation_id] == outcome.lines, outcome.request_id
        assert stored.request_of[reservation_id] == outcome.request_id
    # One reservation per request id: no retry held twice.
    assert len(set(stored.request_of.values())) == len(stored.request_of)
    assert stored.reserved() == wave.held()
    for position in stored.positions.values():
        assert 0 <= position.reserved <= position.on_hand - position.safety_stock, position
    for replica in replicas:
        if not replica.alive():
            continue
        seen = replicas.clients[replica.index].get_stock(sku_ids=sorted(SCARCE)).positions
        assert {(p.node_id, p.sku_id): p.reserved for p in seen if p.reserved} == dict(
            wave.held()
        ), f"replica {replica.index}"
        assert all(p.atp >= 0 for p in seen)


def check_events(wave: Wave, replicas: Replicas, index: int) -> None:
    """WatchEvents from cursor 0 (through replica ``index``) shows every acknowledged
    reservation exactly once, with its order and request id, and no other hold."""
    request = inv.WatchEventsRequest(
        after_cursor=0, types=[inv.Event.RESERVATION_HELD], stop_at_end=True
    )
    events = list(replicas.clients[index].inventory.WatchEvents(request, timeout=30))
    acknowledged = wave.acknowledged()
    held = Counter(e.reservation_id for e in events)
    assert set(held) == set(acknowledged) and set(held.values()) == {1}, (
        f"{len(events)} events for {len(acknowledged)} acknowledged holds; repeated: "
        f"{[r for r, n in held.items() if n > 1][:5]}, not acknowledged: "
        f"{sorted(set(held) - set(acknowledged))[:5]}, missing: "
        f"{sorted(set(acknowledged) - set(held))[:5]}"
    )
    for event in events:
        outcome = acknowledged[event.reservation_id]
        assert (event.order_id, event.request_id) == (outcome.order.id, outcome.request_id)


def check_converges(db: str, wave: Wave, replicas: Replicas, live: list[int]) -> None:
    """Every request id of ``wave`` sent again through another live replica gets the answer
    the first replica gave (the same reservation id and lines, or again no hold), and the
    ledger still holds exactly the acknowledged reservations."""
    again = repeat_wave(replicas.clients, wave, live)
    assert set(again.failure_codes()) <= BUSY and not again.unanswered(), again.describe()
    for request_id, outcome in wave.outcomes.items():
        repeated = again.outcomes[request_id]
        assert (repeated.reservation_id, repeated.lines) == (
            outcome.reservation_id,
            outcome.lines,
        ), request_id
    check_ledger_matches(db, wave, replicas)


def test_racing_replicas_hold_exactly_the_stock_there_is(
    tmp_path: Path, tiny_network: Network, ledger_db: str
) -> None:
    """12 clients race 150 orders (about 3x the stock) through three replicas: the holds
    acknowledged are exactly what the database and every replica's GetStock show, no
    position is over-reserved, and the stock runs out (nearly) completely."""
    supply = sum(sum(at.values()) for at in SCARCE.values())
    orders = scarce_orders(150, "race")
    demand = sum(line.quantity for o in orders for line in o.lines)
    assert demand > 2.5 * supply
    with Replicas(ledger_db, tmp_path) as replicas:
        replicas.put_network(scarce_network(tiny_network))
        wave = run_wave(replicas.clients, orders, threads=12)
        print(wave.describe())
        codes = wave.failure_codes()
        assert not wave.unanswered() and not (set(codes) & BAD), wave.describe()
        assert set(codes) <= BUSY, wave.describe()
        check_ledger_matches(ledger_db, wave, replicas)
        check_events(wave, replicas, 2)
        held = sum(wave.held().values())
        # Scarce: most orders got nothing, and what is left is too little to plan on.
        assert supply - 6 <= held <= supply, wave.describe()
        assert sum(1 for o in wave.outcomes.values() if not o.reservation_id) > 50
        # Every replica answered some of the holds.
        assert {o.answered_by for o in wave.acknowledged().values()} == {0, 1, 2}


def test_sigkill_of_a_replica_loses_nothing_acknowledged(
    tmp_path: Path, tiny_network: Network, ledger_db: str
) -> None:
    """SIGKILL one of three replicas mid-load: every reservation acknowledged by any replica
    is held afterwards; the killed replica's calls fail UNAVAILABLE and their retries with
    the same request ids through another replica converge (the answers the killed replica
    gave come back with the same reservation ids; nothing is held twice)."""
    victim = 1
    with Replicas(ledger_db, tmp_path) as replicas, ThreadPoolExecutor(1) as background:
        replicas.put_network(scarce_network(tiny_network, scale=100))  # deep: every order holds
        progress, stop = Progress(), threading.Event()
        load = background.submit(run_load, replicas.clients, stop, 12, "kill", 40.0, progress)
        try:
            progress.wait_for(30)
            replicas.kill(victim)
            progress.wait_for(progress.count + 30)  # the survivors carry on
        finally:
            stop.set()
        wave = load.result()
        print(wave.describe())
        codes = wave.failure_codes()
        assert not wave.unanswered() and not (set(codes) & BAD), wave.describe()
        assert all(o.reservation_id for o in wave.outcomes.values()), wave.describe()
        # The victim failed the calls sent to it after the kill with UNAVAILABLE; the others
        # failed nothing but the answers of a busy server (stock changed, overloaded).
        assert wave.failures_at(victim)[grpc.StatusCode.UNAVAILABLE] > 0, wave.describe()
        assert set(wave.failures_at(victim)) <= BUSY | {UNAVAILABLE}, wave.describe()
        for survivor in {0, 1, 2} - {victim}:
            assert set(wave.failures_at(survivor)) <= BUSY, wave.describe()
        by_victim = [o for o in wave.acknowledged().values() if o.answered_by == victim]
        assert len(by_victim) >= 5, wave.describe()
        check_ledger_matches(ledger_db, wave, replicas)
        check_converges(ledger_db, wave, replicas, live=[0, 2])
        check_events(wave, replicas, 2)


def test_postgres_restart_mid_load_loses_nothing_acknowledged(
    tmp_path: Path, tiny_network: Network, postgres_server: pg.Server
) -> None:
    """PostgreSQL stops (as a crash) and starts again under load through three replicas:
    calls in flight fail UNAVAILABLE (never INTERNAL), health reports NOT_SERVING while the
    database is down and SERVING once the replicas have reconnected by themselves, every
    acknowledged reservation is held, and retries with the same request ids converge."""
    uri = pg.fresh_database(postgres_server.uri, migrated=False)
    try:
        with (
            Replicas(uri, tmp_path, other_logs=[postgres_server.log]) as replicas,
            ThreadPoolExecutor(1) as background,
        ):
            replicas.put_network(scarce_network(tiny_network, scale=100))
            progress, stop = Progress(), threading.Event()
            load = background.submit(
                run_load, replicas.clients, stop, 12, "restart", 45.0, progress
            )
            try:
                progress.wait_for(30)
                postgres_server.stop("immediate")
                for replica in replicas:
                    replicas.wait_until_serving(replica.index, 10, status=NOT_SERVING)
                postgres_server.start()
                for replica in replicas:
                    replicas.wait_until_serving(replica.index, 15)
                progress.wait_for(progress.count + 30)  # the load goes on after the restart
            finally:
                stop.set()
                if not postgres_server.running():  # the session's server: leave it up
                    postgres_server.start()
            wave = load.result()
            print(wave.describe())
            codes = wave.failure_codes()
            assert not wave.unanswered() and not (set(codes) & BAD), wave.describe()
            assert all(o.reservation_id for o in wave.outcomes.values()), wave.describe()
            assert codes[UNAVAILABLE] > 0 and set(codes) <= BUSY | {UNAVAILABLE}, wave.describe()
            check_ledger_matches(uri, wave, replicas)
            check_converges(uri, wave, replicas, live=[0, 1, 2])
            check_events(wave, replicas, 1)
    finally:
        pg.drop_database(uri)
