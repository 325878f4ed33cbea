import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from omniroute.v1 import network_pb2 as _network_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OrderLine(_message.Message):
    __slots__ = ("id", "sku_id", "quantity", "ship_together_group", "allow_backorder")
    ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    SHIP_TOGETHER_GROUP_FIELD_NUMBER: _ClassVar[int]
    ALLOW_BACKORDER_FIELD_NUMBER: _ClassVar[int]
    id: str
    sku_id: str
    quantity: int
    ship_together_group: str
    allow_backorder: bool
    def __init__(self, id: _Optional[str] = ..., sku_id: _Optional[str] = ..., quantity: _Optional[int] = ..., ship_together_group: _Optional[str] = ..., allow_backorder: _Optional[bool] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("id", "channel", "destination", "lines", "promise_days", "max_shipments", "excluded_node_ids", "allow_partial", "pickup_store_id", "create_time", "customer_id", "promise_date", "sourcing_profile_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    PROMISE_DAYS_FIELD_NUMBER: _ClassVar[int]
    MAX_SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_PARTIAL_FIELD_NUMBER: _ClassVar[int]
    PICKUP_STORE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PROMISE_DATE_FIELD_NUMBER: _ClassVar[int]
    SOURCING_PROFILE_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    channel: _network_pb2.Channel
    destination: _network_pb2.Location
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    promise_days: int
    max_shipments: int
    excluded_node_ids: _containers.RepeatedScalarFieldContainer[str]
    allow_partial: bool
    pickup_store_id: str
    create_time: _timestamp_pb2.Timestamp
    customer_id: str
    promise_date: _date_pb2.Date
    sourcing_profile_id: str
    def __init__(self, id: _Optional[str] = ..., channel: _Optional[_Union[_network_pb2.Channel, str]] = ..., destination: _Optional[_Union[_network_pb2.Location, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ..., promise_days: _Optional[int] = ..., max_shipments: _Optional[int] = ..., excluded_node_ids: _Optional[_Iterable[str]] = ..., allow_partial: _Optional[bool] = ..., pickup_store_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., customer_id: _Optional[str] = ..., promise_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., sourcing_profile_id: _Optional[str] = ...) -> None: ...
