"""The committed Python modules are exactly what ``make proto`` generates from proto/."""

from __future__ import annotations

from pathlib import Path

from omniroute.server.proto_gen import GENERATED_GLOBS, PACKAGE_DIR, generate


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    """Regenerating into a temporary directory gives byte-identical files (run `make proto`)."""
    fresh = {path.name: path.read_bytes() for path in generate(tmp_path)}
    committed = {
        path.name: path.read_bytes()
        for pattern in GENERATED_GLOBS
        for path in PACKAGE_DIR.glob(pattern)
    }
    assert sorted(fresh) == sorted(committed), "generated file set differs: run `make proto`"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale generated code {stale}: run `make proto`"


def test_every_service_is_generated() -> None:
    """The three services of the API have stubs."""
    from omniroute.v1 import (
        inventory_service_pb2_grpc,
        network_service_pb2_grpc,
        routing_service_pb2_grpc,
    )

    assert hasattr(routing_service_pb2_grpc, "RoutingServiceStub")
    assert hasattr(inventory_service_pb2_grpc, "InventoryServiceStub")
    assert hasattr(network_service_pb2_grpc, "NetworkServiceStub")
