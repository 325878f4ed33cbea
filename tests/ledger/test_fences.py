"""The ledger enforces channel fences and caps on every hold, on both backends, whatever
the caller planned with: a hold past a fence or cap is a Shortage and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from omniroute.ledger import Ledger, Shortage, new_reservation_id, open_ledger, plan_lines
from omniroute.model import Channel, ChannelFence, Network, Order, OrderLine, StockPosition
from omniroute.planner import Planner

UNFENCED: list[Planner] = []  # plans made without fences: the ledger alone must refuse


@pytest.fixture()
def store(ledger_target: str, tiny_network: Network) -> Iterator[Ledger]:
    stock = [p for p in tiny_network.stock if (p.node_id, p.sku_id) != ("ST1", "TEE")]
    network = replace(
        tiny_network,
        stock=(*stock, StockPosition("ST1", "TEE", 20, 0, 0)),
        channel_fences=(
            ChannelFence(Channel.MARKETPLACE, node_id="ST1", sku_id="TEE", units=6),
            ChannelFence(Channel.WEB, node_id="ST1", max_share=0.5),
        ),
    )
    s = open_ledger(ledger_target)
    s.put_network(network)
    UNFENCED[:] = [Planner(replace(network, channel_fences=()))]
    yield s
    s.close()


def _hold(store: Ledger, channel: Channel, units: int) -> str:
    """Hold ``units`` TEE at ST1 for an order of ``channel`` (planned by nobody)."""
    others = tuple(n.id for n in UNFENCED[0].network.nodes if n.id != "ST1")
    order = Order(
        new_reservation_id(),
        (OrderLine("1", "TEE", units),),
        destination=UNFENCED[0].network.nodes[1].location,
        channel=channel,
        excluded_node_ids=others,
    )
    plan = UNFENCED[0].plan(order).plan
    assert [s.node_id for s in plan.shipments] == ["ST1"]
    reservation_id = new_reservation_id()
    store.reservations.reserve(
        reservation_id, order.id, b"f", order.id, plan_lines(plan), 60, b"a", order=(order, plan)
    )
    return reservation_id


def _reserved(store: Ledger) -> int:
    return store.stock.get(["TEE"], ["ST1"])[0].reserved


def test_holds_past_a_fence_or_a_cap_are_refused(store: Ledger) -> None:
    with pytest.raises(Shortage):
        _hold(store, Channel.WEB, 11)  # over the cap of half of 20
    assert _reserved(store) == 0
    _hold(store, Channel.WEB, 10)
    with pytest.raises(Shortage):
        _hold(store, Channel.WEB, 1)  # the cap is used up
    with pytest.raises(Shortage):
        _hold(store, Channel.CALL_CENTER, 5)  # 10 left, 6 of them the marketplace's
    _hold(store, Channel.CALL_CENTER, 4)
    _hold(store, Channel.MARKETPLACE, 6)
    assert _reserved(store) == 20
    assert [(c, u) for _, _, c, u in store.reservations.held_by_channel() if u] == [
        (Channel.CALL_CENTER, 4),
        (Channel.MARKETPLACE, 6),
        (Channel.WEB, 10),
    ]
    assert store.check() == []


def test_the_fenced_channels_own_holds_count_against_its_fence(store: Ledger) -> None:
    _hold(store, Channel.MARKETPLACE, 2)  # 4 of the fence still unused
    with pytest.raises(Shortage):
        _hold(store, Channel.STORE, 15)  # 18 left, 4 fenced
    _hold(store, Channel.STORE, 14)
    _hold(store, Channel.MARKETPLACE, 4)
    assert _reserved(store) == 20
