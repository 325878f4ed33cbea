"""Network and orders files without protobuf (omniroute.files), checked against protobuf.

The engine never imports protobuf; these tests do, as the oracle: the schema table must match
the descriptors, the decoder must accept exactly what ``json_format.ParseDict`` accepts (and
give the same model as ``server.convert``), and the writers must print the same bytes.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omniroute import files
from omniroute.demo_data import demo_dataset
from omniroute.model import (
    CarrierService,
    Channel,
    FieldViolation,
    Location,
    Network,
    Node,
    NodeKind,
    Order,
    OrderLine,
    Sku,
    StockPosition,
    ValidationError,
    Zone,
)
from omniroute.server.convert import (
    network_from_proto,
    network_to_proto,
    order_from_proto,
    order_to_proto,
)
from omniroute.v1 import forecast_pb2, network_pb2, order_pb2

SETTINGS = settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
ROOTS = (network_pb2.Network, order_pb2.Order, forecast_pb2.DemandForecast)


@pytest.fixture(scope="module")
def demo() -> tuple[Network, list[Order]]:
    return demo_dataset(orders=500)


def old_network_text(network: Network) -> str:
    return json.dumps(json_format.MessageToDict(network_to_proto(network)), indent=1) + "\n"


def old_orders_text(orders: list[Order]) -> str:
    return "".join(
        json.dumps(json_format.MessageToDict(order_to_proto(o)), separators=(",", ":")) + "\n"
        for o in orders
    )


# ----------------------------------------------------------------------------- the schema


def reachable(descriptor: Descriptor, seen: dict[str, Descriptor]) -> dict[str, Descriptor]:
    seen[descriptor.full_name] = descriptor
    for field in descriptor.fields:
        message = field.message_type
        if (
            message is not None
            and message.full_name != "google.protobuf.Timestamp"
            and message.full_name not in seen
        ):
            reachable(message, seen)
    return seen


KINDS = {
    FieldDescriptor.TYPE_STRING: files.STRING,
    FieldDescriptor.TYPE_INT32: files.INT32,
    FieldDescriptor.TYPE_DOUBLE: files.DOUBLE,
    FieldDescriptor.TYPE_BOOL: files.BOOL,
    FieldDescriptor.TYPE_ENUM: files.ENUM,
    FieldDescriptor.TYPE_MESSAGE: files.MESSAGE,
}


def test_schema_matches_protobuf_descriptors() -> None:
    """SCHEMA lists exactly the messages and fields of the protos (names, kinds, enum values)."""
    messages: dict[str, Descriptor] = {}
    for root in ROOTS:
        reachable(root.DESCRIPTOR, messages)
    assert set(files.SCHEMA) == set(messages)
    for name, descriptor in messages.items():
        table = files.SCHEMA[name]
        assert [f.name for f in table] == [f.name for f in descriptor.fields], name
        assert not descriptor.oneofs and not descriptor.extension_ranges, name
        for field, proto in zip(table, descriptor.fields, strict=True):
            where = f"{name}.{proto.name}"
            assert field.json_name == proto.json_name, where
            assert field.repeated == proto.is_repeated, where
            if proto.message_type is not None and proto.message_type.full_name == (
                "google.protobuf.Timestamp"
            ):
                assert field.kind == files.TIMESTAMP and not field.repeated, where
                continue
            assert field.kind == KINDS.get(proto.type), where
            if field.kind == files.ENUM:
                assert field.enum == {v.name: v.number for v in proto.enum_type.values}, where
            else:
                assert field.enum is None, where
            if field.kind == files.MESSAGE:
                assert field.message == proto.message_type.full_name, where
            else:
                assert field.message == "", where


def test_engine_does_not_import_protobuf() -> None:
    """Importing omniroute.files (and reading a file) loads neither protobuf nor grpc."""
    code = (
        "import sys; from omniroute import files; "
        f"files.read_network({str(Path(__file__).parents[1] / 'data' / 'tiny_network.json')!r}); "
        "bad = [m for m in sys.modules if m.startswith(('google.protobuf', 'grpc', "
        "'omniroute.v1', 'omniroute.server'))]; "
        "assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ----------------------------------------------------------------------------- JSON strategies

ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def mix(valid: st.SearchStrategy[Any], quirky: Any, refused: Any, noisy: bool) -> Any:
    """Mostly valid values, some that only protobuf's quirks accept, and (when noisy) now and
    then one that protobuf refuses or a value of any JSON type."""
    quirks = quirky if isinstance(quirky, st.SearchStrategy) else st.sampled_from(quirky)
    if not noisy:
        return st.one_of(valid, valid, valid, valid, quirks)
    bad = refused if isinstance(refused, st.SearchStrategy) else st.sampled_from(refused)
    return st.one_of(*[valid] * 10, quirks, quirks, bad, ANY_JSON)


def int32_json(noisy: bool) -> st.SearchStrategy[Any]:
    number = st.integers(INT32_MIN, INT32_MAX) | st.integers(-3, 40)
    quirky = st.one_of(
        st.integers(-1000, 1000).map(float),  # integral floats
        number.map(str),
        st.integers(-1000, 1000).map(lambda n: f"{n}.0"),
        st.sampled_from(["1e3", "+7", "\t5", "1_0", "00012", "1.", "-0", "2147483647"]),
    )
    refused = st.sampled_from(
        [1.5, -0.5, " 3", "3 ", "1.5", "abc", "0x10", "inf", "nan", "", True, 2**31]
        + [INT32_MIN - 1, 2**40, 1e20, float("inf"), float("nan"), "2147483648"]
    )
    return mix(number, quirky, refused | st.integers(), noisy)


def double_json(noisy: bool) -> st.SearchStrategy[Any]:
    finite = st.floats(allow_nan=False, allow_infinity=False)
    quirky = st.one_of(
        st.integers(-(10**6), 10**6),
        st.sampled_from(["NaN", "Infinity", "-Infinity", "-0", "1e400", "Inf", " 2.5 ", "1_0"]),
        finite.map(repr),
        st.booleans(),  # protobuf reads true as 1.0
        st.just(-0.0),
    )
    refused = ["nan", "x", "", "0x1", float("nan"), float("inf"), -float("inf"), 10**400]
    return mix(finite, quirky, refused, noisy)


def string_json(noisy: bool) -> st.SearchStrategy[Any]:
    valid = st.text(max_size=6) | st.sampled_from(["DC1", "TEE", "ST1", "Zürich", "東京"])
    refused = ["\ud800", "x\udc00", "a\ud83d\ude00b", 3, None, ["a"]]
    return mix(valid, ["", "\U0001f600"], refused, noisy)


def bool_json(noisy: bool) -> st.SearchStrategy[Any]:
    return mix(st.booleans(), [True, False], [0, 1, "true", "false", None], noisy)


def enum_json(field: FieldDescriptor, noisy: bool) -> st.SearchStrategy[Any]:
    names = [v.name for v in field.enum_type.values]
    quirky = st.one_of(
        st.integers(-3, 8),  # numbers, known and unknown (proto3 enums are open)
        st.integers(-3, 8).map(str),
        st.sampled_from([1.5, 2.0, True, False, " 2", 2**32 + 1, 2**62, -(2**63)]),
    )
    refused = [
        "2.0", "CASTLE", "dc", "", 2**31, 2**63, 1e30, float("nan"), float("inf"), [1], {},
    ]  # fmt: skip
    return mix(st.sampled_from(names), quirky, refused, noisy)


@st.composite
def rfc3339(draw: st.DrawFn) -> str:
    year, month, day = (
        draw(st.integers(1, 9999)),
        draw(st.integers(1, 12)),
        draw(st.integers(1, 28)),
    )
    hour, minute, second = (
        draw(st.integers(0, 23)),
        draw(st.integers(0, 59)),
        draw(st.integers(0, 59)),
    )
    fraction = draw(st.sampled_from(["", ".0", ".5", ".123", ".000001", ".123456789", "."]))
    zone = draw(st.sampled_from(["Z", "+00:00", "+10:00", "-05:30", "+14:00", "-12:00"]))
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{fraction}{zone}"


def timestamp_json(noisy: bool) -> st.SearchStrategy[Any]:
    refused = st.sampled_from(
        [
            "2024-05-01t09:30:00Z",
            "2024-05-01 09:30:00Z",
            "2024-05-01T09:30:00",
            "2024-05-01T09:30:00.1234567891Z",
            "2024-05-01T09:30:00+0100",
            "2024-05-01T09:30:00Zjunk",
            "10000-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "",
            "now",
            5,
        ]
    )
    return mix(rfc3339(), ["1970-01-01T00:00:00Z", "2024-2-3T4:5:6Z"], refused, noisy)


def message_json(descriptor: Descriptor, noisy: bool, depth: int = 0) -> st.SearchStrategy[Any]:
    valid = object_json(descriptor, noisy, depth)
    # protobuf reads an empty list or an empty string as {}
    return mix(valid, [[], "", {}], [[1], "ab", 3, True, ["latitude"]], noisy)


def field_json(field: FieldDescriptor, noisy: bool, depth: int) -> st.SearchStrategy[Any]:
    message = field.message_type
    if message is not None and message.full_name == "google.protobuf.Timestamp":
        single = timestamp_json(noisy)
    elif message is not None:
        single = message_json(message, noisy, depth + 1)
    elif field.type == FieldDescriptor.TYPE_ENUM:
        single = enum_json(field, noisy)
    else:
        single = {
            FieldDescriptor.TYPE_STRING: string_json,
            FieldDescriptor.TYPE_INT32: int32_json,
            FieldDescriptor.TYPE_DOUBLE: double_json,
            FieldDescriptor.TYPE_BOOL: bool_json,
        }[field.type](noisy)
    if field.is_repeated:
        lists = st.lists(single, max_size=3)
        refused = st.lists(single | st.none(), min_size=1, max_size=3).filter(
            lambda items: None in items
        )  # a null item is refused
        return st.one_of(mix(lists, [None, []], refused, noisy), lists)
    return mix(single, [None], [None], noisy)


@st.composite
def object_json(
    draw: st.DrawFn, descriptor: Descriptor, noisy: bool | None = None, depth: int = 0
) -> dict[str, Any]:
    """A JSON object for ``descriptor``: each field absent or under one of its names (when
    noisy, now and then both names, and an unknown key), values as :func:`mix` draws them.
    ``noisy=None`` draws the noise once for the whole object."""
    if noisy is None:
        noisy = draw(st.booleans())
    data: dict[str, Any] = {}
    for field in draw(st.permutations(list(descriptor.fields))):
        if depth > 2 and field.message_type is not None:
            continue
        how = draw(st.sampled_from(["absent", "json", "json", "json", "proto"]))
        if noisy and draw(st.integers(0, 30)) == 0:
            how = "both"
        if how == "absent":
            continue
        names = {"json": [field.json_name], "proto": [field.name]}.get(
            how, [field.json_name, field.name]
        )
        for name in names:
            data[name] = draw(field_json(field, noisy, depth))
    if noisy and draw(st.integers(0, 15)) == 0:
        key = draw(st.sampled_from(["Kind", "surprise", "node-id", "[ext]", "NodeId", "\ud800"]))
        data[key] = draw(ANY_JSON)
    return data


def both_names(descriptor: Descriptor, data: Any) -> bool:
    """Whether ``data`` somewhere gives a field under both of its names (refused by the reader,
    where protobuf keeps the later one)."""
    if not isinstance(data, dict):
        return False
    for field in descriptor.fields:
        if field.name != field.json_name and field.name in data and field.json_name in data:
            return True
        message = field.message_type
        if message is None or message.full_name == "google.protobuf.Timestamp":
            continue
        for key in {field.name, field.json_name}:
            value = data.get(key)
            items = value if isinstance(value, list) else [value]
            if any(both_names(message, item) for item in items):
                return True
    return False


def protobuf_parse(cls: type[Message], data: Any) -> Message | None:
    try:
        return json_format.ParseDict(data, cls())
    except Exception:  # ParseError, and TypeError / OverflowError that json_format lets through
        return None


def check_against_protobuf(cls: type[Message], data: Any) -> None:
    decode = files.network_from_json if cls is network_pb2.Network else files.order_from_json
    message = protobuf_parse(cls, data)
    new, violations = decode(data)
    if message is None or both_names(cls.DESCRIPTOR, data):
        assert new is None and violations, "protobuf refuses what files accepted"
        assert all(isinstance(v, FieldViolation) and v.field and v.description for v in violations)
        if message is not None:
            assert any(v.description.startswith("given twice") for v in violations)
        return
    assert new is not None, f"protobuf accepts what files refused: {violations}"
    try:
        if cls is network_pb2.Network:
            old, old_violations = network_from_proto(message)  # type: ignore[arg-type]
        else:
            old, old_violations = order_from_proto(message), []  # type: ignore[arg-type]
    except ValidationError:  # an enum number protobuf keeps but the model has no member
        # for, or a google.type.Date that is not a full date: the file reader reports it too
        assert any(
            v.description.startswith("unknown ") or "is not a date" in v.description
            for v in violations
        ), violations
        return
    assert repr(new) == repr(old)  # repr: NaN != NaN, and -0.0 == 0.0 would hide a sign
    # the same problems; the file reader meets them in the order of the JSON's keys
    assert sorted(violations, key=str) == sorted(old_violations, key=str)


@SETTINGS
@given(object_json(network_pb2.Network.DESCRIPTOR))
def test_network_reader_accepts_exactly_what_protobuf_accepts(data: dict[str, Any]) -> None:
    """Random network JSON: accepted iff ParseDict accepts, then the same model and violations."""
    check_against_protobuf(network_pb2.Network, data)


@SETTINGS
@given(object_json(order_pb2.Order.DESCRIPTOR))
def test_order_reader_accepts_exactly_what_protobuf_accepts(data: dict[str, Any]) -> None:
    """Random order JSON: accepted iff ParseDict accepts, then the same model."""
    check_against_protobuf(order_pb2.Order, data)


@SETTINGS
@given(message_json(network_pb2.Network.DESCRIPTOR, noisy=True) | ANY_JSON)
def test_root_of_any_shape(data: Any) -> None:
    """Whatever the root value is (list, string, number, null), files agrees with protobuf."""
    check_against_protobuf(network_pb2.Network, data)
    check_against_protobuf(order_pb2.Order, data)


# ----------------------------------------------------------------------------- stock fast path

PLAIN_POSITION = st.fixed_dictionaries(
    {},
    optional={
        "nodeId": st.sampled_from(["", "DC1", "ST-1"]),
        "skuId": st.sampled_from(["", "TEE", "SKU-000001"]),
        "onHand": st.integers(INT32_MIN, INT32_MAX) | st.integers(0, 9),
        "safetyStock": st.integers(INT32_MIN, INT32_MAX) | st.integers(0, 9),
    },
)
ODD_POSITION = st.one_of(
    st.fixed_dictionaries({"nodeId": st.sampled_from(["Zürich", "\ud800"])}),
    st.fixed_dictionaries({"node_id": st.just("DC1")}),
    st.fixed_dictionaries({"onHand": st.sampled_from([2**31, 3.0, "4", True, None])}),
    st.fixed_dictionaries({"reserved": st.integers(0, 3), "atp": st.integers(0, 3)}),
    st.fixed_dictionaries({"skuId": st.just("TEE"), "surprise": st.just(1)}),
    st.sampled_from([None, [], "", 7]),
)


@SETTINGS
@given(st.lists(PLAIN_POSITION, max_size=6), st.lists(ODD_POSITION, max_size=2), st.randoms())
def test_stock_fast_path_equals_general_decoder(
    plain: list[dict[str, Any]], odd: list[Any], random: Any
) -> None:
    """Bulk stock decoding gives what the general decoder (and protobuf) gives, item by item."""
    items = plain + odd
    random.shuffle(items)
    check_against_protobuf(network_pb2.Network, {"stock": items})
    if not odd:
        assert files._stock_columns(items) is not None or not items  # the bulk path is taken
    report = files._Report()
    general = [files._message("omniroute.v1.StockPosition", p, "", report) for p in items]
    bulk_report = files._Report()
    bulk = files._stock_list(items, "stock", bulk_report)
    if not report.errors:
        assert bulk == general and not bulk_report.errors
        assert [hash(p) for p in bulk] == [hash(p) for p in general]
    else:
        assert bulk_report.errors


def test_bulk_positions_are_ordinary_dataclass_instances(demo: tuple[Network, list[Order]]) -> None:
    """Positions read from the stock table a file decodes to equal, hash and print like ones
    built by StockPosition(...)."""
    network, _ = demo
    data = files.network_to_json(network)["stock"]
    assert files._stock_columns(data) is not None  # the bulk path
    table = files._stock_list(data, "stock", files._Report())
    built = list(table)
    assert built == list(network.stock) and table == network.stock
    assert [hash(p) for p in built] == [hash(p) for p in network.stock]
    assert repr(table[0]) == repr(network.stock[0]) and built[0].reserved == 0
    assert dataclasses.replace(built[0], on_hand=1).on_hand == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        built[0].on_hand = 3  # type: ignore[misc]


# ----------------------------------------------------------------------------- writers

FLOATS = st.floats() | st.sampled_from([0.0, -0.0, 1.0, 50, 1e-300, 1e300])
INT32S = st.integers(INT32_MIN, INT32_MAX) | st.integers(-2, 9)
TEXT = st.text(max_size=6)
LOCATIONS = st.builds(Location, FLOATS, FLOATS)
TIMESTAMPS = st.sampled_from(
    [
        "",
        "2024-05-01T09:30:00Z",
        "2024-05-01T19:30:00.5+10:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999999Z",
        "2024-02-29T12:00:00.000001-03:00",
        "1969-12-31T23:59:59.123456789Z",
    ]
)
MODEL_NETWORKS = st.builds(
    Network,
    nodes=st.lists(
        st.builds(
            Node,
            id=TEXT,
            kind=st.sampled_from(NodeKind),
            location=LOCATIONS,
            handling_cost_per_shipment=FLOATS,
            handling_cost_per_unit=FLOATS,
            processing_days=INT32S,
            service_ids=st.lists(TEXT, max_size=2).map(tuple),
            pickup=st.booleans(),
            daily_shipment_capacity=INT32S,
            disabled=st.booleans(),
            name=TEXT,
        ),
        max_size=3,
    ).map(tuple),
    carrier_services=st.lists(
        st.builds(
            CarrierService,
            id=TEXT,
            carrier=TEXT,
            name=TEXT,
            max_parcel_weight_kg=FLOATS,
            zones=st.lists(st.builds(Zone, FLOATS, FLOATS, FLOATS, INT32S), max_size=2).map(tuple),
        ),
        max_size=2,
    ).map(tuple),
    skus=st.lists(st.builds(Sku, TEXT, FLOATS, TEXT), max_size=3).map(tuple),
    stock=st.lists(
        st.builds(StockPosition, TEXT, TEXT, INT32S, INT32S, st.just(0)), max_size=4
    ).map(tuple),
    split_penalty=FLOATS,
    currency=TEXT,
)
MODEL_ORDERS = st.builds(
    Order,
    id=TEXT,
    lines=st.lists(st.builds(OrderLine, TEXT, TEXT, INT32S), max_size=3).map(tuple),
    destination=st.none() | LOCATIONS,
    channel=st.sampled_from(Channel),
    promise_days=INT32S,
    max_shipments=INT32S,
    excluded_node_ids=st.lists(TEXT, max_size=2).map(tuple),
    allow_partial=st.booleans(),
    pickup_store_id=TEXT,
    create_time=TIMESTAMPS,
)


@SETTINGS
@given(MODEL_NETWORKS, st.lists(MODEL_ORDERS, max_size=3))
def test_writers_print_what_protobuf_prints(network: Network, orders: list[Order]) -> None:
    """Random models (NaN, -0.0, non-ASCII, offsets) print as protobuf prints them, and re-read."""
    text = json.dumps(files.network_to_json(network), indent=1) + "\n"
    assert text == old_network_text(network)
    lines = "".join(
        json.dumps(files.order_to_json(o), separators=(",", ":")) + "\n" for o in orders
    )
    assert lines == old_orders_text(orders)
    back, violations = files.network_from_json(json.loads(text))
    assert back is not None and violations == []
    assert json.dumps(files.network_to_json(back), indent=1) + "\n" == text
    for line in lines.splitlines():
        read, problems = files.order_from_json(json.loads(line))
        assert read is not None and problems == []
        assert json.dumps(files.order_to_json(read), separators=(",", ":")) == line


def test_writers_match_protobuf_bytes_on_demo_data(
    demo: tuple[Network, list[Order]], tmp_path: Path
) -> None:
    """write_network / write_orders write byte for byte what the protobuf path wrote."""
    network, orders = demo
    files.write_network(network, tmp_path / "network.json")
    files.write_orders(orders, tmp_path / "orders.jsonl")
    assert (tmp_path / "network.json").read_bytes() == old_network_text(network).encode()
    assert (tmp_path / "orders.jsonl").read_bytes() == old_orders_text(orders).encode()


def test_round_trip_on_demo_data(demo: tuple[Network, list[Order]], tmp_path: Path) -> None:
    """read(write(x)) == x for the demo network and its orders."""
    network, orders = demo
    files.write_network(network, tmp_path / "network.json")
    files.write_orders(orders, tmp_path / "orders.jsonl")
    back = files.read_network(tmp_path / "network.json")
    assert back == network
    assert files.read_orders(tmp_path / "orders.jsonl", back) == orders


def test_round_trip_of_tiny_files(data_dir: Path, tmp_path: Path) -> None:
    """The hand-written test files read as protobuf read them, and survive a round trip."""
    network = files.read_network(data_dir / "tiny_network.json")
    message = json_format.Parse((data_dir / "tiny_network.json").read_text(), network_pb2.Network())
    assert network == network_from_proto(message)[0]
    orders = files.read_orders(data_dir / "tiny_orders.jsonl", network)
    files.write_network(network, tmp_path / "n.json")
    files.write_orders(orders, tmp_path / "o.jsonl")
    assert files.read_network(tmp_path / "n.json") == network
    assert files.read_orders(tmp_path / "o.jsonl", network) == orders


def test_writer_refuses_what_protobuf_refuses() -> None:
    """A bad timestamp or an int32 out of range raises, as setting the message field did."""
    order = Order("o", (OrderLine("1", "TEE", 1),), create_time="yesterday")
    with pytest.raises(ValueError):
        order_to_proto(order)
    with pytest.raises(ValueError):
        files.order_to_json(order)
    big = Order("o", (OrderLine("1", "TEE", 2**31),))
    with pytest.raises(ValueError):
        files.order_to_json(big)


# ----------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T09:30:00Z", "2024-05-01T09:30:00Z"),
        ("2024-05-01T19:30:00+10:00", "2024-05-01T09:30:00Z"),
        ("2024-05-01T09:30:00.5Z", "2024-05-01T09:30:00.500Z"),
        ("2024-05-01T09:30:00.000Z", "2024-05-01T09:30:00Z"),
        ("2024-05-01T09:30:00.0000015-01:00", "2024-05-01T10:30:00.000001500Z"),
    ],
)
def test_create_time_is_normalised_like_protobuf(text: str, expected: str) -> None:
    """Order.create_time reads as Timestamp.ToJsonString prints it."""
    order, problems = files.order_from_json({"id": "o", "createTime": text})
    assert order is not None and problems == [] and order.create_time == expected
    assert (
        order_from_proto(json_format.ParseDict({"createTime": text}, order_pb2.Order())).create_time
        == expected
    )


# ----------------------------------------------------------------------------- errors


def fields_of(error: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {v.field for v in error.value.violations}


def test_missing_file(tmp_path: Path) -> None:
    """A missing network or orders file is one violation: no such file."""
    path = tmp_path / "nope.json"
    with pytest.raises(ValidationError) as caught:
        files.read_network(path)
    assert caught.value.violations == [FieldViolation(str(path), "no such file")]
    assert caught.value.subject == f"network file {path}"
    with pytest.raises(ValidationError) as caught:
        files.read_orders(path, Network((), (), ()))
    assert caught.value.violations == [FieldViolation(str(path), "no such file")]
    assert caught.value.subject == f"orders file {path}"


def test_bad_json_and_bad_utf8(tmp_path: Path) -> None:
    """A file that is not JSON, or not UTF-8, is reported, not raised as a crash."""
    path = tmp_path / "n.json"
    path.write_text('{"nodes": [')
    with pytest.raises(ValidationError) as caught:
        files.read_network(path)
    assert fields_of(caught) == {str(path)}
    assert caught.value.violations[0].description.startswith("not JSON: ")
    path.write_bytes(b'{"currency": "\xff"}')
    with pytest.raises(ValidationError) as caught:
        files.read_network(path)
    assert caught.value.violations[0].description.startswith("not JSON: ")
    orders = tmp_path / "o.jsonl"
    orders.write_bytes(b'{"id": "\xff"}\n')
    with pytest.raises(ValidationError) as caught:
        files.read_orders(orders, Network((), (), ()))
    assert fields_of(caught) == {str(orders)}


def test_every_schema_problem_is_located(tmp_path: Path) -> None:
    """Unknown fields and wrong types are each reported at their lowerCamelCase JSON path."""
    path = tmp_path / "n.json"
    data = {
        "nodes": [
            {"id": "A", "kind": "DC", "location": {"latitude": 1, "altitude": 2}},
            {"id": "B", "kind": "CASTLE", "location": {"latitude": "north"}},
            {"id": "C", "kind": "DC", "processing_days": 1.5, "serviceIds": "PARCEL"},
        ],
        "stock": [{"nodeId": "A", "skuId": "T", "onHand": 1}, {"node_id": "A", "on_hand": 2**31}],
        "skus": [{"id": "T", "weightKg": "NaN"}, {"id": "U", "weightKg": True, "name": 3}],
        "splitPenalty": None,
    }
    path.write_text(json.dumps(data))
    with pytest.raises(ValidationError) as caught:
        files.read_network(path)
    by_field = {v.field: v.description for v in caught.value.violations}
    assert set(by_field) == {
        "nodes[0].location.altitude",
        "nodes[1].kind",
        "nodes[1].location.latitude",
        "nodes[2].processingDays",
        "nodes[2].serviceIds",
        "stock[1].onHand",
        "skus[1].name",
    }
    assert by_field["nodes[0].location.altitude"].startswith("unknown field")
    assert "CASTLE" in by_field["nodes[1].kind"] and "DC" in by_field["nodes[1].kind"]
    assert by_field["nodes[1].location.latitude"] == 'must be a number, got "north"'
    assert by_field["nodes[2].processingDays"] == "must be a whole number, got 1.5"
    assert by_field["nodes[2].serviceIds"] == 'must be a list, got "PARCEL"'
    assert "2147483647" in by_field["stock[1].onHand"]
    assert by_field["skus[1].name"] == "must be a string, got 3"


def test_field_given_under_both_names(tmp_path: Path) -> None:
    """A field given as both "nodeId" and "node_id" is refused (protobuf keeps the later)."""
    _, violations = files.network_from_json({"stock": [{"nodeId": "A", "node_id": "B"}]})
    assert violations == [
        FieldViolation("stock[0].nodeId", 'given twice, as "nodeId" and "node_id"')
    ]


def test_snake_case_names_null_and_numeric_strings_are_accepted() -> None:
    """Proto field names, null, numeric strings, enum numbers and "Infinity" read as protobuf."""
    network, violations = files.network_from_json(
        {
            "carrier_services": [
                {"id": "S", "zones": [{"max_distance_km": "10", "transitDays": "2"}]}
            ],
            "nodes": [{"id": "A", "kind": 1, "location": {"latitude": "Infinity"}, "name": None}],
            "stock": [{"node_id": "A", "sku_id": "T", "on_hand": 3.0, "reserved": 9, "atp": 1}],
            "split_penalty": "-0",
        }
    )
    assert violations == [] and network is not None
    assert network.carrier_services[0].zones[0] == Zone(10.0, 0.0, 0.0, 2)
    assert network.nodes[0].kind is NodeKind.DC and network.nodes[0].location.latitude == float(
        "inf"
    )
    assert network.stock == (StockPosition("A", "T", 3, 0, reserved=0),)
    assert repr(network.split_penalty) == "-0.0"


def test_model_problems_of_valid_json() -> None:
    """A node without a kind, or with an unknown kind number, is a violation at its kind."""
    _, violations = files.network_from_json({"nodes": [{"id": "A"}, {"id": "B", "kind": 7}]})
    assert violations[0] == FieldViolation(
        "nodes[0].kind", "is required: DC, STORE, THIRD_PARTY or DROP_SHIP"
    )
    assert violations[1].field == "nodes[1].kind" and "7" in violations[1].description
    order, problems = files.order_from_json({"id": "o", "channel": 9})
    assert order is not None and [p.field for p in problems] == ["channel"]
    order, problems = files.order_from_json({"id": "o"})
    assert order is not None and order.channel is Channel.WEB and problems == []


def test_orders_file_line_numbers(tiny_network: Network, tmp_path: Path) -> None:
    """Schema problems, broken JSON and invalid orders are each located as line N: field."""
    path = tmp_path / "orders.jsonl"
    good = '{"id": "a", "destination": {"latitude": 1, "longitude": 2}, "lines": [{"id": "1", "skuId": "TEE", "quantity": 1}]}'
    path.write_text(
        "\n".join(
            [
                good,
                "",
                '{"id": "b", "lines": [{"id": "1", "skuId": "TEE", "quantity": "x"}], "colour": 1}',
                "{not json",
                "[1]",
                '{"id": "c", "destination": {"latitude": 1, "longitude": 2}, "lines": [{"id": "1", "skuId": "NOPE", "quantity": 1}]}',
                good,
            ]
        )
        + "\n"
    )
    with pytest.raises(ValidationError) as caught:
        files.read_orders(path, tiny_network)
    assert fields_of(caught) == {
        "line 3: lines[0].quantity",
        "line 3: colour",
        "line 4",
        "line 5",
        "line 6: lines[0].skuId",
        "line 7: id",  # the duplicate of line 1
    }
    assert [n for n, _ in files.iter_order_lines(path)] == [1, 3, 4, 5, 6, 7]


def test_nodes_and_stock_from_json() -> None:
    """Scenario lists: problems located at the item (the field named in the text)."""
    nodes, violations = files.nodes_from_json(
        [{"id": "N9", "kind": "MOON"}, {"id": "N8"}, {"id": "N7", "kind": "DC"}], "addNodes"
    )
    assert [n.id for n in nodes] == ["N8", "N7"]
    assert violations[0].field == "addNodes[0]" and violations[0].description.startswith("kind: ")
    assert "MOON" in violations[0].description
    assert violations[1] == FieldViolation(
        "addNodes[1].kind", "is required: DC, STORE, THIRD_PARTY or DROP_SHIP"
    )
    assert files.nodes_from_json({"id": "x"}, "addNodes") == (
        [],
        [FieldViolation("addNodes", "must be a list")],
    )
    stock, violations = files.stock_from_json(
        [{"nodeId": "A", "skuId": "T", "onHand": 5, "reserved": 3}, None, {"onHand": "many"}],
        "addStock",
    )
    assert stock == [StockPosition("A", "T", 5, 0, reserved=0)]
    assert [v.field for v in violations] == ["addStock[1]", "addStock[2]"]
    assert violations[1].description.startswith("onHand: must be a whole number")


def test_network_validation_runs_on_read(tiny_network: Network, tmp_path: Path) -> None:
    """Schema-valid files are validated too: every network violation is listed."""
    data = files.network_to_json(tiny_network)
    data["nodes"][0]["location"]["latitude"] = 123
    data["nodes"][1]["kind"] = "KIND_UNSPECIFIED"
    data["skus"][0]["weightKg"] = -1
    data["stock"][0]["nodeId"] = "NOPE"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValidationError) as caught:
        files.read_network(path)
    assert fields_of(caught) == {
        "nodes[0].location.latitude",
        "nodes[1].kind",
        "skus[0].weightKg",
        "stock[0].nodeId",
    }


def test_collector_is_restored(tmp_path: Path, data_dir: Path) -> None:
    """Reading pauses the garbage collector and restores it, also when reading fails."""
    import gc

    assert gc.isenabled()
    files.read_network(data_dir / "tiny_network.json")
    assert gc.isenabled()
    with pytest.raises(ValidationError):
        files.read_network(tmp_path / "missing.json")
    assert gc.isenabled()
    gc.disable()
    try:
        files.read_network(data_dir / "tiny_network.json")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_unpaired_surrogates_are_refused() -> None:
    """A string with an unpaired surrogate is refused, in bulk stock and elsewhere."""
    _, violations = files.network_from_json(
        {"stock": [{"nodeId": "\ud800", "skuId": "T"}], "currency": "x\udc00"}
    )
    assert {v.field for v in violations} == {"stock[0].nodeId", "currency"}
