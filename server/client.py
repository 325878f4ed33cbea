"""A small typed Python client for the omniroute API, used by the CLI and the benchmarks.

Retries are gRPC's own, configured by the API's service config
(``omniroute/v1/service_config.json``, package data of ``omniroute.v1``): only
``UNAVAILABLE`` (the server is starting, restarting or draining) is retried, up to 5
attempts with exponential backoff from 50 ms; every other status is raised to the caller as
:class:`grpc.RpcError`. A call's timeout is its deadline, covering all its attempts. Calls
accept the engine's model objects or protobuf messages.

>>> with OmnirouteClient("localhost:50051") as client:
...     response = client.plan_order(order, policy="CHEAPEST", include_options=True)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from omniroute.model import Network, Order
from omniroute.server import convert
from omniroute.v1 import (
    inventory_service_pb2,
    inventory_service_pb2_grpc,
    network_pb2,
    network_service_pb2,
    network_service_pb2_grpc,
    order_pb2,
    plan_pb2,
    routing_service_pb2,
    routing_service_pb2_grpc,
)

T = TypeVar("T")
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_ATTEMPTS = 5  # gRPC caps a retry policy's maxAttempts at 5
# Reconnect soon after a failed connection attempt (gRPC waits 1 s, then up to 2 min, by
# default), so that the retries of a call (about 0.75 s of backoff in all) to a server that is
# starting or restarting can reach it; at most as long apart as the retry policy's maxBackoff.
RECONNECT_BACKOFF_MS = 50
MAX_RECONNECT_BACKOFF_MS = 2_000


def service_config(retries: int | None = None) -> dict[str, Any]:
    """The API's gRPC service config (``omniroute/v1/service_config.json``).

    ``retries`` (when not None) replaces each retry policy's ``maxAttempts`` with
    ``retries + 1`` attempts, at most :data:`MAX_ATTEMPTS`; 0 drops the retry policies.
    """
    text = (resources.files("omniroute.v1") / "service_config.json").read_text("utf-8")
    config: dict[str, Any] = json.loads(text)
    if retries is not None:
        for method in config.get("methodConfig", []):
            if retries <= 0:
                method.pop("retryPolicy", None)
            elif "retryPolicy" in method:
                method["retryPolicy"]["maxAttempts"] = min(retries + 1, MAX_ATTEMPTS)
    return config


def channel_options(retries: int | None = None) -> list[tuple[str, str | int]]:
    """Channel options of the client: message limits, the service config with its retry
    policy (``retries`` as for :func:`service_config`), and reconnection soon after a failed
    connection attempt."""
    return [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.service_config", json.dumps(service_config(retries))),
        ("grpc.enable_retries", 0 if retries is not None and retries <= 0 else 1),
        ("grpc.initial_reconnect_backoff_ms", RECONNECT_BACKOFF_MS),
        ("grpc.max_reconnect_backoff_ms", MAX_RECONNECT_BACKOFF_MS),
    ]


class OmnirouteClient:
    """Stubs for RoutingService, InventoryService and NetworkService on one channel."""

    def __init__(
        self,
        target: str,
        timeout: float = 30.0,
        retries: int | None = None,
        *,
        tls_ca: str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        token: str | None = None,
        server_name: str | None = None,
    ) -> None:
        """``timeout``: the default deadline of a call, in seconds. ``retries``: None = as the
        service config says (up to 4 retries of UNAVAILABLE); 0 = none; n = up to n (at
        most 4).

        With ``tls_ca`` (PEM file of the CA that signed the server's certificate) the channel
        uses TLS; ``tls_cert`` and ``tls_key`` present a client certificate (mTLS);
        ``server_name`` overrides the name checked against the server's certificate. With
        ``token`` every call sends ``authorization: Bearer TOKEN`` (over TLS only).
        """
        options = channel_options(retries)
        if server_name:
            options.append(("grpc.ssl_target_name_override", server_name))
        if tls_ca or token:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=Path(tls_ca).read_bytes() if tls_ca else None,
                private_key=Path(tls_key).read_bytes() if tls_key else None,
                certificate_chain=Path(tls_cert).read_bytes() if tls_cert else None,
            )
            if token:
                credentials = grpc.composite_channel_credentials(
                    credentials, grpc.access_token_call_credentials(token)
                )
            self.channel = grpc.secure_channel(target, credentials, options=options)
        else:
            self.channel = grpc.insecure_channel(target, options=options)
        self.timeout = timeout
        self.routing = routing_service_pb2_grpc.RoutingServiceStub(self.channel)
        self.inventory = inventory_service_pb2_grpc.InventoryServiceStub(self.channel)
        self.network = network_service_pb2_grpc.NetworkServiceStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def __enter__(self) -> OmnirouteClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    def _call(self, fn: Callable[..., T], request: object, timeout: float | None = None) -> T:
        # gRPC retries UNAVAILABLE itself (the service config), within the one deadline.
        return fn(request, timeout=timeout or self.timeout)

    def wait_until_serving(self, timeout: float = 30.0) -> None:
        """Block until health checking reports SERVING (or raise TimeoutError)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                status = self.health.Check(health_pb2.HealthCheckRequest(), timeout=2.0).status
                if status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the server did not become SERVING in time")
            time.sleep(0.05)

    # ------------------------------------------------------------------------- routing

    def plan_order(
        self,
        order: Order | order_pb2.Order,
        policy: str = "CHEAPEST",
        include_options: bool = False,
        include_explanation: bool = False,
        solve_timeout: float | None = None,
        timeout: float | None = None,
        network: Network | None = None,
    ) -> plan_pb2.PlanOrderResponse:
        return self._call(
            self.routing.PlanOrder,
            self.plan_request(
                order, policy, include_options, include_explanation, solve_timeout, network
            ),
            timeout,
        )

    @staticmethod
    def plan_request(
        order: Order | order_pb2.Order,
        policy: str = "CHEAPEST",
        include_options: bool = False,
        include_explanation: bool = False,
        solve_timeout: float | None = None,
        network: Network | None = None,
    ) -> routing_service_pb2.PlanOrderRequest:
        message = convert.order_to_proto(order) if isinstance(order, Order) else order
        request = routing_service_pb2.PlanOrderRequest(
            order=message,
            policy=plan_pb2.Policy.Value(policy.upper()),
            include_options=include_options,
            include_explanation=include_explanation,
        )
        if solve_timeout is not None:
            request.timeout.FromNanoseconds(int(solve_timeout * 1e9))
        if network is not None:
            request.network.CopyFrom(convert.network_to_proto(network))
        return request

    def stream_plan_orders(
        self, requests: Iterable[routing_service_pb2.PlanOrderRequest], timeout: float | None = None
    ) -> Iterator[plan_pb2.PlanOrderResponse]:
        """One response per request, in order (failed requests carry ``error``)."""
        return iter(self.routing.StreamPlanOrders(iter(requests), timeout=timeout))

    def quote_delivery(
        self, request: routing_service_pb2.QuoteDeliveryRequest, timeout: float | None = None
    ) -> routing_service_pb2.QuoteDeliveryResponse:
        return self._call(self.routing.QuoteDelivery, request, timeout)

    def check_availability(
        self, request: routing_service_pb2.CheckAvailabilityRequest, timeout: float | None = None
    ) -> routing_service_pb2.CheckAvailabilityResponse:
        return self._call(self.routing.CheckAvailability, request, timeout)

    # ------------------------------------------------------------------------- network, stock

    def put_network(
        self, network: Network | network_pb2.Network, validate_only: bool = False
    ) -> network_service_pb2.PutNetworkResponse:
        message = convert.network_to_proto(network) if isinstance(network, Network) else network
        return self._call(
            self.network.PutNetwork,
            network_service_pb2.PutNetworkRequest(network=message, validate_only=validate_only),
        )

    def get_network(self, include_stock: bool = False) -> network_pb2.Network:
        return self._call(
            self.network.GetNetwork,
            network_service_pb2.GetNetworkRequest(include_stock=include_stock),
        )

    def update_stock(
        self, request: inventory_service_pb2.UpdateStockRequest
    ) -> inventory_service_pb2.UpdateStockResponse:
        return self._call(self.inventory.UpdateStock, request)

    def get_stock(
        self, sku_ids: Iterable[str] = (), node_ids: Iterable[str] = ()
    ) -> inventory_service_pb2.GetStockResponse:
        return self._call(
            self.inventory.GetStock,
            inventory_service_pb2.GetStockRequest(sku_ids=list(sku_ids), node_ids=list(node_ids)),
        )
