"""Versioned JSON of the model: how the ledger stores records and idempotent answers.

Every stored value is a frozen dataclass of the model (an order, a plan, a reservation, a
plan result, ...) written as compact JSON ``{"v": 1, "type": "Plan", "data": {...}}``:
dataclass fields by name, enums by value, tuples as lists, nested dataclasses as objects,
dates and times of day as ISO 8601 strings.
:func:`loads` rebuilds the same object from the type hints of its class, so a stored record
is a model object again, never an API message. ``v`` is :data:`FORMAT_VERSION`; a reader
meeting a newer version refuses it rather than guessing.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import hashlib
import json
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")
FORMAT_VERSION = 1


class FormatError(ValueError):
    """A stored value is not what the reader expects (wrong type or a newer format)."""


def dumps(value: Any) -> bytes:
    """``value`` (a dataclass, or a list or tuple of them) as versioned JSON bytes."""
    document = {"v": FORMAT_VERSION, "type": _type_name(value), "data": to_json(value)}
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode()


def loads(cls: Any, data: bytes | str) -> Any:
    """The object of type ``cls`` stored by :func:`dumps` (``cls`` may be ``list[X]``)."""
    document = json.loads(data)
    if not isinstance(document, dict) or document.get("v") != FORMAT_VERSION:
        version = document.get("v") if isinstance(document, dict) else None
        raise FormatError(
            f"stored value has format {version!r}, this reader knows {FORMAT_VERSION}"
        )
    return from_json(cls, document["data"])


def fingerprint(value: Any) -> bytes:
    """A stable digest of ``value`` (e.g. a command), for telling requests apart."""
    text = json.dumps(to_json(value), separators=(",", ":"), sort_keys=True, allow_nan=False)
    return hashlib.sha256(text.encode()).digest()


def to_json(value: Any) -> Any:
    """``value`` as plain JSON data (dicts, lists, strings, numbers, booleans, None)."""
    kind = type(value)
    if kind in _PLAIN or value is None:
        return value
    names = _field_names(kind)
    if names is not None:
        return {name: to_json(getattr(value, name)) for name in names}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, Mapping):
        return {str(to_json(key)): to_json(item) for key, item in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(to_json(item) for item in value)
    if isinstance(value, str | int | float | bool):
        return value
    if kind in (datetime.date, datetime.time):  # ISO 8601: "2026-12-24", "14:30:00"
        return value.isoformat()
    raise TypeError(f"cannot store a {kind.__name__}")


_PLAIN = (str, int, float, bool)


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(kind: type) -> tuple[str, ...] | None:
    """A dataclass's field names (None for other types), looked up once per type."""
    try:
        return _FIELD_NAMES[kind]
    except KeyError:
        names = (
            tuple(f.name for f in dataclasses.fields(kind))
            if dataclasses.is_dataclass(kind)
            else None
        )
        _FIELD_NAMES[kind] = names
        return names


def from_json(cls: Any, data: Any) -> Any:
    """Rebuild a value of type ``cls`` from :func:`to_json` data."""
    return _decoder(cls)(data)


@cache
def _decoder(cls: Any) -> Callable[[Any], Any]:
    """A function rebuilding values of type ``cls`` (built once per type)."""
    origin = typing.get_origin(cls)
    if cls is Any:
        return lambda data: data
    if origin in (typing.Union, types.UnionType):
        options = [o for o in typing.get_args(cls) if o is not type(None)]
        optional = len(options) < len(typing.get_args(cls))
        decoders = [_decoder(o) for o in options]

        def union(data: Any) -> Any:
            if data is None and optional:
                return None
            for decode in decoders:
                try:
                    return decode(data)
                except (TypeError, ValueError, KeyError, FormatError):
                    continue
            raise FormatError(f"{data!r} is none of {cls}")

        return union
    if origin is Sequence:  # stored as a JSON list, loaded as a tuple
        item = _decoder(typing.get_args(cls)[0])
        return lambda data: tuple(item(x) for x in data)
    if origin in (tuple, list, frozenset, set):
        args = typing.get_args(cls)
        if origin is tuple and args and args[-1] is not Ellipsis:
            parts = [_decoder(arg) for arg in args]
            return lambda data: tuple(d(x) for d, x in zip(parts, data, strict=True))
        item = _decoder(args[0] if args else Any)
        if origin is list:
            return lambda data: [item(x) for x in data]
        return lambda data: origin(item(x) for x in data)
    if origin in (dict, Mapping) or cls is dict:
        key_type, value_type = typing.get_args(cls) or (Any, Any)
        value = _decoder(value_type)
        return lambda data: {_key(key_type, k): value(v) for k, v in data.items()}
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return cls
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        fields = [(name, _decoder(hint)) for name, hint in _hints(cls).items()]

        def dataclass(data: Any) -> Any:
            if not isinstance(data, dict):
                raise FormatError(f"{cls.__name__} must be an object, got {data!r}")
            return cls(**{name: decode(data[name]) for name, decode in fields if name in data})

        return dataclass
    if cls is float:

        def number(data: Any) -> float:
            if isinstance(data, bool) or not isinstance(data, int | float):
                raise FormatError(f"expected a number, got {data!r}")
            return float(data)

        return number
    if cls in (datetime.date, datetime.time):

        def iso(data: Any) -> Any:
            if not isinstance(data, str):
                raise FormatError(f"expected an ISO 8601 {cls.__name__}, got {data!r}")
            return cls.fromisoformat(data)

        return iso
    if cls in (int, str, bool):

        def plain(data: Any) -> Any:
            if not isinstance(data, cls) or (cls is int and isinstance(data, bool)):
                raise FormatError(f"expected {cls.__name__}, got {data!r}")
            return data

        return plain
    raise TypeError(f"cannot load a {cls!r}")


def _key(cls: Any, text: str) -> Any:
    """A mapping key back from its JSON (object keys are strings)."""
    if cls is int:
        return int(text)
    if cls is float:
        return float(text)
    return from_json(cls, text)


@cache
def _hints(cls: type) -> dict[str, Any]:
    """Field name -> resolved type of a dataclass (init fields only)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _type_name(value: Any) -> str:
    if isinstance(value, list | tuple):
        inner = {type(item).__name__ for item in value}
        return f"list[{inner.pop() if len(inner) == 1 else 'mixed'}]" if value else "list"
    return type(value).__name__


def load_as(cls: type[T], data: bytes | str) -> T:
    """Typed :func:`loads` for a single dataclass ``cls``."""
    value = loads(cls, data)
    if not isinstance(value, cls):
        raise FormatError(f"expected {cls.__name__}")
    return value
