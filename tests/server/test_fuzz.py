"""Property-based fuzzing of every RPC, through a real in-process server and real channels.

Every method of every service the server registers (``omniroute.server.process.SERVICES``,
read from the descriptor pool, not listed here) is called with

* requests generated from the request's descriptor, field by field: strings (empty, long,
  unicode, NUL, ids of the served network), integers (the extremes of their width), doubles
  (NaN, infinities, extremes), enums (unknown numbers too), nested messages (to a depth),
  maps, repeated fields (short), Timestamps and Durations (out of range too);
* valid requests against the tiny network (a PlanOrder of an existing SKU, a QuoteDelivery,
  an UpdateStock, a reservation to commit, a scenario operation, ...) with a few fields
  replaced, cleared, dropped or duplicated;
* raw bytes sent without a serializer: wire records with unknown fields and wrong wire
  types, seeds concatenated, truncated or with a byte changed, random bytes;

and each call must end OK or with one of the documented client-error codes within its
deadline: never INTERNAL, UNKNOWN, CANCELLED or UNAVAILABLE, nor a status that does not reach
the client (trailers over gRPC's metadata limit); no status embedded in a response (a
stream's per-request error, an operation's error) may be INTERNAL or UNKNOWN; a stream that
ends OK answers every request; and nothing may be logged at ERROR by the server. Afterwards
the server still reports SERVING, plans a valid order, and its process grew by little memory.
The requests the fuzzing found ending INTERNAL are kept as regression cases (FINDINGS). The
CLI's file loaders (``omniroute plan``) get random and mutated network and orders files.

``OMNIROUTE_FUZZ_EXAMPLES`` sets the examples per method and kind of input (default sized for
about two minutes on two cores, derandomized); ``make fuzz`` runs ten times as many, with
fresh randomness each run.
"""

from __future__ import annotations

import gc
import json
import logging
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.longrunning import operations_pb2
from google.protobuf import (
    descriptor_pool,
    duration_pb2,
    json_format,
    message_factory,
    timestamp_pb2,
)
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import DecodeError, Message
from google.rpc import code_pb2
from google.type import date_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omniroute.ledger import open_ledger
from omniroute.model import Network
from omniroute.server.process import SERVICES, ServerConfig
from omniroute.v1 import (
    forecast_pb2,
    inventory_service_pb2,
    network_pb2,
    network_service_pb2,
    order_pb2,
    order_service_pb2,
    plan_pb2,
    routing_service_pb2,
    scenario_service_pb2,
)

from .conftest import ServerThread

DATA = Path(__file__).parents[1] / "data"
DEFAULT_EXAMPLES = 200
EXAMPLES = int(os.environ.get("OMNIROUTE_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
CLI_EXAMPLES = max(5, round(30 * EXAMPLES / DEFAULT_EXAMPLES))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    # The default run is the same every time (like the other property tests); a longer run
    # (make fuzz) explores fresh inputs.
    derandomize="OMNIROUTE_FUZZ_EXAMPLES" not in os.environ,
    suppress_health_check=list(HealthCheck),
)
CALL_TIMEOUT = 5.0  # seconds: the deadline of every fuzzed call
RSS_GROWTH_MB = 300  # the whole default run: the server and Hypothesis share the process
REPLAYED = 1000  # fuzzed requests replayed at the end, to see whether the server keeps memory
REPLAY_GROWTH_MB = 50

ALLOWED = frozenset(
    {
        grpc.StatusCode.OK,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    }
)
# A status inside a response (a stream's per-request error, a finished operation's error):
# an operation the fuzzer cancelled legitimately ends CANCELLED.
EMBEDDED_ALLOWED = frozenset({code.value[0] for code in ALLOWED} | {code_pb2.CANCELLED})

INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}
SPECIAL_STRINGS = (
    "",
    " ",
    "\x00",
    "DC1\x00",
    "TEE ",
    "tee",
    "é",
    "🚚📦",
    "\u202etxt",
    "\\",
    '"',
    "'; DROP TABLE stock; --",
    "%s%n%x",
    "../../etc/passwd",
    "NaN",
    "-1",
    "operations/",
    "operations/../x",
)
SPECIAL_DOUBLES = (
    0.0,
    -0.0,
    1.0,
    -1.0,
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    -1e308,
    5e-324,
    2.0**53 + 1,
    90.0,
    -90.0,
    90.000001,
    180.0,
    -180.000001,
)
FILTER_FIELDS = ("node_id", "sku_id", "on_hand", "safety_stock", "reserved", "atp", "nope", "")
FILTER_OPS = ("=", "!=", "<", "<=", ">", ">=", "==", "~", "")
FILTER_VALUES = (
    '"TEE"',
    '"DC1"',
    '"D\\"C"',
    '"\\\\"',
    '"',
    '""',
    "TEE",
    "0",
    "5",
    "-1",
    "1.5",
    "2147483648",
    "9223372036854775808",
    "-99999999999999999999999",
    "",
)
MAX_DEPTH = 6  # nested messages deeper than this stay unset
MAX_REPEATED = 3  # elements of a generated repeated field or map

POOL = descriptor_pool.Default()


def message_class(descriptor: Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(descriptor)


@dataclass(frozen=True)
class Rpc:
    """One method of a served service, with its path and message classes."""

    method: MethodDescriptor

    @property
    def path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def name(self) -> str:
        return f"{self.method.containing_service.name}.{self.method.name}"

    @property
    def request(self) -> type[Message]:
        return message_class(self.method.input_type)

    @property
    def response(self) -> type[Message]:
        return message_class(self.method.output_type)

    @property
    def streaming(self) -> bool:
        """Client streaming (StreamPlanOrders): one answer per request."""
        return bool(self.method.client_streaming)

    @property
    def server_streaming(self) -> bool:
        """One request, a stream of answers (WatchEvents)."""
        return bool(self.method.server_streaming and not self.method.client_streaming)


RPCS = tuple(Rpc(m) for name in SERVICES for m in POOL.FindServiceByName(name).methods)


# ----------------------------------------------------------------------------- the server


class ErrorLog(logging.Handler):
    """Keeps the records the server logs at ERROR (an internal error logs its traceback)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self, since: int = 0) -> str:
        return "\n".join(self.format(r) for r in self.records[since:])


@dataclass(repr=False)
class Fuzz:
    """The running server, a channel to it, valid seed requests and the ids they use."""

    server: ServerThread
    channel: grpc.Channel
    tiny: network_pb2.Network
    seeds: dict[str, list[Message]]
    ids: list[str]
    tokens: list[str]
    errors: ErrorLog
    rss_before_mb: float
    strategies: Strategies | None = None
    sent: list[tuple[Rpc, bytes]] = field(default_factory=list)  # a sample, for the replay
    calls: int = 0
    sampler: random.Random = field(default_factory=lambda: random.Random(0))

    def remember(self, rpc: Rpc, request: Message | bytes) -> None:
        """Keep a uniform sample of REPLAYED of the unary requests sent (reservoir)."""
        self.calls += 1
        payload = request if isinstance(request, bytes) else request.SerializeToString()
        if len(self.sent) < REPLAYED:
            self.sent.append((rpc, payload))
        elif (i := self.sampler.randrange(self.calls)) < REPLAYED:
            self.sent[i] = (rpc, payload)

    def unary(self, rpc: Rpc, raw: bool = False) -> Callable[..., Any]:
        if raw:
            return self.channel.unary_unary(rpc.path)
        return self.channel.unary_unary(
            rpc.path,
            request_serializer=rpc.request.SerializeToString,
            response_deserializer=rpc.response.FromString,
        )

    def server_stream(self, rpc: Rpc, raw: bool = False) -> Callable[..., Any]:
        if raw:
            return self.channel.unary_stream(rpc.path)
        return self.channel.unary_stream(
            rpc.path,
            request_serializer=rpc.request.SerializeToString,
            response_deserializer=rpc.response.FromString,
        )

    def stream(self, rpc: Rpc, raw: bool = False) -> Callable[..., Any]:
        if raw:
            return self.channel.stream_stream(rpc.path)
        return self.channel.stream_stream(
            rpc.path,
            request_serializer=rpc.request.SerializeToString,
            response_deserializer=rpc.response.FromString,
        )

    def restore_network(self) -> None:
        """Serve the tiny network (and its stock) again."""
        put = self.unary(rpc_named("NetworkService.PutNetwork"))
        put(network_service_pb2.PutNetworkRequest(network=self.tiny), timeout=30)


def rpc_named(name: str) -> Rpc:
    return next(rpc for rpc in RPCS if rpc.name == name)


def rss_mb() -> float:
    """Resident memory of this process (and so of the in-process server), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def tiny_network_proto() -> network_pb2.Network:
    return json_format.Parse((DATA / "tiny_network.json").read_text(), network_pb2.Network())


def tiny_orders_proto() -> list[order_pb2.Order]:
    lines = (DATA / "tiny_orders.jsonl").read_text().splitlines()
    return [json_format.Parse(line, order_pb2.Order()) for line in lines if line.strip()]


def make_seeds(fuzz: Fuzz) -> None:
    """Valid requests for every RPC, made against the live server (reservations, a return,
    an operation and a page token exist for the requests that name them)."""
    call = fuzz.unary
    tiny = fuzz.tiny
    orders = tiny_orders_proto()
    melbourne = network_pb2.Location(latitude=-37.85, longitude=145.0)
    forecast = forecast_pb2.DemandForecast(
        horizon_days=5,
        regions=[forecast_pb2.DemandRegion(id="MEL", centre=melbourne)],
        online=[
            forecast_pb2.OnlineDemand(region_id="MEL", sku_id=sku.id, units_per_day=3)
            for sku in tiny.skus
        ],
    )

    def hold(n: int) -> tuple[str, str, str]:
        order = order_pb2.Order(
            id=f"fuzz-hold-{n}",
            destination=melbourne,
            lines=[order_pb2.OrderLine(id="1", sku_id="TEE", quantity=1)],
        )
        response = call(rpc_named("RoutingService.PlanOrder"))(
            routing_service_pb2.PlanOrderRequest(
                order=order, reserve=True, request_id=f"fuzz-hold-{n}"
            ),
            timeout=30,
        )
        assert response.reservation_id, response
        return response.reservation_id, order.id, response.plan.shipments[0].node_id

    held = [hold(n) for n in range(4)]
    returned = call(rpc_named("RoutingService.PlanReturn"))(
        routing_service_pb2.PlanReturnRequest(
            lines=[routing_service_pb2.ReturnLine(sku_id="TEE", quantity=1)],
            store_id="ST1",
            request_id="fuzz-return",
        ),
        timeout=30,
    )
    scenario = scenario_service_pb2.StartScenarioRequest(
        orders=orders[:2],
        changes=scenario_service_pb2.ScenarioChanges(
            close_nodes=["ST2"],
            carrier_rates=scenario_service_pb2.RateChanges(by_carrier={"Post": 1.1}),
            safety_stock=scenario_service_pb2.NodeSettings(by_kind={"STORE": 1}),
        ),
        display_name="fuzz",
        request_id="fuzz-scenario",
    )
    operation = call(rpc_named("ScenarioService.StartScenario"))(scenario, timeout=30)
    call(rpc_named("Operations.WaitOperation"))(
        operations_pb2.WaitOperationRequest(name=operation.name), timeout=30
    )
    page = call(rpc_named("InventoryService.ListStockPositions"))(
        inventory_service_pb2.ListStockPositionsRequest(page_size=2), timeout=30
    )
    assert page.next_page_token
    fuzz.tokens = [page.next_page_token]

    plan = [routing_service_pb2.PlanOrderRequest(order=o) for o in orders]
    plan += [
        routing_service_pb2.PlanOrderRequest(
            order=orders[1],
            policy=plan_pb2.FASTEST,
            include_options=True,
            include_explanation=True,
            timeout=duration_pb2.Duration(seconds=1),
        ),
        routing_service_pb2.PlanOrderRequest(order=orders[0], validate_only=True),
        routing_service_pb2.PlanOrderRequest(
            order=orders[0], reserve=True, request_id="fuzz-plan-reserve"
        ),
        routing_service_pb2.PlanOrderRequest(order=orders[2], network=tiny),
    ]
    update = inventory_service_pb2.StockUpdate
    fuzz.seeds = {
        "RoutingService.PlanOrder": plan,
        "RoutingService.StreamPlanOrders": plan,
        "RoutingService.PlanOrders": [
            routing_service_pb2.PlanOrdersRequest(orders=orders[:3], unfilled_penalty=50),
            routing_service_pb2.PlanOrdersRequest(orders=orders[1:3], validate_only=True),
            routing_service_pb2.PlanOrdersRequest(orders=orders[:2], network=tiny),
        ],
        "RoutingService.QuoteDelivery": [
            routing_service_pb2.QuoteDeliveryRequest(
                lines=orders[1].lines, destination=orders[1].destination
            ),
            routing_service_pb2.QuoteDeliveryRequest(
                lines=[order_pb2.OrderLine(sku_id="TEE", quantity=2)], pickup_store_id="ST1"
            ),
        ],
        "RoutingService.CheckAvailability": [
            routing_service_pb2.CheckAvailabilityRequest(
                sku_ids=["TEE", "COAT"], location=melbourne, max_nodes=3
            ),
            routing_service_pb2.CheckAvailabilityRequest(sku_ids=["JEANS"], store_id="ST1"),
        ],
        "RoutingService.RerouteOrder": [
            routing_service_pb2.RerouteOrderRequest(
                reservation_id=held[0][0],
                node_id=held[0][2],
                lines=[plan_pb2.ShipmentLine(line_id="1", quantity=1)],
                reason=routing_service_pb2.RerouteOrderRequest.SHORT_PICK,
                request_id="fuzz-reroute",
            )
        ],
        "RoutingService.GetOrderPlan": [
            routing_service_pb2.GetOrderPlanRequest(order_id=h[1]) for h in held
        ],
        "RoutingService.PlanReturn": [
            routing_service_pb2.PlanReturnRequest(
                lines=[routing_service_pb2.ReturnLine(sku_id="TEE", quantity=1)],
                store_id="ST1",
                request_id="fuzz-return-2",
            ),
            routing_service_pb2.PlanReturnRequest(
                lines=[
                    routing_service_pb2.ReturnLine(
                        sku_id="COAT",
                        quantity=1,
                        condition=routing_service_pb2.ReturnLine.NEEDS_INSPECTION,
                    )
                ],
                origin=melbourne,
                unit_value=10,
                request_id="fuzz-return-3",
            ),
        ],
        "InventoryService.UpdateStock": [
            inventory_service_pb2.UpdateStockRequest(
                updates=[update(node_id="DC1", sku_id="TEE", set_on_hand=10)],
                validate_only=True,
            ),
            inventory_service_pb2.UpdateStockRequest(
                updates=[
                    update(node_id="ST1", sku_id="TEE", delta_on_hand=1),
                    update(node_id="ST2", sku_id="JEANS", safety_stock=1),
                ],
                request_id="fuzz-stock",
            ),
        ],
        "InventoryService.GetStock": [
            inventory_service_pb2.GetStockRequest(sku_ids=["TEE"], node_ids=["DC1", "ST1"]),
            inventory_service_pb2.GetStockRequest(),
        ],
        "InventoryService.ListStockPositions": [
            inventory_service_pb2.ListStockPositionsRequest(
                page_size=2, filter='sku_id = "TEE" AND atp > 0'
            ),
            inventory_service_pb2.ListStockPositionsRequest(
                page_size=2, page_token=page.next_page_token
            ),
        ],
        "InventoryService.CommitReservation": [
            inventory_service_pb2.CommitReservationRequest(reservation_id=held[1][0])
        ],
        "InventoryService.ReleaseReservation": [
            inventory_service_pb2.ReleaseReservationRequest(reservation_id=held[2][0])
        ],
        "InventoryService.GetReservation": [
            inventory_service_pb2.GetReservationRequest(reservation_id=h[0]) for h in held
        ],
        "InventoryService.ReceiveReturn": [
            inventory_service_pb2.ReceiveReturnRequest(return_id=returned.return_id)
        ],
        "OrderService.ConfirmShipment": [
            order_service_pb2.ConfirmShipmentRequest(
                order_id=held[3][1],
                node_id=held[3][2],
                lines=[plan_pb2.ShipmentLine(line_id="1", quantity=1)],
                carrier="Post",
                tracking_number="fuzz-T1",
                request_id="fuzz-ship",
            )
        ],
        "OrderService.ConfirmDelivery": [
            order_service_pb2.ConfirmDeliveryRequest(
                order_id=held[3][1], tracking_number="fuzz-T1", request_id="fuzz-deliver"
            )
        ],
        "OrderService.CancelOrder": [
            order_service_pb2.CancelOrderRequest(
                order_id=held[0][1], line_ids=["1"], reason="fuzz", request_id="fuzz-cancel"
            )
        ],
        "OrderService.GetOrderStatus": [
            order_service_pb2.GetOrderStatusRequest(order_id=h[1]) for h in held
        ],
        "OrderService.ListOrders": [
            order_service_pb2.ListOrdersRequest(node_id=held[0][2], page_size=2),
            order_service_pb2.ListOrdersRequest(
                node_id="DC1", state=order_service_pb2.OrderState.RESERVED
            ),
        ],
        "InventoryService.PutInboundSupply": [
            inventory_service_pb2.PutInboundSupplyRequest(
                supplies=[
                    network_pb2.InboundSupply(
                        id="fuzz-po",
                        node_id="DC1",
                        sku_id="TEE",
                        quantity=3,
                        arrival_date=date_pb2.Date(year=2027, month=1, day=4),
                    )
                ],
                request_id="fuzz-po",
            ),
            inventory_service_pb2.PutInboundSupplyRequest(
                supplies=[
                    network_pb2.InboundSupply(
                        id="fuzz-po-2",
                        node_id="ST1",
                        sku_id="COAT",
                        quantity=1,
                        arrival_date=date_pb2.Date(year=2027, month=2, day=1),
                    )
                ],
                validate_only=True,
            ),
        ],
        "InventoryService.ListInboundSupply": [
            inventory_service_pb2.ListInboundSupplyRequest(),
            inventory_service_pb2.ListInboundSupplyRequest(node_id="DC1"),
        ],
        "InventoryService.ReceiveInboundSupply": [
            inventory_service_pb2.ReceiveInboundSupplyRequest(
                supply_id="fuzz-po", quantity=1, request_id="fuzz-receive"
            )
        ],
        "NetworkService.PutNetwork": [
            network_service_pb2.PutNetworkRequest(network=tiny, validate_only=True),
            network_service_pb2.PutNetworkRequest(network=tiny),
        ],
        "NetworkService.PutDemandForecast": [
            network_service_pb2.PutDemandForecastRequest(forecast=forecast, validate_only=True),
            network_service_pb2.PutDemandForecastRequest(forecast=forecast, theta=1.5),
        ],
        "NetworkService.GetNetwork": [
            network_service_pb2.GetNetworkRequest(include_stock=True),
            network_service_pb2.GetNetworkRequest(),
        ],
        "ScenarioService.StartScenario": [
            scenario,
            scenario_service_pb2.StartScenarioRequest(
                orders=orders[2:4], mode=scenario_service_pb2.StartScenarioRequest.BATCH
            ),
        ],
        "InventoryService.WatchEvents": [
            inventory_service_pb2.WatchEventsRequest(stop_at_end=True),
            inventory_service_pb2.WatchEventsRequest(
                after_cursor=2,
                types=[inventory_service_pb2.Event.RESERVATION_HELD],
                stop_at_end=True,
            ),
        ],
        "Operations.ListOperations": [operations_pb2.ListOperationsRequest(page_size=2)],
        "Operations.GetOperation": [operations_pb2.GetOperationRequest(name=operation.name)],
        "Operations.DeleteOperation": [operations_pb2.DeleteOperationRequest(name=operation.name)],
        "Operations.CancelOperation": [operations_pb2.CancelOperationRequest(name=operation.name)],
        "Operations.WaitOperation": [
            operations_pb2.WaitOperationRequest(
                name=operation.name, timeout=duration_pb2.Duration(seconds=1)
            )
        ],
    }
    fuzz.ids = sorted(
        {n.id for n in tiny.nodes}
        | {s.id for s in tiny.skus}
        | {c.id for c in tiny.carrier_services}
        | {c.carrier for c in tiny.carrier_services}
        | {o.id for o in orders}
        | {h[0] for h in held}
        | {h[1] for h in held}
        | {returned.return_id, operation.name, "1", "2", "DC", "STORE", "DROP_SHIP"}
    )


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory, tiny_network: Network) -> Iterator[Fuzz]:
    """A real server on a fresh store holding the tiny network, with seeds made through it."""
    path = tmp_path_factory.mktemp("fuzz") / "omniroute.db"
    ledger = open_ledger(path)
    ledger.put_network(tiny_network)
    ledger.close()
    errors = ErrorLog()
    watched = [logging.getLogger("omniroute"), logging.getLogger("asyncio")]
    for logger in watched:
        logger.addHandler(errors)
    config = ServerConfig(db=str(path), host="localhost", port=0, grace=1.0)
    with ServerThread(config) as server:
        channel = grpc.insecure_channel(
            server.target,
            options=[
                ("grpc.max_receive_message_length", 64 * 1024 * 1024),
                ("grpc.max_send_message_length", 64 * 1024 * 1024),
                ("grpc.enable_retries", 0),
            ],
        )
        fuzz = Fuzz(server, channel, tiny_network_proto(), {}, [], [], errors, 0.0)
        make_seeds(fuzz)
        fuzz.rss_before_mb = rss_mb()
        try:
            yield fuzz
        finally:
            channel.close()
            for logger in watched:
                logger.removeHandler(errors)


# ----------------------------------------------------------------------------- findings
#
# What this fuzzer found ending INTERNAL (or with a status that did not reach the client),
# each as one request, kept as regression cases: test_fuzzing_findings_stay_fixed.

MELBOURNE = network_pb2.Location(latitude=-37.85, longitude=145.0)


def tee_order(quantity: int = 1, order_id: str = "bug", **fields: Any) -> order_pb2.Order:
    line = order_pb2.OrderLine(id="1", sku_id="TEE", quantity=quantity)
    return order_pb2.Order(id=order_id, destination=MELBOURNE, lines=[line], **fields)


def tiny_with_node_kind(kind: int) -> network_pb2.Network:
    network = tiny_network_proto()
    network.nodes[0].kind = kind
    return network


FINDINGS: tuple[tuple[str, str, Message], ...] = (
    (
        "stock-beyond-int32",
        "InventoryService.UpdateStock",
        inventory_service_pb2.UpdateStockRequest(
            updates=[
                inventory_service_pb2.StockUpdate(
                    node_id="DC1", sku_id="TEE", delta_on_hand=2**31 - 1
                )
            ],
            validate_only=True,
        ),
    ),
    (
        "filter-string-not-json",
        "InventoryService.ListStockPositions",
        inventory_service_pb2.ListStockPositionsRequest(filter='sku_id = "a\tb"'),
    ),
    (
        "unknown-order-channel",
        "RoutingService.PlanOrder",
        routing_service_pb2.PlanOrderRequest(order=tee_order(channel=99)),
    ),
    (
        "unknown-node-kind",
        "NetworkService.PutNetwork",
        network_service_pb2.PutNetworkRequest(network=tiny_with_node_kind(7), validate_only=True),
    ),
    (
        "unknown-return-condition",
        "RoutingService.PlanReturn",
        routing_service_pb2.PlanReturnRequest(
            lines=[routing_service_pb2.ReturnLine(sku_id="TEE", quantity=1, condition=3)],
            store_id="ST1",
            request_id="finding-condition",
        ),
    ),
    (
        "create-time-out-of-range",
        "RoutingService.PlanOrder",
        routing_service_pb2.PlanOrderRequest(
            order=tee_order(create_time=timestamp_pb2.Timestamp(seconds=0, nanos=-1))
        ),
    ),
    (
        "timeout-beyond-timedelta",
        "RoutingService.QuoteDelivery",
        routing_service_pb2.QuoteDeliveryRequest(
            lines=tee_order().lines,
            destination=MELBOURNE,
            timeout=duration_pb2.Duration(seconds=-(2**63)),
        ),
    ),
    (
        "wait-timeout-beyond-timedelta",
        "Operations.WaitOperation",
        operations_pb2.WaitOperationRequest(
            name="operations/x", timeout=duration_pb2.Duration(seconds=-(2**63))
        ),
    ),
    (
        "plan-orders-units-beyond-int32",
        "RoutingService.PlanOrders",
        routing_service_pb2.PlanOrdersRequest(
            orders=[tee_order(2**31 - 1), tee_order(2**31 - 1, "bug-2")]
        ),
    ),
    (
        "scenario-units-beyond-int32",  # was accepted, then its operation could not be read
        "ScenarioService.StartScenario",
        scenario_service_pb2.StartScenarioRequest(
            orders=[tee_order(2**31 - 1), tee_order(2**31 - 1, "bug-2")]
        ),
    ),
    (
        "availability-location-nan",
        "RoutingService.CheckAvailability",
        routing_service_pb2.CheckAvailabilityRequest(
            sku_ids=["TEE", "COAT"],
            location=network_pb2.Location(latitude=math.nan, longitude=0.0),
        ),
    ),
    (
        "return-origin-infinite",
        "RoutingService.PlanReturn",
        routing_service_pb2.PlanReturnRequest(
            lines=[routing_service_pb2.ReturnLine(sku_id="TEE", quantity=1)],
            origin=network_pb2.Location(latitude=-math.inf, longitude=10.0),
            request_id="finding-origin",
        ),
    ),
    (
        "return-unit-value-infinite",
        "RoutingService.PlanReturn",
        routing_service_pb2.PlanReturnRequest(
            lines=[routing_service_pb2.ReturnLine(sku_id="TEE", quantity=1)],
            store_id="ST1",
            unit_value=math.inf,
            request_id="finding-unit-value",
        ),
    ),
    (
        "filter-integer-beyond-int64",
        "InventoryService.ListStockPositions",
        inventory_service_pb2.ListStockPositionsRequest(filter="atp = 9223372036854775808"),
    ),
    (
        "not-found-of-a-long-id",  # the id quoted in full made trailers pass 8-16 KiB
        "InventoryService.GetReservation",
        inventory_service_pb2.GetReservationRequest(reservation_id="x" * 20_000),
    ),
)


# ----------------------------------------------------------------------------- strategies


def is_map(f: FieldDescriptor) -> bool:
    return f.message_type is not None and f.message_type.GetOptions().map_entry


def is_repeated(f: FieldDescriptor) -> bool:
    return bool(f.is_repeated)


def timestamp_or_duration(descriptor: Descriptor) -> st.SearchStrategy[Message]:
    """Seconds and nanos at and beyond the type's documented range."""
    cls = message_class(descriptor)
    if descriptor.full_name == "google.protobuf.Timestamp":
        edges = [0, 1, -1, -62135596800, 253402300799, -62135596801, 253402300800]
    else:
        edges = [0, 1, -1, 5, 60, 315576000000, -315576000000, 315576000001, 10**12]
    seconds = st.one_of(
        st.sampled_from([*edges, -(2**63), 2**63 - 1]),
        st.integers(-(2**63), 2**63 - 1),
        st.integers(-10, 10),
    )
    nanos = st.one_of(
        st.just(0),
        st.sampled_from([1, 999_999_999, 10**9, -1, -999_999_999, -(2**31), 2**31 - 1]),
        st.integers(-(2**31), 2**31 - 1),
    )
    return st.builds(lambda s, n: cls(seconds=s, nanos=n), seconds, nanos)


def filter_strategy() -> st.SearchStrategy[str]:
    """ListStockPositions filters: mostly near the grammar, some far from it."""
    comparison = st.builds(
        lambda f, o, v, s: s.join(p for p in (f, o, v) if p) if s else f + o + v,
        st.sampled_from(FILTER_FIELDS),
        st.sampled_from(FILTER_OPS),
        st.sampled_from(FILTER_VALUES),
        st.sampled_from([" ", "  ", ""]),
    )
    joined = st.builds(
        lambda parts, glue: glue.join(parts),
        st.lists(comparison, min_size=1, max_size=3),
        st.sampled_from([" AND ", " and ", " OR ", "AND", " AND AND "]),
    )
    return st.one_of(joined, st.text(max_size=20), st.sampled_from(SPECIAL_STRINGS))


class Strategies:
    """Strategies for the messages and fields of the descriptors, with the live ids."""

    def __init__(self, fuzz: Fuzz) -> None:
        self.fuzz = fuzz
        self.ids = pick(fuzz.ids)
        self.cache: dict[tuple[str, int], st.SearchStrategy[Any]] = {}

    def text(self, f: FieldDescriptor) -> st.SearchStrategy[str]:
        generic = st.one_of(
            st.sampled_from(SPECIAL_STRINGS),
            st.sampled_from([128, 129, 256, 257, 20_000]).map(lambda n: "a" * n),  # id limits
            st.text(max_size=12),
            st.text(st.characters(codec="ascii"), max_size=8),
        )
        name = f.name
        if name == "filter":
            return filter_strategy()
        if name == "page_token":
            return st.one_of(pick(self.fuzz.tokens), generic)
        if name.endswith(("id", "ids", "name", "by_kind", "key")) or name in ("close_nodes",):
            return st.one_of(self.ids, self.ids, generic)
        return generic

    def scalar(self, f: FieldDescriptor) -> st.SearchStrategy[Any]:
        t = f.type
        if t in INT_RANGES:
            low, high = INT_RANGES[t]
            edges = {low, high, low + 1, high - 1, 0, 1, 2, 3, 5, 1000, 1001, 10_000, 10_001}
            if low < 0:
                edges |= {-1, -2}
            return st.one_of(
                st.sampled_from(sorted(e for e in edges if low <= e <= high)),
                st.integers(max(low, -3), min(high, 12)),
                st.integers(low, high),
            )
        if t == FieldDescriptor.TYPE_DOUBLE:
            if f.name in ("latitude", "longitude"):
                limit = 90.0 if f.name == "latitude" else 180.0
                near = st.floats(-limit, limit)
            else:
                near = st.floats(-1000, 1000)
            return st.one_of(st.sampled_from(SPECIAL_DOUBLES), near, st.floats())
        if t == FieldDescriptor.TYPE_FLOAT:
            return st.floats(width=32)
        if t == FieldDescriptor.TYPE_BOOL:
            return st.booleans()
        if t == FieldDescriptor.TYPE_STRING:
            return self.text(f)
        if t == FieldDescriptor.TYPE_BYTES:
            return st.binary(max_size=16)
        if t == FieldDescriptor.TYPE_ENUM:
            known = [v.number for v in f.enum_type.values]
            return st.one_of(
                st.sampled_from(known), st.sampled_from([-1, len(known), 99, 2**31 - 1, -(2**31)])
            )
        raise AssertionError(f"no strategy for {f.full_name} (type {t})")

    def element(self, f: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
        """One value of the field (one element when repeated)."""
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            return self.message(f.message_type, depth + 1)
        return self.scalar(f)

    def value(self, f: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
        """What the field is set to: a dict for a map, a short list when repeated."""
        if is_map(f):
            key, value = (
                f.message_type.fields_by_name["key"],
                f.message_type.fields_by_name["value"],
            )
            return st.dictionaries(
                self.scalar(key), self.element(value, depth), max_size=MAX_REPEATED
            )
        if is_repeated(f):
            return st.lists(self.element(f, depth), max_size=MAX_REPEATED)
        return self.element(f, depth)

    def message(self, descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
        """A message with about half of its fields set, each to a generated value."""
        key = (descriptor.full_name, depth)
        if key not in self.cache:
            if descriptor.full_name in ("google.protobuf.Timestamp", "google.protobuf.Duration"):
                self.cache[key] = timestamp_or_duration(descriptor)
            elif depth > MAX_DEPTH:
                self.cache[key] = st.just(message_class(descriptor)())
            else:
                self.cache[key] = st.deferred(lambda: self._message(descriptor, depth))
        return self.cache[key]

    def _message(self, descriptor: Descriptor, depth: int) -> st.SearchStrategy[Message]:
        fields = list(descriptor.fields)
        values = {f.name: st.none() | self.value(f, depth) for f in fields}

        def build(drawn: dict[str, Any]) -> Message:
            message = message_class(descriptor)()
            for f in fields:
                if drawn[f.name] is not None:
                    assign(message, f, drawn[f.name])
            return message

        return st.fixed_dictionaries(values).map(build)

    def mutated(self, seeds: list[Message]) -> st.SearchStrategy[Message]:
        """A seed with one to three fields replaced, cleared, or (repeated) dropped,
        duplicated or extended."""

        @st.composite
        def strategy(draw: st.DrawFn) -> Message:
            message = draw(pick(seeds))
            message = type(message).FromString(message.SerializeToString())
            for _ in range(draw(st.integers(1, 3))):
                parent, f, depth = draw(pick(list(slots(message))))
                actions = ["replace", "replace", "clear"]
                container = getattr(parent, f.name)
                if is_repeated(f) and not is_map(f):
                    actions += ["append"] + (["drop", "duplicate"] if len(container) else [])
                action = draw(st.sampled_from(actions))
                if action == "clear":
                    parent.ClearField(f.name)
                elif action == "replace":
                    parent.ClearField(f.name)
                    assign(parent, f, draw(self.value(f, depth)))
                elif action == "append":
                    assign(parent, f, [draw(self.element(f, depth))])
                else:
                    i = draw(st.integers(0, len(container) - 1))
                    if action == "drop":
                        del container[i]
                    else:
                        assign(parent, f, [container[i]])
            return message

        return strategy()

    def requests(self, rpc: Rpc) -> st.SearchStrategy[Message]:
        """Generated requests and mutated seeds, about as many of each."""
        return st.one_of(
            self.message(rpc.method.input_type), self.mutated(self.fuzz.seeds[rpc.name])
        )

    def payloads(self, rpc: Rpc) -> st.SearchStrategy[bytes]:
        """Raw payloads: wire records (unknown fields, fields of a wrong wire type, singular
        fields repeated), seeds concatenated, truncated or with a byte changed, random bytes.
        Many decode as the request; the others do not."""
        numbers = [f.number for f in rpc.method.input_type.fields]
        record = st.builds(
            wire_record,
            st.one_of(st.sampled_from(numbers), st.integers(1, 2**29 - 1)),
            st.sampled_from([0, 1, 2, 5]),
            st.binary(max_size=12),
            st.integers(0, 2**64 - 1),
        )
        seeds = [s.SerializeToString() for s in self.fuzz.seeds[rpc.name]]
        return st.one_of(
            st.builds(b"".join, st.lists(record, max_size=4)),
            st.builds(lambda a, b, r: a + r + b, pick(seeds), pick(seeds), record),
            st.builds(lambda seed, cut: seed[: cut % (len(seed) + 1)], pick(seeds), st.integers()),
            st.builds(changed_byte, pick(seeds), st.integers(), st.integers(0, 255)),
            st.binary(max_size=32),
        )


def changed_byte(payload: bytes, position: int, value: int) -> bytes:
    if not payload:
        return bytes([value])
    i = position % len(payload)
    return payload[:i] + bytes([value]) + payload[i + 1 :]


def pick(values: list[Any]) -> st.SearchStrategy[Any]:
    """One of ``values`` (sampled_from, without its repr of every value)."""
    return st.integers(0, len(values) - 1).map(values.__getitem__)


def slots(message: Message, depth: int = 0) -> Iterator[tuple[Message, FieldDescriptor, int]]:
    """Every field of the message and of its set sub-messages: (parent, field, depth)."""
    for f in message.DESCRIPTOR.fields:
        yield message, f, depth
        if f.type != FieldDescriptor.TYPE_MESSAGE or is_map(f):
            continue
        if is_repeated(f):
            for element in getattr(message, f.name):
                yield from slots(element, depth + 1)
        elif message.HasField(f.name):
            yield from slots(getattr(message, f.name), depth + 1)


def assign(message: Message, f: FieldDescriptor, value: Any) -> None:
    """Set (a map: add to, repeated: extend) one field of ``message``."""
    container = getattr(message, f.name)
    if is_map(f):
        message_values = f.message_type.fields_by_name["value"].message_type is not None
        for k, v in value.items():
            if message_values:
                container[k].CopyFrom(v)
            else:
                container[k] = v
    elif is_repeated(f):
        container.extend(value)
    elif f.type == FieldDescriptor.TYPE_MESSAGE:
        container.SetInParent()
        container.CopyFrom(value)
    else:
        setattr(message, f.name, value)


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def wire_record(number: int, wire_type: int, payload: bytes, integer: int) -> bytes:
    """One protobuf wire record of any field number and wire type."""
    tag = varint(number << 3 | wire_type)
    if wire_type == 0:
        return tag + varint(integer)
    if wire_type == 1:
        return tag + integer.to_bytes(8, "little")
    if wire_type == 5:
        return tag + (integer & 0xFFFFFFFF).to_bytes(4, "little")
    return tag + varint(len(payload)) + payload


def decodes(rpc: Rpc, payload: bytes) -> bool:
    try:
        rpc.request.FromString(payload)
    except DecodeError:
        return False
    return True


# ----------------------------------------------------------------------------- the checks


def strategies(fuzz: Fuzz) -> Strategies:
    """The strategies of the run (made once: they hold the live ids)."""
    if fuzz.strategies is None:
        fuzz.strategies = Strategies(fuzz)
    return fuzz.strategies


def embedded_statuses(message: Message, where: str = "") -> Iterator[tuple[str, int]]:
    """(path, code) of every google.rpc.Status set anywhere in a response."""
    for f, value in message.ListFields():
        if f.type != FieldDescriptor.TYPE_MESSAGE or is_map(f):
            continue
        elements = value if is_repeated(f) else [value]
        for i, element in enumerate(elements):
            path = f"{where}{f.name}" + (f"[{i}]" if is_repeated(f) else "")
            if f.message_type.full_name == "google.rpc.Status":
                yield path, element.code
            else:
                yield from embedded_statuses(element, path + ".")


def describe(request: Any) -> str:
    if isinstance(request, Message):
        return f"{type(request).__name__} {request!s}"[:4000] or "(empty)"
    return repr(request)[:4000]


def check(
    fuzz: Fuzz, rpc: Rpc, request: Any, code: grpc.StatusCode, details: str, since: int
) -> None:
    """The invariants of one call: a documented code, no traceback, nothing logged. (What
    the server logged is reported here, and so not again by the final check.)"""
    logged = fuzz.errors.text(since)
    del fuzz.errors.records[since:]
    assert code in ALLOWED, (
        f"{rpc.path} ended {code.name}: {details}\nrequest: {describe(request)}\n"
        f"server log:\n{logged}"
    )
    assert "Traceback" not in (details or ""), details
    assert "metadata size exceeds" not in (details or ""), (
        f"{rpc.path}: the status did not reach the client: {details}\nrequest: {describe(request)}"
    )
    assert not logged, f"{rpc.path} logged errors:\n{logged}\nrequest: {describe(request)}"


def check_response(rpc: Rpc, request: Any, response: Message) -> None:
    for path, value in embedded_statuses(response):
        assert value in EMBEDDED_ALLOWED, (
            f"{rpc.path} answered with {path}.code = {code_pb2.Code.Name(value)}: "
            f"{response}\nrequest: {describe(request)}"
        )


STOP_AT_END = b"\x18\x01"  # WatchEventsRequest.stop_at_end = true (the last value wins)


def call_server_stream(fuzz: Fuzz, rpc: Rpc, request: Message | bytes) -> Any:
    """One server-streaming call (WatchEvents), told to end once caught up (a following
    stream is tested end to end); checks the invariants of the status and every answer."""
    raw = isinstance(request, bytes)
    if raw:
        request = request + STOP_AT_END
    else:
        request = type(request).FromString(request.SerializeToString())
        request.stop_at_end = True
    since = len(fuzz.errors.records)
    try:
        responses = list(fuzz.server_stream(rpc, raw)(request, timeout=CALL_TIMEOUT))
    except grpc.RpcError as error:
        check(fuzz, rpc, request, error.code(), error.details(), since)
        return None
    check(fuzz, rpc, request, grpc.StatusCode.OK, "", since)
    for response in responses:
        check_response(rpc, request, rpc.response.FromString(response) if raw else response)
    return responses


def call_unary(fuzz: Fuzz, rpc: Rpc, request: Message | bytes) -> Any:
    """One unary call with its deadline; checks the invariants and returns the response."""
    if rpc.server_streaming:
        return call_server_stream(fuzz, rpc, request)
    fuzz.remember(rpc, request)
    raw = isinstance(request, bytes)
    since = len(fuzz.errors.records)
    try:
        response = fuzz.unary(rpc, raw)(request, timeout=CALL_TIMEOUT)
    except grpc.RpcError as error:
        check(fuzz, rpc, request, error.code(), error.details(), since)
        return None
    check(fuzz, rpc, request, grpc.StatusCode.OK, "", since)
    if raw:
        response = rpc.response.FromString(response)
    check_response(rpc, request, response)
    return response


def call_stream(fuzz: Fuzz, rpc: Rpc, requests: list[Message] | list[bytes]) -> None:
    """One streaming call: send the requests, read the answers within the deadline; when the
    stream ends OK, there is one answer per request."""
    raw = bool(requests) and isinstance(requests[0], bytes)
    since = len(fuzz.errors.records)
    try:
        responses = list(fuzz.stream(rpc, raw)(iter(requests), timeout=CALL_TIMEOUT))
    except grpc.RpcError as error:
        check(fuzz, rpc, requests, error.code(), error.details(), since)
        return
    check(fuzz, rpc, requests, grpc.StatusCode.OK, "", since)
    assert len(responses) == len(requests), (
        f"{rpc.path}: {len(requests)} requests, {len(responses)} responses, status OK\n"
        f"requests: {describe(requests)}"
    )
    for response in responses:
        check_response(rpc, requests, rpc.response.FromString(response) if raw else response)


def call(fuzz: Fuzz, rpc: Rpc, request: Message) -> None:
    if rpc.streaming:
        call_stream(fuzz, rpc, [request])
        return
    response = call_unary(fuzz, rpc, request)
    if response is None:
        return
    if rpc.name == "NetworkService.PutNetwork" and response.version:
        fuzz.restore_network()  # keep the later calls meaningful
    if rpc.name == "InventoryService.UpdateStock" and not request.validate_only:
        fuzz.restore_network()  # stock changes do not add up across examples


RESTORE_AFTER = {"NetworkService.PutNetwork", "InventoryService.UpdateStock"}


@pytest.fixture()
def restore(fuzz: Fuzz) -> Iterator[None]:
    """Each test starts and ends on the tiny network (UpdateStock, PutNetwork change it)."""
    yield
    fuzz.restore_network()


def test_every_served_rpc_is_fuzzed(fuzz: Fuzz) -> None:
    """The fuzzer covers every method of every service the server registers (from the
    descriptors), each with valid seed requests that the server accepts."""
    assert len(RPCS) >= 20, [rpc.name for rpc in RPCS]
    assert {rpc.method.containing_service.full_name for rpc in RPCS} == set(SERVICES)
    assert set(fuzz.seeds) == {rpc.name for rpc in RPCS}
    read_only = [
        "RoutingService.PlanOrder",
        "RoutingService.PlanOrders",
        "RoutingService.QuoteDelivery",
        "RoutingService.CheckAvailability",
        "InventoryService.GetStock",
        "InventoryService.ListStockPositions",
        "NetworkService.GetNetwork",
        "Operations.ListOperations",
    ]
    for name in read_only:
        rpc = rpc_named(name)
        for seed in fuzz.seeds[name]:
            fuzz.unary(rpc)(seed, timeout=30)


@pytest.mark.usefixtures("restore")
@pytest.mark.parametrize("rpc", RPCS, ids=lambda rpc: rpc.name)
@SETTINGS
@given(data=st.data())
def test_fuzzed_requests(fuzz: Fuzz, rpc: Rpc, data: st.DataObject) -> None:
    """Requests generated from the descriptor, and valid requests with fields replaced,
    end OK or with a documented client-error code, nothing logged at ERROR; a stream of a
    few such requests answers each of them."""
    requests = strategies(fuzz).requests(rpc)
    if rpc.streaming:
        stream = data.draw(st.lists(requests, min_size=1, max_size=3))
        call_stream(fuzz, rpc, stream)
    else:
        request = data.draw(requests)
        call(fuzz, rpc, request)


@pytest.mark.usefixtures("restore")
@pytest.mark.parametrize("rpc", RPCS, ids=lambda rpc: rpc.name)
@settings(SETTINGS, max_examples=max(1, EXAMPLES // 3))
@given(data=st.data())
def test_fuzzed_raw_bytes(fuzz: Fuzz, rpc: Rpc, data: st.DataObject) -> None:
    """Raw payloads sent without a serializer (wire records with unknown fields and wrong
    wire types, seeds concatenated, truncated or with a byte changed, random bytes: many do
    not decode) are answered properly."""
    payloads = strategies(fuzz).payloads(rpc)
    if rpc.streaming:
        stream = data.draw(st.lists(payloads, min_size=1, max_size=3))
        call_stream(fuzz, rpc, stream)
    else:
        payload = data.draw(payloads)
        if call_unary(fuzz, rpc, payload) is not None and rpc.name in RESTORE_AFTER:
            fuzz.restore_network()


UNDECODABLE = (
    b"\xff",  # a tag with a truncated varint
    b"\x80",
    b"\x0a\x05ab",  # field 1, length 5, 2 bytes
    b"\x0a\xff\xff\xff\xff\x0f",  # field 1, length 2^32 - 1
    b"\x07",  # field 0, wire type 7
    b"\x0a\x02\xc3\x28",  # field 1 (a string in most requests): invalid UTF-8
)


def test_undecodable_payloads_are_invalid_argument(fuzz: Fuzz) -> None:
    """A payload that is not a request of the method (truncated, malformed, invalid UTF-8)
    is a client error: INVALID_ARGUMENT (grpc.aio itself would end it UNKNOWN)."""
    wrong = []
    for rpc in RPCS:
        if rpc.streaming:
            continue
        for payload in UNDECODABLE:
            if decodes(rpc, payload):
                continue
            try:
                if rpc.server_streaming:
                    list(fuzz.server_stream(rpc, raw=True)(payload, timeout=CALL_TIMEOUT))
                else:
                    fuzz.unary(rpc, raw=True)(payload, timeout=CALL_TIMEOUT)
                wrong.append(f"{rpc.name} {payload!r}: OK")
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
                    wrong.append(f"{rpc.name} {payload!r}: {error.code().name} {error.details()}")
    assert not wrong, "\n".join(wrong)


def test_stream_with_an_undecodable_message(fuzz: Fuzz) -> None:
    """A stream with a message that does not decode either answers every message or ends
    with an error status: it never ends OK with requests left unanswered."""
    rpc = next(rpc for rpc in RPCS if rpc.streaming)
    valid = fuzz.seeds[rpc.name][0].SerializeToString()
    call_stream(fuzz, rpc, [valid, b"\x0a\x05ab", valid])


@pytest.mark.parametrize(
    ("rpc_name", "request_"), [f[1:] for f in FINDINGS], ids=[f[0] for f in FINDINGS]
)
def test_fuzzing_findings_stay_fixed(fuzz: Fuzz, rpc_name: str, request_: Message) -> None:
    """Each request the fuzzing once found ending INTERNAL (or with a status lost to the
    metadata limit) ends with a client-error code, nothing logged; a scenario it starts can
    be read back when done, and listed."""
    rpc = rpc_named(rpc_name)
    response = call_unary(fuzz, rpc, request_)
    if rpc.name == "ScenarioService.StartScenario" and response is not None:
        name = response.name
        try:
            get = rpc_named("Operations.GetOperation")
            for _ in range(100):
                operation = call_unary(fuzz, get, operations_pb2.GetOperationRequest(name=name))
                if operation is None or operation.done:
                    break
                time.sleep(0.1)
            list_operations = rpc_named("Operations.ListOperations")
            call_unary(fuzz, list_operations, operations_pb2.ListOperationsRequest())
        finally:
            fuzz.unary(rpc_named("Operations.DeleteOperation"))(
                operations_pb2.DeleteOperationRequest(name=name), timeout=30
            )


@settings(SETTINGS, max_examples=max(3, EXAMPLES // 3))
@given(
    service=st.sampled_from([*SERVICES, "omniroute.v1.Nope", "grpc.health.v2.Health"]),
    method=st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,30}", fullmatch=True),
)
def test_unknown_methods_are_unimplemented(fuzz: Fuzz, service: str, method: str) -> None:
    """A method the server does not have is UNIMPLEMENTED (and only such a method is)."""
    path = f"/{service}/{method}"
    if any(rpc.path == path for rpc in RPCS):
        return
    with pytest.raises(grpc.RpcError) as raised:
        fuzz.channel.unary_unary(path)(b"", timeout=CALL_TIMEOUT)
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED, raised.value


# ----------------------------------------------------------------------------- the CLI

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, -1, 1, 2**31 - 1, 2**31, -(2**31) - 1, 2**63, 10**30]),
    st.integers(-100, 100),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(SPECIAL_STRINGS),
    st.text(max_size=8),
)


def json_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in json_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in json_keys(v)}
    return set()


def json_values(keys: list[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        JSON_SCALARS,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), children, max_size=3),
        ),
        max_leaves=8,
    )


def json_slots(value: Any) -> Iterator[tuple[Any, Any]]:
    """(container, key or index) of every value in a JSON document."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in list(items):
        yield value, key
        if isinstance(child, dict | list) and child:
            yield from json_slots(child)


@st.composite
def mutated_json(draw: st.DrawFn, document: Any) -> Any:
    """A copy of ``document`` with one to three values replaced, deleted, duplicated or
    added (known keys in the wrong place, wrong types, extreme numbers)."""
    document = json.loads(json.dumps(document))
    values = json_values(sorted(json_keys(document)))
    for _ in range(draw(st.integers(1, 3))):
        container, key = draw(pick(list(json_slots(document))))
        action = draw(st.sampled_from(["replace", "replace", "delete", "duplicate", "add"]))
        if action == "replace":
            container[key] = draw(values)
        elif action == "delete":
            del container[key]
        elif action == "duplicate" and isinstance(container, list):
            container.append(json.loads(json.dumps(container[key])))
        elif isinstance(container, dict):
            container[draw(st.sampled_from(sorted(json_keys(document))))] = draw(values)
        else:
            container.insert(key, draw(values))
    return document


@st.composite
def file_bytes(draw: st.DrawFn, documents: st.SearchStrategy[str]) -> bytes:
    """A document's text, sometimes broken: truncated, a character replaced, invalid UTF-8,
    non-standard numbers, deep nesting."""
    text = draw(documents)
    action = draw(
        st.sampled_from(["as is", "as is", "as is", "truncate", "poke", "bytes", "nest", "tokens"])
    )
    if action == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif action == "poke" and text:
        i = draw(st.integers(0, len(text) - 1))
        text = text[:i] + draw(st.sampled_from(list('{}[]",:\\\x00\n 0-'))) + text[i + 1 :]
    elif action == "bytes":
        return text.encode()[:50] + b"\xff\xfe\xc3\x28" + text.encode()[50:]
    elif action == "nest":
        depth = draw(st.sampled_from([100, 400, 5000, 200_000]))
        text = text.replace("{", "[" * depth + "{", 1) + "]" * depth
    elif action == "tokens":
        token = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-0", "1E400"]))
        text = text.replace("2.0", token, 1).replace("1,", f"{token},", 1)
    return text.encode()


def run_plan(network: Path, orders: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``omniroute plan`` as a user runs it."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "omniroute.server.cli",
            "plan",
            "--network",
            str(network),
            "--orders",
            str(orders),
            *options,
        ],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
    )


def check_cli(result: subprocess.CompletedProcess[str], network: Path, orders: Path) -> None:
    """Exit 0 (planned) or 2 (told what is wrong), never a traceback or an internal error."""
    inputs = (
        f"network file: {network.read_bytes()[:3000]!r}\n"
        f"orders file: {orders.read_bytes()[:3000]!r}"
    )
    assert result.returncode in (0, 2), f"exit {result.returncode}\n{result.stderr}\n{inputs}"
    assert "Traceback" not in result.stderr, f"{result.stderr}\n{inputs}"
    assert "internal error" not in result.stderr, f"{result.stderr}\n{inputs}"


@pytest.fixture(scope="module")
def cli_documents() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    network = json.loads((DATA / "tiny_network.json").read_text())
    lines = (DATA / "tiny_orders.jsonl").read_text().splitlines()
    return network, [json.loads(line) for line in lines if line.strip()]


@settings(SETTINGS, max_examples=CLI_EXAMPLES)
@given(data=st.data())
def test_cli_plan_reads_fuzzed_files(
    tmp_path: Path,
    cli_documents: tuple[dict[str, Any], list[dict[str, Any]]],
    data: st.DataObject,
) -> None:
    """``omniroute plan`` on a random or mutated network file and orders file exits 0 (planned)
    or 2 (told what is wrong), never with a traceback or an internal error."""
    network, orders = cli_documents
    network_text = st.one_of(
        mutated_json(network).map(lambda d: json.dumps(d, indent=1)),
        json_values(sorted(json_keys(network))).map(json.dumps),
        st.just(json.dumps(network)),
    )
    order_line = st.one_of(
        mutated_json(orders[0]).map(json.dumps),
        pick(orders).map(json.dumps),
        json_values(sorted(json_keys(orders[0]))).map(json.dumps),
        st.sampled_from(["", " ", "{", "null", "[]", "\x00"]),
    )
    orders_text = st.lists(order_line, min_size=1, max_size=3).map("\n".join)
    which = data.draw(st.sampled_from(["network", "orders", "both"]))
    network_bytes = (
        data.draw(file_bytes(network_text)) if which != "orders" else json.dumps(network).encode()
    )
    orders_bytes = (
        data.draw(file_bytes(orders_text))
        if which != "network"
        else (json.dumps(orders[0]) + "\n").encode()
    )
    options = data.draw(
        st.sampled_from([[], ["--options"], ["--explain"], ["--policy", "fastest"]])
    )
    network_file, orders_file = tmp_path / "network.json", tmp_path / "orders.jsonl"
    network_file.write_bytes(network_bytes)
    orders_file.write_bytes(orders_bytes)
    check_cli(run_plan(network_file, orders_file, *options), network_file, orders_file)


def test_cli_plan_refuses_deeply_nested_files(tmp_path: Path) -> None:
    """A network file and an orders file nested 5,000 levels deep are refused (exit 2) with
    a message, not an internal error."""
    network = (DATA / "tiny_network.json").read_text()
    orders = (DATA / "tiny_orders.jsonl").read_text()
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 5000 + "]" * 5000 + "\n")
    network_file, orders_file = tmp_path / "network.json", tmp_path / "orders.jsonl"
    network_file.write_text(network)
    orders_file.write_text(orders)
    failures = []
    for pair in ((deep, orders_file), (network_file, deep)):
        try:
            check_cli(run_plan(*pair), *pair)
        except AssertionError as error:
            failures.append(str(error).splitlines()[:2])
    assert not failures, failures


# ----------------------------------------------------------------------------- afterwards


def test_server_survives_the_fuzzing(fuzz: Fuzz) -> None:
    """After everything above (this test runs last in the file): health checking reports
    SERVING for the server and each service, a valid PlanOrder plans the order completely,
    nothing was logged at ERROR, and memory stays bounded: the process grew by less than
    RSS_GROWTH_MB over the default run, and replaying a sample of the fuzzed requests twice
    more (no Hypothesis in the way) grows it by less than REPLAY_GROWTH_MB the second time."""
    health = health_pb2_grpc.HealthStub(fuzz.channel)
    for name in ("", *SERVICES):
        status = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=10).status
        assert status == health_pb2.HealthCheckResponse.SERVING, name
    fuzz.restore_network()
    order = order_pb2.Order(
        id="after-fuzzing",
        destination=network_pb2.Location(latitude=-37.85, longitude=145.0),
        lines=[order_pb2.OrderLine(id="1", sku_id="TEE", quantity=1)],
    )
    started = time.perf_counter()
    response = fuzz.unary(rpc_named("RoutingService.PlanOrder"))(
        routing_service_pb2.PlanOrderRequest(order=order), timeout=30
    )
    assert time.perf_counter() - started < 5
    assert response.plan.status == plan_pb2.Plan.COMPLETE, response
    assert not fuzz.errors.records, fuzz.errors.text()
    growth = rss_mb() - fuzz.rss_before_mb
    if EXAMPLES <= DEFAULT_EXAMPLES:  # longer runs: Hypothesis itself holds more
        assert growth < RSS_GROWTH_MB, f"RSS grew by {growth:.0f} MB during the fuzzing"

    def replay() -> None:
        for rpc, payload in list(fuzz.sent):
            if call_unary(fuzz, rpc, payload) is not None and rpc.name in RESTORE_AFTER:
                fuzz.restore_network()

    if not fuzz.sent:  # this test alone: the seeds stand in for the fuzzed requests
        for rpc in RPCS:
            for seed in [] if rpc.streaming else fuzz.seeds[rpc.name]:
                fuzz.remember(rpc, seed)
    assert len(fuzz.sent) == min(REPLAYED, fuzz.calls)
    replay()  # the first time may still fill caches
    gc.collect()
    before = rss_mb()
    replay()
    gc.collect()
    growth = rss_mb() - before
    assert growth < REPLAY_GROWTH_MB, (
        f"replaying {len(fuzz.sent)} requests grew RSS {growth:.0f} MB"
    )
