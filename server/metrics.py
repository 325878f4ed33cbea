"""Prometheus metrics with the conventional gRPC server names, plus solver metrics.

``grpc_server_started_total``, ``grpc_server_handled_total`` and
``grpc_server_handling_seconds`` follow go-grpc-prometheus (labels ``grpc_type``,
``grpc_service``, ``grpc_method`` and, when handled, ``grpc_code``). With several worker
processes the parent serves the merged metrics (prometheus_client's multiprocess mode,
enabled by ``PROMETHEUS_MULTIPROC_DIR``).
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)

from omniroute.model import PlanResult

# Sub-millisecond to ten seconds: most plans take well under a millisecond.
LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
GRPC_LABELS = ("grpc_type", "grpc_service", "grpc_method")


class Metrics:
    """The process's metrics (one instance per process: see :func:`metrics`)."""

    def __init__(self) -> None:
        self.started = Counter(
            "grpc_server_started_total", "RPCs started on the server.", GRPC_LABELS
        )
        self.handled = Counter(
            "grpc_server_handled_total",
            "RPCs completed on the server, regardless of success or failure.",
            (*GRPC_LABELS, "grpc_code"),
        )
        self.handling = Histogram(
            "grpc_server_handling_seconds",
            "Response latency of RPCs handled by the server.",
            GRPC_LABELS,
            buckets=LATENCY_BUCKETS,
        )
        self.plans = Counter(
            "omniroute_plans_total",
            "Orders planned, by proof, method and status.",
            ("proof", "method", "status"),
        )
        self.loop_lag = Gauge(
            "omniroute_event_loop_lag_seconds",
            "How late the event loop runs timers (average); above the limit, "
            "planning calls are shed.",
            multiprocess_mode="max",
        )
        self.shed = Counter(
            "omniroute_shed_total", "Calls refused because the server was overloaded."
        )
        self._plan_series: dict[tuple[Any, str, Any], Any] = {}
        self.solve = Histogram(
            "omniroute_solve_seconds", "Time planning one order.", buckets=LATENCY_BUCKETS
        )

    def observe_plan(self, result: PlanResult) -> None:
        method = result.stats.method.split(" ", 1)[0]
        key = (result.stats.proof, method, result.plan.status)
        series = self._plan_series.get(key)
        if series is None:  # a few dozen combinations: each series looked up once
            series = self._plan_series[key] = self.plans.labels(
                result.stats.proof.value, method, result.plan.status.value
            )
        series.inc()
        self.solve.observe(result.stats.solve_micros / 1e6)


_METRICS: Metrics | None = None


def metrics() -> Metrics:
    global _METRICS
    if _METRICS is None:
        _METRICS = Metrics()
    return _METRICS


def serve_metrics(port: int, address: str = "127.0.0.1") -> None:
    """Serve ``/metrics`` over HTTP (merged over worker processes in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        start_http_server(port, address, registry=registry)
    else:
        start_http_server(port, address)
