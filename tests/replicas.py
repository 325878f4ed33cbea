"""Several ``omniroute serve`` replicas on one ledger, and waves of racing reservations
through them: the harness of ``tests/server/test_replicas.py``.

:class:`Replicas` starts the replicas together on a fresh ledger (a PostgreSQL URI or a
SQLite file; their migrations race as they would in a deployment), keeps each one's output
in its own log file and prints the logs when the block fails. :func:`run_wave` (a fixed list
of orders) and :func:`run_load` (new orders until told to stop, while a test kills a replica
or restarts the database) reserve from many client threads at once, each call retried with
the same request id the way a client behind a load balancer would (another replica when one
is gone, the same one when it is busy), and record every attempt's outcome;
:func:`repeat_wave` sends every request id again through another replica.
:func:`ledger_holds` reads what the database itself holds.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType

import grpc
from grpc_health.v1 import health_pb2

from omniroute.ledger import open_ledger
from omniroute.ledger.positions import positions
from omniroute.model import Location, Network, Order, OrderLine, Sku, StockPosition
from omniroute.server.client import OmnirouteClient
from omniroute.server.launch import serve_command, stop
from omniroute.server.process import ServeRefused, check_port_free, free_port
from omniroute.v1 import plan_pb2

Position = tuple[str, str]  # (node id, SKU id)
ROUTING = "omniroute.v1.RoutingService"
# Scarce stock: three SKUs, 20-30 units each, spread over the three nodes that ship them.
SCARCE: dict[str, dict[str, int]] = {
    "S1": {"DC1": 8, "ST1": 6, "ST2": 6},
    "S2": {"DC1": 10, "ST1": 5, "ST2": 5},
    "S3": {"DC1": 12, "ST1": 8, "ST2": 10},
}
MELBOURNE = Location(-37.85, 145.0)


def scarce_network(base: Network, scale: int = 1) -> Network:
    """``base`` with the :data:`SCARCE` SKUs added, their units times ``scale``."""
    stock = tuple(base.stock) + tuple(
        StockPosition(node, sku, units * scale)
        for sku, at in SCARCE.items()
        for node, units in at.items()
    )
    skus = base.skus + tuple(Sku(sku, 0.3) for sku in SCARCE)
    return replace(base, skus=skus, stock=stock)


def scarce_order(order_id: str, rng: random.Random) -> Order:
    """An order of one or two :data:`SCARCE` SKUs, one or two units each."""
    skus = rng.sample(sorted(SCARCE), rng.choice((1, 1, 2)))
    lines = tuple(OrderLine(str(n + 1), sku, rng.choice((1, 1, 2))) for n, sku in enumerate(skus))
    return Order(order_id, lines, destination=MELBOURNE)


def scarce_orders(count: int, prefix: str, seed: int = 13) -> list[Order]:
    """``count`` orders of :func:`scarce_order`, ids ``PREFIX-0`` ..."""
    rng = random.Random(seed)
    return [scarce_order(f"{prefix}-{i}", rng) for i in range(count)]


PORT_ATTEMPTS = 3  # free ports tried when another process takes the chosen one first


class ReplicaExited(RuntimeError):
    """A replica exited while it was expected to serve."""


def port_free(port: int) -> bool:
    """Whether nothing listens on ``port`` (of 127.0.0.1)."""
    try:
        check_port_free("127.0.0.1", port, "gRPC")
    except ServeRefused:
        return False
    return True


@dataclass
class Replica:
    """One ``omniroute serve`` process of :class:`Replicas`."""

    index: int
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def target(self) -> str:
        return f"localhost:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None


class Replicas:
    """``count`` ``omniroute serve --db DB --workers 1 ARGS`` processes on one ledger.

    All start at once on the ledger at ``db`` (a SQLite file or a PostgreSQL URI); the block
    is entered when every one reports SERVING. :meth:`put_network` puts a network through
    the first and waits until every replica serves it. Leaving the block stops the replicas
    (SIGTERM); when the block raised, their logs are printed (pytest shows them).
    """

    def __init__(
        self,
        db: str,
        folder: Path,
        count: int = 3,
        *args: str,
        ready_timeout: float = 60.0,
        other_logs: Sequence[Path] = (),
    ) -> None:
        self.db = db
        self.other_logs = other_logs  # printed (their ends) with the replicas' logs
        self.folder = folder
        self.count = count
        self.args = args
        self.ready_timeout = ready_timeout
        self.replicas: list[Replica] = []
        self.clients: list[OmnirouteClient] = []

    def __enter__(self) -> Replicas:
        try:
            self.replicas = [self._launch(index) for index in range(self.count)]
            for index in range(self.count):
                for attempt in range(PORT_ATTEMPTS):
                    try:
                        self.wait_until_serving(index, self.ready_timeout)
                        break
                    except ReplicaExited:
                        replica = self.replicas[index]
                        if attempt + 1 == PORT_ATTEMPTS or port_free(replica.port):
                            raise
                        # Another process took the free port first: another port.
                        self.replicas[index] = self._launch(index)
            self.clients = [OmnirouteClient(r.target, timeout=10, retries=0) for r in self]
        except BaseException:
            self.__exit__(None, None, None)
            print(self.logs())
            raise
        return self

    def _launch(self, index: int) -> Replica:
        log = self.folder / f"replica-{index}.log"
        port = free_port()
        command = serve_command(port, "--db", self.db, "--workers", "1", "--grace", "3", *self.args)
        with log.open("ab") as output:
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        return Replica(index, port, process, log)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for client in self.clients:
            client.close()
        statuses = [stop(r.process, grace=10) for r in self]
        if kind is not None:
            print(f"replica exit statuses: {statuses}")
            print(self.logs())

    def __iter__(self) -> Iterator[Replica]:
        return iter(self.replicas)

    def __getitem__(self, index: int) -> Replica:
        return self.replicas[index]

    def logs(self) -> str:
        """Every replica's output, one after the other."""
        parts = []
        for r in self.replicas:
            text = r.log.read_text(errors="replace") if r.log.exists() else "(no log)"
            parts.append(f"----- replica {r.index} (port {r.port}, {r.log}) -----\n{text}")
        for path in self.other_logs:
            text = path.read_text(errors="replace")[-4000:] if path.exists() else "(no log)"
            parts.append(f"----- the end of {path} -----\n{text}")
        return "\n".join(parts)

    def health(self, index: int, service: str = "", timeout: float = 2.0) -> int:
        """The health status replica ``index`` reports for ``service`` ('' = the server)."""
        request = health_pb2.HealthCheckRequest(service=service)
        return self.clients[index].health.Check(request, timeout=timeout).status

    def wait_until_serving(
        self, index: int, timeout: float, service: str = "", status: int | None = None
    ) -> None:
        """Wait until replica ``index`` reports ``status`` (default SERVING) for ``service``."""
        wanted = health_pb2.HealthCheckResponse.SERVING if status is None else status
        replica = self.replicas[index]
        deadline = time.monotonic() + timeout
        with OmnirouteClient(replica.target, retries=0) as client:
            while True:
                if not replica.alive():
                    raise ReplicaExited(
                        f"replica {index} exited with status {replica.process.returncode}"
                    )
                try:
                    request = health_pb2.HealthCheckRequest(service=service)
                    if client.health.Check(request, timeout=1.0).status == wanted:
                        return
                except grpc.RpcError:
                    pass
                if time.monotonic() > deadline:
                    name = health_pb2.HealthCheckResponse.ServingStatus.Name(wanted)
                    raise TimeoutError(
                        f"replica {index} did not report {name} for {service or 'the server'!r} "
                        f"within {timeout:g} s"
                    )
                time.sleep(0.05)

    def put_network(self, network: Network, timeout: float = 10.0) -> None:
        """PutNetwork through replica 0; wait until every replica plans on it."""
        self.clients[0].put_network(network)
        for replica in self:
            self.wait_until_serving(replica.index, timeout, ROUTING)

    def kill(self, index: int) -> None:
        """SIGKILL replica ``index`` and reap it."""
        self.replicas[index].process.kill()
        self.replicas[index].process.wait(10)


# ----------------------------------------------------------------------------- waves


@dataclass
class Outcome:
    """How one order's reservation ended, and every failed attempt on the way."""

    order: Order
    request_id: str
    reservation_id: str = ""  # '' = answered without a hold (no stock), or never answered
    lines: dict[Position, int] = field(default_factory=dict)
    answered_by: int = -1  # the replica that answered (-1: none did)
    failures: list[tuple[int, grpc.StatusCode, str]] = field(default_factory=list)
    acknowledged_at: float = 0.0  # time.monotonic() of the answer

    @property
    def answered(self) -> bool:
        return self.answered_by >= 0


# The answers of a busy but healthy replica, retried on the same replica after a backoff:
# the stock changed while planning (ABORTED, reason STOCK_CHANGED), the process is
# overloaded (RESOURCE_EXHAUSTED, reason OVERLOADED; likely on 2 shared cores).
BUSY = frozenset({grpc.StatusCode.ABORTED, grpc.StatusCode.RESOURCE_EXHAUSTED})
# Codes after which the client sends the same request id again: BUSY, the replica or its
# database is gone (UNAVAILABLE), the call outlived its deadline (DEADLINE_EXCEEDED, e.g. a
# connection to a killed process that hung); the last two move on to the next replica.
RETRIED = BUSY | {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


def reserve_with_retries(
    clients: Sequence[OmnirouteClient], outcome: Outcome, first: int, give_up: float
) -> Outcome:
    """Reserve ``outcome.order`` with ``outcome.request_id``, starting at replica ``first``.

    UNAVAILABLE and DEADLINE_EXCEEDED move on to the next replica; :data:`BUSY` codes try
    the same one again; every attempt repeats the request id. Gives up (leaving the outcome
    unanswered) on any other code or at ``give_up`` (time.monotonic()).
    """
    target = first
    attempt = 0
    while time.monotonic() < give_up:
        client = clients[target]
        request = OmnirouteClient.plan_request(outcome.order)
        request.reserve = True
        request.request_id = outcome.request_id
        try:
            response = client.routing.PlanOrder(request, timeout=10)
        except grpc.RpcError as error:
            code = error.code()
            outcome.failures.append((target, code, error.details() or ""))
            if code not in RETRIED:
                return outcome
            if code not in BUSY:
                target = (target + 1) % len(clients)
            attempt += 1
            time.sleep(min(0.5, 0.02 * attempt))
            continue
        outcome.reservation_id = response.reservation_id
        outcome.lines = held_by_plan(response)
        outcome.answered_by = target
        outcome.acknowledged_at = time.monotonic()
        return outcome
    return outcome


def held_by_plan(response: plan_pb2.PlanOrderResponse) -> dict[Position, int]:
    """Units per position in a PlanOrder answer's shipments (what a hold holds)."""
    held: Counter[Position] = Counter()
    for shipment in response.plan.shipments:
        for line in shipment.lines:
            held[(shipment.node_id, line.sku_id)] += line.quantity
    return dict(held)


@dataclass
class Wave:
    """The outcomes of :func:`run_wave`, by request id."""

    outcomes: dict[str, Outcome]

    def acknowledged(self) -> dict[str, Outcome]:
        """Outcomes answered with a hold, by reservation id."""
        return {o.reservation_id: o for o in self.outcomes.values() if o.reservation_id}

    def held(self) -> Counter[Position]:
        """Units per position held by the acknowledged reservations."""
        total: Counter[Position] = Counter()
        for outcome in self.acknowledged().values():
            total.update(outcome.lines)
        return total

    def failure_codes(self) -> Counter[grpc.StatusCode]:
        return Counter(code for o in self.outcomes.values() for _, code, _ in o.failures)

    def failures_at(self, replica: int) -> Counter[grpc.StatusCode]:
        return Counter(
            code for o in self.outcomes.values() for r, code, _ in o.failures if r == replica
        )

    def unanswered(self) -> list[Outcome]:
        return [o for o in self.outcomes.values() if not o.answered]

    def describe(self) -> str:
        """A summary for assertion messages: counts, and each kind of failure once."""
        answered = sum(o.answered for o in self.outcomes.values())
        kinds: dict[tuple[int, grpc.StatusCode, str], str] = {}
        for o in self.outcomes.values():
            for replica, code, details in o.failures:
                kinds.setdefault((replica, code, details[:160]), o.request_id)
        return (
            f"{len(self.outcomes)} orders, {answered} answered, {len(self.acknowledged())} "
            f"held; failed attempts {dict(self.failure_codes())}; kinds of failure (replica, "
            "code, details, first request id): "
            + "; ".join(f"{r} {c.name} {d!r} {rid}" for (r, c, d), rid in list(kinds.items())[:12])
        )


class Progress:
    """Counts answers (pass it as ``on_answer``) so that a test can wait for the n-th."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = threading.Condition()

    def __call__(self, _: Outcome) -> None:
        with self._changed:
            self.count += 1
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        """Block until ``count`` answers in all (TimeoutError after ``timeout`` seconds)."""
        with self._changed:
            if not self._changed.wait_for(lambda: self.count >= count, timeout):
                raise TimeoutError(f"{self.count} answers after {timeout:g} s, not {count}")


def run_wave(
    clients: Sequence[OmnirouteClient],
    orders: Sequence[Order],
    threads: int = 12,
    give_up: float = 30.0,
    on_answer: Callable[[Outcome], None] | None = None,
) -> Wave:
    """Reserve ``orders`` from ``threads`` client threads at once, order ``i`` first through
    replica ``i % len(clients)`` with request id ``req-<order id>``; ``on_answer`` is called
    (from the client thread) after each answer."""
    deadline = time.monotonic() + give_up
    outcomes = {f"req-{o.id}": Outcome(o, f"req-{o.id}") for o in orders}

    def one(i: int, outcome: Outcome) -> None:
        reserve_with_retries(clients, outcome, i % len(clients), deadline)
        if on_answer is not None and outcome.answered:
            on_answer(outcome)

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(one, i, o) for i, o in enumerate(outcomes.values())]:
            future.result()  # a bug in the harness fails the test here
    return Wave(outcomes)


def repeat_wave(
    clients: Sequence[OmnirouteClient], wave: Wave, live: Sequence[int], threads: int = 6
) -> Wave:
    """Send every order of ``wave`` again with its request id, each through the first replica
    of ``live`` after the one that answered it (a client that lost the answer and retries
    elsewhere); a new :class:`Wave` of the answers."""
    order = sorted(live)
    outcomes = {rid: Outcome(o.order, rid) for rid, o in wave.outcomes.items()}
    deadline = time.monotonic() + 30.0

    def one(request_id: str) -> None:
        answered_by = wave.outcomes[request_id].answered_by
        after = [i for i in order if i > answered_by] + [i for i in order if i <= answered_by]
        outcome = outcomes[request_id]
        reserve_with_retries([clients[i] for i in after], outcome, 0, deadline)
        # Indices into ``after`` -> the replicas' own indices.
        if outcome.answered:
            outcome.answered_by = after[outcome.answered_by]
        outcome.failures = [(after[i], code, details) for i, code, details in outcome.failures]

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(one, rid) for rid in outcomes]:
            future.result()
    return Wave(outcomes)


def run_load(
    clients: Sequence[OmnirouteClient],
    stop: threading.Event,
    threads: int = 12,
    prefix: str = "load",
    give_up: float = 60.0,
    on_answer: Callable[[Outcome], None] | None = None,
) -> Wave:
    """Reserve new orders (:func:`scarce_order`, ids ``PREFIX-THREAD-N``) from ``threads``
    client threads until ``stop`` is set; an order started is retried until answered (or
    ``give_up`` seconds from now), so that every hold the ledger made is acknowledged."""
    deadline = time.monotonic() + give_up
    outcomes: dict[str, Outcome] = {}
    lock = threading.Lock()

    def worker(thread: int) -> None:
        rng = random.Random(f"{prefix}-{thread}")
        n = 0
        while not stop.is_set() and time.monotonic() < deadline:
            order = scarce_order(f"{prefix}-{thread}-{n}", rng)
            outcome = Outcome(order, f"req-{order.id}")
            with lock:
                outcomes[outcome.request_id] = outcome
            reserve_with_retries(clients, outcome, (thread + n) % len(clients), deadline)
            if on_answer is not None and outcome.answered:
                on_answer(outcome)
            n += 1

    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(worker, t) for t in range(threads)]:
            future.result()
    return Wave(outcomes)


# ----------------------------------------------------------------------------- the database


@dataclass(frozen=True)
class LedgerHolds:
    """What the database holds: HELD reservations, request ids, positions."""

    held: dict[str, dict[Position, int]]  # HELD reservation id -> units per position
    request_of: dict[str, str]  # reservation id (any state) -> its request id
    positions: dict[Position, StockPosition]
    problems: list[str]

    def reserved(self) -> Counter[Position]:
        return Counter({p: s.reserved for p, s in self.positions.items() if s.reserved})


def ledger_holds(db: str) -> LedgerHolds:
    """Read the ledger at ``db`` directly (not through a replica)."""
    store = open_ledger(db)
    try:
        with store.db.read() as tx:
            held: dict[str, dict[Position, int]] = {}
            for reservation_id, node_id, sku_id, quantity in tx.execute(
                "SELECT l.reservation_id, l.node_id, l.sku_id, l.quantity "
                "FROM reservation_lines l JOIN reservations r ON r.id = l.reservation_id "
                "WHERE r.state = ?",
                ("HELD",),
            ):
                lines = held.setdefault(reservation_id, {})
                lines[(node_id, sku_id)] = lines.get((node_id, sku_id), 0) + quantity
            request_of = {
                reservation_id: request_id
                for reservation_id, request_id in tx.execute(
                    "SELECT id, request_id FROM reservations"
                )
            }
            stock = {(p.node_id, p.sku_id): p for p in positions(tx)}
        return LedgerHolds(held, request_of, stock, store.check())
    finally:
        store.close()
