import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from omniroute.v1 import network_pb2 as _network_pb2
from omniroute.v1 import order_pb2 as _order_pb2
from omniroute.v1 import plan_pb2 as _plan_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PlanOrderRequest(_message.Message):
    __slots__ = ("order", "policy", "include_options", "reserve", "request_id", "validate_only", "timeout", "network", "include_explanation")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    RESERVE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    policy: _plan_pb2.Policy
    include_options: bool
    reserve: bool
    request_id: str
    validate_only: bool
    timeout: _duration_pb2.Duration
    network: _network_pb2.Network
    include_explanation: bool
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ..., policy: _Optional[_Union[_plan_pb2.Policy, str]] = ..., include_options: _Optional[bool] = ..., reserve: _Optional[bool] = ..., request_id: _Optional[str] = ..., validate_only: _Optional[bool] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., network: _Optional[_Union[_network_pb2.Network, _Mapping]] = ..., include_explanation: _Optional[bool] = ...) -> None: ...

class QuoteDeliveryRequest(_message.Message):
    __slots__ = ("lines", "destination", "pickup_store_id", "timeout", "network")
    LINES_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    PICKUP_STORE_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[_order_pb2.OrderLine]
    destination: _network_pb2.Location
    pickup_store_id: str
    timeout: _duration_pb2.Duration
    network: _network_pb2.Network
    def __init__(self, lines: _Optional[_Iterable[_Union[_order_pb2.OrderLine, _Mapping]]] = ..., destination: _Optional[_Union[_network_pb2.Location, _Mapping]] = ..., pickup_store_id: _Optional[str] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., network: _Optional[_Union[_network_pb2.Network, _Mapping]] = ...) -> None: ...

class DeliveryOption(_message.Message):
    __slots__ = ("delivery_days", "cost", "shipments", "plan")
    DELIVERY_DAYS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    delivery_days: int
    cost: float
    shipments: int
    plan: _plan_pb2.Plan
    def __init__(self, delivery_days: _Optional[int] = ..., cost: _Optional[float] = ..., shipments: _Optional[int] = ..., plan: _Optional[_Union[_plan_pb2.Plan, _Mapping]] = ...) -> None: ...

class QuoteDeliveryResponse(_message.Message):
    __slots__ = ("options",)
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    options: _containers.RepeatedCompositeFieldContainer[DeliveryOption]
    def __init__(self, options: _Optional[_Iterable[_Union[DeliveryOption, _Mapping]]] = ...) -> None: ...

class CheckAvailabilityRequest(_message.Message):
    __slots__ = ("sku_ids", "location", "store_id", "max_nodes", "network")
    SKU_IDS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_NODES_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    sku_ids: _containers.RepeatedScalarFieldContainer[str]
    location: _network_pb2.Location
    store_id: str
    max_nodes: int
    network: _network_pb2.Network
    def __init__(self, sku_ids: _Optional[_Iterable[str]] = ..., location: _Optional[_Union[_network_pb2.Location, _Mapping]] = ..., store_id: _Optional[str] = ..., max_nodes: _Optional[int] = ..., network: _Optional[_Union[_network_pb2.Network, _Mapping]] = ...) -> None: ...

class SkuAvailability(_message.Message):
    __slots__ = ("sku_id", "atp")
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    ATP_FIELD_NUMBER: _ClassVar[int]
    sku_id: str
    atp: int
    def __init__(self, sku_id: _Optional[str] = ..., atp: _Optional[int] = ...) -> None: ...

class NodeAvailability(_message.Message):
    __slots__ = ("node_id", "kind", "distance_km", "skus", "service_id", "delivery_days", "cost", "pickup")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    SKUS_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_DAYS_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    PICKUP_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    kind: _network_pb2.Node.Kind
    distance_km: float
    skus: _containers.RepeatedCompositeFieldContainer[SkuAvailability]
    service_id: str
    delivery_days: int
    cost: float
    pickup: bool
    def __init__(self, node_id: _Optional[str] = ..., kind: _Optional[_Union[_network_pb2.Node.Kind, str]] = ..., distance_km: _Optional[float] = ..., skus: _Optional[_Iterable[_Union[SkuAvailability, _Mapping]]] = ..., service_id: _Optional[str] = ..., delivery_days: _Optional[int] = ..., cost: _Optional[float] = ..., pickup: _Optional[bool] = ...) -> None: ...

class CheckAvailabilityResponse(_message.Message):
    __slots__ = ("nodes",)
    NODES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[NodeAvailability]
    def __init__(self, nodes: _Optional[_Iterable[_Union[NodeAvailability, _Mapping]]] = ...) -> None: ...
