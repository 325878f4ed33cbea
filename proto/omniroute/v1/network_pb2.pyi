from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.type import date_pb2 as _date_pb2
from google.type import dayofweek_pb2 as _dayofweek_pb2
from google.type import timeofday_pb2 as _timeofday_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    WEB: _ClassVar[Channel]
    STORE: _ClassVar[Channel]
    CALL_CENTER: _ClassVar[Channel]
    MARKETPLACE: _ClassVar[Channel]
    WHOLESALE: _ClassVar[Channel]
CHANNEL_UNSPECIFIED: Channel
WEB: Channel
STORE: Channel
CALL_CENTER: Channel
MARKETPLACE: Channel
WHOLESALE: Channel

class Location(_message.Message):
    __slots__ = ("latitude", "longitude")
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    latitude: float
    longitude: float
    def __init__(self, latitude: _Optional[float] = ..., longitude: _Optional[float] = ...) -> None: ...

class Zone(_message.Message):
    __slots__ = ("max_distance_km", "base_cost", "cost_per_kg", "transit_days")
    MAX_DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    BASE_COST_FIELD_NUMBER: _ClassVar[int]
    COST_PER_KG_FIELD_NUMBER: _ClassVar[int]
    TRANSIT_DAYS_FIELD_NUMBER: _ClassVar[int]
    max_distance_km: float
    base_cost: float
    cost_per_kg: float
    transit_days: int
    def __init__(self, max_distance_km: _Optional[float] = ..., base_cost: _Optional[float] = ..., cost_per_kg: _Optional[float] = ..., transit_days: _Optional[int] = ...) -> None: ...

class CarrierService(_message.Message):
    __slots__ = ("id", "carrier", "name", "max_parcel_weight_kg", "zones", "calendar_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_PARCEL_WEIGHT_KG_FIELD_NUMBER: _ClassVar[int]
    ZONES_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    carrier: str
    name: str
    max_parcel_weight_kg: float
    zones: _containers.RepeatedCompositeFieldContainer[Zone]
    calendar_id: str
    def __init__(self, id: _Optional[str] = ..., carrier: _Optional[str] = ..., name: _Optional[str] = ..., max_parcel_weight_kg: _Optional[float] = ..., zones: _Optional[_Iterable[_Union[Zone, _Mapping]]] = ..., calendar_id: _Optional[str] = ...) -> None: ...

class Node(_message.Message):
    __slots__ = ("id", "kind", "location", "handling_cost_per_shipment", "handling_cost_per_unit", "processing_days", "service_ids", "pickup", "daily_shipment_capacity", "disabled", "name", "time_zone", "calendar_id", "cutoff_time")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[Node.Kind]
        DC: _ClassVar[Node.Kind]
        STORE: _ClassVar[Node.Kind]
        THIRD_PARTY: _ClassVar[Node.Kind]
        DROP_SHIP: _ClassVar[Node.Kind]
    KIND_UNSPECIFIED: Node.Kind
    DC: Node.Kind
    STORE: Node.Kind
    THIRD_PARTY: Node.Kind
    DROP_SHIP: Node.Kind
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    HANDLING_COST_PER_SHIPMENT_FIELD_NUMBER: _ClassVar[int]
    HANDLING_COST_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    PROCESSING_DAYS_FIELD_NUMBER: _ClassVar[int]
    SERVICE_IDS_FIELD_NUMBER: _ClassVar[int]
    PICKUP_FIELD_NUMBER: _ClassVar[int]
    DAILY_SHIPMENT_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_ID_FIELD_NUMBER: _ClassVar[int]
    CUTOFF_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: Node.Kind
    location: Location
    handling_cost_per_shipment: float
    handling_cost_per_unit: float
    processing_days: int
    service_ids: _containers.RepeatedScalarFieldContainer[str]
    pickup: bool
    daily_shipment_capacity: int
    disabled: bool
    name: str
    time_zone: str
    calendar_id: str
    cutoff_time: _timeofday_pb2.TimeOfDay
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[_Union[Node.Kind, str]] = ..., location: _Optional[_Union[Location, _Mapping]] = ..., handling_cost_per_shipment: _Optional[float] = ..., handling_cost_per_unit: _Optional[float] = ..., processing_days: _Optional[int] = ..., service_ids: _Optional[_Iterable[str]] = ..., pickup: _Optional[bool] = ..., daily_shipment_capacity: _Optional[int] = ..., disabled: _Optional[bool] = ..., name: _Optional[str] = ..., time_zone: _Optional[str] = ..., calendar_id: _Optional[str] = ..., cutoff_time: _Optional[_Union[_timeofday_pb2.TimeOfDay, _Mapping]] = ...) -> None: ...

class NodeAdjustment(_message.Message):
    __slots__ = ("node_id", "kind", "cost_per_shipment")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    COST_PER_SHIPMENT_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    kind: Node.Kind
    cost_per_shipment: float
    def __init__(self, node_id: _Optional[str] = ..., kind: _Optional[_Union[Node.Kind, str]] = ..., cost_per_shipment: _Optional[float] = ...) -> None: ...

class SourcingProfile(_message.Message):
    __slots__ = ("id", "channels", "allowed_node_kinds", "excluded_node_ids", "max_distance_km", "max_shipments", "node_adjustments")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_NODE_KINDS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_NODE_IDS_FIELD_NUMBER: _ClassVar[int]
    MAX_DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    MAX_SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    NODE_ADJUSTMENTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    channels: _containers.RepeatedScalarFieldContainer[Channel]
    allowed_node_kinds: _containers.RepeatedScalarFieldContainer[Node.Kind]
    excluded_node_ids: _containers.RepeatedScalarFieldContainer[str]
    max_distance_km: float
    max_shipments: int
    node_adjustments: _containers.RepeatedCompositeFieldContainer[NodeAdjustment]
    def __init__(self, id: _Optional[str] = ..., channels: _Optional[_Iterable[_Union[Channel, str]]] = ..., allowed_node_kinds: _Optional[_Iterable[_Union[Node.Kind, str]]] = ..., excluded_node_ids: _Optional[_Iterable[str]] = ..., max_distance_km: _Optional[float] = ..., max_shipments: _Optional[int] = ..., node_adjustments: _Optional[_Iterable[_Union[NodeAdjustment, _Mapping]]] = ...) -> None: ...

class Calendar(_message.Message):
    __slots__ = ("id", "working_days", "holidays")
    ID_FIELD_NUMBER: _ClassVar[int]
    WORKING_DAYS_FIELD_NUMBER: _ClassVar[int]
    HOLIDAYS_FIELD_NUMBER: _ClassVar[int]
    id: str
    working_days: _containers.RepeatedScalarFieldContainer[_dayofweek_pb2.DayOfWeek]
    holidays: _containers.RepeatedCompositeFieldContainer[_date_pb2.Date]
    def __init__(self, id: _Optional[str] = ..., working_days: _Optional[_Iterable[_Union[_dayofweek_pb2.DayOfWeek, str]]] = ..., holidays: _Optional[_Iterable[_Union[_date_pb2.Date, _Mapping]]] = ...) -> None: ...

class Sku(_message.Message):
    __slots__ = ("id", "weight_kg", "name", "ship_alone", "release_date")
    ID_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_KG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHIP_ALONE_FIELD_NUMBER: _ClassVar[int]
    RELEASE_DATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    weight_kg: float
    name: str
    ship_alone: bool
    release_date: _date_pb2.Date
    def __init__(self, id: _Optional[str] = ..., weight_kg: _Optional[float] = ..., name: _Optional[str] = ..., ship_alone: _Optional[bool] = ..., release_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...

class StockPosition(_message.Message):
    __slots__ = ("node_id", "sku_id", "on_hand", "safety_stock", "reserved", "atp")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    ATP_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    sku_id: str
    on_hand: int
    safety_stock: int
    reserved: int
    atp: int
    def __init__(self, node_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., on_hand: _Optional[int] = ..., safety_stock: _Optional[int] = ..., reserved: _Optional[int] = ..., atp: _Optional[int] = ...) -> None: ...

class Network(_message.Message):
    __slots__ = ("nodes", "carrier_services", "skus", "stock", "split_penalty", "currency", "time_zone", "calendars", "sourcing_profiles", "channel_fences", "inbound_supply")
    NODES_FIELD_NUMBER: _ClassVar[int]
    CARRIER_SERVICES_FIELD_NUMBER: _ClassVar[int]
    SKUS_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    SPLIT_PENALTY_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    CALENDARS_FIELD_NUMBER: _ClassVar[int]
    SOURCING_PROFILES_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FENCES_FIELD_NUMBER: _ClassVar[int]
    INBOUND_SUPPLY_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[Node]
    carrier_services: _containers.RepeatedCompositeFieldContainer[CarrierService]
    skus: _containers.RepeatedCompositeFieldContainer[Sku]
    stock: _containers.RepeatedCompositeFieldContainer[StockPosition]
    split_penalty: float
    currency: str
    time_zone: str
    calendars: _containers.RepeatedCompositeFieldContainer[Calendar]
    sourcing_profiles: _containers.RepeatedCompositeFieldContainer[SourcingProfile]
    channel_fences: _containers.RepeatedCompositeFieldContainer[ChannelFence]
    inbound_supply: _containers.RepeatedCompositeFieldContainer[InboundSupply]
    def __init__(self, nodes: _Optional[_Iterable[_Union[Node, _Mapping]]] = ..., carrier_services: _Optional[_Iterable[_Union[CarrierService, _Mapping]]] = ..., skus: _Optional[_Iterable[_Union[Sku, _Mapping]]] = ..., stock: _Optional[_Iterable[_Union[StockPosition, _Mapping]]] = ..., split_penalty: _Optional[float] = ..., currency: _Optional[str] = ..., time_zone: _Optional[str] = ..., calendars: _Optional[_Iterable[_Union[Calendar, _Mapping]]] = ..., sourcing_profiles: _Optional[_Iterable[_Union[SourcingProfile, _Mapping]]] = ..., channel_fences: _Optional[_Iterable[_Union[ChannelFence, _Mapping]]] = ..., inbound_supply: _Optional[_Iterable[_Union[InboundSupply, _Mapping]]] = ...) -> None: ...

class InboundSupply(_message.Message):
    __slots__ = ("id", "node_id", "sku_id", "quantity", "arrival_date")
    ID_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ARRIVAL_DATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    node_id: str
    sku_id: str
    quantity: int
    arrival_date: _date_pb2.Date
    def __init__(self, id: _Optional[str] = ..., node_id: _Optional[str] = ..., sku_id: _Optional[str] = ..., quantity: _Optional[int] = ..., arrival_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...

class ChannelFence(_message.Message):
    __slots__ = ("channel", "node_id", "node_kind", "sku_id", "units", "share", "max_share")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    NODE_KIND_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    MAX_SHARE_FIELD_NUMBER: _ClassVar[int]
    channel: Channel
    node_id: str
    node_kind: Node.Kind
    sku_id: str
    units: int
    share: float
    max_share: float
    def __init__(self, channel: _Optional[_Union[Channel, str]] = ..., node_id: _Optional[str] = ..., node_kind: _Optional[_Union[Node.Kind, str]] = ..., sku_id: _Optional[str] = ..., units: _Optional[int] = ..., share: _Optional[float] = ..., max_share: _Optional[float] = ...) -> None: ...
