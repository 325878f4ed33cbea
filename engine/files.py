"""Network and orders files: the proto3 JSON mapping of the API messages, without protobuf.

A network file is one ``omniroute.v1.Network`` message as proto3 JSON; an orders file is
JSON lines, one ``omniroute.v1.Order`` per line. This module reads and writes them with the
standard library only: :data:`SCHEMA` lists, message by message, the fields of exactly the
messages these files use, and a small decoder applies the proto3 JSON mapping to them.

The decoder accepts exactly what ``google.protobuf.json_format.ParseDict`` accepts for these
messages, so a file that protobuf reads is read here unchanged, down to its quirks:

* a field may be given under its lowerCamelCase JSON name or its snake_case proto name;
  ``null`` means the field's default;
* an ``int32`` is a JSON number or a numeric string (``3``, ``3.0``, ``"3"``, ``"1e3"``) but
  not ``true``, ``1.5``, ``" 3"`` (a string with a space) or a number out of range;
* a ``double`` is a JSON number, a numeric string, or the strings ``"NaN"``, ``"Infinity"``
  and ``"-Infinity"`` (the bare JSON literals ``NaN`` / ``Infinity`` are refused, ``true``
  reads as 1.0, as in protobuf);
* an enum is a value name or a number (an unknown number is kept, as proto3 enums are open;
  the model then reports it);
* a message may also be given as an empty list or an empty string (both read as ``{}``);
* ``Order.create_time`` is an RFC 3339 string (``Timestamp``), normalised the way
  ``Timestamp.ToJsonString`` prints it (UTC, ``Z``, 0, 3, 6 or 9 fractional digits).

One deliberate difference: a field given under both of its names (``"nodeId"`` and
``"node_id"``) is refused, where protobuf silently keeps the later one.

Every problem is collected as a :class:`~omniroute.model.FieldViolation` located by its JSON
path with lowerCamelCase names (``nodes[3].location.latitude``); readers raise one
:class:`~omniroute.model.ValidationError` listing all of them.

The writers print byte for byte what ``json.dumps(json_format.MessageToDict(...))`` printed:
fields in proto field order, defaults omitted, doubles as Python floats, int32 as integers.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import json
import math
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Set
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from omniroute.calendars import Calendar, date_of, time_of_day
from omniroute.model import (
    CarrierService,
    Channel,
    ChannelFence,
    FieldViolation,
    InboundSupply,
    Location,
    Network,
    Node,
    NodeAdjustment,
    NodeKind,
    Order,
    OrderLine,
    Sku,
    SourcingProfile,
    StockPosition,
    ValidationError,
    Zone,
)
from omniroute.stock_table import StockTable, StockTableBuilder
from omniroute.validation import location_violations, network_violations, orders_violations

if TYPE_CHECKING:
    from omniroute.lookahead import DemandForecast

__all__ = [
    "SCHEMA",
    "Field",
    "iter_order_lines",
    "network_from_json",
    "network_to_json",
    "normalise_timestamp",
    "nodes_from_json",
    "order_from_json",
    "order_to_json",
    "read_network",
    "read_orders",
    "stock_from_json",
    "write_network",
    "write_orders",
]

# ----------------------------------------------------------------------------- the schema

STRING = "string"
INT32 = "int32"
DOUBLE = "double"
BOOL = "bool"
ENUM = "enum"
MESSAGE = "message"
TIMESTAMP = "timestamp"  # google.protobuf.Timestamp, an RFC 3339 string in JSON


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a message: its proto name, JSON name and kind.

    ``kind`` is one of ``string``, ``int32``, ``double``, ``bool``, ``enum`` (with ``enum``
    mapping each value name to its number), ``message`` (with ``message`` naming the field's
    message type in :data:`SCHEMA`) or ``timestamp``; ``repeated`` marks a list of them.
    """

    name: str
    json_name: str
    kind: str
    repeated: bool = False
    enum: Mapping[str, int] | None = None
    message: str = ""


NODE_KIND = {"KIND_UNSPECIFIED": 0, "DC": 1, "STORE": 2, "THIRD_PARTY": 3, "DROP_SHIP": 4}
DAY_OF_WEEK = {
    "DAY_OF_WEEK_UNSPECIFIED": 0,
    "MONDAY": 1,
    "TUESDAY": 2,
    "WEDNESDAY": 3,
    "THURSDAY": 4,
    "FRIDAY": 5,
    "SATURDAY": 6,
    "SUNDAY": 7,
}  # the numbers are ISO weekdays, as the model keeps them
ORDER_CHANNEL = {
    "CHANNEL_UNSPECIFIED": 0,
    "WEB": 1,
    "STORE": 2,
    "CALL_CENTER": 3,
    "MARKETPLACE": 4,
    "WHOLESALE": 5,
}

#: The messages of the files, by full proto name, each with its fields in proto field order
#: (tests/engine/test_files.py checks this table against the protobuf descriptors).
SCHEMA: dict[str, tuple[Field, ...]] = {
    "google.type.Date": (
        Field("year", "year", INT32),
        Field("month", "month", INT32),
        Field("day", "day", INT32),
    ),
    "google.type.TimeOfDay": (
        Field("hours", "hours", INT32),
        Field("minutes", "minutes", INT32),
        Field("seconds", "seconds", INT32),
        Field("nanos", "nanos", INT32),
    ),
    "omniroute.v1.NodeAdjustment": (
        Field("node_id", "nodeId", STRING),
        Field("kind", "kind", ENUM, enum=NODE_KIND),
        Field("cost_per_shipment", "costPerShipment", DOUBLE),
    ),
    "omniroute.v1.SourcingProfile": (
        Field("id", "id", STRING),
        Field("channels", "channels", ENUM, repeated=True, enum=ORDER_CHANNEL),
        Field("allowed_node_kinds", "allowedNodeKinds", ENUM, repeated=True, enum=NODE_KIND),
        Field("excluded_node_ids", "excludedNodeIds", STRING, repeated=True),
        Field("max_distance_km", "maxDistanceKm", DOUBLE),
        Field("max_shipments", "maxShipments", INT32),
        Field(
            "node_adjustments",
            "nodeAdjustments",
            MESSAGE,
            repeated=True,
            message="omniroute.v1.NodeAdjustment",
        ),
    ),
    "omniroute.v1.ChannelFence": (
        Field("channel", "channel", ENUM, enum=ORDER_CHANNEL),
        Field("node_id", "nodeId", STRING),
        Field("node_kind", "nodeKind", ENUM, enum=NODE_KIND),
        Field("sku_id", "skuId", STRING),
        Field("units", "units", INT32),
        Field("share", "share", DOUBLE),
        Field("max_share", "maxShare", DOUBLE),
    ),
    "omniroute.v1.InboundSupply": (
        Field("id", "id", STRING),
        Field("node_id", "nodeId", STRING),
        Field("sku_id", "skuId", STRING),
        Field("quantity", "quantity", INT32),
        Field("arrival_date", "arrivalDate", MESSAGE, message="google.type.Date"),
    ),
    "omniroute.v1.Calendar": (
        Field("id", "id", STRING),
        Field("working_days", "workingDays", ENUM, repeated=True, enum=DAY_OF_WEEK),
        Field("holidays", "holidays", MESSAGE, repeated=True, message="google.type.Date"),
    ),
    "omniroute.v1.Location": (
        Field("latitude", "latitude", DOUBLE),
        Field("longitude", "longitude", DOUBLE),
    ),
    "omniroute.v1.Zone": (
        Field("max_distance_km", "maxDistanceKm", DOUBLE),
        Field("base_cost", "baseCost", DOUBLE),
        Field("cost_per_kg", "costPerKg", DOUBLE),
        Field("transit_days", "transitDays", INT32),
    ),
    "omniroute.v1.CarrierService": (
        Field("id", "id", STRING),
        Field("carrier", "carrier", STRING),
        Field("name", "name", STRING),
        Field("max_parcel_weight_kg", "maxParcelWeightKg", DOUBLE),
        Field("zones", "zones", MESSAGE, repeated=True, message="omniroute.v1.Zone"),
        Field("calendar_id", "calendarId", STRING),
    ),
    "omniroute.v1.Node": (
        Field("id", "id", STRING),
        Field("kind", "kind", ENUM, enum=NODE_KIND),
        Field("location", "location", MESSAGE, message="omniroute.v1.Location"),
        Field("handling_cost_per_shipment", "handlingCostPerShipment", DOUBLE),
        Field("handling_cost_per_unit", "handlingCostPerUnit", DOUBLE),
        Field("processing_days", "processingDays", INT32),
        Field("service_ids", "serviceIds", STRING, repeated=True),
        Field("pickup", "pickup", BOOL),
        Field("daily_shipment_capacity", "dailyShipmentCapacity", INT32),
        Field("disabled", "disabled", BOOL),
        Field("name", "name", STRING),
        Field("time_zone", "timeZone", STRING),
        Field("calendar_id", "calendarId", STRING),
        Field("cutoff_time", "cutoffTime", MESSAGE, message="google.type.TimeOfDay"),
    ),
    "omniroute.v1.Sku": (
        Field("id", "id", STRING),
        Field("weight_kg", "weightKg", DOUBLE),
        Field("name", "name", STRING),
        Field("ship_alone", "shipAlone", BOOL),
        Field("release_date", "releaseDate", MESSAGE, message="google.type.Date"),
    ),
    "omniroute.v1.StockPosition": (
        Field("node_id", "nodeId", STRING),
        Field("sku_id", "skuId", STRING),
        Field("on_hand", "onHand", INT32),
        Field("safety_stock", "safetyStock", INT32),
        Field("reserved", "reserved", INT32),  # output only: read, checked and ignored
        Field("atp", "atp", INT32),  # output only: read, checked and ignored
    ),
    "omniroute.v1.Network": (
        Field("nodes", "nodes", MESSAGE, repeated=True, message="omniroute.v1.Node"),
        Field(
            "carrier_services",
            "carrierServices",
            MESSAGE,
            repeated=True,
            message="omniroute.v1.CarrierService",
        ),
        Field("skus", "skus", MESSAGE, repeated=True, message="omniroute.v1.Sku"),
        Field("stock", "stock", MESSAGE, repeated=True, message="omniroute.v1.StockPosition"),
        Field("split_penalty", "splitPenalty", DOUBLE),
        Field("currency", "currency", STRING),
        Field("time_zone", "timeZone", STRING),
        Field("calendars", "calendars", MESSAGE, repeated=True, message="omniroute.v1.Calendar"),
        Field(
            "sourcing_profiles",
            "sourcingProfiles",
            MESSAGE,
            repeated=True,
            message="omniroute.v1.SourcingProfile",
        ),
        Field(
            "channel_fences",
            "channelFences",
            MESSAGE,
            repeated=True,
            message="omniroute.v1.ChannelFence",
        ),
        Field(
            "inbound_supply",
            "inboundSupply",
            MESSAGE,
            repeated=True,
            message="omniroute.v1.InboundSupply",
        ),
    ),
    "omniroute.v1.OrderLine": (
        Field("id", "id", STRING),
        Field("sku_id", "skuId", STRING),
        Field("quantity", "quantity", INT32),
        Field("ship_together_group", "shipTogetherGroup", STRING),
        Field("allow_backorder", "allowBackorder", BOOL),
    ),
    "omniroute.v1.Order": (
        Field("id", "id", STRING),
        Field("channel", "channel", ENUM, enum=ORDER_CHANNEL),
        Field("destination", "destination", MESSAGE, message="omniroute.v1.Location"),
        Field("lines", "lines", MESSAGE, repeated=True, message="omniroute.v1.OrderLine"),
        Field("promise_days", "promiseDays", INT32),
        Field("max_shipments", "maxShipments", INT32),
        Field("excluded_node_ids", "excludedNodeIds", STRING, repeated=True),
        Field("allow_partial", "allowPartial", BOOL),
        Field("pickup_store_id", "pickupStoreId", STRING),
        Field("create_time", "createTime", TIMESTAMP),
        Field("customer_id", "customerId", STRING),
        Field("promise_date", "promiseDate", MESSAGE, message="google.type.Date"),
        Field("sourcing_profile_id", "sourcingProfileId", STRING),
    ),
    "omniroute.v1.DemandRegion": (
        Field("id", "id", STRING),
        Field("centre", "centre", MESSAGE, message="omniroute.v1.Location"),
    ),
    "omniroute.v1.OnlineDemand": (
        Field("region_id", "regionId", STRING),
        Field("sku_id", "skuId", STRING),
        Field("promise_days", "promiseDays", INT32),
        Field("units_per_day", "unitsPerDay", DOUBLE),
        Field("channel", "channel", ENUM, enum=ORDER_CHANNEL),
        Field("sourcing_profile_id", "sourcingProfileId", STRING),
        Field("excluded_node_ids", "excludedNodeIds", STRING, repeated=True),
        Field("pickup_store_id", "pickupStoreId", STRING),
    ),
    "omniroute.v1.StoreDemand": (
        Field("store_id", "storeId", STRING),
        Field("sku_id", "skuId", STRING),
        Field("units_per_day", "unitsPerDay", DOUBLE),
    ),
    "omniroute.v1.LostSaleCost": (
        Field("sku_id", "skuId", STRING),
        Field("cost_per_unit", "costPerUnit", DOUBLE),
    ),
    "omniroute.v1.MarkdownCost": (
        Field("node_id", "nodeId", STRING),
        Field("sku_id", "skuId", STRING),
        Field("cost_per_unit", "costPerUnit", DOUBLE),
    ),
    "omniroute.v1.ForecastBasket": (
        Field("order", "order", MESSAGE, message="omniroute.v1.Order"),
        Field("orders_per_day", "ordersPerDay", DOUBLE),
        Field("walk_in", "walkIn", BOOL),
    ),
    "omniroute.v1.DemandForecast": (
        Field("horizon_days", "horizonDays", DOUBLE),
        Field("regions", "regions", MESSAGE, repeated=True, message="omniroute.v1.DemandRegion"),
        Field("online", "online", MESSAGE, repeated=True, message="omniroute.v1.OnlineDemand"),
        Field(
            "store_demand",
            "storeDemand",
            MESSAGE,
            repeated=True,
            message="omniroute.v1.StoreDemand",
        ),
        Field(
            "lost_sale_costs",
            "lostSaleCosts",
            MESSAGE,
            repeated=True,
            message="omniroute.v1.LostSaleCost",
        ),
        Field(
            "markdown_costs",
            "markdownCosts",
            MESSAGE,
            repeated=True,
            message="omniroute.v1.MarkdownCost",
        ),
        Field("baskets", "baskets", MESSAGE, repeated=True, message="omniroute.v1.ForecastBasket"),
    ),
}

# Model fields that are not written to files (the server reports them; files do not hold them).
_NOT_WRITTEN = {"omniroute.v1.StockPosition": frozenset({"reserved", "atp"})}

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1

# ----------------------------------------------------------------------------- scalars


# Surrogate code points: json_format refuses unpaired ones, and protobuf cannot encode any
# (a string from JSON text has no paired ones: the JSON decoder combines them).
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Bad(Exception):
    """A JSON value that does not fit its field; the message says why, in plain words."""


def _show(value: Any) -> str:
    """A JSON value as a user wrote it, shortened."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    text = _printable(text)
    return text if len(text) <= 60 else text[:57] + "..."


def _printable(text: str) -> str:
    """``text`` with any unpaired surrogate escaped (it could not be printed or encoded)."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _string(value: Any) -> str:
    if isinstance(value, str):
        if value.isascii() or not _SURROGATE.search(value):
            return value
        raise _Bad("must be valid Unicode text (it has an unpaired surrogate such as \\ud800)")
    raise _Bad(f"must be a string, got {_show(value)}")


def _int32(value: Any) -> int:
    """An int32 as json_format reads it: a number or a numeric string, integral, in range."""
    if type(value) is not int:
        if isinstance(value, bool):
            raise _Bad(f"must be a whole number, got {_show(value)}")
        if isinstance(value, float):
            if not value.is_integer():
                raise _Bad(f"must be a whole number, got {_show(value)}")
            value = int(value)
        elif isinstance(value, str):
            if " " in value:
                raise _Bad(f"must be a whole number (without spaces), got {_show(value)}")
            try:
                value = int(value)
            except ValueError:
                try:
                    number = float(value)
                except ValueError:
                    raise _Bad(f"must be a whole number, got {_show(value)}") from None
                if not number.is_integer():
                    raise _Bad(f"must be a whole number, got {_show(value)}") from None
                value = int(number)
        elif isinstance(value, int):
            value = int(value)
        else:
            raise _Bad(f"must be a whole number, got {_show(value)}")
    if not INT32_MIN <= value <= INT32_MAX:
        raise _Bad(f"must be between {INT32_MIN} and {INT32_MAX}, got {value}")
    return value


def _double(value: Any) -> float:
    """A double as json_format reads it: a number, a numeric string, "NaN" or "[-]Infinity"."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise _Bad(
                f'must be a finite number or one of the strings "NaN", "Infinity" and '
                f'"-Infinity", got {_show(value)}'
            )
        return float(value)
    if value == "nan":
        raise _Bad('must be a number; write NaN as "NaN", got "nan"')
    if isinstance(value, (dict, list, tuple)) or value is None:
        raise _Bad(f"must be a number, got {_show(value)}")
    try:
        return float(value)  # ints, bools (as protobuf: true is 1.0) and numeric strings
    except OverflowError:
        raise _Bad(f"must be a number of at most 1.8e308, got {_show(value)}") from None
    except (ValueError, TypeError):
        raise _Bad(f"must be a number, got {_show(value)}") from None


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _Bad(f"must be true or false, got {_show(value)}")


def _enum(value: Any, values: Mapping[str, int]) -> int:
    """An enum value as json_format reads it: a value name or a number (proto3 enums are open)."""
    if isinstance(value, str) and value in values:
        return values[value]
    names = ", ".join(values)
    if isinstance(value, (dict, list, tuple)):
        raise _Bad(f"must be one of {names}, got {_show(value)}")
    try:
        number = int(value)  # as json_format: "2" and 2.7 read as 2
    except (ValueError, TypeError, OverflowError):
        raise _Bad(f"must be one of {names}, got {_show(value)}") from None
    known = set(values.values())
    if _INT64_MIN <= number <= _INT64_MAX:
        # protobuf (upb) looks a number up by its low 32 bits
        low = (number + 2**31) % 2**32 - 2**31
        if low in known:
            return low
    if INT32_MIN <= number <= INT32_MAX:
        return number
    raise _Bad(f"must be one of {names}, got {_show(value)} (out of range)")


# ----------------------------------------------------------------------------- timestamps

_EPOCH = datetime.datetime(1970, 1, 1)
_TIMESTAMP_SECONDS_MIN = -62135596800  # 0001-01-01T00:00:00Z
_TIMESTAMP_SECONDS_MAX = 253402300799  # 9999-12-31T23:59:59Z


def _parse_timestamp(value: str) -> tuple[int, int]:
    """Seconds and nanos of an RFC 3339 string, as ``Timestamp.FromJsonString`` parses it.

    Raises ``ValueError`` (or ``OverflowError``) where protobuf raises.
    """
    offset = value.find("Z")
    if offset == -1:
        offset = value.find("+")
    if offset == -1:
        offset = value.rfind("-")
    if offset == -1:
        raise ValueError("it has no time zone offset (such as Z or +10:00)")
    time_value = value[:offset]
    point = time_value.find(".")
    if point == -1:
        second_value, nano_value = time_value, ""
    else:
        second_value, nano_value = time_value[:point], time_value[point + 1 :]
    if "t" in second_value:
        raise ValueError("a lowercase 't' is not accepted")
    date = datetime.datetime.strptime(second_value, "%Y-%m-%dT%H:%M:%S")
    delta = date - _EPOCH
    seconds = delta.seconds + delta.days * 86400
    if len(nano_value) > 9:
        raise ValueError("it has more than 9 fractional digits")
    nanos = round(float("0." + nano_value) * 1e9) if nano_value else 0
    if value[offset] == "Z":
        if len(value) != offset + 1:
            raise ValueError("it has text after the Z")
    else:
        zone = value[offset:]
        colon = zone.find(":")
        if colon == -1:
            raise ValueError(f"its time zone offset {zone!r} is not +HH:MM or -HH:MM")
        shift = (int(zone[1:colon]) * 60 + int(zone[colon + 1 :])) * 60
        seconds = seconds - shift if zone[0] == "+" else seconds + shift
    if not _TIMESTAMP_SECONDS_MIN <= seconds <= _TIMESTAMP_SECONDS_MAX:
        raise ValueError("it is outside years 0001 to 9999")
    if not 0 <= nanos < 1_000_000_000:
        raise ValueError("its fraction of a second is out of range")
    return int(seconds), int(nanos)


def _format_timestamp(seconds: int, nanos: int) -> str:
    """``Timestamp.ToJsonString``: UTC with a Z and 0, 3, 6 or 9 fractional digits."""
    day_seconds = seconds % 86400
    days = (seconds - day_seconds) // 86400
    text = (_EPOCH + datetime.timedelta(days, day_seconds)).isoformat()
    if nanos % 1e9 == 0:
        return text + "Z"
    if nanos % 1e6 == 0:
        return f"{text}.{nanos // 1_000_000:03d}Z"
    if nanos % 1e3 == 0:
        return f"{text}.{nanos // 1_000:06d}Z"
    return f"{text}.{nanos:09d}Z"


def timestamp_key(value: str) -> tuple[int, int]:
    """(seconds, nanos) of a normalised RFC 3339 timestamp, for ordering by time; ``""``
    (no time) sorts first."""
    return _parse_timestamp(value) if value else (-(1 << 62), 0)


def normalise_timestamp(value: str) -> str:
    """An RFC 3339 timestamp as protobuf prints it (``Timestamp.ToJsonString``).

    Parameters
    ----------
    value : str
        An RFC 3339 timestamp, e.g. ``"2024-05-01T19:30:00+10:00"``.

    Returns
    -------
    str
        The same instant in UTC, e.g. ``"2024-05-01T09:30:00Z"``.

    Raises
    ------
    ValueError
        If ``value`` is not a timestamp protobuf accepts.
    """
    try:
        return _format_timestamp(*_parse_timestamp(value))
    except OverflowError as error:
        raise ValueError(str(error)) from None


def _timestamp(value: Any) -> str:
    example = '"2024-05-01T09:30:00Z"'
    if not isinstance(value, str):
        raise _Bad(f"must be an RFC 3339 timestamp string such as {example}, got {_show(value)}")
    try:
        return _format_timestamp(*_parse_timestamp(value))
    except (ValueError, OverflowError) as error:
        raise _Bad(
            f"must be an RFC 3339 timestamp such as {example}, got {_show(value)}: {error}"
        ) from None


# ----------------------------------------------------------------------------- decoding


class _Report:
    """What decoding found: ``errors`` (JSON that does not fit the schema) and ``problems``
    (valid JSON the model cannot represent, such as a node without a kind)."""

    __slots__ = ("errors", "problems")

    def __init__(self) -> None:
        self.errors: list[FieldViolation] = []
        self.problems: list[FieldViolation] = []


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _short(message: str) -> str:
    return message.rpartition(".")[2]


_LOOKUP: dict[str, dict[str, Field]] = {
    message: {**{f.name: f for f in fields_}, **{f.json_name: f for f in fields_}}
    for message, fields_ in SCHEMA.items()
}
_DEFAULT = {STRING: "", INT32: 0, DOUBLE: 0.0, BOOL: False, ENUM: 0, MESSAGE: None, TIMESTAMP: ""}
_DEFAULTS: dict[str, dict[str, Any]] = {
    message: {f.name: () if f.repeated else _DEFAULT[f.kind] for f in fields_}
    for message, fields_ in SCHEMA.items()
}
_FIELD_NAMES = {
    message: ", ".join(f.json_name for f in fields_) for message, fields_ in SCHEMA.items()
}
_SCALARS: dict[str, Callable[[Any], Any]] = {
    STRING: _string,
    INT32: _int32,
    DOUBLE: _double,
    BOOL: _bool,
    TIMESTAMP: _timestamp,
}


def _scalar(field: Field, value: Any) -> Any:
    if field.kind == ENUM:
        assert field.enum is not None
        return _enum(value, field.enum)
    return _SCALARS[field.kind](value)


def _reader(field: Field) -> Callable[[Any], Any] | None:
    """How to read a singular scalar field's JSON value (``None`` for lists and messages)."""
    if field.repeated or field.kind == MESSAGE:
        return None
    if field.kind == ENUM:
        values = field.enum
        assert values is not None
        return lambda value: _enum(value, values)
    return _SCALARS[field.kind]


# message -> JSON key (either name) -> (field, its scalar reader or None)
_READERS: dict[str, dict[str, tuple[Field, Callable[[Any], Any] | None]]] = {
    message: {key: (field, _reader(field)) for key, field in lookup.items()}
    for message, lookup in _LOOKUP.items()
}
_NO_FAILURES: frozenset[str] = frozenset()


def _message(name: str, value: Any, path: str, report: _Report) -> Any:
    """Decode one message and build its model object; ``None`` if ``value`` is no message."""
    if not isinstance(value, dict):
        if isinstance(value, (list, tuple, str)) and not value:
            value = {}  # as json_format, which iterates over the keys of what it is given
        else:
            report.errors.append(FieldViolation(path, f"must be a JSON object, got {_show(value)}"))
            return None
    readers = _READERS[name]
    values = _DEFAULTS[name].copy()
    failed: set[str] | frozenset[str] = _NO_FAILURES
    for key, item in value.items():
        entry = readers.get(key)
        if entry is None:
            report.errors.append(
                FieldViolation(
                    _join(path, _printable(str(key))),
                    f"unknown field (a {_short(name)} has {_FIELD_NAMES[name]})",
                )
            )
            continue
        field, read = entry
        if key != field.json_name and field.json_name in value:
            report.errors.append(
                FieldViolation(
                    _join(path, field.json_name),
                    f'given twice, as "{field.json_name}" and "{key}"',
                )
            )
            failed = {*failed, field.name}
            continue
        if item is None:
            continue  # null is the default
        try:
            if read is not None:
                values[field.name] = read(item)
            elif field.repeated:
                values[field.name] = _repeated(field, item, _join(path, field.json_name), report)
            else:
                values[field.name] = _message(
                    field.message, item, _join(path, field.json_name), report
                )
        except _Bad as bad:
            report.errors.append(FieldViolation(_join(path, field.json_name), str(bad)))
            failed = {*failed, field.name}
    return _BUILD[name](values, path, failed, report)


def _repeated(field: Field, value: Any, path: str, report: _Report) -> Any:
    if isinstance(value, _Decoded):  # decoded while the file streamed
        report.errors += value.errors
        report.problems += value.problems
        return value.value
    if not isinstance(value, (list, tuple)):
        raise _Bad(f"must be a list, got {_show(value)}")
    if field.kind == MESSAGE:
        fast = _FAST_LISTS.get(field.message)
        if fast is not None:
            return fast(value, path, report)
        result = []
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            if item is None:
                report.errors.append(FieldViolation(where, "must not be null"))
                continue
            built = _message(field.message, item, where, report)
            if built is not None:
                result.append(built)
        return result
    result = []
    for i, item in enumerate(value):
        where = f"{path}[{i}]"
        try:
            if item is None:
                raise _Bad("must not be null")
            result.append(_scalar(field, item))
        except _Bad as bad:
            report.errors.append(FieldViolation(where, str(bad)))
    return result


# ----------------------------------------------------------------------------- to the model

_NODE_KINDS = {NODE_KIND[kind.value]: kind for kind in NodeKind}
_CHANNELS = {ORDER_CHANNEL[channel.value]: channel for channel in Channel}


def _build_date(values: dict, path: str, failed: Set[str], report: _Report) -> datetime.date | None:
    try:
        return date_of(values["year"], values["month"], values["day"])
    except ValueError as error:
        report.problems.append(FieldViolation(path, str(error)))
        return None


def _build_time_of_day(
    values: dict, path: str, failed: Set[str], report: _Report
) -> datetime.time | None:
    try:
        return time_of_day(values["hours"], values["minutes"], values["seconds"], values["nanos"])
    except ValueError as error:
        report.problems.append(FieldViolation(path, str(error)))
        return None


def _build_calendar(values: dict, path: str, failed: Set[str], report: _Report) -> Calendar:
    # unspecified or unknown days are kept as their numbers: the validation reports them
    return Calendar(
        values["id"],
        frozenset(values["working_days"]),
        frozenset(d for d in values["holidays"] if d is not None),
    )


def _build_location(values: dict, path: str, failed: Set[str], report: _Report) -> Location:
    return Location(values["latitude"], values["longitude"])


def _build_zone(values: dict, path: str, failed: Set[str], report: _Report) -> Zone:
    return Zone(
        values["max_distance_km"],
        values["base_cost"],
        values["cost_per_kg"],
        values["transit_days"],
    )


def _build_service(values: dict, path: str, failed: Set[str], report: _Report) -> CarrierService:
    return CarrierService(
        id=values["id"],
        carrier=values["carrier"],
        name=values["name"],
        max_parcel_weight_kg=values["max_parcel_weight_kg"],
        zones=tuple(values["zones"]),
        calendar_id=values["calendar_id"],
    )


def _build_node(values: dict, path: str, failed: Set[str], report: _Report) -> Node:
    number = values["kind"]
    kind = _NODE_KINDS.get(number)
    if kind is None:
        kind = NodeKind.STORE
        if "kind" not in failed:
            where = _join(path, "kind")
            if number == 0:
                report.problems.append(
                    FieldViolation(where, "is required: DC, STORE, THIRD_PARTY or DROP_SHIP")
                )
            else:
                report.problems.append(
                    FieldViolation(
                        where, f"unknown kind {number}: must be DC, STORE, THIRD_PARTY or DROP_SHIP"
                    )
                )
    return Node(
        id=values["id"],
        kind=kind,
        location=values["location"],  # None when absent; validation reports it
        handling_cost_per_shipment=values["handling_cost_per_shipment"],
        handling_cost_per_unit=values["handling_cost_per_unit"],
        processing_days=values["processing_days"],
        service_ids=tuple(values["service_ids"]),
        pickup=values["pickup"],
        daily_shipment_capacity=values["daily_shipment_capacity"],
        disabled=values["disabled"],
        name=values["name"],
        time_zone=values["time_zone"],
        calendar_id=values["calendar_id"],
        cutoff_time=values["cutoff_time"],
    )


def _build_sku(values: dict, path: str, failed: Set[str], report: _Report) -> Sku:
    return Sku(
        values["id"],
        values["weight_kg"],
        values["name"],
        values["ship_alone"],
        values["release_date"],
    )


def _build_position(values: dict, path: str, failed: Set[str], report: _Report) -> StockPosition:
    # reserved and atp are reported by the server and ignored on input
    return StockPosition(
        values["node_id"], values["sku_id"], values["on_hand"], values["safety_stock"], reserved=0
    )


def _build_network(values: dict, path: str, failed: Set[str], report: _Report) -> Network:
    return Network(
        nodes=tuple(values["nodes"]),
        carrier_services=tuple(values["carrier_services"]),
        skus=tuple(values["skus"]),
        stock=StockTable.of(values["stock"]),
        split_penalty=values["split_penalty"],
        currency=values["currency"],
        time_zone=values["time_zone"],
        calendars=tuple(values["calendars"]),
        sourcing_profiles=tuple(values["sourcing_profiles"]),
        channel_fences=tuple(values["channel_fences"]),
        inbound_supply=tuple(values["inbound_supply"]),
    )


def _build_line(values: dict, path: str, failed: Set[str], report: _Report) -> OrderLine:
    return OrderLine(
        values["id"],
        values["sku_id"],
        values["quantity"],
        values["ship_together_group"],
        values["allow_backorder"],
    )


def _order_channel(number: int) -> Channel | None:
    """An order's (or a forecast class's) channel by its enum number: unspecified reads as
    WEB; None for a number no channel has."""
    return Channel.WEB if number == 0 else _CHANNELS.get(number)


def _build_order(values: dict, path: str, failed: Set[str], report: _Report) -> Order:
    number = values["channel"]
    channel = _order_channel(number)
    if channel is None:
        channel = Channel.WEB
        if "channel" not in failed:
            report.problems.append(
                FieldViolation(
                    _join(path, "channel"),
                    f"unknown channel {number}: must be WEB, STORE, CALL_CENTER, MARKETPLACE "
                    "or WHOLESALE",
                )
            )
    return Order(
        id=values["id"],
        lines=tuple(values["lines"]),
        destination=values["destination"],
        channel=channel,
        promise_days=values["promise_days"],
        max_shipments=values["max_shipments"],
        excluded_node_ids=tuple(values["excluded_node_ids"]),
        allow_partial=values["allow_partial"],
        pickup_store_id=values["pickup_store_id"],
        create_time=values["create_time"],
        customer_id=values["customer_id"],
        promise_date=values["promise_date"],
        sourcing_profile_id=values["sourcing_profile_id"],
    )


_CHANNEL_NAMES = "WEB, STORE, CALL_CENTER, MARKETPLACE or WHOLESALE"
_KIND_NAMES = "DC, STORE, THIRD_PARTY or DROP_SHIP"


def _enum_list(
    numbers: list[int], known: Mapping[int, Any], names: str, where: str, report: _Report
) -> tuple[Any, ...]:
    """The model values of a repeated enum field (JSON name path ``where``); an unspecified
    or unknown number is a violation."""
    out = []
    for i, number in enumerate(numbers):
        value = known.get(number)
        if value is None:
            report.problems.append(
                FieldViolation(f"{where}[{i}]", f"must be {names}, not {number}")
            )
        else:
            out.append(value)
    return tuple(out)


def _build_adjustment(values: dict, path: str, failed: Set[str], report: _Report) -> NodeAdjustment:
    number = values["kind"]
    kind = _NODE_KINDS.get(number)
    if kind is None and number != 0 and "kind" not in failed:
        report.problems.append(
            FieldViolation(_join(path, "kind"), f"must be {_KIND_NAMES}, not {number}")
        )
    return NodeAdjustment(values["cost_per_shipment"], values["node_id"], kind)


def _build_profile(values: dict, path: str, failed: Set[str], report: _Report) -> SourcingProfile:
    return SourcingProfile(
        id=values["id"],
        channels=_enum_list(
            values["channels"], _CHANNELS, _CHANNEL_NAMES, _join(path, "channels"), report
        ),
        allowed_node_kinds=_enum_list(
            values["allowed_node_kinds"],
            _NODE_KINDS,
            _KIND_NAMES,
            _join(path, "allowedNodeKinds"),
            report,
        ),
        excluded_node_ids=tuple(values["excluded_node_ids"]),
        max_distance_km=values["max_distance_km"],
        max_shipments=values["max_shipments"],
        node_adjustments=tuple(values["node_adjustments"]),
    )


def _build_fence(values: dict, path: str, failed: Set[str], report: _Report) -> ChannelFence:
    channel = _CHANNELS.get(values["channel"])  # unspecified: None, which validation names
    if channel is None and values["channel"] != 0 and "channel" not in failed:
        report.problems.append(
            FieldViolation(
                _join(path, "channel"), f"must be {_CHANNEL_NAMES}, not {values['channel']}"
            )
        )
    number = values["node_kind"]
    kind = _NODE_KINDS.get(number)
    if kind is None and number != 0 and "node_kind" not in failed:
        report.problems.append(
            FieldViolation(_join(path, "nodeKind"), f"must be {_KIND_NAMES}, not {number}")
        )
    return ChannelFence(
        channel=channel,
        node_id=values["node_id"],
        node_kind=kind,
        sku_id=values["sku_id"],
        units=values["units"],
        share=values["share"],
        max_share=values["max_share"],
    )


def _build_inbound(values: dict, path: str, failed: Set[str], report: _Report) -> InboundSupply:
    return InboundSupply(
        values["id"],
        values["node_id"],
        values["sku_id"],
        values["quantity"],
        values["arrival_date"],
    )


def _build_fields(values: dict, path: str, failed: Set[str], report: _Report) -> dict:
    """A message kept as its decoded fields (checked and built by its own reader)."""
    return values


_BUILD: dict[str, Callable[[dict, str, Set[str], _Report], Any]] = {
    "omniroute.v1.DemandRegion": _build_fields,
    "omniroute.v1.OnlineDemand": _build_fields,
    "omniroute.v1.StoreDemand": _build_fields,
    "omniroute.v1.LostSaleCost": _build_fields,
    "omniroute.v1.MarkdownCost": _build_fields,
    "omniroute.v1.ForecastBasket": _build_fields,
    "omniroute.v1.DemandForecast": _build_fields,
    "omniroute.v1.NodeAdjustment": _build_adjustment,
    "omniroute.v1.SourcingProfile": _build_profile,
    "omniroute.v1.ChannelFence": _build_fence,
    "omniroute.v1.InboundSupply": _build_inbound,
    "google.type.Date": _build_date,
    "google.type.TimeOfDay": _build_time_of_day,
    "omniroute.v1.Calendar": _build_calendar,
    "omniroute.v1.Location": _build_location,
    "omniroute.v1.Zone": _build_zone,
    "omniroute.v1.CarrierService": _build_service,
    "omniroute.v1.Node": _build_node,
    "omniroute.v1.Sku": _build_sku,
    "omniroute.v1.StockPosition": _build_position,
    "omniroute.v1.Network": _build_network,
    "omniroute.v1.OrderLine": _build_line,
    "omniroute.v1.Order": _build_order,
}

# ----------------------------------------------------------------------------- stock, fast

_STOCK_KEYS = frozenset({"nodeId", "skuId", "onHand", "safetyStock"})


class _Absent:
    """Marks a key a JSON object does not have."""

    __slots__ = ()


_ABSENT = _Absent()


def _stock_columns(items: list[Any] | tuple[Any, ...]) -> list[list[Any]] | None:
    """Node ids, SKU ids, on-hand and safety stock, column by column, when every item is a
    plain JSON object with only those lowerCamelCase keys and plain values (ASCII strings,
    int32 numbers); ``None`` otherwise. Every step is a C loop over the whole list."""
    count = len(items)
    if not count:
        return [[], [], [], []]
    get = dict.get
    columns: list[list[Any]] = []
    present = 0
    try:
        for key, kind, default in (
            ("nodeId", str, ""),
            ("skuId", str, ""),
            ("onHand", int, 0),
            ("safetyStock", int, 0),
        ):
            column = list(map(get, items, repeat(key), repeat(_ABSENT)))
            kinds = set(map(type, column))
            if _Absent in kinds:
                kinds.discard(_Absent)
                present += count - column.count(_ABSENT)
                column = list(map(get, items, repeat(key), repeat(default)))
            else:
                present += count
            if not kinds <= {kind}:
                return None
            columns.append(column)
    except TypeError:  # an item that is not a JSON object
        return None
    if sum(map(len, items)) != present:  # some object has another key
        return None
    nodes, skus, on_hand, safety = columns
    if not (all(map(str.isascii, nodes)) and all(map(str.isascii, skus))):
        return None  # non-ASCII text: the general path checks it for unpaired surrogates
    for column in (on_hand, safety):
        if min(column) < INT32_MIN or max(column) > INT32_MAX:
            return None
    return columns


_STOCK_CHUNK = 100_000  # positions validated and added to the table at a time


@dataclass(frozen=True)
class _Decoded:
    """A field's value already decoded while the file streamed (its problems beside it)."""

    value: Any
    errors: list[FieldViolation]
    problems: list[FieldViolation]


def _stock_list(
    items: list[Any] | tuple[Any, ...],
    path: str,
    report: _Report,
    builder: StockTableBuilder | None = None,
    offset: int = 0,
) -> Any:
    """Stock positions as a :class:`StockTable`: chunk by chunk in bulk when the positions
    are plain, else one by one (the general decoder for any position that is not plain).
    With ``builder`` (fed batch by batch while a file streams), the positions are added to
    it, ``None`` returned, and the items numbered from ``offset`` in violations."""
    table = builder if builder is not None else StockTableBuilder()
    for start in range(0, len(items), _STOCK_CHUNK):
        chunk = items[start : start + _STOCK_CHUNK]
        columns = _stock_columns(chunk)
        if columns is None:
            positions = _stock_positions(chunk, path, offset + start, report)
            columns = [
                list(map(operator.attrgetter(name), positions))
                for name in ("node_id", "sku_id", "on_hand", "safety_stock")
            ]
        table.add(*columns)
    return table.build() if builder is None else None


def _stock_positions(
    items: list[Any] | tuple[Any, ...], path: str, offset: int, report: _Report
) -> list[StockPosition]:
    """Positions one by one: the plain ones directly, the others by the general decoder
    (which reports where they do not fit the schema, numbered from ``offset``)."""
    result: list[StockPosition] = []
    append = result.append
    for i, item in enumerate(items, offset):
        if type(item) is dict and item.keys() <= _STOCK_KEYS:
            node_id = item.get("nodeId", "")
            sku_id = item.get("skuId", "")
            on_hand = item.get("onHand", 0)
            safety = item.get("safetyStock", 0)
            if (
                type(node_id) is str
                and type(sku_id) is str
                and type(on_hand) is int
                and type(safety) is int
                and node_id.isascii()
                and sku_id.isascii()
                and INT32_MIN <= on_hand <= INT32_MAX
                and INT32_MIN <= safety <= INT32_MAX
            ):
                append(StockPosition(node_id, sku_id, on_hand, safety))
                continue
        where = f"{path}[{i}]"
        if item is None:
            report.errors.append(FieldViolation(where, "must not be null"))
            continue
        built = _message("omniroute.v1.StockPosition", item, where, report)
        if built is not None:
            append(built)
    return result


_FAST_LISTS: dict[str, Callable[[Any, str, _Report], list[Any]]] = {
    "omniroute.v1.StockPosition": _stock_list
}


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file becomes objects: the data hold no
    cycles, and the collector would otherwise re-scan the growing object graph again and again
    while millions of stock positions are built and validated."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ----------------------------------------------------------------------------- public: decode


def _root(violations: list[FieldViolation], root: str) -> list[FieldViolation]:
    return [FieldViolation(v.field or root, v.description) for v in violations]


def network_from_json(data: Any) -> tuple[Network | None, list[FieldViolation]]:
    """Decode a ``Network`` from its proto3 JSON mapping (as ``json.load`` returns it).

    Parameters
    ----------
    data : Any
        The parsed JSON of a network file.

    Returns
    -------
    network : Network or None
        The network, or ``None`` when ``data`` does not fit the ``Network`` schema.
    violations : list of FieldViolation
        When ``network`` is ``None``: every place where the JSON does not fit the schema.
        Otherwise what the model cannot represent (a node without a kind), as
        ``omniroute.server.convert.network_from_proto`` reports it. The network itself is not
        validated: see :func:`omniroute.validation.network_violations`.
    """
    report = _Report()
    network = _message("omniroute.v1.Network", data, "", report)
    if report.errors:
        return None, _root(report.errors + report.problems, "(root)")
    return network, report.problems


def order_from_json(data: Any) -> tuple[Order | None, list[FieldViolation]]:
    """Decode an ``Order`` from its proto3 JSON mapping (an unspecified channel reads as WEB).

    Parameters
    ----------
    data : Any
        The parsed JSON of one line of an orders file.

    Returns
    -------
    order : Order or None
        The order, or ``None`` when ``data`` does not fit the ``Order`` schema.
    violations : list of FieldViolation
        When ``order`` is ``None``: every place where the JSON does not fit the schema.
        Otherwise what the model cannot represent (an unknown channel number). The order is
        not validated against a network: see :func:`omniroute.validation.orders_violations`.
    """
    report = _Report()
    order = _message("omniroute.v1.Order", data, "", report)
    if report.errors:
        return None, _root(report.errors + report.problems, "(root)")
    return order, report.problems


def _items_from_json(
    message: str, items: Any, where: str
) -> tuple[list[Any], list[FieldViolation]]:
    if not isinstance(items, list):
        return [], [FieldViolation(where, "must be a list")]
    result: list[Any] = []
    violations: list[FieldViolation] = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        report = _Report()
        built = _message(message, item, at, report)
        if report.errors:
            # reported at the item (as the scenario files always have), the field in the text
            for error in report.errors:
                inner = error.field[len(at) :].lstrip(".")
                violations.append(
                    FieldViolation(
                        at, f"{inner}: {error.description}" if inner else error.description
                    )
                )
            continue
        result.append(built)
        violations += report.problems
    return result, violations


def nodes_from_json(items: Any, where: str) -> tuple[list[Node], list[FieldViolation]]:
    """Nodes given as proto3 JSON (e.g. a scenario's ``addNodes``).

    Parameters
    ----------
    items : Any
        The parsed JSON: a list of ``Node`` objects.
    where : str
        The list's field path, e.g. ``"addNodes"``; violations are located under it.

    Returns
    -------
    nodes : list of Node
        The nodes that fit the schema, in order.
    violations : list of FieldViolation
        ``where`` itself if ``items`` is not a list; ``where[i]`` for an item that does not
        fit the schema (the description names the field); ``where[i].kind`` for a node
        without a kind.
    """
    return _items_from_json("omniroute.v1.Node", items, where)


def stock_from_json(items: Any, where: str) -> tuple[list[StockPosition], list[FieldViolation]]:
    """Stock positions given as proto3 JSON (e.g. a scenario's ``addStock``).

    Parameters
    ----------
    items : Any
        The parsed JSON: a list of ``StockPosition`` objects.
    where : str
        The list's field path, e.g. ``"addStock"``; violations are located under it.

    Returns
    -------
    positions : list of StockPosition
        The positions that fit the schema, in order (reserved units 0).
    violations : list of FieldViolation
        ``where`` itself if ``items`` is not a list; ``where[i]`` for an item that does not
        fit the schema (the description names the field).
    """
    return _items_from_json("omniroute.v1.StockPosition", items, where)


# ----------------------------------------------------------------------------- streaming

_BLOCK = 1 << 24  # characters read at a time
_BATCH = 1 << 23  # characters of stock positions parsed by one json.loads
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _NotStreamed(Exception):
    """The file is not a JSON object that streams cleanly: read it whole instead (which
    reports any syntax error exactly)."""


class _JsonStream:
    """A JSON text read block by block: the part being parsed is in memory, not the file."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.text = ""
        self.pos = 0
        self.eof = False

    def more(self) -> bool:
        """Read another block (dropping what was parsed); ``False`` at the end of the file."""
        if self.eof:
            return False
        block = self.handle.read(_BLOCK)
        if not block:
            self.eof = True
            return False
        self.text = self.text[self.pos :] + block
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character after white space ('' at the end of the file)."""
        while True:
            self.pos = _SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.text) or not self.more():
                return self.text[self.pos : self.pos + 1]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise _NotStreamed()
        self.pos += 1

    def value(self) -> Any:
        """The next JSON value (reading more until it is whole, and followed by something
        that ends it unless the file ends)."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
                if end < len(self.text) or self.eof:
                    self.pos = end
                    return value
            except json.JSONDecodeError:
                if self.eof:
                    raise _NotStreamed() from None
            if not self.more():
                raise _NotStreamed()

    def array_batches(self) -> Iterator[list[Any]]:
        """The items of the JSON array starting here, a batch of them at a time: each batch is
        a run of flat objects cut after a ``},`` and parsed by one ``json.loads``; a cut that
        falls inside a string fails to parse, and then the items are read one by one."""
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            while len(self.text) - self.pos < 2 * _BATCH and self.more():
                pass
            cut = self.text.rfind("},", self.pos, self.pos + _BATCH) + 1
            batch = None
            if cut > self.pos:
                try:
                    batch = json.loads(f"[{self.text[self.pos : cut]}]")
                except json.JSONDecodeError:
                    batch = None
            if batch is not None:
                self.pos = cut
            else:
                batch = [self.value()]
            yield batch
            if self.closed("]"):
                return

    def closed(self, closing: str) -> bool:
        """After an item of an array or object: ``True`` at its closing bracket, ``False``
        at the comma before the next item."""
        char = self.peek()
        self.pos += 1
        if char != closing and char != ",":
            raise _NotStreamed()
        return char == closing


def _stream_network(path: Path) -> dict[str, Any]:
    """A network file's top-level JSON object with its stock already decoded (a
    :class:`_Decoded` stock table) while the file streams: memory for the stock table and
    one batch of positions, not for the whole JSON tree."""
    with path.open(encoding="utf-8") as handle:
        stream = _JsonStream(handle)
        data: dict[str, Any] = {}
        stream.expect("{")
        if stream.peek() == "}":
            stream.pos += 1
        else:
            while True:
                key = stream.value()
                if not isinstance(key, str):
                    raise _NotStreamed()
                stream.expect(":")
                if key == "stock" and stream.peek() == "[":
                    report = _Report()
                    builder = StockTableBuilder()
                    seen = 0
                    for batch in stream.array_batches():
                        _stock_list(batch, "stock", report, builder, seen)
                        seen += len(batch)
                    data[key] = _Decoded(builder.build(), report.errors, report.problems)
                else:
                    data[key] = stream.value()
                if stream.closed("}"):
                    break
        if stream.peek() != "":
            raise _NotStreamed()  # text after the object
    return data


# ----------------------------------------------------------------------------- public: files


def read_network(path: str | Path) -> Network:
    """Load and validate a network file.

    Parameters
    ----------
    path : str or Path
        A network file: one ``Network`` message as proto3 JSON.

    Returns
    -------
    Network
        The network; it satisfies :func:`omniroute.validation.network_violations`.

    Raises
    ------
    ValidationError
        With subject ``network file PATH``, listing every problem: the file is missing
        (``no such file``), unreadable or not UTF-8 JSON (``not JSON: ...``); else every place
        the JSON does not fit the schema (``nodes[3].location.latitude: must be a number,
        got "x"``); else what the model cannot represent and every violation of the network.
    """
    path = Path(path)
    subject = f"network file {path}"
    with _collector_paused():
        try:
            try:
                data = _stream_network(path)
            except _NotStreamed:
                data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValidationError([FieldViolation(str(path), "no such file")], subject) from None
        except RecursionError:
            raise ValidationError(
                [FieldViolation(str(path), "not JSON: nested too deeply")], subject
            ) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValidationError(
                [FieldViolation(str(path), f"not JSON: {error}")], subject
            ) from None
        network, violations = network_from_json(data)
        del data  # free the JSON tree before validating
        if network is None:
            raise ValidationError(violations, subject)
        violations += network_violations(network)
    if violations:
        raise ValidationError(violations, subject)
    return network


def iter_order_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines of a JSON-lines file with their 1-based line numbers.

    Parameters
    ----------
    path : str or Path
        A UTF-8 text file.

    Returns
    -------
    Iterator of (int, str)
        Each non-blank line (with its line break) and its line number.

    Raises
    ------
    FileNotFoundError, OSError, UnicodeDecodeError
        As ``open`` and reading the file raise them.
    """
    with open(path, encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if text.strip():
                yield number, text


def _at_line(number: int, violation: FieldViolation) -> FieldViolation:
    where = f"line {number}"
    field = violation.field
    return FieldViolation(f"{where}: {field}" if field else where, violation.description)


def read_orders(path: str | Path, network: Network) -> list[Order]:
    """Load and validate an orders file (JSON lines) against ``network``.

    Parameters
    ----------
    path : str or Path
        An orders file: one ``Order`` message as proto3 JSON per line; blank lines are skipped.
    network : Network
        The network the orders are validated against (SKUs, pick-up stores, nodes).

    Returns
    -------
    list of Order
        The orders in file order.

    Raises
    ------
    ValidationError
        With subject ``orders file PATH``, listing every problem of every order, each located
        as ``line N: field`` (``line N`` alone for a line that is not JSON or not an object);
        or the file itself when it is missing (``no such file``), unreadable or not UTF-8.
    """
    path = Path(path)
    subject = f"orders file {path}"
    violations: list[FieldViolation] = []
    orders: list[Order] = []
    numbers: list[int] = []
    with _collector_paused():
        try:
            for number, text in iter_order_lines(path):
                try:
                    data = json.loads(text)
                except json.JSONDecodeError as error:  # its place within the file's line
                    where = f"column {error.pos + 1}" if error.pos < len(text.rstrip()) else "end"
                    violations.append(
                        FieldViolation(f"line {number}", f"not JSON: {error.msg} at {where}")
                    )
                    continue
                except RecursionError:
                    violations.append(
                        FieldViolation(f"line {number}", "not JSON: nested too deeply")
                    )
                    continue
                report = _Report()
                order = _message("omniroute.v1.Order", data, "", report)
                if report.errors:
                    violations += [_at_line(number, v) for v in report.errors + report.problems]
                    continue
                violations += [_at_line(number, v) for v in report.problems]
                orders.append(order)
                numbers.append(number)
        except FileNotFoundError:
            raise ValidationError([FieldViolation(str(path), "no such file")], subject) from None
        except (OSError, UnicodeDecodeError) as error:
            raise ValidationError([FieldViolation(str(path), str(error))], subject) from None
        for violation in orders_violations(orders, network):
            # "orders[i].lines[0].quantity" -> "line N: lines[0].quantity"
            head, _, rest = violation.field.partition("]")
            where = f"line {numbers[int(head.removeprefix('orders['))]}"
            rest = rest.lstrip(".")
            violations.append(
                FieldViolation(f"{where}: {rest}" if rest else where, violation.description)
            )
    if violations:
        raise ValidationError(violations, subject)
    return orders


# ----------------------------------------------------------------------------- encoding


def _encode_string(value: Any) -> str:
    if type(value) is not str:
        if not isinstance(value, str):
            raise TypeError(f"{value!r} has type {type(value).__name__}, but expected str")
        value = str(value)
    if not value.isascii():
        value.encode("utf-8")  # as protobuf: an unpaired surrogate raises UnicodeEncodeError
    return value


def _encode_int32(value: Any) -> int:
    number = operator.index(value)
    if not INT32_MIN <= number <= INT32_MAX:
        raise ValueError(f"Value out of range: {number}")
    return number


def _encode_double(value: Any) -> float | str:
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return number


def _encode_scalar(field: Field, value: Any) -> Any:
    """The JSON of one scalar as MessageToDict gives it."""
    kind = field.kind
    if kind == STRING:
        return _encode_string(value)
    if kind == DOUBLE:
        return _encode_double(value)
    if kind == INT32:
        return _encode_int32(value)
    if kind == BOOL:
        return bool(value)
    if kind == ENUM:
        assert field.enum is not None
        name = value.value if isinstance(value, (NodeKind, Channel)) else value
        if field.enum is DAY_OF_WEEK and isinstance(value, int):
            name = _DAY_NAMES.get(value, value)
        if name not in field.enum:
            raise ValueError(f"{name!r} is not a value of {field.name}")
        return name
    if kind == TIMESTAMP:
        return normalise_timestamp(value) if value else ""
    raise AssertionError(kind)


def _is_default(field: Field, encoded: Any) -> bool:
    """Whether proto3 leaves a singular field out: "", 0, false, +0.0 (not -0.0), value 0."""
    if field.kind == DOUBLE:
        return encoded == 0.0 and math.copysign(1.0, encoded) > 0
    if field.kind == ENUM:
        assert field.enum is not None
        return field.enum[encoded] == 0
    return not encoded


# Model values whose attributes are not the message's fields, as the message's fields.
_AS_MESSAGE: dict[str, Callable[[Any], Any]] = {
    "google.type.TimeOfDay": lambda t: SimpleNamespace(
        hours=t.hour, minutes=t.minute, seconds=t.second, nanos=t.microsecond * 1000
    ),
    "omniroute.v1.Calendar": lambda c: SimpleNamespace(
        id=c.id, working_days=sorted(c.working_days), holidays=sorted(c.holidays)
    ),
    "omniroute.v1.NodeAdjustment": lambda a: SimpleNamespace(
        node_id=a.node_id,
        kind=a.kind or "KIND_UNSPECIFIED",
        cost_per_shipment=a.cost_per_shipment,
    ),
}
_DAY_NAMES = {number: name for name, number in DAY_OF_WEEK.items()}


def _encode(name: str, obj: Any) -> dict[str, Any]:
    """A model object as ``json_format.MessageToDict`` gives its message."""
    adapt = _AS_MESSAGE.get(name)
    if adapt is not None:
        obj = adapt(obj)
    result: dict[str, Any] = {}
    skip = _NOT_WRITTEN.get(name, frozenset())
    for field in SCHEMA[name]:
        if field.name in skip:
            continue
        value = getattr(obj, field.name)
        if field.repeated:
            if not value:
                continue
            if field.kind == MESSAGE:
                encode = _FAST_ENCODERS.get(field.message)
                result[field.json_name] = (
                    encode(value)
                    if encode is not None
                    else [_encode(field.message, item) for item in value]
                )
            else:
                result[field.json_name] = [_encode_scalar(field, item) for item in value]
        elif field.kind == MESSAGE:
            if value is not None:
                result[field.json_name] = _encode(field.message, value)
        else:
            encoded = _encode_scalar(field, value)
            if not _is_default(field, encoded):
                result[field.json_name] = encoded
    return result


def _encode_stock(positions: Iterable[StockPosition]) -> list[dict[str, Any]]:
    """Stock positions as MessageToDict gives them (plain ones without the general encoder)."""
    result: list[dict[str, Any]] = []
    append = result.append
    for p in positions:
        node_id, sku_id, on_hand, safety = p.node_id, p.sku_id, p.on_hand, p.safety_stock
        if not (
            type(node_id) is str
            and type(sku_id) is str
            and type(on_hand) is int
            and type(safety) is int
            and node_id.isascii()
            and sku_id.isascii()
            and INT32_MIN <= on_hand <= INT32_MAX
            and INT32_MIN <= safety <= INT32_MAX
        ):
            append(_encode("omniroute.v1.StockPosition", p))
            continue
        item: dict[str, Any] = {}
        if node_id:
            item["nodeId"] = node_id
        if sku_id:
            item["skuId"] = sku_id
        if on_hand:
            item["onHand"] = on_hand
        if safety:
            item["safetyStock"] = safety
        append(item)
    return result


_FAST_ENCODERS: dict[str, Callable[[Any], list[dict[str, Any]]]] = {
    "omniroute.v1.StockPosition": _encode_stock
}


def network_to_json(network: Network) -> dict[str, Any]:
    """A network as the proto3 JSON mapping of its ``Network`` message.

    Parameters
    ----------
    network : Network
        Any network (stock positions are written without their reserved units).

    Returns
    -------
    dict
        What ``json_format.MessageToDict(network_to_proto(network))`` returns: keys in proto
        field order, defaults omitted.

    Raises
    ------
    TypeError, ValueError
        For a value protobuf would refuse (a string field that is not a string, an int32 out
        of range, a timestamp that is not RFC 3339).
    """
    return _encode("omniroute.v1.Network", network)


def order_to_json(order: Order) -> dict[str, Any]:
    """An order as the proto3 JSON mapping of its ``Order`` message.

    Parameters
    ----------
    order : Order
        Any order; ``create_time`` is written normalised to UTC.

    Returns
    -------
    dict
        What ``json_format.MessageToDict(order_to_proto(order))`` returns.

    Raises
    ------
    TypeError, ValueError
        For a value protobuf would refuse (e.g. a ``create_time`` that is not RFC 3339).
    """
    return _encode("omniroute.v1.Order", order)


def write_network(network: Network, path: str | Path) -> None:
    """Write a network file (indented proto3 JSON, for people to read).

    Parameters
    ----------
    network : Network
        The network to write.
    path : str or Path
        The file to create or replace.

    Raises
    ------
    OSError
        If the file cannot be written.
    TypeError, ValueError
        See :func:`network_to_json`.
    """
    text = json.dumps(network_to_json(network), indent=1) + "\n"
    Path(path).write_text(text, encoding="utf-8")


def write_orders(orders: Iterable[Order], path: str | Path) -> None:
    """Write an orders file: one compact proto3 JSON ``Order`` per line.

    Parameters
    ----------
    orders : iterable of Order
        The orders, in the order to write them.
    path : str or Path
        The file to create or replace.

    Raises
    ------
    OSError
        If the file cannot be written.
    TypeError, ValueError
        See :func:`order_to_json`.
    """
    with open(path, "w", encoding="utf-8") as handle:
        for order in orders:
            handle.write(json.dumps(order_to_json(order), separators=(",", ":")) + "\n")


# ----------------------------------------------------------------------------- forecasts


# bounds of a forecast's numbers (so that the horizon's demand stays a count numpy can sample)
MAX_HORIZON_DAYS = 3660.0
MAX_UNITS_PER_DAY = 1e6
MAX_AMOUNT = 1e9  # costs per unit


def forecast_from_json(
    data: Any, network: Network
) -> tuple[DemandForecast | None, list[FieldViolation]]:
    """Decode and check a ``DemandForecast`` (proto3 JSON) against ``network``.

    Returns
    -------
    forecast : omniroute.lookahead.DemandForecast or None
        The forecast, or ``None`` when there is any violation.
    violations : list of FieldViolation
        Every place where the JSON does not fit the schema, else every rule it breaks
        (docs/lookahead.md): a horizon that is not positive, duplicate or unknown ids,
        negative rates or costs, a store demand at a node that is not a store, an unknown
        channel, sourcing profile or excluded node, a basket's order that is not a valid
        order of the network (:func:`omniroute.validation.order_violations`) or a walk-in
        basket without a pick-up store.
    """
    from omniroute.lookahead import Basket, DemandForecast, DemandRegion, OnlineKey, OrderClass
    from omniroute.validation import order_violations

    report = _Report()
    values = _message("omniroute.v1.DemandForecast", data, "", report)
    if report.errors or values is None:
        return None, _root(report.errors + report.problems, "(root)")
    out: list[FieldViolation] = list(report.problems)
    skus = {sku.id for sku in network.skus}
    nodes = {node.id: node for node in network.nodes}

    def bad(field: str, description: str) -> None:
        out.append(FieldViolation(field, description))

    def known(field: str, value: str, ids: Iterable[str], what: str) -> bool:
        if not value:
            bad(field, f"required: the {what}'s id")
            return False
        if value not in ids:
            bad(field, f"unknown {what} {_show(value)}")
            return False
        return True

    def amount(field: str, value: float, positive: bool = False, most: float = MAX_AMOUNT) -> None:
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            bad(field, f"must be a finite number {'> 0' if positive else '>= 0'}, got {value}")
        elif value > most:
            bad(field, f"must be at most {most:g}, got {value}")

    def once(field: str, key: tuple, seen: dict[tuple, str], what: str) -> None:
        if key in seen:
            bad(field, f"the same {what} as {seen[key]}: list each once")
        else:
            seen[key] = field

    amount("horizonDays", values["horizon_days"], positive=True, most=MAX_HORIZON_DAYS)
    regions: dict[str, str] = {}
    for i, region in enumerate(values["regions"]):
        at = f"regions[{i}]"
        if not region["id"]:
            bad(f"{at}.id", "required: a non-empty id")
        else:
            once(f"{at}.id", (region["id"],), regions, "id")  # type: ignore[arg-type]
        if region["centre"] is None:
            bad(f"{at}.centre", "required: the region's centre")
        else:
            out.extend(location_violations(f"{at}.centre", region["centre"]))
    region_ids = {key[0] for key in regions}  # type: ignore[index]
    if values["online"] and not values["regions"]:
        bad("regions", "required: online demand needs at least one region")
    profiles = {profile.id for profile in network.sourcing_profiles}
    seen: dict[tuple, str] = {}
    online: dict[OnlineKey, float] = {}
    for i, entry in enumerate(values["online"]):
        at = f"online[{i}]"
        ok = known(f"{at}.regionId", entry["region_id"], region_ids, "region")
        ok &= known(f"{at}.skuId", entry["sku_id"], skus, "SKU")
        if entry["promise_days"] < 0:
            bad(
                f"{at}.promiseDays", f"must be >= 0 (0 for no promise), got {entry['promise_days']}"
            )
        amount(f"{at}.unitsPerDay", entry["units_per_day"], most=MAX_UNITS_PER_DAY)
        channel = _order_channel(entry["channel"])
        if channel is None:
            bad(f"{at}.channel", f"must be {_CHANNEL_NAMES}, not {entry['channel']}")
        profile = entry["sourcing_profile_id"]
        if profile and profile not in profiles:
            bad(f"{at}.sourcingProfileId", f"unknown sourcing profile {_show(profile)}")
        for j, node_id in enumerate(entry["excluded_node_ids"]):
            known(f"{at}.excludedNodeIds[{j}]", node_id, nodes, "node")
        pickup = entry["pickup_store_id"]
        if pickup and pickup not in nodes:
            bad(f"{at}.pickupStoreId", f"unknown node {_show(pickup)}")
        elif pickup and (nodes[pickup].kind is not NodeKind.STORE or not nodes[pickup].pickup):
            bad(f"{at}.pickupStoreId", f"{_show(pickup)} is not a pick-up store")
        if ok and channel is not None:
            excluded = tuple(sorted(set(entry["excluded_node_ids"])))
            kind = OrderClass(entry["promise_days"], channel, profile, excluded, pickup)
            key = (entry["region_id"], entry["sku_id"], kind)
            once(at, key, seen, "region, SKU and order class")
            online[key] = entry["units_per_day"]
    seen = {}
    for i, entry in enumerate(values["store_demand"]):
        at = f"storeDemand[{i}]"
        ok = known(f"{at}.storeId", entry["store_id"], nodes, "node")
        if ok and nodes[entry["store_id"]].kind is not NodeKind.STORE:
            bad(f"{at}.storeId", f"{_show(entry['store_id'])} is not a store")
            ok = False
        ok &= known(f"{at}.skuId", entry["sku_id"], skus, "SKU")
        amount(f"{at}.unitsPerDay", entry["units_per_day"], most=MAX_UNITS_PER_DAY)
        if ok:
            once(at, (entry["store_id"], entry["sku_id"]), seen, "store and SKU")
    seen = {}
    for i, entry in enumerate(values["lost_sale_costs"]):
        at = f"lostSaleCosts[{i}]"
        if known(f"{at}.skuId", entry["sku_id"], skus, "SKU"):
            once(at, (entry["sku_id"],), seen, "SKU")
        amount(f"{at}.costPerUnit", entry["cost_per_unit"], positive=True)
    seen = {}
    for i, entry in enumerate(values["markdown_costs"]):
        at = f"markdownCosts[{i}]"
        ok = known(f"{at}.nodeId", entry["node_id"], nodes, "node")
        ok &= known(f"{at}.skuId", entry["sku_id"], skus, "SKU")
        amount(f"{at}.costPerUnit", entry["cost_per_unit"])
        if ok:
            once(at, (entry["node_id"], entry["sku_id"]), seen, "node and SKU")
    baskets: list[Basket] = []
    seen = {}
    for i, entry in enumerate(values["baskets"]):
        at = f"baskets[{i}]"
        order = entry["order"]
        if order is None:
            bad(f"{at}.order", "required: the order the basket stands for")
        else:
            out.extend(order_violations(order, network, prefix=f"{at}.order"))
            if order.id:
                once(f"{at}.order.id", (order.id,), seen, "order id")
            if entry["walk_in"] and not order.pickup_store_id:
                bad(f"{at}.order.pickupStoreId", "required for a walk-in: its store")
            baskets.append(Basket(order, entry["orders_per_day"], entry["walk_in"]))
        amount(f"{at}.ordersPerDay", entry["orders_per_day"], most=MAX_UNITS_PER_DAY)
    if out:
        return None, out
    return (
        DemandForecast(
            horizon_days=values["horizon_days"],
            regions=tuple(DemandRegion(r["id"], r["centre"]) for r in values["regions"]),
            online=online,
            store={
                (e["store_id"], e["sku_id"]): e["units_per_day"] for e in values["store_demand"]
            },
            lost_sale_cost={e["sku_id"]: e["cost_per_unit"] for e in values["lost_sale_costs"]},
            markdown_cost={
                (e["node_id"], e["sku_id"]): e["cost_per_unit"] for e in values["markdown_costs"]
            },
            baskets=tuple(baskets),
        ),
        [],
    )


def read_forecast(path: str | Path, network: Network) -> DemandForecast:
    """Load a forecast file (one ``DemandForecast`` as proto3 JSON) checked against
    ``network``; a :class:`ValidationError` (subject ``forecast file PATH``) lists every
    problem, as :func:`forecast_from_json` finds them."""
    path = Path(path)
    subject = f"forecast file {path}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError([FieldViolation(str(path), "no such file")], subject) from None
    except RecursionError:
        raise ValidationError([FieldViolation(str(path), "not JSON: nested too deeply")],
                              subject) from None  # fmt: skip
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValidationError([FieldViolation(str(path), f"not JSON: {error}")], subject) from None
    forecast, violations = forecast_from_json(data, network)
    if forecast is None:
        raise ValidationError(violations, subject)
    return forecast


def forecast_to_json(forecast: DemandForecast) -> dict[str, Any]:
    """A forecast (:class:`omniroute.lookahead.DemandForecast`) as the proto3 JSON of its
    ``DemandForecast`` message (defaults omitted, as protobuf writes them)."""

    def entry(**fields: Any) -> dict[str, Any]:
        return {k: v for k, v in fields.items() if v not in (0, 0.0, "")}

    out: dict[str, Any] = {"horizonDays": forecast.horizon_days}
    if forecast.regions:
        out["regions"] = [
            {"id": r.id, "centre": entry(latitude=r.centre.latitude, longitude=r.centre.longitude)}
            for r in forecast.regions
        ]
    if forecast.online:
        out["online"] = [
            entry(
                regionId=r,
                skuId=k,
                promiseDays=c.promise_days,
                unitsPerDay=rate,
                channel="" if c.channel is Channel.WEB else c.channel.value,
                sourcingProfileId=c.sourcing_profile_id,
                pickupStoreId=c.pickup_store_id,
            )
            | ({"excludedNodeIds": list(c.excluded_node_ids)} if c.excluded_node_ids else {})
            for (r, k, c), rate in forecast.online.items()
        ]
    if forecast.store:
        out["storeDemand"] = [
            entry(storeId=s, skuId=k, unitsPerDay=rate) for (s, k), rate in forecast.store.items()
        ]
    if forecast.lost_sale_cost:
        out["lostSaleCosts"] = [
            {"skuId": k, "costPerUnit": c} for k, c in forecast.lost_sale_cost.items()
        ]
    if forecast.markdown_cost:
        out["markdownCosts"] = [
            entry(nodeId=n, skuId=k, costPerUnit=c) for (n, k), c in forecast.markdown_cost.items()
        ]
    if forecast.baskets:
        out["baskets"] = [
            {"order": order_to_json(b.order)}
            | entry(ordersPerDay=b.rate)
            | ({"walkIn": True} if b.walkin else {})
            for b in forecast.baskets
        ]
    return out


def write_forecast(forecast: DemandForecast, path: str | Path) -> None:
    """Write a forecast file (indented proto3 JSON)."""
    Path(path).write_text(json.dumps(forecast_to_json(forecast), indent=1) + "\n", encoding="utf-8")
