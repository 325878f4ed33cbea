import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import status_pb2 as _status_pb2
from omniroute.v1 import order_pb2 as _order_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StartScenarioRequest(_message.Message):
    __slots__ = ("changes_json", "orders", "mode", "display_name", "request_id")
    class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        MODE_UNSPECIFIED: _ClassVar[StartScenarioRequest.Mode]
        SEQUENTIAL: _ClassVar[StartScenarioRequest.Mode]
        BATCH: _ClassVar[StartScenarioRequest.Mode]
    MODE_UNSPECIFIED: StartScenarioRequest.Mode
    SEQUENTIAL: StartScenarioRequest.Mode
    BATCH: StartScenarioRequest.Mode
    CHANGES_JSON_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    changes_json: str
    orders: _containers.RepeatedCompositeFieldContainer[_order_pb2.Order]
    mode: StartScenarioRequest.Mode
    display_name: str
    request_id: str
    def __init__(self, changes_json: _Optional[str] = ..., orders: _Optional[_Iterable[_Union[_order_pb2.Order, _Mapping]]] = ..., mode: _Optional[_Union[StartScenarioRequest.Mode, str]] = ..., display_name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetOperationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ScenarioProgress(_message.Message):
    __slots__ = ("orders_done", "orders_total", "start_time", "update_time")
    ORDERS_DONE_FIELD_NUMBER: _ClassVar[int]
    ORDERS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    orders_done: int
    orders_total: int
    start_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, orders_done: _Optional[int] = ..., orders_total: _Optional[int] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ScenarioKpis(_message.Message):
    __slots__ = ("orders", "orders_complete", "units_ordered", "units_filled", "total_cost", "cost_per_order", "split_rate", "mean_delivery_days", "on_time_rate", "kpis_json")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    ORDERS_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    UNITS_ORDERED_FIELD_NUMBER: _ClassVar[int]
    UNITS_FILLED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    COST_PER_ORDER_FIELD_NUMBER: _ClassVar[int]
    SPLIT_RATE_FIELD_NUMBER: _ClassVar[int]
    MEAN_DELIVERY_DAYS_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_RATE_FIELD_NUMBER: _ClassVar[int]
    KPIS_JSON_FIELD_NUMBER: _ClassVar[int]
    orders: int
    orders_complete: int
    units_ordered: int
    units_filled: int
    total_cost: float
    cost_per_order: float
    split_rate: float
    mean_delivery_days: float
    on_time_rate: float
    kpis_json: str
    def __init__(self, orders: _Optional[int] = ..., orders_complete: _Optional[int] = ..., units_ordered: _Optional[int] = ..., units_filled: _Optional[int] = ..., total_cost: _Optional[float] = ..., cost_per_order: _Optional[float] = ..., split_rate: _Optional[float] = ..., mean_delivery_days: _Optional[float] = ..., on_time_rate: _Optional[float] = ..., kpis_json: _Optional[str] = ...) -> None: ...

class Operation(_message.Message):
    __slots__ = ("name", "done", "metadata", "error", "response")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    name: str
    done: bool
    metadata: ScenarioProgress
    error: _status_pb2.Status
    response: ScenarioKpis
    def __init__(self, name: _Optional[str] = ..., done: _Optional[bool] = ..., metadata: _Optional[_Union[ScenarioProgress, _Mapping]] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., response: _Optional[_Union[ScenarioKpis, _Mapping]] = ...) -> None: ...
