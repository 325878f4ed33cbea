from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.rpc import status_pb2 as _status_pb2
from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Policy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POLICY_UNSPECIFIED: _ClassVar[Policy]
    CHEAPEST: _ClassVar[Policy]
    FASTEST: _ClassVar[Policy]
    BASELINE: _ClassVar[Policy]
POLICY_UNSPECIFIED: Policy
CHEAPEST: Policy
FASTEST: Policy
BASELINE: Policy

class ShipmentLine(_message.Message):
    __slots__ = ("line_id", "quantity", "sku_id")
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    SKU_ID_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    quantity: int
    sku_id: str
    def __init__(self, line_id: _Optional[str] = ..., quantity: _Optional[int] = ..., sku_id: _Optional[str] = ...) -> None: ...

class CostBreakdown(_message.Message):
    __slots__ = ("carrier_parcels", "carrier_weight", "handling_shipment", "handling_units", "profile_adjustment")
    CARRIER_PARCELS_FIELD_NUMBER: _ClassVar[int]
    CARRIER_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    HANDLING_SHIPMENT_FIELD_NUMBER: _ClassVar[int]
    HANDLING_UNITS_FIELD_NUMBER: _ClassVar[int]
    PROFILE_ADJUSTMENT_FIELD_NUMBER: _ClassVar[int]
    carrier_parcels: float
    carrier_weight: float
    handling_shipment: float
    handling_units: float
    profile_adjustment: float
    def __init__(self, carrier_parcels: _Optional[float] = ..., carrier_weight: _Optional[float] = ..., handling_shipment: _Optional[float] = ..., handling_units: _Optional[float] = ..., profile_adjustment: _Optional[float] = ...) -> None: ...

class Shipment(_message.Message):
    __slots__ = ("node_id", "service_id", "lines", "weight_kg", "parcels", "distance_km", "cost", "delivery_days", "cost_breakdown", "units", "ship_date", "delivery_date", "backorder", "preorder")
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_KG_FIELD_NUMBER: _ClassVar[int]
    PARCELS_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_DAYS_FIELD_NUMBER: _ClassVar[int]
    COST_BREAKDOWN_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    SHIP_DATE_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_DATE_FIELD_NUMBER: _ClassVar[int]
    BACKORDER_FIELD_NUMBER: _ClassVar[int]
    PREORDER_FIELD_NUMBER: _ClassVar[int]
    node_id: str
    service_id: str
    lines: _containers.RepeatedCompositeFieldContainer[ShipmentLine]
    weight_kg: float
    parcels: int
    distance_km: float
    cost: float
    delivery_days: int
    cost_breakdown: CostBreakdown
    units: int
    ship_date: _date_pb2.Date
    delivery_date: _date_pb2.Date
    backorder: bool
    preorder: bool
    def __init__(self, node_id: _Optional[str] = ..., service_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ShipmentLine, _Mapping]]] = ..., weight_kg: _Optional[float] = ..., parcels: _Optional[int] = ..., distance_km: _Optional[float] = ..., cost: _Optional[float] = ..., delivery_days: _Optional[int] = ..., cost_breakdown: _Optional[_Union[CostBreakdown, _Mapping]] = ..., units: _Optional[int] = ..., ship_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., delivery_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., backorder: _Optional[bool] = ..., preorder: _Optional[bool] = ...) -> None: ...

class UnfilledLine(_message.Message):
    __slots__ = ("line_id", "quantity", "reason")
    class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REASON_UNSPECIFIED: _ClassVar[UnfilledLine.Reason]
        OUT_OF_STOCK: _ClassVar[UnfilledLine.Reason]
        NO_SERVICE_WITHIN_PROMISE: _ClassVar[UnfilledLine.Reason]
        EXCEEDS_MAX_SHIPMENTS: _ClassVar[UnfilledLine.Reason]
        NO_SERVICE_TO_DESTINATION: _ClassVar[UnfilledLine.Reason]
        PARTIAL_NOT_ALLOWED: _ClassVar[UnfilledLine.Reason]
        NOT_TOGETHER: _ClassVar[UnfilledLine.Reason]
    REASON_UNSPECIFIED: UnfilledLine.Reason
    OUT_OF_STOCK: UnfilledLine.Reason
    NO_SERVICE_WITHIN_PROMISE: UnfilledLine.Reason
    EXCEEDS_MAX_SHIPMENTS: UnfilledLine.Reason
    NO_SERVICE_TO_DESTINATION: UnfilledLine.Reason
    PARTIAL_NOT_ALLOWED: UnfilledLine.Reason
    NOT_TOGETHER: UnfilledLine.Reason
    LINE_ID_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    line_id: str
    quantity: int
    reason: UnfilledLine.Reason
    def __init__(self, line_id: _Optional[str] = ..., quantity: _Optional[int] = ..., reason: _Optional[_Union[UnfilledLine.Reason, str]] = ...) -> None: ...

class Plan(_message.Message):
    __slots__ = ("status", "shipments", "total_cost", "delivery_days", "unfilled_lines", "split_penalty_cost", "delivery_date", "opportunity_cost")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[Plan.Status]
        COMPLETE: _ClassVar[Plan.Status]
        PARTIAL: _ClassVar[Plan.Status]
        UNFULFILLABLE: _ClassVar[Plan.Status]
    STATUS_UNSPECIFIED: Plan.Status
    COMPLETE: Plan.Status
    PARTIAL: Plan.Status
    UNFULFILLABLE: Plan.Status
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SHIPMENTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_DAYS_FIELD_NUMBER: _ClassVar[int]
    UNFILLED_LINES_FIELD_NUMBER: _ClassVar[int]
    SPLIT_PENALTY_COST_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_DATE_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_COST_FIELD_NUMBER: _ClassVar[int]
    status: Plan.Status
    shipments: _containers.RepeatedCompositeFieldContainer[Shipment]
    total_cost: float
    delivery_days: int
    unfilled_lines: _containers.RepeatedCompositeFieldContainer[UnfilledLine]
    split_penalty_cost: float
    delivery_date: _date_pb2.Date
    opportunity_cost: float
    def __init__(self, status: _Optional[_Union[Plan.Status, str]] = ..., shipments: _Optional[_Iterable[_Union[Shipment, _Mapping]]] = ..., total_cost: _Optional[float] = ..., delivery_days: _Optional[int] = ..., unfilled_lines: _Optional[_Iterable[_Union[UnfilledLine, _Mapping]]] = ..., split_penalty_cost: _Optional[float] = ..., delivery_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., opportunity_cost: _Optional[float] = ...) -> None: ...

class PlanStats(_message.Message):
    __slots__ = ("proof", "gap", "method", "solve_micros", "lower_bound", "candidate_nodes", "stopped_by", "opportunity_costs_version")
    class Proof(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        PROOF_UNSPECIFIED: _ClassVar[PlanStats.Proof]
        OPTIMAL: _ClassVar[PlanStats.Proof]
        FEASIBLE: _ClassVar[PlanStats.Proof]
    PROOF_UNSPECIFIED: PlanStats.Proof
    OPTIMAL: PlanStats.Proof
    FEASIBLE: PlanStats.Proof
    class StopReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STOP_REASON_UNSPECIFIED: _ClassVar[PlanStats.StopReason]
        TIME_LIMIT: _ClassVar[PlanStats.StopReason]
        CANCELLED: _ClassVar[PlanStats.StopReason]
        MEMORY_LIMIT: _ClassVar[PlanStats.StopReason]
    STOP_REASON_UNSPECIFIED: PlanStats.StopReason
    TIME_LIMIT: PlanStats.StopReason
    CANCELLED: PlanStats.StopReason
    MEMORY_LIMIT: PlanStats.StopReason
    PROOF_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    SOLVE_MICROS_FIELD_NUMBER: _ClassVar[int]
    LOWER_BOUND_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_NODES_FIELD_NUMBER: _ClassVar[int]
    STOPPED_BY_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_COSTS_VERSION_FIELD_NUMBER: _ClassVar[int]
    proof: PlanStats.Proof
    gap: float
    method: str
    solve_micros: int
    lower_bound: float
    candidate_nodes: int
    stopped_by: PlanStats.StopReason
    opportunity_costs_version: str
    def __init__(self, proof: _Optional[_Union[PlanStats.Proof, str]] = ..., gap: _Optional[float] = ..., method: _Optional[str] = ..., solve_micros: _Optional[int] = ..., lower_bound: _Optional[float] = ..., candidate_nodes: _Optional[int] = ..., stopped_by: _Optional[_Union[PlanStats.StopReason, str]] = ..., opportunity_costs_version: _Optional[str] = ...) -> None: ...

class Alternative(_message.Message):
    __slots__ = ("name", "plan", "verdict")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    name: str
    plan: Plan
    verdict: str
    def __init__(self, name: _Optional[str] = ..., plan: _Optional[_Union[Plan, _Mapping]] = ..., verdict: _Optional[str] = ...) -> None: ...

class Explanation(_message.Message):
    __slots__ = ("alternatives", "summary")
    ALTERNATIVES_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    alternatives: _containers.RepeatedCompositeFieldContainer[Alternative]
    summary: str
    def __init__(self, alternatives: _Optional[_Iterable[_Union[Alternative, _Mapping]]] = ..., summary: _Optional[str] = ...) -> None: ...

class PlanOrderResponse(_message.Message):
    __slots__ = ("order_id", "plan", "options", "stats", "explanation", "reservation_id", "error")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    plan: Plan
    options: _containers.RepeatedCompositeFieldContainer[Plan]
    stats: PlanStats
    explanation: Explanation
    reservation_id: str
    error: _status_pb2.Status
    def __init__(self, order_id: _Optional[str] = ..., plan: _Optional[_Union[Plan, _Mapping]] = ..., options: _Optional[_Iterable[_Union[Plan, _Mapping]]] = ..., stats: _Optional[_Union[PlanStats, _Mapping]] = ..., explanation: _Optional[_Union[Explanation, _Mapping]] = ..., reservation_id: _Optional[str] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...
