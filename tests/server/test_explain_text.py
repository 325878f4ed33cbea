"""``omniroute explain``'s text: units in the headers, consistent precision, columns that
add up, plain words."""

from __future__ import annotations

import re

import pytest

from omniroute.demo_data import demo_dataset
from omniroute.model import Policy
from omniroute.planner import Planner
from omniroute.server.tables import explain_text

HEADERS = (
    "node  carrier service  units  weight (kg)  parcels  distance (km)  parcel charge (AUD)  "
    "weight charge (AUD)  handling (AUD)  cost (AUD)  days"
)


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """The explanation of 120 demo orders."""
    network, orders = demo_dataset(seed=9, orders=120)
    planner = Planner(network, validate=False)
    return [
        explain_text(order, planner.plan(order, Policy.CHEAPEST, options=True, explain=True), "AUD")
        for order in orders
    ]


def cents(text: str) -> int:
    assert re.fullmatch(r"\d[\d,]*\.\d\d", text), text
    return round(float(text.replace(",", "")) * 100)


def test_shipment_rows_have_units_and_add_up(texts: list[str]) -> None:
    """kg to grams (3 decimals), km to 0.1 (1 decimal), money to cents; the charges add up
    to each cost, and the costs plus the split penalty to the plan's total."""
    rows = 0
    for text in texts:
        lines = text.splitlines()
        total = re.search(r"^Plan: \w+, ([\d,]+\.\d\d) AUD,", lines[1], re.MULTILINE)
        header = next((i for i, line in enumerate(lines) if "weight (kg)" in line), None)
        if header is None:
            continue
        assert " ".join(lines[header].split()) == " ".join(HEADERS.split())
        costs = 0
        for line in lines[header + 2 :]:
            if not line.startswith("  ") or line.startswith("  +"):
                break
            cells = line.split()
            weight, distance = cells[-8], cells[-6]
            assert re.fullmatch(r"\d[\d,]*\.\d{3}", weight), line
            assert re.fullmatch(r"\d[\d,]*\.\d", distance), line
            parcel, per_kg, handling, cost = (cents(c) for c in cells[-5:-1])
            assert parcel + per_kg + handling == cost, line
            costs += cost
            rows += 1
        penalty = re.search(r"split penalty ([\d,.]+) AUD .* total ([\d,.]+) AUD", text)
        assert total is not None
        assert costs + (cents(penalty.group(1)) if penalty else 0) == cents(total.group(1))
        if penalty:
            assert penalty.group(2) == total.group(1)
    assert rows > 120


def test_plain_words_and_currency(texts: list[str]) -> None:
    """No method names, enum codes or dollar signs; money carries the currency."""
    for text in texts:
        assert "$" not in text and "gap" not in text
        assert not re.search(r"single-node-bound|cp-sat|\bdp\b|\(\d+ parts\)", text), text
        assert not re.search(r"\b(OPTIMAL|FEASIBLE|COMPLETE|PARTIAL|WEB)\b", text), text
        assert re.search(r"^Plan: .* AUD, ", text, re.MULTILINE)
        assert "Method: " in text
