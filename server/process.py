"""The gRPC server: services, health checking, reflection, limits, graceful shutdown, and
the process model.

Python runs one thread of Python at a time, so one process uses about one core. ``serve``
therefore starts ``--workers`` processes (default: one per core), each a complete grpc.aio
server bound to the same port with ``SO_REUSEPORT`` (the kernel spreads connections over
them) and its own connection to the shared ledger. The kernel balances connections, not
calls, so a client with one channel reaches one worker: with ``--dispatch on`` (the default)
a worker busier than a peer has part of its PlanOrder calls planned by that peer over a
local socket (``omniroute.server.dispatch``), so one channel's calls use every core.
Processes are started (spawned) before any gRPC object exists in them; one that dies is
started again. A bounded number of concurrent calls per process sheds overload with
``RESOURCE_EXHAUSTED`` at once; SIGTERM turns health to NOT_SERVING and drains in-flight
calls within the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import ipaddress
import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from google.longrunning import operations_pb2, operations_pb2_grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from omniroute.ledger import DatabaseUnavailable, open_ledger
from omniroute.server.application import Application
from omniroute.server.auth import AuthConfigError, Authenticator, RateLimiter, TlsFiles
from omniroute.server.dispatch import Dispatcher, create_board
from omniroute.server.interceptors import ServerInterceptor
from omniroute.server.inventory_service import InventoryServicer
from omniroute.server.metrics import metrics
from omniroute.server.network_service import NetworkServicer
from omniroute.server.order_service import OrderServicer
from omniroute.server.overload import LoopLag
from omniroute.server.requests import Limits, Planners
from omniroute.server.routing_service import RoutingServicer, add_to_server
from omniroute.server.scenario_service import OperationsServicer, ScenarioServicer
from omniroute.v1 import (
    inventory_service_pb2,
    inventory_service_pb2_grpc,
    network_service_pb2,
    network_service_pb2_grpc,
    order_service_pb2,
    order_service_pb2_grpc,
    routing_service_pb2,
    scenario_service_pb2,
    scenario_service_pb2_grpc,
)

log = logging.getLogger("omniroute.server")

SERVICES = (
    routing_service_pb2.DESCRIPTOR.services_by_name["RoutingService"].full_name,
    inventory_service_pb2.DESCRIPTOR.services_by_name["InventoryService"].full_name,
    network_service_pb2.DESCRIPTOR.services_by_name["NetworkService"].full_name,
    scenario_service_pb2.DESCRIPTOR.services_by_name["ScenarioService"].full_name,
    operations_pb2.DESCRIPTOR.services_by_name["Operations"].full_name,
    order_service_pb2.DESCRIPTOR.services_by_name["OrderService"].full_name,
)
# Services that answer FAILED_PRECONDITION (reason NO_NETWORK) while the ledger holds no
# network: health checking reports them NOT_SERVING until one is put (NetworkService and the
# server as a whole are SERVING, so an empty server can receive its network by PutNetwork).
NEEDS_NETWORK = frozenset(
    {
        SERVICES[0],  # RoutingService
        SERVICES[1],  # InventoryService
        SERVICES[3],  # ScenarioService
        SERVICES[5],  # OrderService
    }
)
NETWORK_CHECK = 0.5  # seconds between an empty server's checks for a network
DATABASE_CHECK = 1.0  # seconds between probes of a PostgreSQL ledger (health NOT_SERVING
# while it does not answer)
MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a whole network with its stock fits in one PutNetwork


@dataclass(frozen=True)
class ServerConfig:
    db: str
    host: str = "127.0.0.1"  # loopback unless told otherwise (see check_exposure)
    port: int = 50051
    max_concurrent: int = 256  # calls in progress per process before RESOURCE_EXHAUSTED
    grace: float = 10.0  # seconds to drain in-flight calls on SIGTERM
    threads: int = 2  # planning threads per process
    synchronous: str = "FULL"
    reservation_ttl: float = 15 * 60.0  # seconds a hold lasts unless committed or released
    batch_window_ms: float = 0.0  # > 0: PlanOrder calls within the window are allocated jointly
    solve_memory_mb: int | None = 1024  # memory one order's search may use (None: unbounded)
    shared_stock: bool = True  # worker processes map one stock snapshot (server.live)
    stock_dir: str = ""  # where they keep it: made (and removed) by serve()
    metrics_host: str = "127.0.0.1"  # where /metrics listens (with a metrics port)
    max_order_lines: int = Limits.order_lines  # larger requests: INVALID_ARGUMENT at once
    max_batch_orders: int = Limits.batch_orders
    tls_cert: str | None = None  # PEM files: TLS (with both), mTLS (with a client CA too)
    tls_key: str | None = None
    tls_client_ca: str | None = None
    auth_tokens: str | None = None  # the tokens file (server.auth); None: no tokens
    rate_limit: float | None = None  # calls/s per principal and process (None: no limit)
    dispatch: str = "on"  # on: busy workers have peers plan part of their PlanOrder calls;
    # always: every call is sent to a peer (to test and measure the path); off: none is
    dispatch_dir: str = ""  # the workers' board and sockets: made (and removed) by serve()


def server_options(reuse_port: bool) -> list[tuple[str, int]]:
    return [
        ("grpc.so_reuseport", 1 if reuse_port else 0),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.http2.max_pings_without_data", 0),
    ]


class RunningServer:
    """One grpc.aio server with its application layer and health servicer."""

    def __init__(self, config: ServerConfig, reuse_port: bool = False, slot: int = 0) -> None:
        self.config = config
        self.ledger = open_ledger(config.db, synchronous=config.synchronous)
        self.app = Application(
            self.ledger,
            metrics(),
            threads=config.threads,
            reservation_ttl=config.reservation_ttl,
            batch_window_ms=config.batch_window_ms,
            solve_memory_mb=config.solve_memory_mb,
            shared_stock=Path(config.stock_dir) if config.stock_dir else None,
        )
        self.lag = LoopLag(gauge=self.app.metrics.loop_lag)
        self.auth = Authenticator(
            config.auth_tokens, client_certificates=bool(config.tls_client_ca)
        )
        self.tls = (
            TlsFiles(config.tls_cert, config.tls_key, config.tls_client_ca)
            if config.tls_cert and config.tls_key
            else None
        )
        self.app.audit = self._audit
        self.server = grpc.aio.server(
            interceptors=[
                ServerInterceptor(
                    self.app.metrics,
                    self.lag,
                    self.auth,
                    self._audit,
                    RateLimiter(config.rate_limit) if config.rate_limit else None,
                )
            ],
            options=server_options(reuse_port),
            maximum_concurrent_rpcs=config.max_concurrent,
        )
        planners = Planners(self.app, Limits(config.max_order_lines, config.max_batch_orders))
        routing = RoutingServicer(self.app, planners)
        self.dispatcher: Dispatcher | None = None
        if config.dispatch != "off" and config.dispatch_dir:
            self.dispatcher = Dispatcher(
                Path(config.dispatch_dir),
                slot,
                routing.plan_bytes,
                always=config.dispatch == "always",
            )
            routing.dispatcher = self.dispatcher
        add_to_server(routing, self.server)
        network_service_pb2_grpc.add_NetworkServiceServicer_to_server(
            NetworkServicer(self.app), self.server
        )
        self.inventory = InventoryServicer(self.app)
        inventory_service_pb2_grpc.add_InventoryServiceServicer_to_server(
            self.inventory, self.server
        )
        order_service_pb2_grpc.add_OrderServiceServicer_to_server(
            OrderServicer(self.app), self.server
        )
        scenario_service_pb2_grpc.add_ScenarioServiceServicer_to_server(
            ScenarioServicer(self.app, planners), self.server
        )
        operations_pb2_grpc.add_OperationsServicer_to_server(
            OperationsServicer(self.app), self.server
        )
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            (
                *SERVICES,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ),
            self.server,
        )
        address = f"{listen_host(config.host)}:{config.port}"
        try:
            if self.tls is not None:
                self.port = self.server.add_secure_port(address, self.tls.credentials())
            else:
                self.port = self.server.add_insecure_port(address)
        except RuntimeError:  # grpc's "Failed to bind to address ..."
            self.port = 0
        if self.port == 0:
            raise ServeRefused(
                f"cannot listen on {address}: the port is taken or the address is not one of "
                "this machine's; choose another --port or --host"
            )
        self._network_watch: asyncio.Task[None] | None = None
        self._database_watch: asyncio.Task[None] | None = None
        self.database_up = True  # the ledger's database answers (see _watch_database)

    async def _audit(
        self, principal: str, method: str, request_id: str, resource: str, outcome: str
    ) -> None:
        """Record a state-changing call in the ledger's audit trail (off the event loop)."""
        await asyncio.get_running_loop().run_in_executor(
            self.app.pool,
            self.ledger.audit.record,
            principal,
            method,
            request_id,
            resource,
            outcome,
        )

    def reload_credentials(self) -> None:
        """SIGHUP: read the certificates and the tokens file again; new connections and calls
        use them, calls in progress are not dropped. A file that cannot be used is logged and
        the old credentials stay."""
        try:
            if self.tls is not None:
                self.tls.reload()
            self.auth.reload()
            log.info("credentials reloaded")
        except AuthConfigError as error:
            log.error("credentials not reloaded: %s", error)

    async def start(self) -> None:
        self.app.live.refresh(force=True)
        self.app.live.warm()  # a forecast in force prices the stock before the first call
        # The network, its index and the stock are long-lived: keep them out of the garbage
        # collector's way (full collections over them cost tens of milliseconds per call).
        gc.collect()
        gc.freeze()
        await self.server.start()
        if self.dispatcher is not None:
            await self.dispatcher.start(beat=self.lag)
        self.lag.start()
        await self._report_health()
        if not self.has_network():
            self._network_watch = asyncio.create_task(self._wait_for_network())
        reachable = getattr(self.ledger.db, "reachable", None)  # a database server (PostgreSQL)
        if reachable is not None:
            self._database_watch = asyncio.create_task(self._watch_database(reachable))

    def has_network(self) -> bool:
        """Whether this process has loaded a network (PutNetwork or serve --network)."""
        return self.app.live.version > 0

    async def _report_health(self) -> None:
        """SERVING for the server and every service, except the services that need a network
        while there is none (:data:`NEEDS_NETWORK`): NOT_SERVING until one is put."""
        ready = self.has_network()
        for name in ("", *SERVICES):
            serving = self.database_up and (ready or name not in NEEDS_NETWORK)
            await self.health.set(
                name,
                health_pb2.HealthCheckResponse.SERVING
                if serving
                else health_pb2.HealthCheckResponse.NOT_SERVING,
            )

    async def _wait_for_network(self) -> None:
        """An empty server: look for a network (put through any worker process) until there
        is one, then report every service SERVING."""
        loop = asyncio.get_running_loop()
        while not self.has_network():
            await asyncio.sleep(NETWORK_CHECK)
            with contextlib.suppress(DatabaseUnavailable):  # (the database watch reports it)
                await loop.run_in_executor(self.app.pool, self.app.live.refresh)
        await self._report_health()

    async def _watch_database(self, reachable: Callable[[], bool]) -> None:
        """Probe the database server each :data:`DATABASE_CHECK` seconds with a connection
        of its own: every service NOT_SERVING while it does not answer (calls would fail
        UNAVAILABLE), as before once it does."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(DATABASE_CHECK)
            up = await loop.run_in_executor(None, reachable)
            if up != self.database_up:
                self.database_up = up
                if up:
                    log.warning("the ledger database answers again: serving")
                else:
                    log.error("the ledger database does not answer: health NOT_SERVING")
                await self._report_health()

    async def stop(self, grace: float | None = None) -> None:
        """Drain: NOT_SERVING first (load balancers stop sending), then finish in-flight calls."""
        await self.health.enter_graceful_shutdown()
        self.inventory.drain()  # event streams end at once (their clients reconnect elsewhere)
        if self._network_watch is not None:
            self._network_watch.cancel()
        if self._database_watch is not None:
            self._database_watch.cancel()
        grace = self.config.grace if grace is None else grace
        ends = time.monotonic() + grace
        if self.dispatcher is not None:  # peers stop sending work here; none is sent on
            await self.dispatcher.drain(0.0)
        await self.server.stop(grace)
        if self.dispatcher is not None:  # what peers sent before is answered, then closed
            await self.dispatcher.drain(max(0.0, ends - time.monotonic()))
            await self.dispatcher.stop()
        self.lag.stop()
        self.app.close()
        self.ledger.close()

    async def wait(self) -> None:
        await self.server.wait_for_termination()


ORPHAN_CHECK = 0.5  # seconds between a worker's checks that its supervisor is alive
ORPHAN_GRACE = 1.0  # seconds an orphaned worker drains before it exits


async def _run_worker(
    config: ServerConfig, reuse_port: bool, ready: object | None, slot: int = 0
) -> None:
    # The supervisor's pid as it spawned us (getppid() here may already be init's, had the
    # supervisor died while this process was starting).
    known = multiprocessing.parent_process()
    parent = known.pid if known is not None and known.pid else os.getppid()
    if ready is not None:
        _signal_on_parent_death(parent)
    try:
        server = RunningServer(config, reuse_port, slot)
    except ServeRefused as refused:
        if ready is None:
            raise
        ready.put(("refused", str(refused)))  # type: ignore[attr-defined]
        return
    await server.start()
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    orphaned = asyncio.Event()

    def on_stop_signal() -> None:
        if ready is not None and os.getppid() != parent:  # the supervisor's death signal
            orphaned.set()
        stopping.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_stop_signal)
    loop.add_signal_handler(signal.SIGHUP, server.reload_credentials)
    watch: asyncio.Task[None] | None = None
    if ready is not None:
        ready.put(server.port)  # type: ignore[attr-defined]
        watch = asyncio.create_task(_watch_parent(parent, orphaned, stopping))
    else:
        print(f"omniroute serving on port {server.port} (pid {os.getpid()})", flush=True)
    await stopping.wait()
    grace = min(config.grace, ORPHAN_GRACE) if orphaned.is_set() else config.grace
    log.info("draining", extra={"fields": {"grace_s": grace, "orphaned": orphaned.is_set()}})
    if watch is not None:
        watch.cancel()
    await server.stop(grace)


def _signal_on_parent_death(parent: int) -> None:
    """On Linux, have the kernel send this worker SIGTERM the moment its supervisor dies,
    even by SIGKILL (``PR_SET_PDEATHSIG``); elsewhere the polling in :func:`_watch_parent`
    alone notices."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


async def _watch_parent(parent: int, orphaned: asyncio.Event, stopping: asyncio.Event) -> None:
    """Stop when the supervisor is gone (killed with SIGKILL, say): a worker never goes on
    serving the port on its own."""
    while os.getppid() == parent:
        await asyncio.sleep(ORPHAN_CHECK)
    log.warning("the serve process is gone: stopping this worker")
    orphaned.set()
    stopping.set()


def worker_main(
    config: ServerConfig, reuse_port: bool, ready: object | None, level: str, slot: int = 0
) -> None:
    """Entry point of one server process (``slot``: its place among the workers)."""
    from omniroute.server import logs

    logs.configure(level)
    asyncio.run(_run_worker(config, reuse_port, ready, slot))


class ServeRefused(Exception):
    """The server must not start as configured (a port taken, an unsafe address)."""


def listen_host(host: str) -> str:
    """``host`` as gRPC takes it in an address: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address, ``[v6]`` or ``localhost``) reaches only this machine."""
    name = host.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_exposure(host: str, secured: bool, insecure: bool) -> None:
    """Refuse to listen beyond loopback without TLS and authentication, unless told to."""
    if not is_loopback(host) and not secured and not insecure:
        raise ServeRefused(
            f"refusing to listen on {host} without TLS and authentication: any host that can "
            "reach it could change stock and the network. Serve on 127.0.0.1 (the default), "
            "or pass --insecure to listen there anyway"
        )


def check_port_free(host: str, port: int, what: str) -> None:
    """Refuse a port another process listens on, even one that shares it (SO_REUSEPORT):
    a probe without SO_REUSEPORT cannot bind where any listener is."""
    if port == 0:
        return
    option = "--metrics-port" if what == "metrics" else "--port"
    name = host.strip("[]") or "::"
    family = socket.AF_INET6 if ":" in name else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((name, port))
    except OSError as error:
        raise ServeRefused(
            f"{what} port {port} on {host} is not available ({error.strerror or error}); "
            f"is another server running there? Choose another port ({option} PORT)"
        ) from None


def _metrics_port_taken(port: int, config: ServerConfig, error: OSError) -> str:
    return (
        f"metrics port {port} on {config.metrics_host} is not available "
        f"({error.strerror or error}); choose another --metrics-port, or 0 for none"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("::", 0))
        return int(probe.getsockname()[1])


def serve(config: ServerConfig, workers: int, metrics_port: int | None, level: str) -> int:
    """Run ``workers`` server processes until SIGTERM/SIGINT; return an exit status."""
    if workers <= 1:
        if metrics_port:
            from omniroute.server.metrics import serve_metrics

            try:
                serve_metrics(metrics_port, config.metrics_host)
            except OSError as error:
                raise ServeRefused(_metrics_port_taken(metrics_port, config, error)) from None
        worker_main(config, False, None, level)
        return 0
    if config.port == 0:
        config = ServerConfig(**{**config.__dict__, "port": free_port()})
    metrics_dir = tempfile.mkdtemp(prefix="omniroute-metrics-")
    if config.shared_stock:
        config = ServerConfig(
            **{**config.__dict__, "stock_dir": tempfile.mkdtemp(prefix="omniroute-stock-")}
        )
    if config.dispatch != "off":
        directory = tempfile.mkdtemp(prefix="omniroute-dispatch-")
        create_board(Path(directory), workers)
        config = ServerConfig(**{**config.__dict__, "dispatch_dir": directory})
    try:
        return _supervise(config, workers, metrics_port, level, metrics_dir)
    finally:
        for directory in (config.stock_dir, config.dispatch_dir):
            if directory:
                shutil.rmtree(directory, ignore_errors=True)


RESTARTS = 5  # workers started again in a row that die within RESTART_WINDOW: then stop
RESTART_WINDOW = 10.0  # seconds


def _watch_workers(
    processes: list[multiprocessing.process.BaseProcess],
    stop: dict[str, int],
    replacement: Callable[[int], multiprocessing.process.BaseProcess],
) -> None:
    """Until every worker has exited after a signal: a worker that dies otherwise (killed,
    out of memory) is started again in its slot, its peers meanwhile planning its share
    themselves; one that keeps dying within seconds of its start is left dead, and serve
    goes on with the others (and exits non-zero in the end)."""
    started = {i: time.monotonic() for i in range(len(processes))}
    quick_deaths = 0
    while True:
        alive = [p for p in processes if p.exitcode is None]
        if not alive:
            return
        multiprocessing.connection.wait([p.sentinel for p in alive], timeout=1.0)
        if stop["signal"]:
            continue
        for slot, process in enumerate(processes):
            if process.exitcode is None or process.exitcode == 0 or started[slot] < 0:
                continue
            now = time.monotonic()
            quick_deaths = quick_deaths + 1 if now - started[slot] < RESTART_WINDOW else 0
            if quick_deaths > RESTARTS:
                log.error(
                    "worker %d keeps dying (exit status %s): not started again",
                    slot,
                    process.exitcode,
                )
                started[slot] = -1.0
                continue
            log.error("worker %d died (exit status %s): starting it again", slot, process.exitcode)
            processes[slot] = replacement(slot)
            processes[slot].start()
            started[slot] = now


def _supervise(
    config: ServerConfig, workers: int, metrics_port: int | None, level: str, metrics_dir: str
) -> int:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    if metrics_port:  # before any worker exists: a taken port leaves nothing running
        from omniroute.server.metrics import serve_metrics

        try:
            serve_metrics(metrics_port, config.metrics_host)
        except OSError as error:
            print(f"error: {_metrics_port_taken(metrics_port, config, error)}", file=sys.stderr)
            return 2
    processes: list[multiprocessing.process.BaseProcess] = []
    stop = {"signal": 0}

    def forward(signum: int, _frame: object) -> None:
        stop["signal"] = signum
        for process in processes:
            if process.pid and process.is_alive():
                os.kill(process.pid, signal.SIGTERM)

    def reload(_signum: int, _frame: object) -> None:
        for process in processes:
            if process.pid and process.is_alive():
                os.kill(process.pid, signal.SIGHUP)

    # Before any child process exists (the queue below starts multiprocessing's resource
    # tracker): a SIGTERM while the workers start stops them all cleanly.
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGHUP, reload)
    context = multiprocessing.get_context("spawn")
    ready = context.Queue()
    processes += [
        context.Process(
            target=worker_main, args=(config, True, ready, level, i), name=f"worker-{i}"
        )
        for i in range(workers)
    ]
    for process in processes:
        if not stop["signal"]:
            process.start()
    processes = [process for process in processes if process.pid]
    refused = ""
    try:
        deadline = time.monotonic() + 120
        waiting = len(processes)
        if stop["signal"]:
            raise InterruptedError("stopped before every worker was started")
        while waiting:
            try:
                started = ready.get(timeout=0.5)
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise
                if stop["signal"]:  # SIGTERM before every worker was up: stop them all
                    raise
                if any(process.exitcode is not None for process in processes):
                    started = ready.get(timeout=1.0)  # its last word, if it left one
                else:
                    continue
            if isinstance(started, tuple):  # ("refused", why): the port is taken, say
                refused = started[1]
                raise ServeRefused(refused)
            waiting -= 1
    except Exception:  # a worker refused or died while starting, or a signal came first
        signalled = stop["signal"]
        forward(signal.SIGTERM, None)
        for process in processes:
            process.join(timeout=config.grace + 5)
        if (
            signalled and not refused and all(p.exitcode in (0, -signal.SIGTERM) for p in processes)
        ):  # stopped while starting (a worker not yet up dies of the SIGTERM): a clean stop
            return 0
        if refused:
            print(f"error: {refused}", file=sys.stderr)
            return 2
        print("error: the server workers failed to start (see the log above)", file=sys.stderr)
        return 1
    print(
        f"omniroute serving on {config.host} port {config.port} with {workers} worker "
        f"processes (pid {os.getpid()}); metrics on "
        f"{f'{config.metrics_host}:{metrics_port}' if metrics_port else 'off'}",
        flush=True,
    )
    _watch_workers(
        processes,
        stop,
        lambda slot: context.Process(
            target=worker_main, args=(config, True, ready, level, slot), name=f"worker-{slot}"
        ),
    )
    for process in processes:
        process.join()
    for path in Path(metrics_dir).glob("*.db"):
        path.unlink()
    return 0 if all(p.exitcode == 0 for p in processes) or stop["signal"] else 1
