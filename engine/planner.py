"""The entry point for planning one order: :class:`Planner`."""

from __future__ import annotations

from dataclasses import replace

from omniroute.baseline import plan_baseline
from omniroute.budget import Budget
from omniroute.candidates import build_problem
from omniroute.explain import explain as explain_plan
from omniroute.model import Network, Order, PlanResult, Policy
from omniroute.network_index import Inventory, NetworkIndex
from omniroute.optimizer import optimise


class Planner:
    """Plans orders against one network version and a stock view.

    Parameters
    ----------
    network
        A validated network.
    inventory
        The stock to plan against; by default the network's own stock positions.
    index
        A prebuilt index of ``network`` (to share one between planners).
    """

    def __init__(
        self,
        network: Network,
        inventory: Inventory | None = None,
        index: NetworkIndex | None = None,
    ) -> None:
        self.index = index if index is not None else NetworkIndex(network)
        self.inventory = inventory if inventory is not None else Inventory.from_network(self.index)

    def plan(
        self,
        order: Order,
        policy: Policy = Policy.CHEAPEST,
        include_options: bool = False,
        explain: bool = False,
        time_limit: float | None = None,
        budget: Budget | None = None,
    ) -> PlanResult:
        """Plan one validated order with ``policy`` against the current stock.

        ``include_options`` adds the price/date options front; ``explain`` compares the plan
        with the best single-node plan and the baseline; ``time_limit`` (seconds, default 10)
        or ``budget`` (which can also be cancelled) bounds the CP-SAT fallback, after which
        the best plan found is returned with its gap.
        """
        problem = build_problem(order, self.index, self.inventory)
        if policy is Policy.BASELINE:
            result = plan_baseline(problem)
        else:
            if budget is None and time_limit is not None:
                budget = Budget(time_limit)
            result = optimise(problem, policy, include_options, budget)
        if explain:
            result = replace(result, explanation=explain_plan(problem, result, policy))
        return result
