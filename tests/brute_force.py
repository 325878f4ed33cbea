"""Brute-force enumeration of every plan of a tiny order, straight from the contract.

Independent of the optimiser: it reads the model objects, enumerates every way to give each
usable node a load and a service, and keeps the feasible plans with their contract cost.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace

from omniroute.cost import destination_of, plan_total, quote_shipment
from omniroute.model import CarrierService, Network, Node, Order

EPS = 1e-6


@dataclass(frozen=True)
class DatedLanes:
    """A dated order's lane days: ``days(node, service or None, transit days)``."""

    days: Callable[[Node, CarrierService | None, int], int]
    limit: int | None


@dataclass(frozen=True)
class BrutePlan:
    cost: float
    days: int
    shipments: int
    units: int
    usage: tuple[tuple[str, str, int], ...] = ()  # (node, SKU, units) taken
    nodes: tuple[str, ...] = ()


def all_plans(
    order: Order,
    network: Network,
    atp: dict[tuple[str, str], int],
    dated: DatedLanes | None = None,
) -> list[BrutePlan]:
    """Every feasible plan (complete or not) as (cost, days, shipments, units).

    ``dated``: the delivery days of each lane of a dated order and the most days its promise
    allows, from an implementation of the dated rules of the caller's own (else the days
    are the undated processing + transit days and the promise is ``promiseDays``)."""
    limit = dated.limit if dated is not None else (order.promise_days or None)
    nodes = {n.id: n for n in network.nodes}
    services = {s.id: s for s in network.carrier_services}
    weights = {s.id: s.weight_kg for s in network.skus}
    alone = {s.id for s in network.skus if s.ship_alone}
    destination = destination_of(order, nodes)
    # units are counted per item: a (SKU, ship-together group) pair
    demand: dict[tuple[str, str], int] = {}
    for line in order.lines:
        item = (line.sku_id, line.ship_together_group)
        demand[item] = demand.get(item, 0) + line.quantity
    skus = sorted(demand)
    groups = {g for _, g in skus if g}
    usable = [n for n in network.nodes if not n.disabled and n.id not in order.excluded_node_ids]
    # the sourcing profile, read from the contract's words (not omniroute.profiles)
    profile = next(
        (p for p in network.sourcing_profiles if p.id == order.sourcing_profile_id), None
    )
    if profile is None and not order.sourcing_profile_id:
        profile = next((p for p in network.sourcing_profiles if order.channel in p.channels), None)
    max_shipments = order.max_shipments
    if profile is not None:
        usable = [
            n
            for n in usable
            if n.id not in profile.excluded_node_ids
            and (not profile.allowed_node_kinds or n.kind in profile.allowed_node_kinds)
        ]
        max_shipments = max_shipments or profile.max_shipments

    def adjustment(node: Node) -> float:
        if profile is None:
            return 0.0
        own = [a for a in profile.node_adjustments if a.node_id == node.id]
        kind = [a for a in profile.node_adjustments if not a.node_id and a.kind == node.kind]
        return (own or kind)[0].cost_per_shipment if own or kind else 0.0

    # Options per node: (load, cost, days) for each load and each service that works.
    def node_options(node):
        ranges = [range(min(demand[s], atp.get((node.id, s[0]), 0)) + 1) for s in skus]
        options = []
        for load in itertools.product(*ranges):
            if sum(load) == 0:
                continue
            per_sku: dict[str, int] = {}
            for (sku, _), q in zip(skus, load, strict=True):
                per_sku[sku] = per_sku.get(sku, 0) + q
            if any(q > atp.get((node.id, sku), 0) for sku, q in per_sku.items()):
                continue  # items of one SKU share its stock
            if any(  # a group ships whole from a node, or not from it
                len({q == demand[s] for s, q in zip(skus, load, strict=True) if s[1] == g}) > 1
                or any(0 < q < demand[s] for s, q in zip(skus, load, strict=True) if s[1] == g)
                for g in groups
            ):
                continue
            weight = sum(weights[s[0]] * q for s, q in zip(skus, load, strict=True))
            units = sum(load)
            alone_units = sum(q for s, q in zip(skus, load, strict=True) if s[0] in alone)
            rest = sum(
                weights[s[0]] * q for s, q in zip(skus, load, strict=True) if s[0] not in alone
            )
            choices = (
                [None]
                if order.pickup_store_id == node.id
                else [services[sid] for sid in node.service_ids]
            )
            for service in choices:
                quote = quote_shipment(
                    node,
                    service,
                    weight,
                    units,
                    destination,
                    alone_units=alone_units,
                    rest_weight_kg=rest,
                )
                if quote is None:
                    continue
                if profile is not None and 0 < profile.max_distance_km < quote.distance_km:
                    continue
                days = quote.delivery_days
                if dated is not None:
                    days = dated.days(node, service, days - node.processing_days)
                if limit is not None and days > limit:
                    continue
                options.append((load, quote.cost + adjustment(node), days, node.id))
        return [None, *options]

    per_node = [node_options(n) for n in usable]
    plans = []
    for combo in itertools.product(*per_node):
        chosen = [c for c in combo if c is not None]
        totals = [sum(c[0][k] for c in chosen) for k in range(len(skus))]
        if any(t > demand[s] for t, s in zip(totals, skus, strict=True)):
            continue
        if any(  # one node per ship-together group
            sum(1 for c in chosen if any(q for s, q in zip(skus, c[0], strict=True) if s[1] == g))
            > 1
            for g in groups
        ):
            continue
        if max_shipments and len(chosen) > max_shipments:
            continue
        cost = plan_total([c[1] for c in chosen], network.split_penalty)
        days = max((c[2] for c in chosen), default=0)
        usage = tuple((c[3], s[0], q) for c in chosen for s, q in zip(skus, c[0], strict=True) if q)
        plans.append(
            BrutePlan(cost, days, len(chosen), sum(totals), usage, tuple(c[3] for c in chosen))
        )
    return plans


def priced(plans: list[BrutePlan], price: Callable[[str, str], float]) -> list[BrutePlan]:
    """The plans with the look-ahead's prices added to their costs: ``price(node, SKU)`` per
    unit taken."""
    return [
        replace(p, cost=p.cost + sum(price(node, sku) * q for node, sku, q in p.usage))
        for p in plans
    ]


def complete(order: Order, plans: list[BrutePlan]) -> list[BrutePlan]:
    need = sum(line.quantity for line in order.lines)
    return [p for p in plans if p.units == need]


def cheapest(plans: list[BrutePlan]) -> tuple[float, int, int] | None:
    """(cost, days, shipments) of the CHEAPEST policy's choice."""
    if not plans:
        return None
    best = min(p.cost for p in plans)
    tied = [p for p in plans if p.cost <= best + EPS]
    days = min(p.days for p in tied)
    ships = min(p.shipments for p in tied if p.days == days)
    return best, days, ships


def fastest(plans: list[BrutePlan]) -> tuple[int, float] | None:
    """(days, cost) of the FASTEST policy's choice."""
    if not plans:
        return None
    days = min(p.days for p in plans)
    return days, min(p.cost for p in plans if p.days == days)


def front(plans: list[BrutePlan]) -> list[tuple[int, float]]:
    """The Pareto front of (days, cost): per day count, the cheapest plan within it,
    kept when strictly cheaper than every faster one."""
    result = []
    for days in sorted({p.days for p in plans}):
        cost = min(p.cost for p in plans if p.days <= days)
        if not result or cost < result[-1][1] - EPS:
            result.append((days, cost))
    return result
