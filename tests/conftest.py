"""Shared fixtures: small named instances from tests/data, loaded once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # test helpers such as brute_force

from omniroute.files import read_network, read_orders  # noqa: E402
from omniroute.model import Network, Order  # noqa: E402

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def tiny_network() -> Network:
    """Four nodes around Melbourne and Sydney, four services, four SKUs (tests/data)."""
    return read_network(DATA / "tiny_network.json")


@pytest.fixture(scope="session")
def tiny_orders(tiny_network: Network) -> dict[str, Order]:
    """Named orders against the tiny network, by order id."""
    return {order.id: order for order in read_orders(DATA / "tiny_orders.jsonl", tiny_network)}
