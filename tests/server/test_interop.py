"""The integrator path as the docs give it: the README's Node.js and Python snippets (and the
Python example of docs/errors.md), copied into empty folders and run as written against a
real ``omniroute serve`` on the demo network, print the plan the engine makes offline and the
decoded error details.

The snippets are the fenced blocks after a ``<!-- snippet: LANG/NAME -->`` comment; a
``LANG/setup.sh`` block is run as written (its ``export`` lines with this checkout and the
test server filled in), a ``LANG/run.sh`` block runs the saved files. npm installs once per
test session (from npm's own cache after the first time).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from omniroute import Planner, read_network
from omniroute.model import Location, Network, Order, OrderLine
from omniroute.server import convert
from omniroute.server.launch import serve_process

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
ERRORS_DOC = ROOT / "docs" / "errors.md"
SNIPPET = re.compile(r"<!-- snippet: (\S+) -->\n```\w*\n(.*?)```", re.S)
OUTPUT = re.compile(r"<!-- output: (\S+) -->\n```\w*\n(.*?)```", re.S)
# The order the README's plan.js and plan.py send by default.
DEFAULT_ORDER = Order(
    "A-1",
    (OrderLine("1", "TEE-0001", 1), OrderLine("2", "TEE-0002", 2)),
    destination=Location(-37.85, 145.0),
)


def snippets(path: Path) -> dict[str, str]:
    """The marked code blocks of a markdown file, by name."""
    return dict(SNIPPET.findall(path.read_text("utf-8")))


def outputs(path: Path) -> dict[str, str]:
    """The marked sample outputs of a markdown file, by name."""
    return dict(OUTPUT.findall(path.read_text("utf-8")))


def exports(setup: str, target: str) -> str:
    """The ``export`` lines of a setup block, with this checkout and ``target`` as the reader
    would fill them in."""
    lines = []
    for line in setup.splitlines():
        if line.startswith("export OMNIROUTE="):
            line = f"export OMNIROUTE={ROOT}"
        elif line.startswith("export OMNIROUTE_TARGET="):
            line = f"export OMNIROUTE_TARGET={target}"
        if line.startswith("export "):
            lines.append(line)
    return "\n".join(lines)


def setup_folder(base: Path, setup: str, files: dict[str, str]) -> Path:
    """Run a setup block's commands (all but its exports) in ``base`` as written, and save
    ``files`` in the folder it made."""
    commands = [line for line in setup.splitlines() if line and not line.startswith("export ")]
    result = subprocess.run(
        ["bash", "-ec", "\n".join(commands)],
        cwd=base,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    made = re.search(r"^mkdir (\S+)", setup, re.M)
    assert made, "the setup block makes the folder it works in"
    folder = base / made.group(1)
    for name, code in files.items():
        (folder / name.split("/", 1)[1]).write_text(code, "utf-8")
    return folder


def run(folder: Path, setup: str, command: str, target: str) -> str:
    """One command of a run block, in ``folder`` with the setup's exports; its stdout."""
    result = subprocess.run(
        ["bash", "-ec", f"{exports(setup, target)}\n{command}"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{command}: {result.stderr}"
    return result.stdout


def commands(block: str) -> list[str]:
    """The commands of a run block (comments after them dropped)."""
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Network]]:
    """A real ``omniroute serve`` on the demo network (what ``make serve`` serves)."""
    folder = tmp_path_factory.mktemp("demo")
    subprocess.run(
        [sys.executable, "-m", "omniroute.server.cli", "demo-data", "--out", str(folder)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    network = folder / "network.json"
    db = str(folder / "serve.db")
    with serve_process("--db", db, "--network", str(network), "--workers", "1") as (_, port):
        yield f"localhost:{port}", read_network(network)


@pytest.fixture(scope="session")
def node_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty folder set up as the README says for Node.js, with its files saved."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    assert not missing, f"the interop test needs Node.js and npm: install {' and '.join(missing)}"
    blocks = snippets(README)
    files = {name: code for name, code in blocks.items() if re.fullmatch(r"node/\w+\.js", name)}
    assert set(files) == {"node/plan.js", "node/errors.js"}
    return setup_folder(tmp_path_factory.mktemp("empty"), blocks["node/setup.sh"], files)


@pytest.fixture(scope="session")
def python_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty folder set up as the README says for Python, with plan.py and the errors.py
    of docs/errors.md saved."""
    blocks = snippets(README)
    files = {"python/plan.py": blocks["python/plan.py"]}
    files["python/errors.py"] = snippets(ERRORS_DOC)["python/errors.py"]
    return setup_folder(tmp_path_factory.mktemp("empty"), blocks["python/setup.sh"], files)


def test_readme_setup_is_literal() -> None:
    """The setup blocks say every step: the folder, npm init and install, where the protos
    and the server are."""
    blocks = snippets(README)
    node = blocks["node/setup.sh"]
    for step in (
        "mkdir ",
        "npm init -y",
        "npm install @grpc/grpc-js @grpc/proto-loader protobufjs",
    ):
        assert step in node
    for name in ("OMNIROUTE", "OMNIROUTE_PROTO", "OMNIROUTE_TARGET"):
        assert re.search(rf"^export {name}=", node, re.M), name
    assert commands(blocks["node/run.sh"]) == ["node plan.js", "node errors.js"]
    assert commands(blocks["python/run.sh"]) == ["$OMNIROUTE/.venv/bin/python plan.py"]
    options = "longs: String", "enums: String", "defaults: true", "oneofs: true"
    assert all(option in blocks["node/plan.js"] for option in options)


def test_node_snippet_prints_the_offline_plan(
    node_folder: Path, demo_server: tuple[str, Network]
) -> None:
    """`node plan.js` prints the plan the engine makes offline, with string enums, zero
    values present (same-day options with deliveryDays 0) and no {low, high} numbers; an
    order given on the command line is planned too."""
    target, network = demo_server
    setup = snippets(README)["node/setup.sh"]
    planner = Planner(network)
    orders: list[tuple[Order, list[str]]] = [(DEFAULT_ORDER, [])]
    other = Order(
        "B-7",
        (OrderLine("1", "SHIRT-0070", 1), OrderLine("2", "SHOE-0001", 1)),
        destination=Location(-33.87, 151.2),
    )
    orders.append((other, [convert.to_json_line(convert.order_to_proto(other))]))
    for order, args in orders:
        command = " ".join(["node plan.js", *(f"'{a}'" for a in args)])
        printed = run(node_folder, setup, command, target)
        assert '"low"' not in printed
        response = json.loads(printed)
        offline = planner.plan(order, options=True)
        plan = response["plan"]
        assert response["orderId"] == order.id
        assert plan["status"] == offline.plan.status.value
        assert plan["totalCost"] == pytest.approx(convert.plan_to_proto(offline.plan).total_cost)
        assert [(s["nodeId"], s["serviceId"]) for s in plan["shipments"]] == [
            (s.node_id, s.service_id) for s in offline.plan.shipments
        ]
        assert "splitPenaltyCost" in plan and "unfilledLines" in plan  # defaults: true
        assert [o["deliveryDays"] for o in response["options"]] == [
            o.delivery_days for o in offline.options
        ]
        assert response["stats"]["proof"] == "OPTIMAL"
    assert any(o.delivery_days == 0 for o in planner.plan(DEFAULT_ORDER, options=True).options)


def test_node_snippet_decodes_the_error_details(
    node_folder: Path, demo_server: tuple[str, Network]
) -> None:
    """`node errors.js` decodes the BadRequest's field violations and the ErrorInfo with
    proto/ only, and prints what the README and docs/errors.md show."""
    printed = run(node_folder, snippets(README)["node/setup.sh"], "node errors.js", demo_server[0])
    assert "  field order.lines[0].quantity: must be > 0, got 0" in printed.splitlines()
    assert printed == outputs(README)["errors"] == outputs(ERRORS_DOC)["errors"]


def test_python_snippets_print_the_plan_and_the_error_details(
    python_folder: Path, demo_server: tuple[str, Network]
) -> None:
    """The README's plan.py prints the offline plan, holds and releases it; docs/errors.md's
    errors.py prints the same error details as the Node example."""
    target, network = demo_server
    setup = snippets(README)["python/setup.sh"]
    (command,) = commands(snippets(README)["python/run.sh"])
    lines = run(python_folder, setup, command, target).splitlines()
    offline = Planner(network).plan(DEFAULT_ORDER, options=True)
    plan = offline.plan
    assert lines[0] == (
        f"{plan.status.value} plan: {plan.total_cost:.2f}, {plan.delivery_days} days, OPTIMAL"
    )
    shipments = [line for line in lines if line.startswith("  ") and " by " in line]
    assert [line.split(":")[0].strip() for line in shipments] == [
        f"{s.node_id} by {s.service_id}" for s in plan.shipments
    ]
    options = [line for line in lines if line.startswith("  option: ")]
    assert options == [
        f"  option: {o.delivery_days} days for {o.total_cost:.2f}" for o in offline.options
    ]
    assert re.fullmatch(r"held as \S+", lines[-1])
    printed = run(python_folder, setup, command.replace("plan.py", "errors.py"), target)
    assert printed == outputs(ERRORS_DOC)["errors"]
