import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from omniroute.v1 import inventory_service_pb2 as _inventory_service_pb2
from omniroute.v1 import plan_pb2 as _plan_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATE_UNSPECIFIED: _ClassVar[OrderState]
    RESERVED: _ClassVar[OrderState]
    PARTIALLY_SHIPPED: _ClassVar[OrderState]
    SHIPPED: _ClassVar[OrderState]
    DELIVERED: _ClassVar[OrderState]
    CANCELLED: _ClassVar[OrderState]
    EXPIRED: _ClassVar[OrderState]
ORDER_STATE_UNSPECIFIED: OrderState
RESERVED: OrderState
PARTIALLY_SHIPPED: OrderState
SHIPPED: OrderState
DELIVERED: OrderState
CANCELLED: OrderState
EXPIRED: OrderState

class ConfirmShipmentRequest(_message.Message):
    __slots__ = ("order_id", "node_id", "lines", "carrier", "tracking_number", "ship_time", "request_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SHIP_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    node_id: str
    lines: _containers.RepeatedCompositeFieldContainer[_plan_pb2.ShipmentLine]
    carrier: str
    tracking_number: str
    ship_time: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, order_id: _Optional[str] = ..., node_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_plan_pb2.ShipmentLine, _Mapping]]] = ..., carrier: _Optional[str] = ..., tracking_number: _Optional[str] = ..., ship_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ConfirmDeliveryRequest(_message.Message):
    __slots__ = ("order_id", "tracking_number", "delivery_time", "request_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    tracking_number: str
    delivery_time: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, order_id: _Optional[str] = ..., tracking_number: _Optional[str] = ..., delivery_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("order_id", "line_ids", "reason", "request_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    LINE_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    line_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    request_id: str
    def __init__(self, order_id: _Optional[str] = ..., line_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetOrderStatusRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("customer_id", "node_id", "state", "page_size", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    node_id: str
    state: OrderState
    page_size: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., node_id: _Optional[str] = ..., state: _Optional[_Union[OrderState, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[OrderStatus]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[OrderStatus, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class OrderStatus(_message.Message):
    __slots__ = ("order_id", "customer_id", "reservation_id", "state", "lines", "shipments", "plan", "timeline", "update_time")
    class Line(_message.Message):
        __slots__ = ("line_id", "sku_id", "ordered", "planned", "open", "shipped", "delivered", "cancelled")
        LINE_ID_FIELD_NUMBER: _ClassVar[int]
        SKU_ID_FIELD_NUMBER: _ClassVar[int]
        ORDERED_FIELD_NUMBER: _ClassVar[int]
        PLANNED_FIELD_NUMBER: _ClassVar[int]
        OPEN_FIELD_NUMBER: _ClassVar[int]
        SHIPPED_FIELD_NUMBER: _ClassVar[int]
        DELIVERED_FIELD_NUMBER: _ClassVar[int]
        CANCELLED_FIELD_NUMBER: _ClassVar[int]
        line_id: str
        sku_id: str
        ordered: int
        planned: int
        open: int
        shipped: int
        delivered: int
        cancelled: int
        def __init__(self, line_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., ordered: _Optional[int] = ..., planned: _Optional[int] = ..., open: _Optional[int] = ..., shipped: _Optional[int] = ..., delivered: _Optional[int] = ..., cancelled: _Optional[int] = ...) -> None: ...
    class Shipment(_message.Message):
        __slots__ = ("node_id", "carrier", "tracking_number", "lines", "ship_time", "delivery_time")
        NODE_ID_FIELD_NUMBER: _ClassVar[int]
        CARRIER_FIELD_NUMBER: _ClassVar[int]
        TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
        LINES_FIELD_NUMBER: _ClassVar[int]
        SHIP_TIME_FIELD_NUMBER: _ClassVar[int]
        DELIVERY_TIME_FIELD_NUMBER: _ClassVar[int]
        node_id: str
        carrier: str
        tracking_number: str
        lines: _containers.RepeatedCompositeFieldContainer[_plan_pb2.ShipmentLine]
        ship_time: _timestamp_pb2.Timestamp
        delivery_time: _timestamp_pb2.Timestamp
        def __init__(self, node_id: _Optional[str] = ..., carrier: _Optional[str] = ..., tracking_number: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_plan_pb2.ShipmentLine, _Mapping]]] = ..., ship_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delivery_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    reservation_id: str
    state: OrderState
    lines: _containers.RepeatedCompositeFieldContainer[OrderStatus.Line]
    shipments: _containers.RepeatedCompositeFieldContainer[OrderStatus.Shipment]
    plan: _plan_pb2.Plan
    timeline: _containers.RepeatedCompositeFieldContainer[_inventory_service_pb2.Event]
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., reservation_id: _Optional[str] = ..., state: _Optional[_Union[OrderState, str]] = ..., lines: _Optional[_Iterable[_Union[OrderStatus.Line, _Mapping]]] = ..., shipments: _Optional[_Iterable[_Union[OrderStatus.Shipment, _Mapping]]] = ..., plan: _Optional[_Union[_plan_pb2.Plan, _Mapping]] = ..., timeline: _Optional[_Iterable[_Union[_inventory_service_pb2.Event, _Mapping]]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
