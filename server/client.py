"""A small typed Python client for the omniroute API, used by the CLI and the benchmarks.

It retries only ``UNAVAILABLE`` (the server is starting, restarting or draining), with
exponential backoff and jitter; every other status is raised to the caller as
:class:`grpc.RpcError`. Calls accept the engine's model objects or protobuf messages.

>>> with OmnirouteClient("localhost:50051") as client:
...     response = client.plan_order(order, policy="CHEAPEST", include_options=True)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
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

from omniroute.model import Network, Order
from omniroute.server import convert

T = TypeVar("T")
RETRIES = 5
BACKOFF = 0.05  # seconds, doubled per attempt


class OmnirouteClient:
    """Stubs for RoutingService, InventoryService and NetworkService on one channel."""

    def __init__(self, target: str, timeout: float = 30.0, retries: int = RETRIES) -> None:
        self.channel = grpc.insecure_channel(
            target,
            options=[
                ("grpc.max_receive_message_length", 64 * 1024 * 1024),
                ("grpc.max_send_message_length", 64 * 1024 * 1024),
            ],
        )
        self.timeout = timeout
        self.retries = retries
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
        for attempt in range(self.retries + 1):
            try:
                return fn(request, timeout=timeout or self.timeout)
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or attempt == self.retries:
                    raise
                time.sleep(BACKOFF * 2**attempt * (0.5 + random.random()))
        raise AssertionError("unreachable")

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
