import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from omniroute.v1 import network_pb2 as _network_pb2
from omniroute.v1 import order_pb2 as _order_pb2
from omniroute.v1 import plan_pb2 as _plan_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Fulfilment(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FULFILMENT_UNSPECIFIED: _ClassVar[Fulfilment]
    IN_STORE: _ClassVar[Fulfilment]
    PICKUP: _ClassVar[Fulfilment]
    DELIVERY: _ClassVar[Fulfilment]
FULFILMENT_UNSPECIFIED: Fulfilment
IN_STORE: Fulfilment
PICKUP: Fulfilment
DELIVERY: Fulfilment

class PlanOrderRequest(_message.Message):
    __slots__ = ("order", "policy", "include_options", "reserve", "request_id", "validate_only", "timeout", "network", "include_explanation", "routing")
    class Routing(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ROUTING_UNSPECIFIED: _ClassVar[PlanOrderRequest.Routing]
        MYOPIC: _ClassVar[PlanOrderRequest.Routing]
        LOOKAHEAD: _ClassVar[PlanOrderRequest.Routing]
    ROUTING_UNSPECIFIED: PlanOrderRequest.Routing
    MYOPIC: PlanOrderRequest.Routing
    LOOKAHEAD: PlanOrderRequest.Routing
    ORDER_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    RESERVE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    ROUTING_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    policy: _plan_pb2.Policy
    include_options: bool
    reserve: bool
    request_id: str
    validate_only: bool
    timeout: _duration_pb2.Duration
    network: _network_pb2.Network
    include_explanation: bool
    routing: PlanOrderRequest.Routing
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ..., policy: _Optional[_Union[_plan_pb2.Policy, str]] = ..., include_options: _Optional[bool] = ..., reserve: _Optional[bool] = ..., request_id: _Optional[str] = ..., validate_only: _Optional[bool] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., network: _Optional[_Union[_network_pb2.Network, _Mapping]] = ..., include_explanation: _Optional[bool] = ..., routing: _Optional[_Union[PlanOrderRequest.Routing, str]] = ...) -> None: ...

class PlanOrdersRequest(_message.Message):
    __slots__ = ("orders", "unfilled_penalty", "timeout", "network", "validate_only")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    UNFILLED_PENALTY_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[_order_pb2.Order]
    unfilled_penalty: float
    timeout: _duration_pb2.Duration
    network: _network_pb2.Network
    validate_only: bool
    def __init__(self, orders: _Optional[_Iterable[_Union[_order_pb2.Order, _Mapping]]] = ..., unfilled_penalty: _Optional[float] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., network: _Optional[_Union[_network_pb2.Network, _Mapping]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class PlanOrdersResponse(_message.Message):
    __slots__ = ("responses", "total_cost", "units_unfilled", "objective", "lower_bound", "proof", "gap", "sequential_objective")
    RESPONSES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    UNITS_UNFILLED_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    LOWER_BOUND_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    responses: _containers.RepeatedCompositeFieldContainer[_plan_pb2.PlanOrderResponse]
    total_cost: float
    units_unfilled: int
    objective: float
    lower_bound: float
    proof: _plan_pb2.PlanStats.Proof
    gap: float
    sequential_objective: float
    def __init__(self, responses: _Optional[_Iterable[_Union[_plan_pb2.PlanOrderResponse, _Mapping]]] = ..., total_cost: _Optional[float] = ..., units_unfilled: _Optional[int] = ..., objective: _Optional[float] = ..., lower_bound: _Optional[float] = ..., proof: _Optional[_Union[_plan_pb2.PlanStats.Proof, str]] = ..., gap: _Optional[float] = ..., sequential_objective: _Optional[float] = ...) -> None: ...

class QuoteDeliveryRequest(_message.Message):
    __slots__ = ("lines", "destination", "pickup_store_id", "timeout", "network", "time", "channel")
    LINES_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    PICKUP_STORE_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[_order_pb2.OrderLine]
    destination: _network_pb2.Location
    pickup_store_id: str
    timeout: _duration_pb2.Duration
    network: _network_pb2.Network
    time: _timestamp_pb2.Timestamp
    channel: _network_pb2.Channel
    def __init__(self, lines: _Optional[_Iterable[_Union[_order_pb2.OrderLine, _Mapping]]] = ..., destination: _Optional[_Union[_network_pb2.Location, _Mapping]] = ..., pickup_store_id: _Optional[str] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., network: _Optional[_Union[_network_pb2.Network, _Mapping]] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., channel: _Optional[_Union[_network_pb2.Channel, str]] = ...) -> None: ...

class DeliveryOption(_message.Message):
    __slots__ = ("delivery_days", "cost", "shipments", "plan", "delivery_date")
    DELIVERY_DAYS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_DATE_FIELD_NUMBER: _ClassVar[int]
    delivery_days: int
    cost: float
    shipments: int
    plan: _plan_pb2.Plan
    delivery_date: _date_pb2.Date
    def __init__(self, delivery_days: _Optional[int] = ..., cost: _Optional[float] = ..., shipments: _Optional[int] = ..., plan: _Optional[_Union[_plan_pb2.Plan, _Mapping]] = ..., delivery_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...

class QuoteDeliveryResponse(_message.Message):
    __slots__ = ("options",)
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    options: _containers.RepeatedCompositeFieldContainer[DeliveryOption]
    def __init__(self, options: _Optional[_Iterable[_Union[DeliveryOption, _Mapping]]] = ...) -> None: ...

class CheckAvailabilityRequest(_message.Message):
    __slots__ = ("sku_ids", "location", "store_id", "max_nodes", "network", "max_pickup_distance_km", "time", "channel")
    SKU_IDS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_NODES_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    MAX_PICKUP_DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    sku_ids: _containers.RepeatedScalarFieldContainer[str]
    location: _network_pb2.Location
    store_id: str
    max_nodes: int
    network: _network_pb2.Network
    max_pickup_distance_km: float
    time: _timestamp_pb2.Timestamp
    channel: _network_pb2.Channel
    def __init__(self, sku_ids: _Optional[_Iterable[str]] = ..., location: _Optional[_Union[_network_pb2.Location, _Mapping]] = ..., store_id: _Optional[str] = ..., max_nodes: _Optional[int] = ..., network: _Optional[_Union[_network_pb2.Network, _Mapping]] = ..., max_pickup_distance_km: _Optional[float] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., channel: _Optional[_Union[_network_pb2.Channel, str]] = ...) -> None: ...

class SkuAvailability(_message.Message):
    __slots__ = ("sku_id", "atp")
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    ATP_FIELD_NUMBER: _ClassVar[int]
    sku_id: str
    atp: int
    def __init__(self, sku_id: _Optional[str] = ..., atp: _Optional[int] = ...) -> None: ...

class NodeAvailability(_message.Message):
    __slots__ = ("node_id", "kind", "distance_km", "skus", "service_id", "delivery_days", "cost", "pickup", "fulfilment", "ready_days", "delivery_date", "ready_date")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    SKUS_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_DAYS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    PICKUP_FIELD_NUMBER: _ClassVar[int]
    FULFILMENT_FIELD_NUMBER: _ClassVar[int]
    READY_DAYS_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_DATE_FIELD_NUMBER: _ClassVar[int]
    READY_DATE_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    kind: _network_pb2.Node.Kind
    distance_km: float
    skus: _containers.RepeatedCompositeFieldContainer[SkuAvailability]
    service_id: str
    delivery_days: int
    cost: float
    pickup: bool
    fulfilment: Fulfilment
    ready_days: int
    delivery_date: _date_pb2.Date
    ready_date: _date_pb2.Date
    def __init__(self, node_id: _Optional[str] = ..., kind: _Optional[_Union[_network_pb2.Node.Kind, str]] = ..., distance_km: _Optional[float] = ..., skus: _Optional[_Iterable[_Union[SkuAvailability, _Mapping]]] = ..., service_id: _Optional[str] = ..., delivery_days: _Optional[int] = ..., cost: _Optional[float] = ..., pickup: _Optional[bool] = ..., fulfilment: _Optional[_Union[Fulfilment, str]] = ..., ready_days: _Optional[int] = ..., delivery_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., ready_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...

class CheckAvailabilityResponse(_message.Message):
    __slots__ = ("nodes", "delivery_options")
    NODES_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[NodeAvailability]
    delivery_options: _containers.RepeatedCompositeFieldContainer[DeliveryOption]
    def __init__(self, nodes: _Optional[_Iterable[_Union[NodeAvailability, _Mapping]]] = ..., delivery_options: _Optional[_Iterable[_Union[DeliveryOption, _Mapping]]] = ...) -> None: ...

class RerouteOrderRequest(_message.Message):
    __slots__ = ("reservation_id", "node_id", "lines", "reason", "request_id")
    class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REASON_UNSPECIFIED: _ClassVar[RerouteOrderRequest.Reason]
        SHORT_PICK: _ClassVar[RerouteOrderRequest.Reason]
        DAMAGED: _ClassVar[RerouteOrderRequest.Reason]
        CAPACITY: _ClassVar[RerouteOrderRequest.Reason]
        OTHER: _ClassVar[RerouteOrderRequest.Reason]
    REASON_UNSPECIFIED: RerouteOrderRequest.Reason
    SHORT_PICK: RerouteOrderRequest.Reason
    DAMAGED: RerouteOrderRequest.Reason
    CAPACITY: RerouteOrderRequest.Reason
    OTHER: RerouteOrderRequest.Reason
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    node_id: str
    lines: _containers.RepeatedCompositeFieldContainer[_plan_pb2.ShipmentLine]
    reason: RerouteOrderRequest.Reason
    request_id: str
    def __init__(self, reservation_id: _Optional[str] = ..., node_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_plan_pb2.ShipmentLine, _Mapping]]] = ..., reason: _Optional[_Union[RerouteOrderRequest.Reason, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetOrderPlanRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class OrderPlan(_message.Message):
    __slots__ = ("order_id", "reservation_id", "plan", "shipments")
    class ShipmentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SHIPMENT_STATE_UNSPECIFIED: _ClassVar[OrderPlan.ShipmentState]
        HELD: _ClassVar[OrderPlan.ShipmentState]
        COMMITTED: _ClassVar[OrderPlan.ShipmentState]
        RELEASED: _ClassVar[OrderPlan.ShipmentState]
        EXPIRED: _ClassVar[OrderPlan.ShipmentState]
        REJECTED: _ClassVar[OrderPlan.ShipmentState]
    SHIPMENT_STATE_UNSPECIFIED: OrderPlan.ShipmentState
    HELD: OrderPlan.ShipmentState
    COMMITTED: OrderPlan.ShipmentState
    RELEASED: OrderPlan.ShipmentState
    EXPIRED: OrderPlan.ShipmentState
    REJECTED: OrderPlan.ShipmentState
    class ShipmentStatus(_message.Message):
        __slots__ = ("node_id", "state", "rerouted", "lines", "reason")
        NODE_ID_FIELD_NUMBER: _ClassVar[int]
        STATE_FIELD_NUMBER: _ClassVar[int]
        REROUTED_FIELD_NUMBER: _ClassVar[int]
        LINES_FIELD_NUMBER: _ClassVar[int]
        REASON_FIELD_NUMBER: _ClassVar[int]
        node_id: str
        state: OrderPlan.ShipmentState
        rerouted: bool
        lines: _containers.RepeatedCompositeFieldContainer[_plan_pb2.ShipmentLine]
        reason: RerouteOrderRequest.Reason
        def __init__(self, node_id: _Optional[str] = ..., state: _Optional[_Union[OrderPlan.ShipmentState, str]] = ..., rerouted: _Optional[bool] = ..., lines: _Optional[_Iterable[_Union[_plan_pb2.ShipmentLine, _Mapping]]] = ..., reason: _Optional[_Union[RerouteOrderRequest.Reason, str]] = ...) -> None: ...
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    reservation_id: str
    plan: _plan_pb2.Plan
    shipments: _containers.RepeatedCompositeFieldContainer[OrderPlan.ShipmentStatus]
    def __init__(self, order_id: _Optional[str] = ..., reservation_id: _Optional[str] = ..., plan: _Optional[_Union[_plan_pb2.Plan, _Mapping]] = ..., shipments: _Optional[_Iterable[_Union[OrderPlan.ShipmentStatus, _Mapping]]] = ...) -> None: ...

class ReturnLine(_message.Message):
    __slots__ = ("sku_id", "quantity", "condition")
    class Condition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CONDITION_UNSPECIFIED: _ClassVar[ReturnLine.Condition]
        RESALEABLE: _ClassVar[ReturnLine.Condition]
        NEEDS_INSPECTION: _ClassVar[ReturnLine.Condition]
    CONDITION_UNSPECIFIED: ReturnLine.Condition
    RESALEABLE: ReturnLine.Condition
    NEEDS_INSPECTION: ReturnLine.Condition
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    sku_id: str
    quantity: int
    condition: ReturnLine.Condition
    def __init__(self, sku_id: _Optional[str] = ..., quantity: _Optional[int] = ..., condition: _Optional[_Union[ReturnLine.Condition, str]] = ...) -> None: ...

class PlanReturnRequest(_message.Message):
    __slots__ = ("lines", "origin", "store_id", "unit_value", "request_id", "order_id")
    LINES_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    UNIT_VALUE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[ReturnLine]
    origin: _network_pb2.Location
    store_id: str
    unit_value: float
    request_id: str
    order_id: str
    def __init__(self, lines: _Optional[_Iterable[_Union[ReturnLine, _Mapping]]] = ..., origin: _Optional[_Union[_network_pb2.Location, _Mapping]] = ..., store_id: _Optional[str] = ..., unit_value: _Optional[float] = ..., request_id: _Optional[str] = ..., order_id: _Optional[str] = ...) -> None: ...

class ReturnLeg(_message.Message):
    __slots__ = ("action", "node_id", "service_id", "lines", "distance_km", "cost", "value", "delivery_days")
    class Action(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ACTION_UNSPECIFIED: _ClassVar[ReturnLeg.Action]
        RESTOCK_HERE: _ClassVar[ReturnLeg.Action]
        SEND_TO_NODE: _ClassVar[ReturnLeg.Action]
        INSPECT_AT_DC: _ClassVar[ReturnLeg.Action]
    ACTION_UNSPECIFIED: ReturnLeg.Action
    RESTOCK_HERE: ReturnLeg.Action
    SEND_TO_NODE: ReturnLeg.Action
    INSPECT_AT_DC: ReturnLeg.Action
    ACTION_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_DAYS_FIELD_NUMBER: _ClassVar[int]
    action: ReturnLeg.Action
    node_id: str
    service_id: str
    lines: _containers.RepeatedCompositeFieldContainer[ReturnLine]
    distance_km: float
    cost: float
    value: float
    delivery_days: int
    def __init__(self, action: _Optional[_Union[ReturnLeg.Action, str]] = ..., node_id: _Optional[str] = ..., service_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReturnLine, _Mapping]]] = ..., distance_km: _Optional[float] = ..., cost: _Optional[float] = ..., value: _Optional[float] = ..., delivery_days: _Optional[int] = ...) -> None: ...

class ReturnPlan(_message.Message):
    __slots__ = ("return_id", "legs", "net_cost")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    LEGS_FIELD_NUMBER: _ClassVar[int]
    NET_COST_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    legs: _containers.RepeatedCompositeFieldContainer[ReturnLeg]
    net_cost: float
    def __init__(self, return_id: _Optional[str] = ..., legs: _Optional[_Iterable[_Union[ReturnLeg, _Mapping]]] = ..., net_cost: _Optional[float] = ...) -> None: ...
