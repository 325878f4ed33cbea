"""docs/errors.md lists every ErrorInfo reason the code defines, with the status code the
server maps it to and its metadata keys (lowerCamelCase); the server sends what it says."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from omniroute.ledger import errors as ledger_errors
from omniroute.ledger.records import ReservationState
from omniroute.model import Order
from omniroute.server import application, auth, errors
from omniroute.server.client import OmnirouteClient

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "errors.md"
SOURCES = [*(ROOT / "server").glob("*.py"), *(ROOT / "ledger").glob("*.py")]
ROW = re.compile(r"^\| `([A-Z_]+)` \| `([A-Z_]+)` \| ([^|]*) \|", re.M)
CAMEL = re.compile(r"[a-z][a-zA-Z0-9]*")


def documented() -> dict[str, tuple[str, set[str]]]:
    """reason -> (status code, metadata keys) from the ErrorInfo table of docs/errors.md."""
    table = DOC.read_text("utf-8").split("## ErrorInfo", 1)[1].split("\n## ", 1)[0]
    return {
        reason: (code, set(re.findall(r"`(\w+)`", keys)))
        for reason, code, keys in ROW.findall(table)
    }


def error_classes() -> list[type[Exception]]:
    """Every failure class that carries a reason (the ledger's, the application's, auth's)."""
    found: list[type[Exception]] = []
    todo: list[type[Exception]] = [ledger_errors.LedgerError, application.ServiceFailure]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return found


def reasons_in_code() -> dict[str, grpc.StatusCode]:
    """Every reason the code can send, with its status code: each class's ``reason``, the
    per-state reasons of ReservationNotHeld, the reasons of OrderRefused, and INTERNAL_ERROR; a scan of the sources for
    ``reason = "..."`` literals finds no other."""
    found: dict[str, grpc.StatusCode] = {}
    for cls in error_classes():
        code = next((c for k, c in errors.CODES if issubclass(cls, k)), grpc.StatusCode.INTERNAL)
        if cls is ledger_errors.ReservationNotHeld:
            for state in ReservationState:
                if state is not ReservationState.HELD:  # only a hold that is not held fails
                    found[f"RESERVATION_{state.value}"] = code
        elif cls is ledger_errors.OrderRefused:
            found.update(dict.fromkeys(cls.REASONS, code))
        elif "reason" in vars(cls):  # NotFound only groups its subclasses
            found[str(cls.reason)] = code
    found["INTERNAL_ERROR"] = grpc.StatusCode.INTERNAL
    literals = set()
    for path in SOURCES:
        literals |= set(re.findall(r"reason\s*=\s*\"([A-Z_]+)\"", path.read_text("utf-8")))
    assert literals <= set(found), literals - set(found)
    return found


def metadata_keys_in_code() -> set[str]:
    """The keys of every dict literal given to a failure class (or to its base's __init__);
    ORDER_NOT_FOUND's keys, chosen in ledger/orders.py, are checked through a server below."""
    # Application._hold passes its metadata on to StockChanged
    names = {cls.__name__ for cls in error_classes()} | {"__init__", "_hold"}
    keys: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name not in names:
                continue
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if isinstance(arg, ast.Dict):
                    keys |= {k.value for k in arg.keys if isinstance(k, ast.Constant)}
    keys.add("incident")  # INTERNAL_ERROR's, in errors.py
    return keys


def test_every_reason_is_documented_with_its_code() -> None:
    doc = documented()
    code = reasons_in_code()
    assert set(doc) == set(code), (
        f"missing in docs/errors.md: {sorted(set(code) - set(doc))}; "
        f"not in the code: {sorted(set(doc) - set(code))}"
    )
    for reason, status in code.items():
        assert doc[reason][0] == status.name, reason
    assert {auth.Unauthenticated, auth.MissingScope, auth.RateLimited} <= set(error_classes())


def test_metadata_keys_are_lower_camel_case_and_documented() -> None:
    in_doc = set().union(*(keys for _, keys in documented().values()))
    assert all(CAMEL.fullmatch(key) for key in in_doc), in_doc
    in_code = metadata_keys_in_code()
    assert all(CAMEL.fullmatch(key) for key in in_code), in_code
    assert in_code <= in_doc, in_code - in_doc


def error_info(error: grpc.RpcError) -> tuple[str, str, set[str]]:
    """(code, reason, metadata keys) of a failed call's ErrorInfo."""
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert any(detail.Unpack(info) for detail in status.details)
    assert info.domain == errors.DOMAIN
    return error.code().name, info.reason, set(info.metadata)


def test_the_server_sends_what_the_doc_says(
    client: OmnirouteClient, tiny_orders: dict[str, Order]
) -> None:
    """Each reason a client can cause on purpose, through a real server: its code and
    metadata keys are the documented ones."""
    held = client.reserve(tiny_orders["coat-and-jeans"], request_id="doc-1")
    other = client.reserve(tiny_orders["one-tee-melbourne"])
    client.release_reservation(other.reservation_id)
    client.commit_reservation(held.reservation_id)
    calls = {
        "RESERVATION_NOT_FOUND": lambda: client.get_reservation("nope"),
        "ORDER_NOT_FOUND": lambda: client.get_order_plan("nope"),
        "RETURN_NOT_FOUND": lambda: client.receive_return("nope"),
        "OPERATION_NOT_FOUND": lambda: client.get_operation("operations/nope"),
        "REQUEST_ID_REUSED": lambda: client.reserve(tiny_orders["tee-twice"], request_id="doc-1"),
        "RESERVATION_RELEASED": lambda: client.commit_reservation(other.reservation_id),
        "RESERVATION_COMMITTED": lambda: client.release_reservation(held.reservation_id),
    }
    doc = documented()
    for reason, call in calls.items():
        with pytest.raises(grpc.RpcError) as caught:
            call()
        code, sent, keys = error_info(caught.value)
        assert (code, sent) == (doc[reason][0], reason)
        assert keys <= doc[reason][1] and all(CAMEL.fullmatch(k) for k in keys), (reason, keys)
    with pytest.raises(grpc.RpcError) as caught:
        client.reroute_order("nope", "DC1")
    assert error_info(caught.value) == ("NOT_FOUND", "ORDER_NOT_FOUND", {"reservationId"})


def test_snake_case_metadata_keys_are_sent_in_lower_camel_case() -> None:
    """A failure raised with a snake_case key still reaches the client as lowerCamelCase."""
    status = errors.to_status(ledger_errors.UnknownOrder("order_id", "A-1"))
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert dict(info.metadata) == {"orderId": "A-1"}
    assert [errors.camel(k) for k in ("reservationId", "request_id", "name")] == [
        "reservationId",
        "requestId",
        "name",
    ]
