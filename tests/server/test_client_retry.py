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


class ScriptedApi:
    """Every unary method of the API (found from its descriptors) fails its first
    ``failures`` calls with UNAVAILABLE, then answers an empty response (WaitOperation: a
    finished scenario)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: dict[str, int] = {}
        self.lock = threading.Lock()

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        from google.longrunning import operations_pb2
        from google.protobuf import message_factory

        from omniroute.v1 import scenario_service_pb2

        descriptors = [operations_pb2.DESCRIPTOR] + [
            importlib.import_module(f"omniroute.v1.{m.name}").DESCRIPTOR
            for m in pkgutil.iter_modules(omniroute.v1.__path__)
            if m.name.endswith("_pb2")
        ]
        handlers = []
        for descriptor in descriptors:
            for service in descriptor.services_by_name.values():
                methods = {}
                for method in service.methods:
                    if method.client_streaming or method.server_streaming:
                        continue
                    answer = message_factory.GetMessageClass(method.output_type)()
                    if method.name == "WaitOperation":
                        answer.done = True
                        answer.response.Pack(scenario_service_pb2.ScenarioKpis(orders=1))
                    methods[method.name] = grpc.unary_unary_rpc_method_handler(
                        self._behaviour(f"{service.name}/{method.name}", answer),
                        request_deserializer=message_factory.GetMessageClass(
                            method.input_type
                        ).FromString,
                        response_serializer=type(answer).SerializeToString,
                    )
                handlers.append(grpc.method_handlers_generic_handler(service.full_name, methods))
        return handlers

    def _behaviour(self, name: str, answer: object) -> Callable[..., object]:
        def call(request: object, context: grpc.ServicerContext) -> object:
            with self.lock:
                self.attempts[name] = attempt = self.attempts.get(name, 0) + 1
            if attempt <= self.failures:
                context.abort(grpc.StatusCode.UNAVAILABLE, f"scripted failure {attempt}")
            return answer

        return call


def test_every_helper_goes_through_the_retry_policy() -> None:
    """Each helper of the client, against a server whose every method answers UNAVAILABLE
    twice: each succeeds on its third attempt, and together they call every unary method of
    the API (Operations: those a scenario needs)."""
    from omniroute.model import Location, OrderLine, ShipmentLine
    from omniroute.v1 import inventory_service_pb2, network_pb2

    api = ScriptedApi(failures=2)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=api.handlers())
    port = server.add_insecure_port("localhost:0")
    server.start()
    order = order_pb2.Order(id="A-1")
    try:
        with OmnirouteClient(f"localhost:{port}", timeout=10) as c:
            c.plan_order(order)
            c.reserve(order)
            c.plan_orders([order])
            c.quote([OrderLine("1", "TEE", 1)], Location(-37.8, 145.0))
            c.availability(["TEE"], store_id="ST1")
            c.reroute_order("r-1", "DC1", [ShipmentLine("1", "TEE", 1)])
            c.get_order_plan("A-1")
            c.plan_return([("TEE", 1)], store_id="ST1")
            c.receive_return("ret-1")
            c.commit_reservation("r-1")
            c.release_reservation("r-1")
            c.get_reservation("r-1")
            c.put_inbound_supply([])
            c.list_inbound_supply()
            c.receive_inbound_supply("PO-1", 1)
            c.confirm_shipment("A-1", "DC1", "T-1")
            c.confirm_delivery("A-1", "T-1")
            c.cancel_order("A-1")
            c.get_order_status("A-1")
            c.list_orders(customer_id="C-1")
            c.put_network(network_pb2.Network())
            c.put_demand_forecast({"horizonDays": 1})
            c.get_network()
            c.update_stock([inventory_service_pb2.StockUpdate(node_id="DC1", sku_id="TEE")])
            c.get_stock()
            assert list(c.list_stock_positions()) == []
            c.start_scenario([order])
            c.get_operation("operations/1")
            c.cancel_operation("operations/1")
            assert c.wait_for_scenario("operations/1", timeout=5).orders == 1
    finally:
        server.stop(None)
    unary = {
        f"{service.rsplit('.', 1)[-1]}/{method}"
        for service, methods in api_services().items()
        for method in methods
        if method not in ("StreamPlanOrders", "WatchEvents")  # streams: no retry policy
    }
    assert set(api.attempts) == unary - {"Operations/ListOperations", "Operations/DeleteOperation"}
    assert api.attempts.pop("RoutingService/PlanOrder") == 3 + 1  # plan_order, then reserve
    assert set(api.attempts.values()) == {3}


def test_docs_show_the_shipped_service_config() -> None:
    """docs/formats.md quotes the service config as it ships."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "formats.md").read_text("utf-8")
    section = text.split("## Service config", 1)[1]
    quoted = section.split("```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(quoted) == load_service_config()
