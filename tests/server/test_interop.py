"""A client in another language (Node.js, from proto/ only) gets the same plan as
`omniroute plan` offline."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from omniroute.model import Network, Order
from omniroute.planner import Planner
from omniroute.server import convert

from .conftest import ServerThread

ROOT = Path(__file__).resolve().parents[2]
INTEROP = ROOT / "tests" / "interop"
CACHE = ROOT / ".omniroute" / "interop-node"  # npm install once, reused by later runs


def node_client() -> Path:
    """The Node.js client with its two npm packages installed (cached)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip(
            "Node.js and npm are not installed on this machine; the interop test needs them"
        )
    CACHE.mkdir(parents=True, exist_ok=True)
    for name in ("plan_order.js", "package.json"):
        shutil.copy(INTEROP / name, CACHE / name)
    if not (CACHE / "node_modules" / "@grpc" / "proto-loader").exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent"],
            cwd=CACHE,
            check=True,
            timeout=300,
            capture_output=True,
        )
    return CACHE / "plan_order.js"


def test_node_client_gets_the_offline_plan(
    server: ServerThread, tiny_network: Network, tiny_orders: dict[str, Order]
) -> None:
    script = node_client()
    for order_id in ("coat-and-jeans", "pickup-geelong", "tee-twice"):
        order = tiny_orders[order_id]
        order_json = convert.to_json_line(convert.order_to_proto(order))
        result = subprocess.run(
            ["node", str(script), server.target, str(ROOT / "proto"), order_json],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        response = json.loads(result.stdout)
        offline = Planner(tiny_network).plan(order, options=True)
        plan = response["plan"]
        assert plan["status"] == "COMPLETE"
        assert plan["totalCost"] == pytest.approx(offline.plan.total_cost, abs=1e-9)
        assert [(s["nodeId"], s.get("serviceId", "")) for s in plan["shipments"]] == [
            (s.node_id, s.service_id) for s in offline.plan.shipments
        ]
        assert len(response["options"]) == len(offline.options)
        assert response["stats"]["proof"] == "OPTIMAL"
