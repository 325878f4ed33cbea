"""Explanations a planner or support agent can read: why this plan, and why not the obvious
alternatives (the best single-node plan and the rule-based baseline)."""

from __future__ import annotations

import numpy as np

from omniroute.baseline import baseline_plan
from omniroute.calendars import day_text
from omniroute.candidates import OrderProblem
from omniroute.cost import zone_for
from omniroute.dating import Dating
from omniroute.model import (
    Alternative,
    Explanation,
    Plan,
    PlanResult,
    PlanStats,
    PlanStatus,
    Policy,
    Proof,
    Shipment,
)
from omniroute.optimizer import _single_node_plans
from omniroute.plans import build_plan

COST_TIE = 0.005  # half a cent


def explain(problem: OrderProblem, result: PlanResult, policy: Policy) -> Explanation:
    """Compare the chosen plan with the best single-node plan and the baseline's plan."""
    chosen = result.plan
    currency = problem.index.network.currency
    alternatives = (
        _alternative(
            "best single node",
            _best_single(problem, policy),
            chosen,
            policy,
            currency,
            _why_no_single(problem),
        ),
        _alternative(
            "baseline",
            baseline_plan(problem),
            chosen,
            policy,
            currency,
            "the baseline rules find no complete plan",
        ),
    )
    return Explanation(_summary(result, alternatives, currency, problem), alternatives)


def _best_single(problem: OrderProblem, policy: Policy) -> Plan | None:
    """The best plan shipping everything from one node, for the policy."""
    if len(problem.lanes) == 0:
        return None
    caps = np.unique(problem.lanes.days)
    singles = _single_node_plans(problem, caps)
    feasible = [s for s in singles if np.isfinite(s.cost)]
    if not feasible:
        return None
    pick = feasible[0] if policy is Policy.FASTEST else min(feasible, key=lambda s: s.cost)
    return build_plan(problem, pick.allocations)


def _why_no_single(problem: OrderProblem) -> str:
    """Why no single node can ship the whole order."""
    if len(problem.nodes) == 0:
        if problem.order.promise_days:
            return (
                f"no node holding the stock can deliver within {problem.order.promise_days} day(s)"
            )
        return "no node holding the stock can ship to the destination"
    covered = np.minimum(problem.atp, problem.demand).sum(axis=1)
    best = int(covered.max())
    node = problem.index.node_ids[problem.nodes[int(covered.argmax())]]
    if problem.order.promise_days:
        where = f"within the {problem.order.promise_days}-day promise"
    else:
        where = "that can reach the destination"
    return (
        f"not enough stock: no node {where} holds all {problem.total_units} units "
        f"(the most is {best}, at {node})"
    )


def _alternative(
    name: str, plan: Plan | None, chosen: Plan, policy: Policy, currency: str, missing: str
) -> Alternative:
    if plan is None or plan.status is not PlanStatus.COMPLETE:
        return Alternative(name, plan, missing)
    return Alternative(name, plan, _verdict(plan, chosen, policy, currency))


def _verdict(plan: Plan, chosen: Plan, policy: Policy, currency: str) -> str:
    """Why ``plan`` lost to ``chosen`` (or that it is the same)."""
    if chosen.status is not PlanStatus.COMPLETE:
        return "complete, but the chosen plan is not: check the order"
    extra = plan.total_cost - chosen.total_cost
    days = plan.delivery_days - chosen.delivery_days
    same = abs(extra) <= COST_TIE and days == 0 and len(plan.shipments) == len(chosen.shipments)
    if same:
        return "the same cost, days and shipments as the chosen plan"
    if policy is Policy.FASTEST and days > 0:
        return f"too slow: {plan.delivery_days} days against {chosen.delivery_days}"
    if extra > COST_TIE:
        extra = _reported(plan) - _reported(chosen)  # as the reader sees them
        text = f"more expensive: costs {extra:.2f} {currency} more ({100 * extra / plan.total_cost:.1f}%)"
        return text if days >= 0 else f"{text}, though {-days} day(s) faster"
    if days > 0:
        return f"ties on cost but arrives {days} day(s) later"
    return f"ties on cost and days with more shipments ({len(plan.shipments)})"


def _reported(plan: Plan) -> float:
    """The plan's total as outputs report it (docs/cost-model.md, "Money and rounding"): its
    shipment costs rounded to cents, plus its split penalty rounded to cents."""
    if not plan.shipments:
        return round(plan.total_cost, 2)
    cents = sum(round(round(s.cost, 2) * 100) for s in plan.shipments)
    return (cents + round(round(plan.split_penalty_cost, 2) * 100)) / 100


def _summary(
    result: PlanResult,
    alternatives: tuple[Alternative, ...],
    currency: str,
    problem: OrderProblem,
) -> str:
    plan = result.plan
    dating = problem.dating
    if plan.status is PlanStatus.UNFULFILLABLE:
        reasons = sorted({u.reason.value.lower().replace("_", " ") for u in plan.unfilled_lines})
        return f"no plan: {', '.join(reasons)}"
    nodes = ", ".join(s.node_id for s in plan.shipments)
    text = (
        f"{len(plan.shipments)} shipment(s) from {nodes}: {_reported(plan):.2f} {currency}, "
        f"{plan.delivery_days} day(s)"
    )
    if plan.delivery_date is not None:
        text += f", arrives {day_text(plan.delivery_date)}"
    if plan.status is PlanStatus.PARTIAL:
        text += f", {sum(u.quantity for u in plan.unfilled_lines)} unit(s) unfilled"
    baseline = alternatives[-1].plan
    if (
        baseline is not None
        and baseline.status is PlanStatus.COMPLETE
        and plan.status is PlanStatus.COMPLETE
    ):
        saving = baseline.total_cost - plan.total_cost
        if saving > COST_TIE:
            saving = _reported(baseline) - _reported(plan)
            text += f"; saves {saving:.2f} {currency} ({100 * saving / baseline.total_cost:.1f}%) on the baseline"
    text += f"; {proof_text(result.stats)}"
    if dating is not None and plan.shipments:
        text += ". Dates: " + "; ".join(_story(dating, problem, s) for s in plan.shipments)
    return text


def _story(dating: Dating, problem: OrderProblem, shipment: Shipment) -> str:
    """One shipment's dates in words."""
    index = problem.index
    node = index.nodes_by_id[shipment.node_id]
    if not shipment.service_id:  # handed over at the pick-up store
        return dating.story(node, None, 0)
    service = index.services[index.service_pos[shipment.service_id]]
    zone = zone_for(service, shipment.distance_km)  # the zone the shipment was costed in
    return dating.story(node, service, zone.transit_days if zone is not None else 0)


def proof_text(stats: PlanStats) -> str:
    """How good the plan is known to be, in plain words (``stats.method`` says how it was
    found): "proven optimal", or "feasible, not proven optimal; the best possible cost is
    at most 1.2% lower"."""
    if stats.proof is Proof.OPTIMAL:
        return "proven optimal"
    text = "feasible, not proven optimal"
    if stats.gap:
        gap = "<0.1" if stats.gap < 0.0005 else f"{100 * stats.gap:.1f}"
        text += f"; the best possible cost is at most {gap}% lower"
    return text
