"""The omniroute CLI, run as a user runs it: a subprocess with files."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import brute_force as bf
import grpc
import pytest
from hypothesis import HealthCheck, given, settings

from omniroute.cost import check_plan
from omniroute.files import read_network, read_orders, write_network, write_orders
from omniroute.model import Network, Order, PlanStatus
from omniroute.network_index import Inventory, NetworkIndex
from tests.engine.test_dated import check_dates, dated_instances, dated_lanes
from tests.engine.test_packing import packed_instances
from tests.engine.test_profiles import profile_instances


def omniroute(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omniroute.server.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_help_for_every_command() -> None:
    """--help works for the program and each command."""
    for command in (
        [],
        ["demo-data"],
        ["plan"],
        ["demo"],
        ["lookahead", "evaluate"],
        ["lookahead", "put-forecast"],
    ):
        result = omniroute(*command, "--help")
        assert result.returncode == 0 and "usage: omniroute" in result.stdout


def test_demo_data_same_seed_same_bytes(tmp_path: Path) -> None:
    """Two runs with one seed write identical files; another seed writes different ones."""
    for name, seed in (("a", "4"), ("b", "4"), ("c", "5")):
        result = omniroute(
            "demo-data", "--out", str(tmp_path / name), "--seed", seed, "--orders", "300"
        )
        assert result.returncode == 0, result.stderr
    for file in ("network.json", "orders.jsonl"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
        assert (tmp_path / "a" / file).read_bytes() != (tmp_path / "c" / file).read_bytes()


def test_plan_baseline_on_generated_data(tmp_path: Path) -> None:
    """Baseline plans of unseen generated data are contract-feasible with exact costs."""
    omniroute("demo-data", "--out", str(tmp_path), "--seed", "11", "--orders", "400")
    result = omniroute(
        "plan",
        "--network",
        str(tmp_path / "network.json"),
        "--orders",
        str(tmp_path / "orders.jsonl"),
        "--policy",
        "baseline",
    )
    assert result.returncode == 0, result.stderr
    network = read_network(tmp_path / "network.json")
    orders = {o.id: o for o in read_orders(tmp_path / "orders.jsonl", network)}
    atp = Inventory.from_network(NetworkIndex(network)).atp_map()
    responses = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["orderId"] for r in responses] == list(orders)
    for response in responses:
        plan = plan_from_json(response["plan"])
        assert check_plan(orders[response["orderId"]], network, plan, atp) == []


def test_bad_files_exit_2_listing_problems(tmp_path: Path, data_dir: Path) -> None:
    """A bad orders file: exit 2, every problem on stderr, no traceback."""
    orders = tmp_path / "orders.jsonl"
    orders.write_text(
        '{"id": "a", "lines": []}\n{"id": "a", "destination": {"latitude": 99, "longitude": 0}, '
        '"lines": [{"id": "1", "skuId": "TEE", "quantity": -1}]}\n'
    )
    result = omniroute(
        "plan",
        "--network",
        str(data_dir / "tiny_network.json"),
        "--orders",
        str(orders),
        "--policy",
        "baseline",
    )
    assert result.returncode == 2
    for expected in (
        "line 1: lines",
        "line 1: destination",
        "line 2: id",
        "line 2: destination.latitude",
        "line 2: lines[0].quantity",
    ):
        assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_is_a_clear_error(data_dir: Path) -> None:
    """A missing file is reported by name without a traceback."""
    result = omniroute("plan", "--network", "/no/such/file.json", "--orders", "x.jsonl")
    assert result.returncode == 2 and "no such file" in result.stderr
    assert "Traceback" not in result.stderr


# ----------------------------------------------------------------------------- misuse


def assert_usage_errors(cases: list[tuple[tuple[str, ...], list[str]]]) -> None:
    """Run each ``(args, expected texts)`` case (a few at a time: most of each run is Python
    starting) and check it is a usage error saying the expected texts."""
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda case: omniroute(*case[0]), cases))
    for (_, expected), result in zip(cases, results, strict=True):
        assert_usage_error(result, *expected)


def assert_usage_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    """Exit status 2, each expected text in the message on stderr, no internal error."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    for text in expected:
        assert text in result.stderr, (text, result.stderr)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert not ("is invalid" in result.stderr and "no such file" in result.stderr)


def test_output_paths_that_cannot_be_written_are_usage_errors(
    tmp_path: Path, data_dir: Path
) -> None:
    """A file output in a missing folder, a folder output onto a file, a file output onto a
    folder, a folder under a file: exit 2 naming the option, the path and the fix."""
    network, orders = str(data_dir / "tiny_network.json"), str(data_dir / "tiny_orders.jsonl")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    missing = tmp_path / "missing" / "plans.jsonl"
    inputs = ("--network", network, "--orders", orders)
    cases = [
        (("plan", *inputs, "--out", str(missing)), ["--out", "does not exist", "create it"]),
        (("plan", *inputs, "--out", str(tmp_path)), ["is a folder", "pass a file name"]),
        (("allocate", *inputs, "--out", str(a_file)), ["--out", "is a file", "pass a folder"]),
        (("scenario", "run", *inputs, "--out", str(a_file)), ["is a file", "pass a folder"]),
        (("demo-data", "--out", str(a_file / "sub")), ["is a file, not a folder"]),
        (("demo", "--offline", "--dir", str(a_file)), ["--dir", "is a file"]),
        (("stock", "export", "--db", str(a_file), str(missing)), ["does not exist"]),
    ]
    assert_usage_errors(cases)
    assert not missing.parent.exists()


def test_output_folders_are_created_with_their_parents(tmp_path: Path, data_dir: Path) -> None:
    """--out DIR of allocate is made, parents and all, as the README says."""
    out = tmp_path / "new" / "deeper"
    result = omniroute(
        "allocate",
        "--network",
        str(data_dir / "tiny_network.json"),
        "--orders",
        str(data_dir / "tiny_orders.jsonl"),
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert (out / "plans.jsonl").is_file() and (out / "summary.json").is_file()


def test_input_paths_that_cannot_be_read_are_usage_errors(tmp_path: Path, data_dir: Path) -> None:
    """A missing file reads "no such file: PATH"; a folder where a file belongs, a folder
    that is not a scenario run, a file that is not a ledger: exit 2 with the fix."""
    network, orders = str(data_dir / "tiny_network.json"), str(data_dir / "tiny_orders.jsonl")
    not_a_ledger = tmp_path / "notes.db"
    not_a_ledger.write_text("hello")
    out = str(tmp_path / "out")
    nowhere = str(tmp_path / "nowhere.json")
    cases = [
        (("plan", "--network", nowhere, "--orders", orders), [f"no such file: {nowhere}"]),
        (("plan", "--network", str(tmp_path), "--orders", orders), ["is a folder; pass a file"]),
        (
            ("scenario", "run", "--network", network, "--orders", orders, "--changes", nowhere)
            + ("--out", out),
            [f"no such file: {nowhere}"],
        ),
        (
            ("scenario", "sweep", "--network", network, "--orders", orders, "--grid", nowhere)
            + ("--out", out),
            [f"no such file: {nowhere}"],
        ),
        (
            ("scenario", "compare", str(tmp_path), str(tmp_path), "--out", out),
            ["is not a scenario run folder", "kpis.json"],
        ),
        (("audit", "--db", str(tmp_path)), ["--db", "is a folder"]),
        (("audit", "--db", str(not_a_ledger)), ["is not an omniroute ledger"]),
        (("stock", "export", "--db", str(not_a_ledger), str(tmp_path)), ["is a folder"]),
    ]
    assert_usage_errors(cases)


def test_incompatible_options_are_usage_errors(tmp_path: Path, data_dir: Path) -> None:
    """Options that would be silently ignored, or would overwrite an input, are refused:
    --options with the baseline, --sample with demo --offline, --nodes without --large,
    --limit with --order-id, one port for gRPC and metrics, a comparison into a run folder."""
    network, orders = str(data_dir / "tiny_network.json"), str(data_dir / "tiny_orders.jsonl")
    inputs = ("--network", network, "--orders", orders)
    runs = [tmp_path / "base", tmp_path / "changed"]
    for run in runs:
        run.mkdir()
        (run / "kpis.json").write_text("{}")
    cases = [
        (("scenario", "compare", *map(str, runs), "--out", str(runs[1])), ["is one of the runs"]),
        (("plan", *inputs, "--policy", "baseline", "--options"), ["--options needs --policy"]),
        (("demo", "--offline", "--sample", "10", "--dir", str(tmp_path)), ["--offline"]),
        (("demo-data", "--out", str(tmp_path), "--nodes", "50"), ["add --large"]),
        (("explain", *inputs, "--order-id", "tee-twice", "--limit", "2"), ["--limit"]),
        (
            ("serve", "--db", str(tmp_path / "x.db"), "--port", "5000", "--metrics-port", "5000"),
            ["--metrics-port"],
        ),
    ]
    assert_usage_errors(cases)
    assert not (tmp_path / "x.db").exists()


def test_numbers_out_of_range_are_usage_errors(tmp_path: Path, data_dir: Path) -> None:
    """A port beyond 65535, a window of 0, a negative grace, NaN: argparse's usage error
    naming the option and the range, never an internal error."""
    network, orders = str(data_dir / "tiny_network.json"), str(data_dir / "tiny_orders.jsonl")
    db = str(tmp_path / "x.db")
    cases = [
        (("serve", "--db", db, "--port", "70000"), ["--port: must be from 0 to 65535"]),
        (("serve", "--db", db, "--grace", "nan"), ["--grace: must be a number at least 0"]),
        (
            ("allocate", "--network", network, "--orders", orders, "--out", str(tmp_path))
            + ("--window", "0"),
            ["--window: must be at least 1"],
        ),
        (("demo-data", "--out", str(tmp_path), "--orders", "-5"), ["--orders: must be at least 0"]),
    ]
    assert_usage_errors(cases)


def test_file_errors_at_the_last_line_of_defence_are_usage_errors() -> None:
    """An OSError naming a path that gets past the checks of each command is still told as
    the user's mistake with the path (exit 2 in main); anything else stays internal."""
    from omniroute.server.cli import usage_message

    for error, expected in (
        (FileNotFoundError(2, "No such file", "/no/such/dir/x"), "folder /no/such/dir does not"),
        (FileNotFoundError(2, "No such file", "/x.json"), "no such file: /x.json"),
        (IsADirectoryError(21, "Is a directory", "/tmp"), "/tmp is a folder; pass a file"),
        (PermissionError(13, "Permission denied", "/root/x"), "permission denied: /root/x"),
        (FileExistsError(17, "File exists", "/etc/passwd"), "/etc/passwd already exists"),
        (NotADirectoryError(20, "Not a directory", "/etc/passwd/x"), "is a file, not a folder"),
    ):
        message = usage_message(error)
        assert message is not None and expected in message, (error, message)
    assert usage_message(ValueError("a bug")) is None
    assert usage_message(OSError(5, "Input/output error")) is None


def test_debug_is_accepted_after_the_command(tmp_path: Path, data_dir: Path) -> None:
    """--debug works before or after the command (as the internal-error hint suggests)."""
    network, orders = str(data_dir / "tiny_network.json"), str(data_dir / "tiny_orders.jsonl")
    for args in (
        ("--debug", "plan", "--network", network, "--orders", orders),
        ("plan", "--network", network, "--orders", orders, "--debug"),
        ("--debug", "plan", "--network", network, "--orders", orders, "--debug"),
    ):
        result = omniroute(*args)
        assert result.returncode == 0, result.stderr
        assert len(result.stdout.splitlines()) == 9
    assert_usage_error(
        omniroute("plan", "--network", network, "--orders", str(tmp_path / "x"), "--debug"),
        "no such file",
    )


def test_taken_port_is_a_usage_error(tmp_path: Path) -> None:
    """serve on a port another process listens on: exit 2 saying so, nothing started."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for extra, option in (
            (("--port", port, "--metrics-port", "0"), "--port"),
            (("--port", "0", "--metrics-port", port), "--metrics-port"),
        ):
            result = omniroute("serve", "--db", str(tmp_path / "x.db"), "--workers", "1", *extra)
            assert_usage_error(result, f"port {port}", "not available", f"another port ({option}")


def test_a_port_taken_before_the_server_binds_it_is_replaced(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's serve_process picks a free port; when another process takes it first, the
    server exits with its usage error and serve_process starts it on another free port."""
    from omniroute.server import launch

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = [taken.getsockname()[1]]
        real_free_port = launch.free_port
        monkeypatch.setattr(launch, "free_port", lambda: ports.pop() if ports else real_free_port())
        network = str(data_dir / "tiny_network.json")
        with launch.serve_process(
            "--db", str(tmp_path / "x.db"), "--network", network, "--workers", "1"
        ) as (_, port):
            assert port != taken.getsockname()[1] and not ports


def test_problem_counts_and_parse_errors_read_as_one_clean_line_each(
    tmp_path: Path, data_dir: Path
) -> None:
    """ "(1 problem)", not "(1 problems)"; a newline inside a name in the file is shown
    escaped, so each problem is one line naming the file's line and the field."""
    orders = tmp_path / "orders.jsonl"
    orders.write_text(
        '{"id": "a", "destination": {"latitude": 1, "longitude": 2}, '
        '"lines": [{"id": "1", "skuId": "TEE", "quantity": 1}], "bad\\nkey": 1}\n'
    )
    result = omniroute(
        "plan", "--network", str(data_dir / "tiny_network.json"), "--orders", str(orders)
    )
    assert_usage_error(result, "(1 problem):", "line 1: bad\\nkey: unknown field")
    assert len(result.stderr.strip().splitlines()) == 2


def test_sweep_run_names_are_their_folder_names(tmp_path: Path, data_dir: Path) -> None:
    """Each sweep run's name in sweep.json is the name of its folder, even for a carrier
    name with a space."""
    network = json.loads((data_dir / "tiny_network.json").read_text())
    for service in network["carrierServices"]:
        service["carrier"] = service["carrier"].replace("Post", "Aus Post")
    network_file = tmp_path / "network.json"
    network_file.write_text(json.dumps(network))
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"grid": {"carrierRates.byCarrier.Aus Post": [0.9, 1.1]}}))
    out = tmp_path / "sweep"
    result = omniroute(
        "scenario",
        "sweep",
        "--network",
        str(network_file),
        "--orders",
        str(data_dir / "tiny_orders.jsonl"),
        "--grid",
        str(grid),
        "--out",
        str(out),
        "--workers",
        "1",
    )
    assert result.returncode == 0, result.stderr
    names = [run["name"] for run in json.loads((out / "sweep.json").read_text())]
    assert len(names) == 2
    assert sorted(names) == ["Aus_Post=0.9", "Aus_Post=1.1"]
    assert sorted(names) == sorted(p.name for p in out.iterdir() if p.is_dir())


def test_serve_starts_empty_and_takes_its_network_by_put_network(
    tmp_path: Path, data_dir: Path
) -> None:
    """serve --db NEW without --network: the server starts empty (health SERVING overall and
    for NetworkService, NOT_SERVING for RoutingService; PlanOrder FAILED_PRECONDITION with
    reason NO_NETWORK); after PutNetwork of the tiny network over gRPC every service is
    SERVING (in both worker processes) and PlanOrder plans."""
    import grpc
    from grpc_health.v1 import health_pb2

    from omniroute.server.client import OmnirouteClient
    from omniroute.server.launch import serve_process

    network = read_network(data_dir / "tiny_network.json")
    order = read_orders(data_dir / "tiny_orders.jsonl", network)[0]
    db = tmp_path / "new.db"
    routing = "omniroute.v1.RoutingService"
    log = tmp_path / "server.log"
    with (
        log.open("wb") as output,
        serve_process("--db", str(db), "--workers", "2", output=output) as (_, port),
        OmnirouteClient(f"localhost:{port}") as client,
    ):

        def health(service: str) -> int:
            return client.health.Check(health_pb2.HealthCheckRequest(service=service)).status

        for _ in range(6):  # several connections: both workers answer
            assert health("") == health_pb2.HealthCheckResponse.SERVING
            assert health("omniroute.v1.NetworkService") == health_pb2.HealthCheckResponse.SERVING
            assert health(routing) == health_pb2.HealthCheckResponse.NOT_SERVING
        with pytest.raises(grpc.RpcError) as refused:
            client.plan_order(order)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert error_reason(refused.value) == "NO_NETWORK"
        client.put_network(network)
        deadline = time.monotonic() + 10
        for _ in range(6):
            fresh = OmnirouteClient(f"localhost:{port}")  # a new connection, maybe another worker
            with fresh:
                while (
                    fresh.health.Check(health_pb2.HealthCheckRequest(service=routing)).status
                    != health_pb2.HealthCheckResponse.SERVING
                ):
                    assert time.monotonic() < deadline, "RoutingService never became SERVING"
                    time.sleep(0.1)
                response = fresh.plan_order(order)
                assert response.plan.status == response.plan.COMPLETE
    assert "holds no network yet" in log.read_text()


def error_reason(error: grpc.RpcError) -> str:
    """The ErrorInfo reason in a gRPC error's google.rpc.Status details."""
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    raise AssertionError("no ErrorInfo")


def plan_from_json(data: dict):
    """Read a plan back from the printed JSON through the proto conversion."""
    from google.protobuf import json_format

    from omniroute.server.convert import plan_from_proto
    from omniroute.v1 import plan_pb2

    return plan_from_proto(json_format.ParseDict(data, plan_pb2.Plan()))


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(packed_instances(profile_instances(dated_instances())))
def test_plan_gives_the_contracts_optimum_and_dates_on_unseen_files(
    instance: tuple[Network, Order],
) -> None:
    """`omniroute plan` on network and orders files never seen before, with calendars,
    time zones, cut-offs, sourcing profiles, ship-together groups and ship-alone SKUs:
    CHEAPEST with its options and FASTEST are brute force's optimum, each plan passes the
    independent checker and carries the contract's dates."""
    network, order = instance
    with tempfile.TemporaryDirectory() as folder:
        where = Path(folder)
        write_network(network, where / "network.json")
        write_orders([order], where / "orders.jsonl")
        answers = {}
        for policy in ("cheapest", "fastest"):
            result = omniroute(
                "plan",
                "--network",
                str(where / "network.json"),
                "--orders",
                str(where / "orders.jsonl"),
                "--policy",
                policy,
                "--options",
            )
            assert result.returncode == 0, result.stderr
            answers[policy] = json.loads(result.stdout.splitlines()[0])
    atp = Inventory.from_network(NetworkIndex(network)).atp_map()
    complete = bf.complete(order, bf.all_plans(order, network, atp, dated_lanes(network, order)))
    cheapest = plan_from_json(answers["cheapest"]["plan"])
    fastest = plan_from_json(answers["fastest"]["plan"])
    for plan in (cheapest, fastest):
        assert check_plan(order, network, plan, atp) == []
        check_dates(network, order, plan)
    expected = bf.cheapest(complete)
    if expected is None:
        assert cheapest.status is not PlanStatus.COMPLETE
        return
    assert cheapest.total_cost == pytest.approx(expected[0], abs=0.01)
    assert cheapest.delivery_days == expected[1]
    options = [plan_from_json(p) for p in answers["cheapest"].get("options", [])]
    front = bf.front(complete)
    assert [p.delivery_days for p in options] == [d for d, _ in front]
    assert [p.total_cost for p in options] == pytest.approx([c for _, c in front], abs=0.01)
    expected_fast = bf.fastest(complete)
    assert expected_fast is not None
    assert (fastest.delivery_days, fastest.total_cost) == (
        expected_fast[0],
        pytest.approx(expected_fast[1], abs=0.01),
    )
