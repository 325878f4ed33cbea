import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from omniroute.v1 import network_pb2 as _network_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WatchEventsRequest(_message.Message):
    __slots__ = ("after_cursor", "types", "stop_at_end")
    AFTER_CURSOR_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    STOP_AT_END_FIELD_NUMBER: _ClassVar[int]
    after_cursor: int
    types: _containers.RepeatedScalarFieldContainer[Event.Type]
    stop_at_end: bool
    def __init__(self, after_cursor: _Optional[int] = ..., types: _Optional[_Iterable[_Union[Event.Type, str]]] = ..., stop_at_end: _Optional[bool] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("cursor", "time", "type", "reservation_id", "order_id", "request_id", "customer_id", "return_id", "payload_json")
    class Type(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        TYPE_UNSPECIFIED: _ClassVar[Event.Type]
        RESERVATION_HELD: _ClassVar[Event.Type]
        RESERVATION_COMMITTED: _ClassVar[Event.Type]
        RESERVATION_RELEASED: _ClassVar[Event.Type]
        RESERVATION_EXPIRED: _ClassVar[Event.Type]
        ORDER_REROUTED: _ClassVar[Event.Type]
        RETURN_PLANNED: _ClassVar[Event.Type]
        RETURN_RECEIVED: _ClassVar[Event.Type]
        STOCK_UPDATED: _ClassVar[Event.Type]
        NETWORK_REPLACED: _ClassVar[Event.Type]
        SHIPMENT_CONFIRMED: _ClassVar[Event.Type]
        DELIVERY_CONFIRMED: _ClassVar[Event.Type]
        ORDER_CANCELLED: _ClassVar[Event.Type]
        INBOUND_UPDATED: _ClassVar[Event.Type]
        INBOUND_RECEIVED: _ClassVar[Event.Type]
        ORDER_REPROMISED: _ClassVar[Event.Type]
    TYPE_UNSPECIFIED: Event.Type
    RESERVATION_HELD: Event.Type
    RESERVATION_COMMITTED: Event.Type
    RESERVATION_RELEASED: Event.Type
    RESERVATION_EXPIRED: Event.Type
    ORDER_REROUTED: Event.Type
    RETURN_PLANNED: Event.Type
    RETURN_RECEIVED: Event.Type
    STOCK_UPDATED: Event.Type
    NETWORK_REPLACED: Event.Type
    SHIPMENT_CONFIRMED: Event.Type
    DELIVERY_CONFIRMED: Event.Type
    ORDER_CANCELLED: Event.Type
    INBOUND_UPDATED: Event.Type
    INBOUND_RECEIVED: Event.Type
    ORDER_REPROMISED: Event.Type
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    cursor: int
    time: _timestamp_pb2.Timestamp
    type: Event.Type
    reservation_id: str
    order_id: str
    request_id: str
    customer_id: str
    return_id: str
    payload_json: str
    def __init__(self, cursor: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., type: _Optional[_Union[Event.Type, str]] = ..., reservation_id: _Optional[str] = ..., order_id: _Optional[str] = ..., request_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., return_id: _Optional[str] = ..., payload_json: _Optional[str] = ...) -> None: ...

class PutInboundSupplyRequest(_message.Message):
    __slots__ = ("supplies", "request_id", "validate_only")
    SUPPLIES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    supplies: _containers.RepeatedCompositeFieldContainer[_network_pb2.InboundSupply]
    request_id: str
    validate_only: bool
    def __init__(self, supplies: _Optional[_Iterable[_Union[_network_pb2.InboundSupply, _Mapping]]] = ..., request_id: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class PutInboundSupplyResponse(_message.Message):
    __slots__ = ("supplies",)
    SUPPLIES_FIELD_NUMBER: _ClassVar[int]
    supplies: _containers.RepeatedCompositeFieldContainer[_network_pb2.InboundSupply]
    def __init__(self, supplies: _Optional[_Iterable[_Union[_network_pb2.InboundSupply, _Mapping]]] = ...) -> None: ...

class ListInboundSupplyRequest(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    def __init__(self, node_id: _Optional[str] = ...) -> None: ...

class ListInboundSupplyResponse(_message.Message):
    __slots__ = ("supplies",)
    SUPPLIES_FIELD_NUMBER: _ClassVar[int]
    supplies: _containers.RepeatedCompositeFieldContainer[_network_pb2.InboundSupply]
    def __init__(self, supplies: _Optional[_Iterable[_Union[_network_pb2.InboundSupply, _Mapping]]] = ...) -> None: ...

class ReceiveInboundSupplyRequest(_message.Message):
    __slots__ = ("supply_id", "quantity", "request_id")
    SUPPLY_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    supply_id: str
    quantity: int
    request_id: str
    def __init__(self, supply_id: _Optional[str] = ..., quantity: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReceiveInboundSupplyResponse(_message.Message):
    __slots__ = ("positions",)
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[_network_pb2.StockPosition]
    def __init__(self, positions: _Optional[_Iterable[_Union[_network_pb2.StockPosition, _Mapping]]] = ...) -> None: ...

class ReceiveReturnRequest(_message.Message):
    __slots__ = ("return_id",)
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    def __init__(self, return_id: _Optional[str] = ...) -> None: ...

class ReceiveReturnResponse(_message.Message):
    __slots__ = ("positions",)
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[_network_pb2.StockPosition]
    def __init__(self, positions: _Optional[_Iterable[_Union[_network_pb2.StockPosition, _Mapping]]] = ...) -> None: ...

class Reservation(_message.Message):
    __slots__ = ("id", "request_id", "order_id", "state", "lines", "create_time", "expire_time", "update_time")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Reservation.State]
        HELD: _ClassVar[Reservation.State]
        COMMITTED: _ClassVar[Reservation.State]
        RELEASED: _ClassVar[Reservation.State]
        EXPIRED: _ClassVar[Reservation.State]
    STATE_UNSPECIFIED: Reservation.State
    HELD: Reservation.State
    COMMITTED: Reservation.State
    RELEASED: Reservation.State
    EXPIRED: Reservation.State
    ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    request_id: str
    order_id: str
    state: Reservation.State
    lines: _containers.RepeatedCompositeFieldContainer[ReservationLine]
    create_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., request_id: _Optional[str] = ..., order_id: _Optional[str] = ..., state: _Optional[_Union[Reservation.State, str]] = ..., lines: _Optional[_Iterable[_Union[ReservationLine, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReservationLine(_message.Message):
    __slots__ = ("node_id", "sku_id", "quantity")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    sku_id: str
    quantity: int
    def __init__(self, node_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class CommitReservationRequest(_message.Message):
    __slots__ = ("reservation_id",)
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    def __init__(self, reservation_id: _Optional[str] = ...) -> None: ...

class ReleaseReservationRequest(_message.Message):
    __slots__ = ("reservation_id",)
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    def __init__(self, reservation_id: _Optional[str] = ...) -> None: ...

class GetReservationRequest(_message.Message):
    __slots__ = ("reservation_id",)
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    def __init__(self, reservation_id: _Optional[str] = ...) -> None: ...

class StockUpdate(_message.Message):
    __slots__ = ("node_id", "sku_id", "set_on_hand", "delta_on_hand", "safety_stock")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    SET_ON_HAND_FIELD_NUMBER: _ClassVar[int]
    DELTA_ON_HAND_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    sku_id: str
    set_on_hand: int
    delta_on_hand: int
    safety_stock: int
    def __init__(self, node_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., set_on_hand: _Optional[int] = ..., delta_on_hand: _Optional[int] = ..., safety_stock: _Optional[int] = ...) -> None: ...

class UpdateStockRequest(_message.Message):
    __slots__ = ("updates", "request_id", "validate_only")
    UPDATES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    updates: _containers.RepeatedCompositeFieldContainer[StockUpdate]
    request_id: str
    validate_only: bool
    def __init__(self, updates: _Optional[_Iterable[_Union[StockUpdate, _Mapping]]] = ..., request_id: _Optional[str] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class UpdateStockResponse(_message.Message):
    __slots__ = ("positions",)
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[_network_pb2.StockPosition]
    def __init__(self, positions: _Optional[_Iterable[_Union[_network_pb2.StockPosition, _Mapping]]] = ...) -> None: ...

class GetStockRequest(_message.Message):
    __slots__ = ("sku_ids", "node_ids")
    SKU_IDS_FIELD_NUMBER: _ClassVar[int]
    NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    sku_ids: _containers.RepeatedScalarFieldContainer[str]
    node_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, sku_ids: _Optional[_Iterable[str]] = ..., node_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetStockResponse(_message.Message):
    __slots__ = ("positions",)
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[_network_pb2.StockPosition]
    def __init__(self, positions: _Optional[_Iterable[_Union[_network_pb2.StockPosition, _Mapping]]] = ...) -> None: ...

class ListStockPositionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "filter")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    filter: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ...) -> None: ...

class ListStockPositionsResponse(_message.Message):
    __slots__ = ("stock_positions", "next_page_token", "total_size")
    STOCK_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    stock_positions: _containers.RepeatedCompositeFieldContainer[_network_pb2.StockPosition]
    next_page_token: str
    total_size: int
    def __init__(self, stock_positions: _Optional[_Iterable[_Union[_network_pb2.StockPosition, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...
