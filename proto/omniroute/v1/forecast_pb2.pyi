from google.api import field_behavior_pb2 as _field_behavior_pb2
from omniroute.v1 import network_pb2 as _network_pb2
from omniroute.v1 import order_pb2 as _order_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DemandForecast(_message.Message):
    __slots__ = ("horizon_days", "regions", "online", "store_demand", "lost_sale_costs", "markdown_costs", "baskets")
    HORIZON_DAYS_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    STORE_DEMAND_FIELD_NUMBER: _ClassVar[int]
    LOST_SALE_COSTS_FIELD_NUMBER: _ClassVar[int]
    MARKDOWN_COSTS_FIELD_NUMBER: _ClassVar[int]
    BASKETS_FIELD_NUMBER: _ClassVar[int]
    horizon_days: float
    regions: _containers.RepeatedCompositeFieldContainer[DemandRegion]
    online: _containers.RepeatedCompositeFieldContainer[OnlineDemand]
    store_demand: _containers.RepeatedCompositeFieldContainer[StoreDemand]
    lost_sale_costs: _containers.RepeatedCompositeFieldContainer[LostSaleCost]
    markdown_costs: _containers.RepeatedCompositeFieldContainer[MarkdownCost]
    baskets: _containers.RepeatedCompositeFieldContainer[ForecastBasket]
    def __init__(self, horizon_days: _Optional[float] = ..., regions: _Optional[_Iterable[_Union[DemandRegion, _Mapping]]] = ..., online: _Optional[_Iterable[_Union[OnlineDemand, _Mapping]]] = ..., store_demand: _Optional[_Iterable[_Union[StoreDemand, _Mapping]]] = ..., lost_sale_costs: _Optional[_Iterable[_Union[LostSaleCost, _Mapping]]] = ..., markdown_costs: _Optional[_Iterable[_Union[MarkdownCost, _Mapping]]] = ..., baskets: _Optional[_Iterable[_Union[ForecastBasket, _Mapping]]] = ...) -> None: ...

class ForecastBasket(_message.Message):
    __slots__ = ("order", "orders_per_day", "walk_in")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    ORDERS_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    WALK_IN_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    orders_per_day: float
    walk_in: bool
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ..., orders_per_day: _Optional[float] = ..., walk_in: _Optional[bool] = ...) -> None: ...

class DemandRegion(_message.Message):
    __slots__ = ("id", "centre")
    ID_FIELD_NUMBER: _ClassVar[int]
    CENTRE_FIELD_NUMBER: _ClassVar[int]
    id: str
    centre: _network_pb2.Location
    def __init__(self, id: _Optional[str] = ..., centre: _Optional[_Union[_network_pb2.Location, _Mapping]] = ...) -> None: ...

class OnlineDemand(_message.Message):
    __slots__ = ("region_id", "sku_id", "promise_days", "units_per_day", "channel", "sourcing_profile_id", "excluded_node_ids", "pickup_store_id")
    REGION_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    PROMISE_DAYS_FIELD_NUMBER: _ClassVar[int]
    UNITS_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SOURCING_PROFILE_ID_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    PICKUP_STORE_ID_FIELD_NUMBER: _ClassVar[int]
    region_id: str
    sku_id: str
    promise_days: int
    units_per_day: float
    channel: _network_pb2.Channel
    sourcing_profile_id: str
    excluded_node_ids: _containers.RepeatedScalarFieldContainer[str]
    pickup_store_id: str
    def __init__(self, region_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., promise_days: _Optional[int] = ..., units_per_day: _Optional[float] = ..., channel: _Optional[_Union[_network_pb2.Channel, str]] = ..., sourcing_profile_id: _Optional[str] = ..., excluded_node_ids: _Optional[_Iterable[str]] = ..., pickup_store_id: _Optional[str] = ...) -> None: ...

class StoreDemand(_message.Message):
    __slots__ = ("store_id", "sku_id", "units_per_day")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    UNITS_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    sku_id: str
    units_per_day: float
    def __init__(self, store_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., units_per_day: _Optional[float] = ...) -> None: ...

class LostSaleCost(_message.Message):
    __slots__ = ("sku_id", "cost_per_unit")
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    COST_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    sku_id: str
    cost_per_unit: float
    def __init__(self, sku_id: _Optional[str] = ..., cost_per_unit: _Optional[float] = ...) -> None: ...

class MarkdownCost(_message.Message):
    __slots__ = ("node_id", "sku_id", "cost_per_unit")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    COST_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    sku_id: str
    cost_per_unit: float
    def __init__(self, node_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., cost_per_unit: _Optional[float] = ...) -> None: ...
