"""Channel fences through the real server and ledger: two channels racing for one store's
stock never take more than each one's fence and cap allow, nor more than the stock; save
the sale sees what the store's channel may sell. ``tests/server/test_postgres_service.py``
runs the race on PostgreSQL too."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from omniroute.ledger import open_ledger
from omniroute.model import (
    Channel,
    ChannelFence,
    Network,
    Order,
    OrderLine,
    StockPosition,
)
from omniroute.server.client import OmnirouteClient
from omniroute.server.process import ServerConfig

from .conftest import ServerThread

STOCK = 20  # TEE units at ST1
FENCE = 6  # kept for the marketplace at ST1
CAP = 0.5  # web may hold at most half of ST1's units


def fenced_network(tiny: Network) -> Network:
    stock = [p for p in tiny.stock if (p.node_id, p.sku_id) != ("ST1", "TEE")]
    stock.append(StockPosition("ST1", "TEE", STOCK, 0, 0))
    return replace(
        tiny,
        stock=tuple(stock),
        channel_fences=(
            ChannelFence(Channel.MARKETPLACE, node_id="ST1", sku_id="TEE", units=FENCE),
            ChannelFence(Channel.WEB, node_id="ST1", max_share=CAP),
        ),
    )


@pytest.fixture()
def fenced_db(db_path: str | Path, tiny_network: Network) -> str:
    """The tests' ledger (SQLite here, PostgreSQL in the PostgreSQL run) holding the
    fenced network."""
    ledger = open_ledger(db_path)
    ledger.put_network(fenced_network(tiny_network))
    ledger.close()
    return str(db_path)


@pytest.fixture()
def fenced_client(fenced_db: str) -> Iterator[OmnirouteClient]:
    config = ServerConfig(db=fenced_db, host="localhost", port=0, grace=1.0, threads=4)
    with ServerThread(config) as running, OmnirouteClient(running.target, timeout=60) as c:
        yield c


def _one_tee(n: int, channel: Channel, tiny: Network) -> Order:
    """One TEE that only ST1 may ship."""
    return Order(
        f"{channel.value}-{n}",
        (OrderLine("1", "TEE", 1),),
        destination=tiny.nodes[1].location,
        channel=channel,
        excluded_node_ids=tuple(n.id for n in tiny.nodes if n.id != "ST1"),
    )


def test_two_channels_racing_for_a_stores_stock(
    fenced_client: OmnirouteClient, tiny_network: Network
) -> None:
    orders = [
        _one_tee(n, channel, tiny_network)
        for n in range(STOCK)
        for channel in (Channel.WEB, Channel.MARKETPLACE)
    ]
    lock = threading.Lock()
    taken = {Channel.WEB: 0, Channel.MARKETPLACE: 0}
    seen: list[tuple[int, int]] = []

    def reserve(order: Order) -> None:
        response = fenced_client.reserve(order)
        if response.reservation_id:
            with lock:
                taken[order.channel] += 1
                seen.append((taken[Channel.WEB], taken[Channel.MARKETPLACE]))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(reserve, orders))

    web, market = taken[Channel.WEB], taken[Channel.MARKETPLACE]
    # every state on the way: web within its cap and outside the marketplace's unused fence
    for w, m in seen:
        assert w <= int(CAP * STOCK)
        assert w + max(m, FENCE) <= STOCK
        assert w + m <= STOCK
    # the ledger agrees, and neither channel could take one more unit at the end
    position = fenced_client.get_stock(sku_ids=["TEE"], node_ids=["ST1"]).positions[0]
    assert position.reserved == web + market <= STOCK
    assert web == int(CAP * STOCK) or web + max(market, FENCE) == STOCK
    assert web + market == STOCK or market == STOCK - web
    assert not fenced_client.reserve(_one_tee(99, Channel.MARKETPLACE, tiny_network)).reservation_id
    assert not fenced_client.reserve(_one_tee(99, Channel.WEB, tiny_network)).reservation_id


def test_each_channel_is_told_what_it_may_take(
    fenced_client: OmnirouteClient, tiny_network: Network
) -> None:
    """Plans and save the sale see the channel's ATP, not the shelf's."""
    web = _one_tee(0, Channel.WEB, tiny_network)
    big = replace(web, lines=(OrderLine("1", "TEE", 11),), allow_partial=True)
    plan = fenced_client.plan_order(big).plan
    assert sum(x.quantity for s in plan.shipments for x in s.lines) == int(CAP * STOCK)
    market = replace(big, channel=Channel.MARKETPLACE, lines=(OrderLine("1", "TEE", 20),))
    plan = fenced_client.plan_order(market).plan
    assert sum(x.quantity for s in plan.shipments for x in s.lines) == STOCK
    # the store's own staff (channel STORE) may take all but the marketplace's fence
    found = fenced_client.availability(["TEE"], store_id="ST1")
    here = next(n for n in found.nodes if n.node_id == "ST1")
    assert {x.sku_id: x.atp for x in here.skus}["TEE"] == STOCK - FENCE
    # ... and the web's staff, or a web checkout's quote, what the web may take
    found = fenced_client.availability(["TEE"], store_id="ST1", channel="WEB")
    here = next(n for n in found.nodes if n.node_id == "ST1")
    assert {x.sku_id: x.atp for x in here.skus}["TEE"] == int(CAP * STOCK)
    cart = [OrderLine("1", "TEE", int(CAP * STOCK) + 1)]
    only_st1 = tiny_network.nodes[1].location
    quotes = {
        c: fenced_client.quote(cart, only_st1, channel=c).options for c in ("WEB", "MARKETPLACE")
    }
    # ST1 alone ships 11 to the marketplace; the web, capped at 10 there, must split
    assert min(o.shipments for o in quotes["MARKETPLACE"]) == 1
    assert min(o.shipments for o in quotes["WEB"]) == 2
