"""What the PostgreSQL backend adds to the ledger's guarantees: replicas (separate
``PostgresDatabase`` instances, each with its own pool) racing for scarce stock never oversell
or deadlock, change tokens move within a second, migrations are safe when replicas start
together, and a restart of the server fails calls with ``DatabaseUnavailable``, after which
the replica reconnects by itself. Runs against a real server (tests/pg.py)."""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pg
import psycopg
import pytest

from omniroute.ledger import (
    DatabaseUnavailable,
    Ledger,
    ReservationLine,
    Shortage,
    new_reservation_id,
    open_ledger,
    schema,
)
from omniroute.ledger.bulk import ImportMode
from omniroute.ledger.postgres import PostgresDatabase, translate
from omniroute.model import Network, StockChange, StockPosition


def test_placeholders_are_translated_outside_quotes() -> None:
    assert translate("SELECT a FROM t WHERE b = ? AND c > ?") == (
        "SELECT a FROM t WHERE b = %s AND c > %s"
    )
    assert (
        translate("SELECT '?%' || ? WHERE x LIKE 'a%'") == "SELECT '?%%' || %s WHERE x LIKE 'a%%'"
    )
    assert translate('SELECT "we?ird" FROM t') == 'SELECT "we?ird" FROM t'


def test_any_other_url_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="postgresql://"):
        open_ledger("mysql://root@localhost/db")


@pytest.fixture()
def scarce(postgres_db: str, tiny_network: Network) -> Iterator[tuple[str, dict]]:
    """The tiny network with 12 units of two positions and nothing else to hold."""
    stock = {("DC1", "TEE"): 12, ("ST1", "COAT"): 12}
    positions = tuple(
        StockPosition(n, s, stock.get((n, s), 0), 0, 0)
        for n, s in {(p.node_id, p.sku_id) for p in tiny_network.stock}
    )
    ledger = open_ledger(postgres_db)
    ledger.put_network(replace(tiny_network, stock=positions))
    ledger.close()
    yield postgres_db, stock


def _reserve(ledger: Ledger, request_id: str, lines: list[tuple[str, str, int]]) -> str:
    reservation_id = new_reservation_id()
    return ledger.reservations.reserve(
        reservation_id,
        request_id,
        request_id.encode(),
        "order-" + request_id,
        [ReservationLine(*line) for line in lines],
        60.0,
        reservation_id.encode(),
    ).decode()


def test_racing_replicas_never_oversell_or_deadlock(scarce: tuple[str, dict]) -> None:
    """Three replicas, 12 threads, 96 requests for 1-2 units of both scarce positions, the
    lines in either order (opposite lock orders would deadlock without the writers' lock):
    what is held never exceeds the stock, every acknowledged hold is in the ledger, every
    refusal is a Shortage, and the ledger reconciles."""
    uri, stock = scarce
    replicas = [open_ledger(uri) for _ in range(3)]
    held: dict[str, list[tuple[str, str, int]]] = {}
    failures: list[BaseException] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        rng = random.Random(number)
        for i in range(8):
            lines = [("DC1", "TEE", rng.randint(1, 2)), ("ST1", "COAT", rng.randint(1, 2))]
            if rng.random() < 0.5:
                lines.reverse()
            request_id = f"c{number}-{i}"
            try:
                reservation_id = _reserve(replicas[number % 3], request_id, lines)
            except Shortage:
                continue
            except BaseException as error:  # noqa: BLE001 - reported below
                failures.append(error)
                return
            with lock:
                held[reservation_id] = lines

    threads = [threading.Thread(target=client, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    assert held, "no reservation went through"
    left = []
    for key, units in stock.items():
        wanted = sum(q for lines in held.values() for n, s, q in lines if (n, s) == key)
        position = replicas[0].stock.get([key[1]], [key[0]])[0]
        assert position.reserved == wanted <= units
        left.append(units - wanted)
    assert min(left) < 2  # demand (192 units) far exceeds stock: one position is used up
    for reservation_id in held:
        assert replicas[1].reservations.get(reservation_id).state.value == "HELD"
    assert replicas[2].check() == []
    for replica in replicas:
        replica.close()


def test_same_request_id_on_two_replicas_holds_once(scarce: tuple[str, dict]) -> None:
    """The same request racing through two replicas holds once; both get the same answer."""
    uri, _ = scarce
    a, b = open_ledger(uri), open_ledger(uri)
    answers: list[str] = []
    threads = [
        threading.Thread(
            target=lambda r=r: answers.append(_reserve(r, "same", [("DC1", "TEE", 3)]))
        )
        for r in (a, b, a, b)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 4 and len(set(answers)) == 1
    assert a.stock.get(["TEE"], ["DC1"])[0].reserved == 3
    a.close()
    b.close()


def _wait_for_new_token(database: PostgresDatabase, before: int, limit: float) -> float:
    start = time.monotonic()
    while database.change_token() == before:
        assert time.monotonic() - start < limit, "no change seen"
        time.sleep(0.01)
    return time.monotonic() - start


def test_other_replicas_hear_of_changes_within_a_second(scarce: tuple[str, dict]) -> None:
    """A stock update through one replica changes the other's token within a second
    (NOTIFY), and a change written without NOTIFY is still noticed (the fallback check)."""
    uri, _ = scarce
    a, b = open_ledger(uri), open_ledger(uri)
    assert isinstance(b.db, PostgresDatabase)
    time.sleep(0.3)  # the listener is connected
    before = b.change_token()
    a.stock.update([StockChange("DC1", "TEE", set_on_hand=30)])
    assert _wait_for_new_token(b.db, before, 1.0) < 1.0
    assert b.stock.get(["TEE"], ["DC1"])[0].on_hand == 30
    time.sleep(0.2)
    before = b.change_token()
    with psycopg.connect(uri, autocommit=True) as raw:  # no NOTIFY: only the fallback sees it
        raw.execute("INSERT INTO stock_changes (node_id, sku_id) VALUES ('DC1', 'TEE')")
    _wait_for_new_token(b.db, before, 3.0)
    a.close()
    b.close()


def test_bulk_import_on_postgres(scarce: tuple[str, dict]) -> None:
    """The bulk import's temporary tables live on one connection across its transactions."""
    from omniroute.ledger.bulk import Problems

    uri, _ = scarce
    ledger = open_ledger(uri)
    _reserve(ledger, "r", [("DC1", "TEE", 2)])
    with ledger.stock.importer(ImportMode.DELTA) as importer:
        importer.stage([(1, "DC1", "TEE", None, 5, None), (2, "ST2", "COAT", 4, None, None)])
        summary = importer.apply(Problems(), "stock file")
    assert (summary.changed, summary.on_hand_delta) == (2, 5 + 4 - 0)
    assert ledger.stock.get(["TEE"], ["DC1"])[0].on_hand == 17
    assert ledger.check() == []
    ledger.close()


def _open(uri: str, queue: multiprocessing.Queue) -> None:
    ledger = open_ledger(uri)
    queue.put(ledger.db.schema_version())
    ledger.close()


def test_replicas_starting_together_migrate_once(postgres_uri: str) -> None:
    """Three processes opening an empty database at once all end on the latest schema."""
    uri = pg.fresh_database(postgres_uri, migrated=False)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_open, args=(uri, queue)) for _ in range(3)]
    for process in processes:
        process.start()
    versions = [queue.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    assert versions == [schema.LATEST] * 3
    pg.drop_database(uri)


def test_restart_fails_calls_unavailable_then_reconnects(
    postgres_server: pg.Server, tiny_network: Network
) -> None:
    """While the server is down every call raises DatabaseUnavailable (not a driver error);
    once it is back the same ledger object works again, and what was committed survived."""
    uri = pg.fresh_database(postgres_server.uri)
    ledger = open_ledger(uri)
    ledger.put_network(tiny_network)
    reservation_id = _reserve(ledger, "before", [("DC1", "TEE", 1)])
    assert isinstance(ledger.db, PostgresDatabase)
    postgres_server.stop("immediate")
    try:
        with pytest.raises(DatabaseUnavailable, match="unavailable"):
            _reserve(ledger, "during", [("DC1", "TEE", 1)])
        with pytest.raises(DatabaseUnavailable):
            ledger.stock.get()
        assert not ledger.db.reachable(timeout=1.0)
    finally:
        postgres_server.start()
    assert ledger.db.reachable()
    assert ledger.reservations.get(reservation_id).state.value == "HELD"
    again = _reserve(ledger, "during", [("DC1", "TEE", 1)])  # the retry goes through
    assert ledger.reservations.get(again).lines == (ReservationLine("DC1", "TEE", 1),)
    assert ledger.check() == []
    ledger.close()
    pg.drop_database(uri)


def test_restart_mid_load_loses_nothing_and_retries_converge(
    postgres_server: pg.Server, tiny_network: Network
) -> None:
    """Six threads on two replicas reserve one unit per request, retrying a request with the
    same id after DatabaseUnavailable; PostgreSQL restarts (crash-like) mid-load. Every
    request ends with one answer, the same from every replica afterwards; each acknowledged
    reservation is held with its line, and the stock reconciles."""
    uri = pg.fresh_database(postgres_server.uri)
    first = open_ledger(uri)
    plenty = tuple(
        replace(p, on_hand=1000) if (p.node_id, p.sku_id) == ("DC1", "TEE") else p
        for p in tiny_network.stock
    )
    first.put_network(replace(tiny_network, stock=plenty))
    replicas = [first, open_ledger(uri)]
    acknowledged: dict[str, str] = {}
    unavailable = []
    lock = threading.Lock()
    stop = time.monotonic() + 60

    def client(number: int) -> None:
        for i in range(25):
            request_id = f"t{number}-{i}"
            while True:
                try:
                    answer = _reserve(replicas[number % 2], request_id, [("DC1", "TEE", 1)])
                    break
                except Shortage:
                    return
                except DatabaseUnavailable:
                    with lock:
                        unavailable.append(request_id)
                    assert time.monotonic() < stop
                    time.sleep(0.05)
            with lock:
                acknowledged[request_id] = answer

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    while len(acknowledged) < 20:
        time.sleep(0.01)
    postgres_server.restart("immediate", down=0.5)
    for thread in threads:
        thread.join(90)
    assert unavailable, "the restart did not interrupt any call"
    assert len(acknowledged) == 150
    for request_id, reservation_id in acknowledged.items():
        for replica in replicas:  # a retry anywhere returns the stored answer
            assert _reserve(replica, request_id, [("DC1", "TEE", 1)]) == reservation_id
        assert first.reservations.get(reservation_id).lines == (ReservationLine("DC1", "TEE", 1),)
    assert first.stock.get(["TEE"], ["DC1"])[0].reserved == 150
    assert first.check() == []
    for replica in replicas:
        replica.close()
    pg.drop_database(uri)
