"""The entry point for planning one order: :class:`Planner`."""

from __future__ import annotations

from engine.baseline import plan_baseline
from engine.candidates import build_problem
from engine.model import Network, Order, PlanResult, Policy
from engine.network_index import Inventory, NetworkIndex
from engine.optimizer import optimise


class Planner:
    """Plans orders against one network version and a stock view.

    Parameters
    ----------
    network
        A validated network.
    inventory
        The stock to plan against; by default the network's own stock positions.
    """

    def __init__(self, network: Network, inventory: Inventory | None = None) -> None:
        self.index = NetworkIndex(network)
        self.inventory = inventory if inventory is not None else Inventory.from_network(self.index)

    def plan(
        self,
        order: Order,
        policy: Policy = Policy.CHEAPEST,
        include_options: bool = False,
        explain: bool = False,
        time_limit: float | None = None,
    ) -> PlanResult:
        """Plan one validated order with ``policy`` against the current stock."""
        problem = build_problem(order, self.index, self.inventory)
        if policy is Policy.BASELINE:
            return plan_baseline(problem)
        return optimise(problem, policy, include_options, time_limit)
