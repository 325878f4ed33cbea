"""Fixtures of the ledger tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from omniroute.ledger import Ledger, open_ledger
from omniroute.model import Network


@pytest.fixture()
def store(ledger_target: str, tiny_network: Network) -> Iterator[Ledger]:
    """A fresh ledger holding the tiny network, once per backend (SQLite, PostgreSQL)."""
    s = open_ledger(ledger_target)
    s.put_network(tiny_network)
    yield s
    s.close()
