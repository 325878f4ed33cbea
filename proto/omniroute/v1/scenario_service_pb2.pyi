import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.longrunning import operations_pb2 as _operations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from omniroute.v1 import network_pb2 as _network_pb2
from omniroute.v1 import order_pb2 as _order_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StartScenarioRequest(_message.Message):
    __slots__ = ("changes", "orders", "mode", "display_name", "request_id")
    class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        MODE_UNSPECIFIED: _ClassVar[StartScenarioRequest.Mode]
        SEQUENTIAL: _ClassVar[StartScenarioRequest.Mode]
        BATCH: _ClassVar[StartScenarioRequest.Mode]
    MODE_UNSPECIFIED: StartScenarioRequest.Mode
    SEQUENTIAL: StartScenarioRequest.Mode
    BATCH: StartScenarioRequest.Mode
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    changes: ScenarioChanges
    orders: _containers.RepeatedCompositeFieldContainer[_order_pb2.Order]
    mode: StartScenarioRequest.Mode
    display_name: str
    request_id: str
    def __init__(self, changes: _Optional[_Union[ScenarioChanges, _Mapping]] = ..., orders: _Optional[_Iterable[_Union[_order_pb2.Order, _Mapping]]] = ..., mode: _Optional[_Union[StartScenarioRequest.Mode, str]] = ..., display_name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ScenarioChanges(_message.Message):
    __slots__ = ("close_nodes", "add_nodes", "add_stock", "carrier_rates", "safety_stock", "processing_days", "capacity", "split_penalty")
    CLOSE_NODES_FIELD_NUMBER: _ClassVar[int]
    ADD_NODES_FIELD_NUMBER: _ClassVar[int]
    ADD_STOCK_FIELD_NUMBER: _ClassVar[int]
    CARRIER_RATES_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_DAYS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    SPLIT_PENALTY_FIELD_NUMBER: _ClassVar[int]
    close_nodes: _containers.RepeatedScalarFieldContainer[str]
    add_nodes: _containers.RepeatedCompositeFieldContainer[_network_pb2.Node]
    add_stock: _containers.RepeatedCompositeFieldContainer[_network_pb2.StockPosition]
    carrier_rates: RateChanges
    safety_stock: NodeSettings
    processing_days: NodeSettings
    capacity: NodeSettings
    split_penalty: float
    def __init__(self, close_nodes: _Optional[_Iterable[str]] = ..., add_nodes: _Optional[_Iterable[_Union[_network_pb2.Node, _Mapping]]] = ..., add_stock: _Optional[_Iterable[_Union[_network_pb2.StockPosition, _Mapping]]] = ..., carrier_rates: _Optional[_Union[RateChanges, _Mapping]] = ..., safety_stock: _Optional[_Union[NodeSettings, _Mapping]] = ..., processing_days: _Optional[_Union[NodeSettings, _Mapping]] = ..., capacity: _Optional[_Union[NodeSettings, _Mapping]] = ..., split_penalty: _Optional[float] = ...) -> None: ...

class RateChanges(_message.Message):
    __slots__ = ("by_carrier", "by_service")
    class ByCarrierEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class ByServiceEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    BY_CARRIER_FIELD_NUMBER: _ClassVar[int]
    BY_SERVICE_FIELD_NUMBER: _ClassVar[int]
    by_carrier: _containers.ScalarMap[str, float]
    by_service: _containers.ScalarMap[str, float]
    def __init__(self, by_carrier: _Optional[_Mapping[str, float]] = ..., by_service: _Optional[_Mapping[str, float]] = ...) -> None: ...

class NodeSettings(_message.Message):
    __slots__ = ("by_kind", "by_node")
    class ByKindEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByNodeEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    BY_KIND_FIELD_NUMBER: _ClassVar[int]
    BY_NODE_FIELD_NUMBER: _ClassVar[int]
    by_kind: _containers.ScalarMap[str, int]
    by_node: _containers.ScalarMap[str, int]
    def __init__(self, by_kind: _Optional[_Mapping[str, int]] = ..., by_node: _Optional[_Mapping[str, int]] = ...) -> None: ...

class ScenarioMetadata(_message.Message):
    __slots__ = ("display_name", "orders_done", "orders_total", "start_time", "update_time", "cancel_requested")
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ORDERS_DONE_FIELD_NUMBER: _ClassVar[int]
    ORDERS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CANCEL_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    orders_done: int
    orders_total: int
    start_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    cancel_requested: bool
    def __init__(self, display_name: _Optional[str] = ..., orders_done: _Optional[int] = ..., orders_total: _Optional[int] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_requested: _Optional[bool] = ...) -> None: ...

class ScenarioKpis(_message.Message):
    __slots__ = ("orders", "orders_shipped", "orders_complete", "units_ordered", "units_filled", "total_cost", "cost_per_order", "split_rate", "mean_delivery_days", "on_time_rate", "standard_promise_days", "shipments_by_node", "orders_by_delivery_days")
    class ShipmentsByNodeEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class OrdersByDeliveryDaysEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: int
        def __init__(self, key: _Optional[int] = ..., value: _Optional[int] = ...) -> None: ...
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    ORDERS_SHIPPED_FIELD_NUMBER: _ClassVar[int]
    ORDERS_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    UNITS_ORDERED_FIELD_NUMBER: _ClassVar[int]
    UNITS_FILLED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    COST_PER_ORDER_FIELD_NUMBER: _ClassVar[int]
    SPLIT_RATE_FIELD_NUMBER: _ClassVar[int]
    MEAN_DELIVERY_DAYS_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_RATE_FIELD_NUMBER: _ClassVar[int]
    STANDARD_PROMISE_DAYS_FIELD_NUMBER: _ClassVar[int]
    SHIPMENTS_BY_NODE_FIELD_NUMBER: _ClassVar[int]
    ORDERS_BY_DELIVERY_DAYS_FIELD_NUMBER: _ClassVar[int]
    orders: int
    orders_shipped: int
    orders_complete: int
    units_ordered: int
    units_filled: int
    total_cost: float
    cost_per_order: float
    split_rate: float
    mean_delivery_days: float
    on_time_rate: float
    standard_promise_days: int
    shipments_by_node: _containers.ScalarMap[str, int]
    orders_by_delivery_days: _containers.ScalarMap[int, int]
    def __init__(self, orders: _Optional[int] = ..., orders_shipped: _Optional[int] = ..., orders_complete: _Optional[int] = ..., units_ordered: _Optional[int] = ..., units_filled: _Optional[int] = ..., total_cost: _Optional[float] = ..., cost_per_order: _Optional[float] = ..., split_rate: _Optional[float] = ..., mean_delivery_days: _Optional[float] = ..., on_time_rate: _Optional[float] = ..., standard_promise_days: _Optional[int] = ..., shipments_by_node: _Optional[_Mapping[str, int]] = ..., orders_by_delivery_days: _Optional[_Mapping[int, int]] = ...) -> None: ...
