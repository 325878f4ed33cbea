"""Channel fences and caps in the planner: each channel's orders see exactly the ATP of the
rule (checked against a plain-Python reading of it, position by position), plans equal the
plans on a network whose stock is that ATP (and so stay proven optimal), scenarios respect
them, and bad fences are named."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from omniroute.model import (
    Channel,
    ChannelFence,
    Network,
    NodeKind,
    Order,
    OrderLine,
    StockPosition,
    ValidationError,
)
from omniroute.planner import Planner
from omniroute.scenario import replay
from omniroute.validation import require_valid_network

FENCES = (
    ChannelFence(Channel.MARKETPLACE, node_id="DC1", sku_id="TEE", units=4),
    ChannelFence(Channel.MARKETPLACE, node_kind=NodeKind.STORE, share=0.5),
    ChannelFence(Channel.STORE, node_id="ST1", share=1.0),  # overrides nothing of STORE's
    ChannelFence(Channel.WEB, node_kind=NodeKind.STORE, max_share=0.5),
    ChannelFence(Channel.WEB, node_id="ST2", sku_id="JEANS", max_share=1.0),  # ST2 JEANS: no cap
    ChannelFence(Channel.WHOLESALE, units=1),  # every position
)


def fenced(network: Network) -> Network:
    stock = [p for p in network.stock if (p.node_id, p.sku_id) != ("DC1", "TEE")]
    stock.append(StockPosition("DC1", "TEE", 10, 0, 0))
    stock.append(StockPosition("ST2", "TEE", 7, 0, 0))
    return replace(network, stock=tuple(stock), channel_fences=FENCES)


def reference_atp(
    network: Network, channel: Channel, position: StockPosition, held: dict[Channel, int]
) -> int:
    """The rule of docs/channel-fences.md read literally, for one position."""
    kinds = {n.id: n.kind for n in network.nodes}

    def rule(c: Channel, cap: bool) -> ChannelFence | None:
        best, rank = None, -1
        for fence in network.channel_fences:
            if fence.channel is not c or fence.is_cap != cap:
                continue
            if fence.sku_id not in ("", position.sku_id):
                continue
            if fence.node_id:
                if fence.node_id != position.node_id:
                    continue
                level = 2
            elif fence.node_kind is not None:
                if fence.node_kind is not kinds[position.node_id]:
                    continue
                level = 1
            else:
                level = 0
            r = level * 2 + bool(fence.sku_id)
            if r >= rank:
                best, rank = fence, r
        return best

    h = position.on_hand
    left = h - position.safety_stock - position.reserved
    for other in Channel:
        fence = rule(other, False) if other is not channel else None
        if fence is not None:
            amount = fence.units or math.floor(fence.share * h + 1e-9)
            left -= max(0, amount - held.get(other, 0))
    atp = max(0, left)
    cap = rule(channel, True)
    if cap is not None:
        atp = min(atp, max(0, math.floor(cap.max_share * h + 1e-9) - held.get(channel, 0)))
    return atp


@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.value)
def test_each_channel_sees_the_atp_of_the_rule(tiny_network: Network, channel: Channel) -> None:
    network = fenced(tiny_network)
    planner = Planner(network)
    inventory, index = planner.inventory, planner.index
    held = {Channel.MARKETPLACE: 1, Channel.WEB: 2}
    reserved_stock = [replace(p, reserved=min(3, p.on_hand)) for p in network.stock]
    inventory.set_positions(reserved_stock)
    inventory.set_channel_holds(
        (p.node_id, p.sku_id, c, units * (p.reserved > 0))
        for p in reserved_stock
        for c, units in held.items()
    )
    for position in reserved_stock:
        k, node = index.sku_pos[position.sku_id], index.node_pos[position.node_id]
        stock = inventory.sku_for(k, channel)
        at = list(stock.nodes).index(node)
        got = int(stock.atp()[at])
        owned = held if position.reserved else {}
        assert got == reference_atp(network, channel, position, owned), position


@pytest.mark.parametrize("channel", list(Channel), ids=lambda c: c.value)
def test_fenced_plans_are_the_plans_on_the_channels_atp(
    tiny_network: Network, tiny_orders: dict[str, Order], channel: Channel
) -> None:
    """A fenced network plans each order as the unfenced network whose stock is the
    channel's ATP: same cost, same shipments, same proof."""
    network = fenced(tiny_network)
    as_atp = replace(
        network,
        channel_fences=(),
        stock=tuple(
            StockPosition(p.node_id, p.sku_id, reference_atp(network, channel, p, {}), 0, 0)
            for p in network.stock
        ),
    )
    with_fences, plain = Planner(network), Planner(as_atp)
    for order in tiny_orders.values():
        order = replace(order, channel=channel, sourcing_profile_id="")
        a, b = with_fences.plan(order), plain.plan(order)
        assert a.plan.total_cost == pytest.approx(b.plan.total_cost), order.id
        assert a.plan.shipments == b.plan.shipments, order.id
        assert a.stats.proof == b.stats.proof and a.plan.status == b.plan.status, order.id


def test_a_replay_keeps_the_fenced_units_for_their_channel(tiny_network: Network) -> None:
    """Web orders replayed one after another stop at the marketplace's fence."""
    network = replace(
        fenced(tiny_network), channel_fences=(ChannelFence(Channel.MARKETPLACE, units=4),)
    )
    order = Order(
        "web",
        (),
        destination=network.nodes[0].location,
        excluded_node_ids=tuple(n.id for n in network.nodes if n.id != "DC1"),
        allow_partial=True,
    )
    orders = [replace(order, id=f"web-{i}", lines=(OrderLine("1", "TEE", 1),)) for i in range(12)]
    outcomes = replay(Planner(network), orders).outcomes
    assert sum(o.units_filled for o in outcomes) == 10 - 4
    last = replace(orders[0], id="mp", channel=Channel.MARKETPLACE)
    assert replay(Planner(network), [*orders, last]).outcomes[-1].units_filled == 1


def test_bad_fences_are_named(tiny_network: Network) -> None:
    bad = replace(
        tiny_network,
        channel_fences=(
            ChannelFence(None, units=1),
            ChannelFence(Channel.WEB, node_id="NOPE", units=1),
            ChannelFence(Channel.WEB, node_id="DC1", node_kind=NodeKind.DC, units=1),
            ChannelFence(Channel.WEB, sku_id="NOPE", share=0.5, max_share=0.5),
            ChannelFence(Channel.WEB, share=1.5),
            ChannelFence(Channel.WEB, node_id="ST1", units=-2),
            ChannelFence(Channel.STORE, units=2),
            ChannelFence(Channel.STORE, units=3),
        ),
    )
    with pytest.raises(ValidationError) as caught:
        require_valid_network(bad)
    fields = [v.field for v in caught.value.violations]
    assert fields == [
        "channelFences[0].channel",
        "channelFences[1].nodeId",
        "channelFences[2]",
        "channelFences[3].skuId",
        "channelFences[3]",
        "channelFences[4].share",
        "channelFences[5].units",
        "channelFences[7]",
    ]
