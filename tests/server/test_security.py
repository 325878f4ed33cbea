"""TLS, mTLS, tokens and scopes, and the audit trail, through a real server with real
certificates (made by the openssl command line for each test session)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from omniroute.model import Order
from omniroute.server.auth import METHOD_SCOPES, read_tokens
from omniroute.server.client import OmnirouteClient
from omniroute.server.process import SERVICES, ServerConfig
from omniroute.v1 import (
    inventory_service_pb2,
    network_service_pb2,
    order_service_pb2,
    routing_service_pb2,
    scenario_service_pb2,
)
from omniroute.v1 import inventory_service_pb2 as inv

from .conftest import ServerThread

PLANNER, OPS = "planner-token-0123456789", "ops-token-9876543210"


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def issue(directory: Path, name: str, subject: str, ca: bool = False) -> None:
    """``name``.key and ``name``.pem: a P-256 key and its certificate (self-signed for the
    CA, else signed by ca.pem, valid for localhost and 127.0.0.1)."""
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    if ca:
        openssl("req", "-x509", *key, "-keyout", f"{name}.key", "-out", f"{name}.pem",
                "-subj", subject, "-days", "2", cwd=directory)  # fmt: skip
        return
    openssl("req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject,
            cwd=directory)  # fmt: skip
    (directory / f"{name}.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext",
            cwd=directory)  # fmt: skip


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    issue(directory, "ca", "/CN=omniroute test CA", ca=True)
    issue(directory, "server", "/CN=localhost")
    issue(directory, "client", "/CN=checkout-client")
    tokens = {
        "tokens": [
            {"name": "checkout", "sha256": sha(PLANNER), "scopes": ["routing.plan"]},
            {"name": "ops", "sha256": sha(OPS), "scopes": ["admin"]},
        ]
    }
    (directory / "tokens.json").write_text(json.dumps(tokens))
    return directory


def sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def tls_config(db_path: Path, pki: Path, **options: object) -> ServerConfig:
    """A server on ``db_path`` serving TLS with the test PKI's server certificate."""
    return ServerConfig(
        db=str(db_path),
        port=0,
        grace=1.0,
        tls_cert=str(pki / "server.pem"),
        tls_key=str(pki / "server.key"),
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture()
def secured(db_path: Path, pki: Path) -> Iterator[ServerThread]:
    with ServerThread(tls_config(db_path, pki, auth_tokens=str(pki / "tokens.json"))) as running:
        yield running


def client(server: ServerThread, pki: Path, token: str | None, **tls: str) -> OmnirouteClient:
    return OmnirouteClient(
        server.target, timeout=10, retries=0, tls_ca=str(pki / "ca.pem"), token=token, **tls
    )


def stock_update() -> inv.UpdateStockRequest:
    return inv.UpdateStockRequest(
        updates=[inv.StockUpdate(node_id="DC1", sku_id="TEE", set_on_hand=11)],
        request_id="stock-1",
    )


def error_info(error: grpc.RpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert any(detail.Unpack(info) for detail in status.details)
    return info


def test_every_rpc_needs_a_known_scope() -> None:
    modules = (routing_service_pb2, inventory_service_pb2, network_service_pb2)
    modules += (scenario_service_pb2, order_service_pb2)
    from google.longrunning import operations_pb2

    methods = {
        f"{service.full_name}/{method.name}"
        for module in (*modules, operations_pb2)
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
        if service.full_name in SERVICES
    }
    assert methods == set(METHOD_SCOPES)


def test_tokens_and_scopes_over_tls(
    secured: ServerThread, pki: Path, db_path: Path, tiny_orders: dict[str, Order]
) -> None:
    order = tiny_orders["one-tee-melbourne"]
    # plaintext cannot talk to a TLS port
    with OmnirouteClient(secured.target, timeout=5, retries=0) as plain:
        with pytest.raises(grpc.RpcError) as caught:
            plain.plan_order(order)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    # TLS without a token: health checking answers, everything else is UNAUTHENTICATED
    with client(secured, pki, None) as anonymous:
        health = health_pb2_grpc.HealthStub(anonymous.channel)
        assert health.Check(health_pb2.HealthCheckRequest()).status == 1  # SERVING
        with pytest.raises(grpc.RpcError) as caught:
            anonymous.plan_order(order)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        reflection = reflection_pb2_grpc.ServerReflectionStub(anonymous.channel)
        with pytest.raises(grpc.RpcError) as caught:
            list(
                reflection.ServerReflectionInfo(
                    iter([reflection_pb2.ServerReflectionRequest(list_services="")])
                )
            )
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.RpcError) as caught:  # a server stream is guarded too
            list(anonymous.watch_events(stop_at_end=True))
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with client(secured, pki, "not-a-token") as stranger:
        with pytest.raises(grpc.RpcError) as caught:
            stranger.plan_order(order)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # routing.plan plans, but may not change stock or reserve
    with client(secured, pki, PLANNER) as checkout:
        assert checkout.plan_order(order).plan.shipments
        with pytest.raises(grpc.RpcError) as caught:
            checkout.inventory.UpdateStock(stock_update())
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        info = error_info(caught.value)
        assert info.reason == "MISSING_SCOPE" and info.metadata["scope"] == "inventory.write"
        reserve = OmnirouteClient.plan_request(order)
        reserve.reserve, reserve.request_id = True, "reserve-1"
        with pytest.raises(grpc.RpcError) as caught:
            checkout.routing.PlanOrder(reserve)
        assert error_info(caught.value).metadata["scope"] == "routing.reserve"
        with pytest.raises(grpc.RpcError) as caught:
            list(checkout.watch_events(stop_at_end=True))
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert error_info(caught.value).metadata["scope"] == "inventory.read"
    # admin may; the audit trail names it, and the refused call too
    with client(secured, pki, OPS) as ops:
        ops.inventory.UpdateStock(stock_update())
        assert list(ops.watch_events(stop_at_end=True))[-1].type == inv.Event.STOCK_UPDATED
        assert ops.get_stock(sku_ids=["TEE"], node_ids=["DC1"]).positions[0].on_hand == 11
    audit = subprocess.run(
        [sys.executable, "-m", "omniroute.server.cli", "audit", "--db", str(db_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    records = [json.loads(line) for line in audit.stdout.splitlines()]
    updates = [r for r in records if r["method"].endswith("/UpdateStock")]
    assert [(r["principal"], r["outcome"]) for r in updates] == [
        ("checkout", "PERMISSION_DENIED"),
        ("ops", "OK"),
    ]
    assert updates[1]["requestId"] == "stock-1" and "DC1/TEE" in updates[1]["resource"]
    assert all(PLANNER not in line and OPS not in line for line in audit.stdout.splitlines())


def test_mutual_tls(db_path: Path, pki: Path, tiny_orders: dict[str, Order]) -> None:
    """With a client CA: no client certificate, no connection; with one, its subject is the
    principal in the audit trail."""
    config = tls_config(db_path, pki, tls_client_ca=str(pki / "ca.pem"))
    order = tiny_orders["one-tee-melbourne"]
    with ServerThread(config) as running:
        with client(running, pki, None) as without:
            with pytest.raises(grpc.RpcError) as caught:
                without.plan_order(order)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        certificate = {"tls_cert": str(pki / "client.pem"), "tls_key": str(pki / "client.key")}
        with client(running, pki, None, **certificate) as with_certificate:
            assert with_certificate.plan_order(order).plan.shipments
            with_certificate.inventory.UpdateStock(stock_update())
        assert running.server is not None
        (record,) = running.server.ledger.audit.records()
        assert "checkout-client" in record.principal and record.outcome == "OK"


def test_sighup_reloads_tokens(secured: ServerThread, pki: Path, tmp_path: Path) -> None:
    """A changed tokens file takes effect on reload; a broken one leaves the old in force."""
    assert secured.server is not None
    tokens = pki / "tokens.json"
    original = tokens.read_text()
    try:
        tokens.write_text(
            json.dumps({"tokens": [{"name": "new", "sha256": sha("fresh"), "scopes": ["admin"]}]})
        )
        secured.server.reload_credentials()
        with client(secured, pki, "fresh") as fresh:
            fresh.get_stock(sku_ids=["TEE"], node_ids=["DC1"])
        with client(secured, pki, OPS) as old, pytest.raises(grpc.RpcError) as caught:
            old.get_stock(sku_ids=["TEE"], node_ids=["DC1"])
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        tokens.write_text("{broken")
        secured.server.reload_credentials()  # logged; the last good tokens stay
        with client(secured, pki, "fresh") as fresh:
            fresh.get_stock(sku_ids=["TEE"], node_ids=["DC1"])
    finally:
        tokens.write_text(original)


def test_serve_refuses_unusable_security_options(tmp_path: Path, pki: Path) -> None:
    bad = tmp_path / "tokens.json"
    bad.write_text(json.dumps({"tokens": [{"name": "x", "sha256": "abc", "scopes": ["root"]}]}))
    serve = [sys.executable, "-m", "omniroute.server.cli", "serve", "--db", str(tmp_path / "x")]
    for args, message in (
        (["--tls-cert", str(pki / "server.pem")], "go together"),
        (["--auth-tokens", str(bad)], "unknown scope 'root'"),
        (
            ["--tls-cert", str(pki / "server.pem"), "--tls-key", str(pki / "ca.srl")],
            "not a PEM file",
        ),
    ):
        result = subprocess.run([*serve, *args], capture_output=True, text=True, timeout=60)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_token_command_issues_a_token_and_its_entry(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "omniroute.server.cli", "token", "--name", "checkout"]
        + ["--scope", "routing.plan", "--scope", "routing.reserve"],
        capture_output=True,
        text=True,
        check=True,
    )
    token = result.stderr.rsplit(": ", 1)[1].strip()
    entry = json.loads(result.stdout)
    (tmp_path / "tokens.json").write_text(json.dumps({"tokens": [entry]}))
    (principal,) = read_tokens(tmp_path / "tokens.json").items()
    assert principal[0] == sha(token) and principal[1].name == "checkout"
    assert principal[1].scopes == {"routing.plan", "routing.reserve"}


def test_stream_messages_are_checked_and_audited_one_by_one(
    secured: ServerThread, pki: Path, tiny_orders: dict[str, Order]
) -> None:
    """On StreamPlanOrders a reserving message needs routing.reserve: without it that
    message is answered PERMISSION_DENIED and the stream goes on; each reserving message is
    in the audit trail with its own outcome."""
    order = tiny_orders["one-tee-melbourne"]
    plan = OmnirouteClient.plan_request(order)
    reserve = OmnirouteClient.plan_request(order)
    reserve.reserve, reserve.request_id = True, "stream-reserve-1"
    with client(secured, pki, PLANNER) as checkout:
        answers = list(checkout.routing.StreamPlanOrders(iter([reserve, plan])))
    assert answers[0].error.code == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert answers[1].plan.shipments and not answers[1].HasField("error")
    with client(secured, pki, OPS) as ops:
        (answer,) = ops.routing.StreamPlanOrders(iter([reserve]))
    assert answer.reservation_id and not answer.HasField("error")
    assert secured.server is not None
    records = [
        (r.principal, r.outcome, r.request_id)
        for r in secured.server.ledger.audit.records()
        if r.method.endswith("/StreamPlanOrders")
    ]
    assert records == [
        ("checkout", "PERMISSION_DENIED", "stream-reserve-1"),
        ("ops", "OK", "stream-reserve-1"),
    ]


def test_sighup_reloads_the_certificate(db_path: Path, pki: Path, tmp_path: Path) -> None:
    """New connections get the reloaded certificate (here from another CA); the old one is
    no longer served."""
    for name in ("server.pem", "server.key", "ca.pem", "ca.key"):
        (tmp_path / name).write_bytes((pki / name).read_bytes())
    config = ServerConfig(
        db=str(db_path),
        port=0,
        grace=1.0,
        tls_cert=str(tmp_path / "server.pem"),
        tls_key=str(tmp_path / "server.key"),
    )
    other = tmp_path / "other"
    other.mkdir()
    issue(other, "ca", "/CN=another test CA", ca=True)
    issue(other, "server", "/CN=localhost")

    def answers(ca: Path) -> bool:
        with OmnirouteClient(running.target, timeout=5, retries=0, tls_ca=str(ca)) as c:
            try:
                c.get_stock(sku_ids=["TEE"], node_ids=["DC1"])
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE
                return False
            return True

    with ServerThread(config) as running:
        assert answers(pki / "ca.pem") and not answers(other / "ca.pem")
        for name in ("server.pem", "server.key"):
            (tmp_path / name).write_bytes((other / name).read_bytes())
        assert running.server is not None
        running.server.reload_credentials()
        assert answers(other / "ca.pem") and not answers(pki / "ca.pem")


def test_rate_limit_per_caller(db_path: Path, pki: Path) -> None:
    """Over its rate, a caller gets RESOURCE_EXHAUSTED (RATE_LIMITED); another caller's
    allowance is its own; health checking is never limited."""
    config = tls_config(  # a burst of one call, then one every two seconds
        db_path, pki, auth_tokens=str(pki / "tokens.json"), rate_limit=0.5
    )
    with (
        ServerThread(config) as running,
        client(running, pki, PLANNER) as checkout,
        client(running, pki, OPS) as ops,
    ):
        read = inv.GetStockRequest(sku_ids=["TEE"], node_ids=["DC1"])
        with pytest.raises(grpc.RpcError):  # no inventory.read: refused, but counted
            checkout.inventory.GetStock(read)
        with pytest.raises(grpc.RpcError) as caught:
            checkout.inventory.GetStock(read)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error_info(caught.value).reason == "RATE_LIMITED"
        ops.inventory.GetStock(read)  # its own allowance
        health = health_pb2_grpc.HealthStub(checkout.channel)
        for _ in range(3):
            assert health.Check(health_pb2.HealthCheckRequest()).status == 1
