"""Sourcing profiles: merchant rules compiled into each order's problem
(docs/sourcing-profiles.md).

An order uses the profile it names (``sourcingProfileId``), else the first profile whose
``channels`` include its channel, else none. A profile's excluded nodes, allowed node kinds
and distance limit add to the order's exclusions; its ``maxShipments`` applies when the
order sets none; its node adjustments (the node's own first, else its kind's) are added to
the cost of every shipment from the node. They are not filters on finished plans: the
optimiser sees them as exclusions, lanes and lane costs, so its plans stay proven optimal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from omniroute.model import Network, Node, Order, SourcingProfile


def profile_for(order: Order, profiles: Sequence[SourcingProfile]) -> SourcingProfile | None:
    """The profile ``order`` uses: the one it names, else the first for its channel."""
    if order.sourcing_profile_id:
        for profile in profiles:
            if profile.id == order.sourcing_profile_id:
                return profile
        raise KeyError(f"unknown sourcing profile {order.sourcing_profile_id!r}")
    for profile in profiles:
        if order.channel in profile.channels:
            return profile
    return None


def adjustment_index(profile: SourcingProfile, node: Node) -> int | None:
    """Which of the profile's node adjustments applies to ``node``: the first for the node
    itself, else the first for its kind (None: none)."""
    adjustments = profile.node_adjustments
    for j, adjustment in enumerate(adjustments):
        if adjustment.node_id and adjustment.node_id == node.id:
            return j
    for j, adjustment in enumerate(adjustments):
        if not adjustment.node_id and adjustment.kind is node.kind:
            return j
    return None


def adjustment_for(profile: SourcingProfile, node: Node) -> float:
    """The profile's cost per shipment from ``node`` (0 when no adjustment applies)."""
    j = adjustment_index(profile, node)
    return 0.0 if j is None else profile.node_adjustments[j].cost_per_shipment


def allows(profile: SourcingProfile, node: Node) -> bool:
    """Whether the profile lets ``node`` ship at all (its kind and exclusions)."""
    if profile.allowed_node_kinds and node.kind not in profile.allowed_node_kinds:
        return False
    return node.id not in profile.excluded_node_ids


@dataclass(frozen=True, slots=True)
class CompiledProfile:
    """A profile as the candidate builder reads it, one entry per network node."""

    profile: SourcingProfile
    excluded: np.ndarray  # node indices the profile does not let ship (ascending)
    adjustment: np.ndarray  # cost per shipment per node; empty when the profile has none

    @property
    def max_distance_km(self) -> float:
        return self.profile.max_distance_km

    def cost_at(self, node: int) -> float:
        """The profile's cost per shipment from the node at index ``node``."""
        return float(self.adjustment[node]) if len(self.adjustment) else 0.0

    def max_shipments(self, order: Order) -> int:
        """The order's shipment limit: its own, else the profile's."""
        return order.max_shipments or self.profile.max_shipments


class Sourcing:
    """A network's sourcing profiles compiled once per network version."""

    def __init__(self, network: Network) -> None:
        self.profiles = network.sourcing_profiles
        self._compiled = {profile.id: _compile(profile, network) for profile in self.profiles}

    def of(self, order: Order) -> CompiledProfile | None:
        """The compiled profile ``order`` uses (None: no profile applies). Orders are
        validated against the network's profile ids; one reserved before a new network
        dropped the profile it names is planned by its channel's profile, if any."""
        if not self.profiles:
            return None
        named = self._compiled.get(order.sourcing_profile_id)
        if named is not None:
            return named
        if order.sourcing_profile_id:  # a name the network no longer has
            order = replace(order, sourcing_profile_id="")
        profile = profile_for(order, self.profiles)
        return None if profile is None else self._compiled[profile.id]


def _compile(profile: SourcingProfile, network: Network) -> CompiledProfile:
    excluded = [i for i, node in enumerate(network.nodes) if not allows(profile, node)]
    adjustment = np.zeros(0)
    if profile.node_adjustments:
        adjustment = np.array([adjustment_for(profile, node) for node in network.nodes])
    return CompiledProfile(profile, np.array(excluded, dtype=np.int64), adjustment)
