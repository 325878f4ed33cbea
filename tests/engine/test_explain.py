"""Explanations: plain words, and money as outputs report it (rounded to cents)."""

from __future__ import annotations

import re

import pytest

from omniroute.demo_data import demo_dataset
from omniroute.model import Plan, PlanResult, PlanStatus, Policy
from omniroute.planner import Planner

METHOD_NAMES = (
    "single-node-bound",
    "dp",
    "branch-and-bound",
    "cp-sat",
    "enumeration",
    "candidates",
    "parts)",
)


@pytest.fixture(scope="module")
def explained() -> list[PlanResult]:
    """150 demo orders planned with explanations (splits, partial plans, baselines)."""
    network, orders = demo_dataset(seed=9, orders=150)
    planner = Planner(network, validate=False)
    return [planner.plan(o, Policy.CHEAPEST, explain=True) for o in orders]


def reported(plan: Plan) -> float:
    """The total outputs report: rounded shipment costs plus the rounded split penalty."""
    cents = sum(round(round(s.cost, 2) * 100) for s in plan.shipments)
    return (cents + round(round(plan.split_penalty_cost, 2) * 100)) / 100


def test_summary_speaks_plain_words(explained: list[PlanResult]) -> None:
    """No internal method names or enum codes in the summary a support agent reads."""
    for result in explained:
        assert result.explanation is not None
        summary = result.explanation.summary
        assert not any(name in summary for name in METHOD_NAMES), summary
        assert not re.search(r"\b[A-Z]+_[A-Z_]+\b", summary), summary
        assert "proven optimal" in summary or "feasible" in summary or "no plan" in summary


def test_summary_money_adds_up_as_reported(explained: list[PlanResult]) -> None:
    """The total and the saving in the summary are the rounded totals a reader sees."""
    savings = 0
    for result in explained:
        plan = result.plan
        if plan.status is PlanStatus.UNFULFILLABLE:
            continue
        assert result.explanation is not None
        summary = result.explanation.summary
        assert f": {reported(plan):.2f} " in summary, summary
        baseline = result.explanation.alternatives[-1].plan
        assert baseline is not None
        match = re.search(r"saves (\d+\.\d\d) ", summary)
        if match:
            savings += 1
            assert float(match.group(1)) == pytest.approx(reported(baseline) - reported(plan))
    assert savings > 10
