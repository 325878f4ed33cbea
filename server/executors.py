"""Where a sweep's tasks run: a pool of local processes, or Ray (a local instance or a cluster).

Both executors take the same three things: a task function (importable by name, so that
it runs unchanged in a spawned process or on a Ray worker), the *shared* inputs every task
needs (the parsed network and orders: sent once, to each local process when it starts or
into Ray's object store with ``ray.put``), and one small item per task. They yield
``(index, result)`` as tasks finish, in any order, where a task that raised yields a
:class:`TaskFailure` instead of its result; the other tasks go on. The caller writes each
result as it arrives, so a failure loses nothing that finished.

Ray is imported only by :func:`on_ray`; it is the optional ``omniroute[ray]`` extra.
"""

from __future__ import annotations

import importlib.util
import logging
import multiprocessing
import os
import re
import socket
import traceback
import warnings
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

EXECUTORS = ("processes", "ray")
RAY_ADDRESS_ENV = "RAY_ADDRESS"  # Ray's own variable; `ray job submit` sets it for a job
RAY_CLIENT_PORT = 10001
CONNECT_TIMEOUT = 5.0  # seconds to reach a cluster's address before saying it is unreachable


class ExecutorUnavailable(Exception):
    """The executor cannot run here (Ray missing, a cluster unreachable or without
    omniroute); the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class TaskFailure:
    """Why one task did not finish: the exception's type and message, and its traceback."""

    kind: str
    message: str
    trace: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}" if self.message else self.kind


MESSAGE_LIMIT = 600  # characters of a failure's message on one line (the trace has all)


def failure_of(error: BaseException) -> TaskFailure:
    """A :class:`TaskFailure` for ``error`` (its message on one line, shortened)."""
    message = " ".join(str(error).split())
    if len(message) > MESSAGE_LIMIT:
        message = message[: MESSAGE_LIMIT - 4] + " ..."
    trace = "".join(traceback.format_exception(error))
    return TaskFailure(type(error).__name__, message, trace)


def call(function: Callable[..., Any], shared: Sequence[Any], item: Any) -> Any:
    """``function(*shared, item)``, or the :class:`TaskFailure` it raised (so that nothing
    but plain data crosses back from a worker)."""
    try:
        return function(*shared, item)
    except Exception as error:
        return failure_of(error)


# ----------------------------------------------------------------------------- processes

_SHARED: tuple[Any, ...] = ()  # a worker process's copy of the shared inputs


def _receive(shared: tuple[Any, ...]) -> None:
    global _SHARED
    _SHARED = shared


def _call_in_process(function: Callable[..., Any], item: Any) -> Any:
    return call(function, _SHARED, item)


def in_processes(
    function: Callable[..., Any], shared: Sequence[Any], items: Sequence[Any], workers: int
) -> Generator[tuple[int, Any], None, None]:
    """Run ``function(*shared, item)`` for every item in ``workers`` spawned processes (each
    receives ``shared`` once, when it starts); yield ``(index, result)`` as they finish."""
    if not items:
        return
    context = multiprocessing.get_context("spawn")  # no fork of a process with threads
    pool = ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(items))),
        mp_context=context,
        initializer=_receive,
        initargs=(tuple(shared),),
    )
    try:
        futures: dict[Future[Any], int] = {
            pool.submit(_call_in_process, function, item): index for index, item in enumerate(items)
        }
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=futures.__getitem__):
                try:
                    outcome = future.result()
                except BrokenProcessPool:  # killed (out of memory?) or crashed
                    outcome = TaskFailure(
                        "worker process died",
                        "a process of the pool ended abruptly (killed, or out of memory); "
                        "try fewer workers",
                    )
                except Exception as error:  # the item could not be sent to a process
                    outcome = failure_of(error)
                yield futures[future], outcome
    finally:  # also when the caller stops early: runs not yet started are dropped
        pool.shutdown(wait=True, cancel_futures=True)


# ----------------------------------------------------------------------------- Ray

_HOST_PORT = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):(?P<port>[0-9]{1,5})$")


def ray_address(address: str | None, option: str = "--ray-address") -> str | None:
    """The cluster to connect to, as Ray spells it: ``auto``, ``ray://HOST:PORT`` (Ray
    Client) or ``HOST:PORT`` (a cluster's GCS, from one of its nodes); ``None`` (or
    ``local``) for a local Ray started for the sweep. :class:`ExecutorUnavailable` with the
    fix when it is none of these."""
    if address is None:
        return None
    text = address.strip()
    if text in ("", "local"):
        return None
    if text == "auto":
        return text
    rest = text.removeprefix("ray://")
    match = _HOST_PORT.match(rest)
    if match is None or not 0 < int(match["port"]) < 65536:
        raise ExecutorUnavailable(
            f"{option} {address!r} is not a Ray address; pass ray://HOST:{RAY_CLIENT_PORT} "
            "(the head node's Ray Client port), HOST:6379 (the cluster's GCS, from one of its "
            "nodes), or auto (the cluster this machine belongs to); leave it out for a local "
            "Ray"
        )
    return text


def check_reachable(address: str | None) -> None:
    """:class:`ExecutorUnavailable` with the fix when nothing listens at ``address`` (as
    :func:`ray_address` returns it; ``auto`` and a local Ray are not checked). Ray itself
    may retry an unreachable cluster for minutes."""
    if address is None or address == "auto":
        return
    match = _HOST_PORT.match(address.removeprefix("ray://"))
    assert match is not None  # checked by ray_address
    host, port = match["host"].strip("[]"), int(match["port"])
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        if isinstance(error, TimeoutError):
            reason = f"no answer within {CONNECT_TIMEOUT:g} s"
        raise ExecutorUnavailable(
            f"Ray address {address}: cannot reach {host}:{port} ({reason}); start the cluster "
            "(ray start --head on its head node) and pass ray://HEAD:"
            f"{RAY_CLIENT_PORT}, or auto on one of its nodes; leave it out for a local Ray"
        ) from None


RAY_MISSING = (
    "--executor ray needs the ray package: pip install 'omniroute[ray]' (or use "
    "--executor processes)"
)


def require_ray() -> None:
    """:class:`ExecutorUnavailable` with the fix when Ray is not installed (without
    importing it, which takes a second)."""
    if importlib.util.find_spec("ray") is None:
        raise ExecutorUnavailable(RAY_MISSING)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ExecutorUnavailable(RAY_MISSING) from None
    return ray


def _connect(ray: Any, address: str | None, workers: int | None) -> bool:
    """Connect to ``address``, or start a local Ray with ``workers`` CPUs; whether this call
    started (or connected) Ray, and so must shut it down."""
    if ray.is_initialized():  # a Python caller connected already: use that
        return False
    if address is None:
        # no usage statistics sent from a Ray started only for this sweep, unless asked for
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(
            address="local",
            num_cpus=workers or os.cpu_count() or 1,
            include_dashboard=False,
            logging_level=logging.ERROR,
            log_to_driver=False,
        )
        return True
    check_reachable(address)
    try:
        with warnings.catch_warnings():  # Ray Client warns before it raises: say it once
            warnings.simplefilter("ignore")
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    except (ConnectionError, TimeoutError) as error:
        raise ExecutorUnavailable(
            f"Ray address {address}: cannot connect to a Ray cluster ({' '.join(str(error).split())}); "
            f"start one (ray start --head) and pass ray://HEAD:{RAY_CLIENT_PORT}, or auto on "
            "one of its nodes; a cluster with token authentication also needs "
            "RAY_AUTH_MODE=token and its token (ray get-auth-token on the head node) in "
            "RAY_AUTH_TOKEN or ~/.ray/auth_token; leave the address out for a local Ray"
        ) from None
    return True


def _check_cluster(ray: Any) -> None:
    """omniroute (the same version as here) must be installed where the tasks run."""
    import omniroute

    def version() -> str:  # defined here, so Ray sends it by value: it runs without omniroute
        try:
            import omniroute as installed
        except ImportError as error:
            return f"missing: {error}"
        return str(installed.__version__)

    theirs = ray.get(ray.remote(num_cpus=0)(version).remote())
    if theirs != omniroute.__version__:
        found = theirs if theirs.startswith("missing") else f"omniroute {theirs}"
        raise ExecutorUnavailable(
            f"the Ray cluster's nodes run {found}, this command omniroute "
            f"{omniroute.__version__}: install omniroute=={omniroute.__version__} (with the "
            "same Python and Ray versions) on every node of the cluster"
        )


def _call_on_ray(function: Callable[..., Any], item: Any, *shared: Any) -> Any:
    return call(function, shared, item)


def on_ray(
    function: Callable[..., Any],
    shared: Sequence[Any],
    items: Sequence[Any],
    address: str | None = None,
    workers: int | None = None,
) -> Generator[tuple[int, Any], None, None]:
    """Run ``function(*shared, item)`` for every item as a Ray task; yield ``(index,
    result)`` as they finish.

    ``shared`` goes into Ray's object store once (``ray.put``) and every task reads it
    from there. With ``address`` (see :func:`ray_address`) the tasks run on that cluster,
    at most ``workers`` at a time when given; without, on a local Ray with ``workers``
    CPUs (default: one per core), started here and shut down at the end. A Ray this
    process already joined (``ray.init`` by the caller) is used as it is and left running.
    """
    ray = _import_ray()
    started = _connect(ray, address, workers)
    try:
        if address is not None:
            _check_cluster(ray)
        refs = [ray.put(value) for value in shared]
        task = ray.remote(num_cpus=1)(_call_on_ray)
        limit = workers if address is not None and workers else len(items)
        waiting = list(enumerate(items))
        running: dict[Any, int] = {}
        while waiting or running:
            while waiting and len(running) < limit:
                index, item = waiting.pop(0)
                # top-level references: Ray hands the task the values from its object store
                running[task.remote(function, item, *refs)] = index
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                index = running.pop(ref)
                try:
                    outcome = ray.get(ref)
                except ray.exceptions.RayError as error:  # a worker or node died
                    outcome = failure_of(error)
                yield index, outcome
    finally:
        if started:
            ray.shutdown()
