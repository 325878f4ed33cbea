from google.api import field_behavior_pb2 as _field_behavior_pb2
from omniroute.v1 import forecast_pb2 as _forecast_pb2
from omniroute.v1 import network_pb2 as _network_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PutDemandForecastRequest(_message.Message):
    __slots__ = ("forecast", "theta", "validate_only")
    FORECAST_FIELD_NUMBER: _ClassVar[int]
    THETA_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    forecast: _forecast_pb2.DemandForecast
    theta: float
    validate_only: bool
    def __init__(self, forecast: _Optional[_Union[_forecast_pb2.DemandForecast, _Mapping]] = ..., theta: _Optional[float] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class PutDemandForecastResponse(_message.Message):
    __slots__ = ("version", "theta", "priced_positions")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    THETA_FIELD_NUMBER: _ClassVar[int]
    PRICED_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    version: str
    theta: float
    priced_positions: int
    def __init__(self, version: _Optional[str] = ..., theta: _Optional[float] = ..., priced_positions: _Optional[int] = ...) -> None: ...

class PutNetworkRequest(_message.Message):
    __slots__ = ("network", "validate_only")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    VALIDATE_ONLY_FIELD_NUMBER: _ClassVar[int]
    network: _network_pb2.Network
    validate_only: bool
    def __init__(self, network: _Optional[_Union[_network_pb2.Network, _Mapping]] = ..., validate_only: _Optional[bool] = ...) -> None: ...

class PutNetworkResponse(_message.Message):
    __slots__ = ("version", "nodes", "skus", "stock_positions")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    SKUS_FIELD_NUMBER: _ClassVar[int]
    STOCK_POSITIONS_FIELD_NUMBER: _ClassVar[int]
    version: str
    nodes: int
    skus: int
    stock_positions: int
    def __init__(self, version: _Optional[str] = ..., nodes: _Optional[int] = ..., skus: _Optional[int] = ..., stock_positions: _Optional[int] = ...) -> None: ...

class GetNetworkRequest(_message.Message):
    __slots__ = ("include_stock",)
    INCLUDE_STOCK_FIELD_NUMBER: _ClassVar[int]
    include_stock: bool
    def __init__(self, include_stock: _Optional[bool] = ...) -> None: ...
