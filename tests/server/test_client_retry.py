"""The client retries through gRPC's service config: only UNAVAILABLE, and only methods of
the API (``omniroute/v1/service_config.json``)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from importlib import resources

import grpc
import pytest

import omniroute.v1
from omniroute.server.client import OmnirouteClient
from omniroute.v1 import order_pb2, plan_pb2, routing_service_pb2_grpc


class ScriptedRouting(routing_service_pb2_grpc.RoutingServiceServicer):
    """PlanOrder fails the first ``failures`` calls with ``code``, then answers."""

    def __init__(self, failures: int, code: grpc.StatusCode) -> None:
        self.failures = failures
        self.code = code
        self.attempts = 0
        self.lock = threading.Lock()

    def PlanOrder(self, request, context):
        with self.lock:
            self.attempts += 1
            attempt = self.attempts
        if attempt <= self.failures:
            context.abort(self.code, f"scripted failure {attempt}")
        return plan_pb2.PlanOrderResponse(order_id=request.order.id)


@pytest.fixture()
def serve() -> Iterator[Callable[[ScriptedRouting], str]]:
    """Start a real gRPC server on port 0 with a servicer; return its target."""
    servers: list[grpc.Server] = []

    def start(servicer: ScriptedRouting) -> str:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        routing_service_pb2_grpc.add_RoutingServiceServicer_to_server(servicer, server)
        port = server.add_insecure_port("localhost:0")
        server.start()
        servers.append(server)
        return f"localhost:{port}"

    yield start
    for server in servers:
        server.stop(None)


def test_unavailable_is_retried_until_it_succeeds(serve: Callable[[ScriptedRouting], str]) -> None:
    """Two UNAVAILABLE answers, then success: plan_order succeeds after 3 attempts."""
    servicer = ScriptedRouting(failures=2, code=grpc.StatusCode.UNAVAILABLE)
    with OmnirouteClient(serve(servicer), timeout=10) as client:
        response = client.plan_order(order_pb2.Order(id="A-1"))
    assert response.order_id == "A-1"
    assert servicer.attempts == 3


def test_invalid_argument_is_not_retried(serve: Callable[[ScriptedRouting], str]) -> None:
    """INVALID_ARGUMENT is raised to the caller after exactly one attempt."""
    servicer = ScriptedRouting(failures=10, code=grpc.StatusCode.INVALID_ARGUMENT)
    with (
        OmnirouteClient(serve(servicer), timeout=10) as client,
        pytest.raises(grpc.RpcError) as caught,
    ):
        client.plan_order(order_pb2.Order(id="A-1"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert servicer.attempts == 1


def test_retries_zero_makes_one_attempt(serve: Callable[[ScriptedRouting], str]) -> None:
    """With retries=0 an UNAVAILABLE answer is raised at once, after one attempt."""
    servicer = ScriptedRouting(failures=2, code=grpc.StatusCode.UNAVAILABLE)
    with (
        OmnirouteClient(serve(servicer), timeout=10, retries=0) as client,
        pytest.raises(grpc.RpcError) as caught,
    ):
        client.plan_order(order_pb2.Order(id="A-1"))
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert servicer.attempts == 1


def api_services() -> dict[str, set[str]]:
    """Every service the server answers: those of the omniroute.v1 descriptors and the
    standard long-running Operations, with their method names."""
    from google.longrunning import operations_pb2

    operations = operations_pb2.DESCRIPTOR.services_by_name["Operations"]
    services: dict[str, set[str]] = {operations.full_name: {m.name for m in operations.methods}}
    for module in pkgutil.iter_modules(omniroute.v1.__path__):
        if module.name.endswith("_pb2"):
            descriptor = importlib.import_module(f"omniroute.v1.{module.name}").DESCRIPTOR
            for service in descriptor.services_by_name.values():
                services[service.full_name] = {m.name for m in service.methods}
    return services


def load_service_config() -> dict:
    """The service config JSON as shipped with omniroute.v1."""
    path = resources.files("omniroute.v1") / "service_config.json"
    return json.loads(path.read_text("utf-8"))


def test_service_config_names_only_api_methods() -> None:
    """The config names the services and methods the server answers, and all of them."""
    services = api_services()
    named = set()
    for method_config in load_service_config()["methodConfig"]:
        for name in method_config["name"]:
            assert name["service"] in services, name
            if name.get("method"):
                assert name["method"] in services[name["service"]], name
            named.add(name["service"])
    assert named == set(services)


def test_service_config_retries_only_unavailable() -> None:
    """Each retry policy retries UNAVAILABLE only, and no method config sets a timeout."""
    method_configs = load_service_config()["methodConfig"]
    policies = [c["retryPolicy"] for c in method_configs if "retryPolicy" in c]
    assert policies
    for policy in policies:
        assert policy["retryableStatusCodes"] == ["UNAVAILABLE"]
        assert policy["maxAttempts"] == 5
    assert not [c for c in method_configs if "timeout" in c]
