"""The ``omniroute`` command line. Run ``omniroute COMMAND --help`` for each command."""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from omniroute.demo_data import (
    DEMO_ORDERS,
    demo_dataset,
    large_dataset,
    with_australian_calendars,
)
from omniroute.files import read_network, read_orders, write_network, write_orders
from omniroute.ledger import Ledger, LedgerError
from omniroute.lookahead import BASKET_THETA, DEFAULT_THETA
from omniroute.model import (
    Network,
    Order,
    PlanResult,
    PlanStatus,
    Policy,
    Proof,
    ValidationError,
)
from omniroute.planner import Planner
from omniroute.scenario import HEADLINE_KPIS, camel_case, kpi_label, kpis, outcomes_of
from omniroute.server.convert import allocation_summary, result_to_proto, to_json_line
from omniroute.server.progress import PhaseProgress, progress
from omniroute.server.tables import (
    allocate_text,
    explain_text,
    kpi_cell,
    kpi_table,
    lookahead_text,
    method_label,
    table,
)
from omniroute.v1 import order_service_pb2

if TYPE_CHECKING:
    import grpc

    from omniroute.server.client import OmnirouteClient

EXIT_INVALID = 2


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


# Files and folders named on the command line are checked before any work, so a mistake in
# a path costs no planning time. Input files must exist. Output folders (``--out DIR``,
# ``--dir``) are created with their parents when missing; an output file (``plan --out
# FILE``, ``stock export FILE``, ``serve --db``) goes into a folder that must exist, as with
# a shell redirection.


def run_dir(path: str) -> Path:
    """A scenario run folder (it holds ``kpis.json``); else a :class:`CliError` with the fix."""
    folder = Path(path)
    if not folder.exists():
        raise CliError(f"no such folder: {path}; pass folders written by omniroute scenario run")
    if not (folder / "kpis.json").is_file():
        raise CliError(
            f"{path} is not a scenario run folder (it has no kpis.json); pass folders written "
            "by omniroute scenario run --out"
        )
    return folder


def input_file(path: str, option: str) -> str:
    """``path`` if it is a file this process can read; else a :class:`CliError` with the fix."""
    file = Path(path)
    if not file.exists():
        raise CliError(f"no such file: {path} ({option}); check the path")
    if file.is_dir():
        raise CliError(f"{option} {path} is a folder; pass a file")
    if not os.access(file, os.R_OK):
        raise CliError(f"{option} {path}: permission denied; pass a file you may read")
    return path


def output_dir(path: str, option: str, create: bool = True) -> Path:
    """The folder ``path``, created with its parents if missing (``create=False``: only
    checked that it can be, for before the inputs are read); a :class:`CliError` with the fix
    when it is a file or cannot be made."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise CliError(
            f"{option} {path} is a file, but the command writes several files into a folder: "
            "pass a folder (it is created if missing)"
        )
    existing = next(p for p in (folder, *folder.parents) if p.exists() or p == Path(p.anchor))
    if not existing.is_dir():
        raise CliError(
            f"{option} {path}: {existing} is a file, not a folder; choose another folder"
        )
    if not os.access(existing, os.W_OK):
        raise CliError(f"{option} {path}: permission denied; choose a folder you may write to")
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CliError(
                f"{option} {path}: cannot create the folder ({error.strerror or error}); "
                "choose another folder"
            ) from None
    return folder


def output_file(path: str, option: str, example: str) -> Path:
    """The file ``path`` to write, in a folder that exists; a :class:`CliError` with the fix
    otherwise (``example`` names a file for the message when ``path`` is a folder)."""
    file = Path(path)
    if file.is_dir():
        raise CliError(f"{option} {path} is a folder; pass a file name, e.g. {file / example}")
    folder = file.parent
    if not folder.exists():
        raise CliError(
            f"{option} {path}: folder {folder} does not exist; create it (mkdir -p {folder}) "
            "or choose a file in an existing folder"
        )
    if not folder.is_dir():
        raise CliError(f"{option} {path}: {folder} is a file, not a folder; choose another path")
    if not os.access(file if file.exists() else folder, os.W_OK):
        raise CliError(f"{option} {path}: permission denied; choose a file you may write")
    return file


# ----------------------------------------------------------------------------- demo-data


def cmd_demo_data(args: argparse.Namespace) -> int:
    if not args.large and (args.nodes is not None or args.skus is not None):
        raise CliError("--nodes and --skus size the --large network: add --large or drop them")
    if args.large and args.dated:
        raise CliError("--dated gives the Australian demo network real dates: drop --large")
    out = output_dir(args.out, "--out")
    args.nodes = args.nodes or 1000
    args.skus = args.skus or 50_000
    if args.large:
        network, orders = large_dataset(
            nodes=args.nodes, skus=args.skus, orders=args.orders or 2000, seed=args.seed
        )
    else:
        network, orders = demo_dataset(seed=args.seed, orders=args.orders or DEMO_ORDERS)
        if args.dated:
            network = with_australian_calendars(network)
    write_network(network, out / "network.json")
    write_orders(orders, out / "orders.jsonl")
    print(
        f"wrote {out / 'network.json'} ({len(network.nodes)} nodes, {len(network.skus)} SKUs, "
        f"{len(network.stock)} stock positions) and {out / 'orders.jsonl'} ({len(orders)} orders)"
    )
    return 0


# ----------------------------------------------------------------------------- plan


def _policy(name: str) -> Policy:
    return Policy[name.upper()]


def plan_all(
    network: Network,
    orders: Sequence[Order],
    policy: Policy,
    include_options: bool = False,
    explain: bool = False,
    show_progress: bool | None = None,
) -> list[PlanResult]:
    """Plan every order independently against the network's stock."""
    planner = Planner(network, validate=False)  # read_network validated it
    return [
        planner.plan(order, policy, options=include_options, explain=explain, validate=False)
        for order in progress(
            orders, len(orders), f"planning ({policy.value.lower()})", show_progress
        )
    ]


def cmd_plan(args: argparse.Namespace) -> int:
    if args.options and args.policy == "baseline":
        raise CliError(
            "--options needs --policy cheapest or fastest: the baseline router makes one plan "
            "and has no price/date options"
        )
    input_file(args.network, "--network")
    input_file(args.orders, "--orders")
    if args.out:
        output_file(args.out, "--out", "plans.jsonl")
    network = read_network(args.network)
    orders = read_orders(args.orders, network)
    results = plan_all(network, orders, _policy(args.policy), args.options, args.explain)
    lines = (to_json_line(result_to_proto(result)) + "\n" for result in results)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
    else:
        sys.stdout.writelines(lines)
    if args.out:
        print(summarise(orders, results, network), file=sys.stderr)
    return 0


def summarise(orders: Sequence[Order], results: Sequence[PlanResult], network: Network) -> str:
    """A readable summary of planned orders (the KPIs of :func:`omniroute.scenario.kpis`)."""
    status = Counter(r.plan.status for r in results)
    k = kpis(outcomes_of(orders, [r.plan for r in results], network))
    micros = sorted(r.stats.solve_micros for r in results)
    proven = sum(1 for r in results if r.stats.proof is Proof.OPTIMAL)
    methods = Counter(  # in words, split orders' independent parts counted with their method
        method_label(re.sub(r" \(\d+ parts\)$", "", r.stats.method)) for r in results
    )
    currency = network.currency or ""

    def pct(n: int) -> str:
        return f"{100.0 * n / max(len(results), 1):.1f}%"

    lines = [
        f"orders planned          {len(results):>10,}",
        f"  complete              {status[PlanStatus.COMPLETE]:>10,}  {pct(status[PlanStatus.COMPLETE])}",
        f"  partial               {status[PlanStatus.PARTIAL]:>10,}  {pct(status[PlanStatus.PARTIAL])}",
        f"  unfulfillable         {status[PlanStatus.UNFULFILLABLE]:>10,}  "
        f"{pct(status[PlanStatus.UNFULFILLABLE])}",
        f"total cost (shipped)    {k.total_cost:>13,.2f} {currency}",
        f"cost per order          {k.cost_per_order:>13,.2f} {currency}",
        f"split rate              {100.0 * k.split_rate:>12.1f}%",
        f"mean delivery days      {k.mean_delivery_days:>13.2f}",
        f"proven optimal          {pct(proven):>13}",
        f"planning time p50 / p99 {_quantile(micros, 0.5) / 1000:>8.3f} / "
        f"{_quantile(micros, 0.99) / 1000:.3f} ms",
        "decided by              " + "; ".join(f"{m}: {n:,}" for m, n in methods.most_common()),
    ]
    return "\n".join(lines)


def _quantile(sorted_values: Sequence[int], q: float) -> float:
    if not sorted_values:
        return 0.0
    return float(sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))])


# ----------------------------------------------------------------------------- allocate


def cmd_allocate(args: argparse.Namespace) -> int:
    from omniroute.files import read_forecast
    from omniroute.joint import allocate_in_windows
    from omniroute.lookahead import opportunity_costs

    input_file(args.network, "--network")
    input_file(args.orders, "--orders")
    if args.forecast:
        input_file(args.forecast, "--forecast")
    output_dir(args.out, "--out", create=False)
    network = read_network(args.network)
    orders = read_orders(args.orders, network)
    prices = None
    if args.forecast:
        forecast = read_forecast(args.forecast, network)
        planner = Planner(network, validate=False)
        costs = opportunity_costs(planner.index, planner.inventory, forecast)
        theta = costs.theta if args.theta is None else args.theta
        prices = theta * costs.matrix(planner.index)
    elif args.theta is not None:
        raise CliError("--theta weighs the opportunity costs of --forecast; give --forecast too")
    out = output_dir(args.out, "--out")
    allocate_progress = PhaseProgress("allocating", unit="")
    summary, responses = allocate_in_windows(
        network,
        orders,
        args.unfilled_penalty,
        args.time_limit,
        args.window,
        progress=allocate_progress,
        prices=prices,
    )
    allocate_progress.close()
    plans = [result_to_proto(r) for r in responses]  # rounded (docs/cost-model.md)
    summary = allocation_summary(summary, plans)  # its totals add up the written plans
    with open(out / "plans.jsonl", "w", encoding="utf-8") as handle:
        handle.writelines(to_json_line(plan) + "\n" for plan in plans)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(allocate_text(summary, network.currency))
    print(f"wrote {out / 'plans.jsonl'} and {out / 'summary.json'}", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------- lookahead


def cmd_lookahead_evaluate(args: argparse.Namespace) -> int:
    from omniroute.evaluation import evaluate
    from omniroute.files import read_forecast

    input_file(args.network, "--network")
    input_file(args.orders, "--orders")
    for path, option in ((args.forecast, "--forecast"), (args.walkins, "--walkins")):
        if path:
            input_file(path, option)
    output_dir(args.out, "--out", create=False)
    network = read_network(args.network)
    orders = read_orders(args.orders, network)
    walkins = read_orders(args.walkins, network) if args.walkins else []
    not_pickup = [w.id for w in walkins if not w.pickup_store_id]
    if not_pickup:
        shown = ", ".join(not_pickup[:5]) + (" ..." if len(not_pickup) > 5 else "")
        raise CliError(
            f"--walkins {args.walkins}: every walk-in names its store as pickupStoreId; "
            f"{len(not_pickup)} do not ({shown})"
        )
    forecast = read_forecast(args.forecast, network) if args.forecast else None
    out = output_dir(args.out, "--out")
    bars = PhaseProgress("evaluating", unit=" orders")
    evaluation = evaluate(
        network,
        orders,
        lost_sale_cost=args.lost_sale_cost,
        forecast=forecast,
        walkins=walkins,
        theta=args.theta,
        refresh=args.refresh,
        time_limit=args.time_limit,
        progress=bars,
    )
    bars.close()
    shipping = {}
    for name, run in evaluation.policies.items():
        plans = [result_to_proto(r) for r in run.results]  # rounded (docs/cost-model.md)
        with open(out / f"plans-{name}.jsonl", "w", encoding="utf-8") as handle:
            handle.writelines(to_json_line(plan) + "\n" for plan in plans)
        shipping[name] = sum(round(plan.plan.total_cost, 2) for plan in plans)
    summary = evaluation.summary(shipping)
    (out / "evaluation.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(lookahead_text(summary, network.currency))
    written = ", ".join(str(out / f"plans-{name}.jsonl") for name in evaluation.policies)
    print(f"wrote {written} and {out / 'evaluation.json'}", file=sys.stderr)
    return 0


def cmd_lookahead_put_forecast(args: argparse.Namespace) -> int:
    from omniroute.files import forecast_to_json, read_forecast
    from omniroute.lookahead import default_theta

    input_file(args.file, "FILE")
    ledger = _open_existing_ledger(args.db)
    try:
        network, _, _ = ledger.load_network(stock=False)
        forecast = read_forecast(args.file, network)  # every problem listed, nothing stored
        if args.validate_only:
            print(f"{args.file} fits the network: nothing stored (--validate-only)")
            return 0
        theta = default_theta(forecast) if args.theta is None else args.theta
        version = ledger.forecasts.put(forecast_to_json(forecast), args.theta or 0.0)
    finally:
        ledger.close()
    print(
        f"forecast {args.file} is version {version} (theta {theta:g}"
        f"{'' if args.theta else ', the default of its model'}): servers on the "
        "ledger price their stock by it as they notice it (PlanOrder reports the version)"
    )
    return 0


# ----------------------------------------------------------------------------- order


def _server_client(args: argparse.Namespace) -> OmnirouteClient:
    """A client of the server named by ``--server`` (with ``--tls-ca`` / ``--token``)."""
    from omniroute.server.client import OmnirouteClient

    token = args.token or os.environ.get("OMNIROUTE_TOKEN") or None
    return OmnirouteClient(args.server, timeout=args.timeout, tls_ca=args.tls_ca, token=token)


def _rpc_failure(error: grpc.RpcError, server: str) -> CliError:
    """A failed call, told as the server told it (code, message)."""
    import grpc

    code = error.code()
    if code is grpc.StatusCode.UNAVAILABLE:
        return CliError(
            f"no omniroute server answers at {server} ({one_line(error.details() or '')}): "
            "start one with `omniroute serve` or pass --server HOST:PORT"
        )
    return CliError(f"{code.name}: {error.details()}")


def cmd_order_status(args: argparse.Namespace) -> int:
    import grpc

    from omniroute.server.tables import order_status_text

    with _server_client(args) as client:
        try:
            status = client.get_order_status(args.order_id)
        except grpc.RpcError as error:
            raise _rpc_failure(error, args.server) from None
    print(to_json_line(status) if args.json else order_status_text(status))
    return 0


def cmd_order_list(args: argparse.Namespace) -> int:
    import grpc

    from omniroute.server.tables import orders_list_text

    if not args.customer and not args.node:
        raise CliError("say whose orders: --customer ID or --node ID")
    found: list[order_service_pb2.OrderStatus] = []
    token = ""
    with _server_client(args) as client:
        try:
            while True:
                page = client.list_orders(
                    args.customer or "",
                    args.node or "",
                    args.state or "",
                    page_size=min(args.limit - len(found), 1000),
                    page_token=token,
                )
                found += list(page.orders)
                token = page.next_page_token
                if not token or len(found) >= args.limit:
                    break
        except grpc.RpcError as error:
            raise _rpc_failure(error, args.server) from None
    if args.json:
        for order in found:
            print(to_json_line(order))
    else:
        print(orders_list_text(found))
        if token:
            print(f"  (the first {len(found)}: more with --limit)")
    return 0


# ----------------------------------------------------------------------------- scenario


def cmd_scenario_run(args: argparse.Namespace) -> int:
    from omniroute.scenario import read_changes
    from omniroute.server.scenarios import run_scenario_task

    input_file(args.network, "--network")
    input_file(args.orders, "--orders")
    output_dir(args.out, "--out", create=False)  # made once the inputs are known to be good
    changes = None
    if args.theta is not None and not args.forecast:
        raise CliError("--theta weighs the opportunity costs of --forecast: give --forecast")
    if args.changes:
        input_file(args.changes, "--changes")
        network = read_network(args.network)
        read_changes(args.changes, network)  # every problem listed before any work
        changes = json.loads(Path(args.changes).read_text())
    if args.forecast:
        from omniroute.files import read_forecast
        from omniroute.scenario import apply_changes

        input_file(args.forecast, "--forecast")
        network = read_network(args.network)
        changed = apply_changes(network, read_changes(changes, network)) if changes else network
        read_forecast(args.forecast, changed)  # every problem listed before any work
    result = run_scenario_task(
        args.network,
        args.orders,
        changes,
        args.mode,
        args.out,
        args.name or Path(args.out).name,
        show_progress=None,
        forecast_path=args.forecast,
        theta=args.theta,
    )
    print(kpi_table({"value": result}, HEADLINE_KPIS, _currency(args.network)))
    print(f"wrote {args.out}/kpis.json, outcomes.jsonl and report.html", file=sys.stderr)
    return 0


def _currency(network_path: str) -> str:
    """The currency code of a network file that a command has already read and validated."""
    try:
        return str(json.loads(Path(network_path).read_text()).get("currency", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def _run_currency(run: str) -> str:
    """The currency code a scenario run directory recorded (empty when it has none)."""
    try:
        return str(json.loads((Path(run) / "kpis.json").read_text()).get("currency", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def cmd_scenario_compare(args: argparse.Namespace) -> int:
    from omniroute.server.scenarios import compare

    if len(args.runs) < 2:
        raise CliError(
            "compare needs at least two run folders (written by omniroute scenario run): "
            "the base first, then the runs to compare with it"
        )
    for run in args.runs:
        run_dir(run)
    if any(Path(run).resolve() == Path(args.out).resolve() for run in args.runs):
        raise CliError(
            f"--out {args.out} is one of the runs: its report.html would be replaced; pass "
            "another folder for the comparison"
        )
    output_dir(args.out, "--out", create=False)
    result = compare(args.runs, args.out)
    for warning in result["warnings"]:  # runs that differ in network, orders or mode
        print(f"warning: {warning}", file=sys.stderr)
    names = list(result["kpis"])
    currency = _run_currency(args.runs[0])
    rows = []
    for key in result["kpis"][names[0]]:  # plain-word labels, rates in percent (points)
        row: list[object] = [kpi_label(key, currency)]
        for name in names:
            row.append(kpi_cell(key, result["kpis"][name][key]))
            if name != names[0]:
                delta = kpi_cell(key, result["deltas"][name][key])
                row.append(delta if delta.startswith("-") else f"+{delta}")
        rows.append(row)
    headers = ["KPI"]
    for name in names:
        headers += [name] if name == names[0] else [name, "change"]
    print(table(headers, rows, ""))
    print(f"wrote {args.out}/compare.json and {args.out}/report.html", file=sys.stderr)
    return 0


def cmd_scenario_sweep(args: argparse.Namespace) -> int:
    from omniroute.server.executors import (
        RAY_ADDRESS_ENV,
        ExecutorUnavailable,
        check_reachable,
        ray_address,
        require_ray,
    )
    from omniroute.server.scenarios import SweepFailed, sweep

    if args.ray_address is not None and args.executor != "ray":
        raise CliError(
            "--ray-address is for --executor ray: add --executor ray, or drop --ray-address"
        )
    address = None
    if args.executor == "ray":  # the address (or RAY_ADDRESS, as Ray reads it) checked first
        given = args.ray_address is not None
        try:
            require_ray()
            address = ray_address(
                args.ray_address if given else os.environ.get(RAY_ADDRESS_ENV),
                "--ray-address" if given else f"{RAY_ADDRESS_ENV} (from the environment)",
            )
            check_reachable(address)  # before any input is read
        except ExecutorUnavailable as error:
            raise CliError(str(error)) from None
    input_file(args.network, "--network")
    input_file(args.orders, "--orders")
    input_file(args.grid, "--grid")
    output_dir(args.out, "--out", create=False)
    try:
        results = sweep(
            args.network,
            args.orders,
            args.grid,
            args.mode,
            args.out,
            args.workers,
            executor=args.executor,
            ray_address=address,
        )
    except ExecutorUnavailable as error:  # Ray unreachable, or the cluster lacks omniroute
        raise CliError(str(error)) from None
    except SweepFailed as failed:  # the completed runs are written; say which failed and why
        if args.debug:
            for _, failure in failed.failures:
                print(failure.trace, file=sys.stderr)
        print(f"error: {failed}", file=sys.stderr)
        return 1
    currency = _currency(args.network)
    columns = ("cost_per_order", "total_cost", "split_rate", "mean_delivery_days", "on_time_rate")
    print(
        table(
            ["run", *(kpi_label(k, currency) for k in columns)],
            [[r["name"], *(kpi_cell(k, r[camel_case(k)]) for k in columns)] for r in results],
            "",
        )
    )
    print(f"wrote {args.out}/sweep.json and one run directory per combination", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------- explain


def cmd_explain(args: argparse.Namespace) -> int:
    if args.order_id and args.limit is not None:
        raise CliError("--limit picks the first orders when no --order-id is given: use one")
    input_file(args.network, "--network")
    input_file(args.orders, "--orders")
    network = read_network(args.network)
    orders = read_orders(args.orders, network)
    if args.order_id:
        wanted = set(args.order_id)
        orders = [o for o in orders if o.id in wanted]
        missing = wanted - {o.id for o in orders}
        if missing:
            raise CliError(f"no order with id {', '.join(sorted(missing))} in {args.orders}")
    else:
        orders = orders[: args.limit or 5]
    planner = Planner(network, validate=False)
    policy = _policy(args.policy)
    for i, order in enumerate(orders):
        result = planner.plan(order, policy, options=True, explain=True, validate=False)
        if i:
            print()
        print(explain_text(order, result, network.currency))
    return 0


# ----------------------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace) -> int:
    if args.offline and (args.sample is not None or args.workers is not None):
        raise CliError(
            "--sample and --workers are for the demo through the server; --offline plans the "
            "whole day in this process: drop them or drop --offline"
        )
    output_dir(args.dir, "--dir")
    if args.offline:
        return demo_offline(args)
    args.sample = 2000 if args.sample is None else args.sample
    args.workers = args.workers or os.cpu_count() or 1
    from omniroute.server import demo
    from omniroute.server.launch import ServerDidNotStart

    try:
        return demo.run(Path(args.dir), args.seed, args.orders, args.sample, args.workers)
    except ServerDidNotStart as error:  # not the user's mistake, not a bug here: the log says
        print(f"error: {error}", file=sys.stderr)
        return 1


def demo_offline(args: argparse.Namespace) -> int:
    """Plan the whole demo day in this process (no server) and compare with the baseline."""
    from omniroute.server import demo

    return demo.offline(Path(args.dir), args.seed, args.orders)


# ----------------------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace) -> int:
    from omniroute.server.process import (
        ServerConfig,
        ServeRefused,
        check_exposure,
        check_port_free,
        is_loopback,
        serve,
    )

    tls = bool(args.tls_cert or args.tls_key)
    if tls and not (args.tls_cert and args.tls_key):
        raise CliError("--tls-cert and --tls-key go together")
    if args.tls_client_ca and not tls:
        raise CliError("--tls-client-ca needs --tls-cert and --tls-key")
    for option, path in (
        ("--tls-cert", args.tls_cert),
        ("--tls-key", args.tls_key),
        ("--tls-client-ca", args.tls_client_ca),
        ("--auth-tokens", args.auth_tokens),
    ):
        if path:
            input_file(path, option)
    try:  # the files are usable: read them once before anything starts
        from omniroute.server.auth import AuthConfigError, Authenticator, TlsFiles

        if tls:
            TlsFiles(args.tls_cert, args.tls_key, args.tls_client_ca)
        if args.auth_tokens:
            Authenticator(args.auth_tokens)
    except AuthConfigError as error:
        raise CliError(str(error)) from None
    secured = tls and bool(args.auth_tokens or args.tls_client_ca)
    if args.port and args.port == args.metrics_port:
        raise CliError(
            f"--port and --metrics-port are both {args.port}: give /metrics another port "
            "(or --metrics-port 0 for none)"
        )
    try:  # before anything is imported or started
        check_exposure(args.host, secured=secured, insecure=args.insecure)
        check_port_free(args.host, args.port, "gRPC")
        if args.metrics_port:
            check_port_free(args.metrics_host, args.metrics_port, "metrics")
    except ServeRefused as refused:
        raise CliError(str(refused)) from None
    network = read_network(input_file(args.network, "--network")) if args.network else None
    if not is_database_uri(args.db):
        output_file(args.db, "--db", "omniroute.db")
    ledger = open_db(args.db, args.synchronous)  # created if missing
    try:
        if network is not None:
            version = ledger.put_network(network)
            print(
                f"imported {args.network} into {db_label(args.db)} (network version {version}: "
                f"{len(network.nodes)} nodes, {len(network.stock):,} stock positions)",
                flush=True,
            )
        elif ledger.state()[0] == 0:
            print(
                f"{db_label(args.db)} holds no network yet: serving empty. Calls that need a network "
                "answer FAILED_PRECONDITION (reason NO_NETWORK) until one is put with "
                "NetworkService.PutNetwork (or serve is restarted with --network FILE)",
                flush=True,
            )
    finally:
        ledger.close()
    if is_loopback(args.host):
        print(
            f"listening on {args.host} only: other machines cannot connect "
            "(--host ADDRESS serves them; see docs/security.md)",
            flush=True,
        )
    config = ServerConfig(
        db=args.db,
        host=args.host,
        port=args.port,
        max_concurrent=args.max_concurrent,
        grace=args.grace,
        synchronous=args.synchronous,
        reservation_ttl=args.reservation_ttl,
        batch_window_ms=args.batch_window_ms,
        solve_memory_mb=args.solve_memory_mb or None,
        shared_stock=not args.private_stock,
        metrics_host=args.metrics_host,
        max_order_lines=args.max_order_lines,
        max_batch_orders=args.max_batch_orders,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_client_ca=args.tls_client_ca,
        auth_tokens=args.auth_tokens,
        rate_limit=args.rate_limit,
        dispatch=args.dispatch,
    )
    return serve(config, args.workers, args.metrics_port, args.log_level)


# ----------------------------------------------------------------------------- stock


def is_database_uri(db: str) -> bool:
    """Whether ``--db`` names a database server (a ``postgresql://`` URI), not a file; a
    :class:`CliError` for any other URL."""
    if db.lower().startswith(("postgresql://", "postgres://")):
        return True
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", db):
        raise CliError(
            f"--db {db.split('://')[0]}://...: not a database omniroute knows; give a file path "
            "(SQLite) or a postgresql://USER@HOST:PORT/DATABASE URI"
        )
    return False


def db_label(db: str) -> str:
    """``--db`` as messages show it (a URI without its password)."""
    if not is_database_uri(db):
        return db
    from omniroute.ledger.postgres import redacted

    return redacted(db)


def _open_existing_ledger(db: str) -> Ledger:
    if is_database_uri(db):
        return open_db(db)
    if not Path(db).exists():
        raise CliError(
            f"--db {db} does not exist: create the ledger with omniroute serve --db {db} "
            "--network FILE"
        )
    if Path(db).is_dir():
        raise CliError(f"--db {db} is a folder; pass the ledger's SQLite file")
    return open_db(db)


def open_db(db: str, synchronous: str = "FULL") -> Ledger:
    """The ledger at ``db`` (created if missing); a :class:`CliError` when the file is not one."""
    import sqlite3

    from omniroute.ledger import open_ledger

    try:
        return open_ledger(db, synchronous=synchronous)
    except ValueError as error:  # an unsupported URL or a malformed URI
        raise CliError(f"--db: {error}") from None
    except sqlite3.DatabaseError as error:
        raise CliError(
            f"--db {db} is not an omniroute ledger ({error}); pass the ledger's file, or a new "
            "file name to start an empty one"
        ) from None


def cmd_stock_import(args: argparse.Namespace) -> int:
    import time

    from omniroute.ledger.bulk import ImportMode
    from omniroute.server.stock_files import import_stock

    mode = ImportMode(args.mode)
    ledger = _open_existing_ledger(args.db)
    start = time.perf_counter()
    try:
        summary = import_stock(ledger, args.file, mode, args.format, args.request_id or "")
    finally:
        ledger.close()
    seconds = time.perf_counter() - start
    if summary.replayed:
        print(
            f"request id {args.request_id!r} was imported before: nothing changed "
            f"({summary.rows:,} rows, {summary.changed:,} positions changed then)",
            file=sys.stderr,
        )
        return 0
    print(
        f"imported {args.file} ({summary.mode}, network version {summary.network_version}): "
        f"{summary.rows:,} rows, {summary.changed:,} positions changed ({summary.created:,} "
        f"new, {summary.zeroed:,} zeroed), on-hand {summary.on_hand_delta:+,} units; "
        f"{seconds:.1f} s, {summary.rows / max(seconds, 1e-9):,.0f} rows/s",
        file=sys.stderr,
    )
    return 0


def cmd_stock_export(args: argparse.Namespace) -> int:
    import time

    from omniroute.server.stock_files import export_stock

    if args.file != "-":
        output_file(args.file, "FILE", "stock.jsonl")
    ledger = _open_existing_ledger(args.db)
    start = time.perf_counter()
    try:
        count = export_stock(ledger, args.file, args.format)
    finally:
        ledger.close()
    seconds = time.perf_counter() - start
    print(
        f"exported {count:,} positions to {args.file}; {seconds:.1f} s, "
        f"{count / max(seconds, 1e-9):,.0f} rows/s",
        file=sys.stderr,
    )
    return 0


# ----------------------------------------------------------------------------- db


def cmd_db_migrate(args: argparse.Namespace) -> int:
    import sqlite3

    from omniroute.ledger import schema
    from omniroute.ledger.database import Database, SqliteDatabase

    database: Database
    if is_database_uri(args.db):
        from omniroute.ledger.postgres import PostgresDatabase

        try:
            database = PostgresDatabase(args.db, migrate=False, listen=False)
        except ValueError as error:
            raise CliError(f"--db: {error}") from None
    else:
        output_file(args.db, "--db", "omniroute.db")
        try:
            database = SqliteDatabase(args.db, migrate=False)
        except sqlite3.DatabaseError as error:
            raise CliError(f"--db {args.db} is not an omniroute ledger ({error})") from None
    try:
        before = database.schema_version()
        after = database.migrate()
    except sqlite3.DatabaseError as error:
        raise CliError(
            f"--db {args.db} is not an omniroute ledger ({error}); pass the ledger's file, or "
            "a new file name to create one"
        ) from None
    finally:
        database.close()
    if before == after:
        print(f"{db_label(args.db)}: ledger schema {after}, the latest: nothing to do")
    else:
        print(
            f"{db_label(args.db)}: ledger schema {before} -> {after} "
            f"({after - before} migration{'s' if after - before != 1 else ''} applied; "
            f"latest {schema.LATEST})"
        )
    return 0


# ----------------------------------------------------------------------------- audit, tokens


def cmd_audit(args: argparse.Namespace) -> int:
    import datetime

    from omniroute.files import timestamp_key

    since = 0.0
    if args.since:
        try:
            seconds, nanos = timestamp_key(args.since)
        except (ValueError, OverflowError) as error:
            raise CliError(f"--since: not an RFC 3339 time ({error})") from None
        since = seconds + nanos / 1e9
    ledger = _open_existing_ledger(args.db)
    try:
        for record in ledger.audit.records(since, args.principal or ""):
            at = datetime.datetime.fromtimestamp(record.at, datetime.UTC)
            line = {
                "time": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "principal": record.principal,
                "method": record.method,
                "requestId": record.request_id,
                "resource": record.resource,
                "outcome": record.outcome,
            }
            print(json.dumps(line))
    finally:
        ledger.close()
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from omniroute.server.auth import SCOPES, new_token

    unknown = [s for s in args.scope if s not in SCOPES]
    if unknown:
        raise CliError(f"unknown scope {unknown[0]!r}; known: {', '.join(SCOPES)}")
    token, digest = new_token()
    entry = {"name": args.name, "sha256": digest, "scopes": sorted(set(args.scope))}
    print(f"token (give it to the caller; it is not stored anywhere): {token}", file=sys.stderr)
    print(json.dumps(entry))
    return 0


# ----------------------------------------------------------------------------- main


def count(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` (to ``high``); a usage error otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {span}, got {value}")
        return value

    return parse


def amount(low: float, above: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number at least ``low`` (``above``: more than ``low``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value) or value < low or (above and value == low):
            span = f"more than {low:g}" if above else f"at least {low:g}"
            raise argparse.ArgumentTypeError(f"must be a number {span}, got {text}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omniroute",
        description="Optimal split-fulfilment order routing: plan orders across DCs, stores, "
        "3PLs and drop-ship vendors.",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of an internal error (also accepted after the command)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser(
        "demo-data",
        help="write the demo network and a day of orders",
        description="Write network.json (the demo retailer: 54 stores, 2 DCs, a 3PL and 3 "
        "drop-ship vendors in Australia) and orders.jsonl (a day of orders). The same seed "
        "gives the same bytes. With --large, a synthetic US network for scale work instead.",
    )
    p.add_argument("--out", required=True, help="directory to write into (created if missing)")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument(
        "--orders",
        type=count(0),
        default=0,
        help=f"number of orders (default {DEMO_ORDERS:,}; 2,000 with --large)",
    )
    p.add_argument("--large", action="store_true", help="generate the large synthetic network")
    p.add_argument(
        "--dated",
        action="store_true",
        help="give the network real dates: each node's time zone, Australia's public "
        "holidays, cut-offs and weekday carriers (the orders, which carry their createTime, "
        "are then planned on dates; docs/dated-promises.md)",
    )
    p.add_argument("--nodes", type=count(10), help="nodes with --large (default 1000, at least 10)")
    p.add_argument("--skus", type=count(10), help="SKUs with --large (default 50000, at least 10)")
    p.set_defaults(func=cmd_demo_data)

    p = commands.add_parser(
        "plan",
        help="plan orders from files, one PlanOrderResponse JSON per line",
        description="Plan each order of ORDERS independently against the network's stock and "
        "print one PlanOrderResponse (proto3 JSON) per line.",
    )
    p.add_argument("--network", required=True, help="network file (Network, proto3 JSON)")
    p.add_argument("--orders", required=True, help="orders file (one Order per line)")
    p.add_argument(
        "--policy",
        choices=["baseline", "cheapest", "fastest"],
        default="cheapest",
        help="cheapest (default): minimum cost; fastest: minimum delivery days, then "
        "cost; baseline: the rule-based router, for comparison",
    )
    p.add_argument(
        "--options",
        action="store_true",
        help="also return the price/date options (Pareto front) per order",
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="also explain each plan against the best single node and the baseline",
    )
    p.add_argument("--out", help="write the responses here instead of stdout (and print a summary)")
    p.set_defaults(func=cmd_plan)

    p = commands.add_parser(
        "allocate",
        help="allocate a batch of orders jointly against shared stock and capacity",
        description="Plan the orders together (shared ATP, nodes' daily shipment capacity), "
        "minimising total cost plus a penalty per unfilled unit. Writes DIR/plans.jsonl (one "
        "PlanOrderResponse per order) and DIR/summary.json (totalCost, lowerBound, proof, gap, "
        "unitsUnfilled, ...). Files with more orders than --window are allocated window by "
        "window in file order, each on the stock the earlier ones left; the bound then refers "
        "to that windowed allocation.",
    )
    p.add_argument("--network", required=True, help="network file")
    p.add_argument("--orders", required=True, help="orders file (JSON lines)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument(
        "--unfilled-penalty",
        type=amount(0.0),
        default=50.0,
        help="cost per unit left unfilled (default 50)",
    )
    p.add_argument(
        "--time-limit",
        type=amount(0.0, above=True),
        default=30.0,
        help="seconds per window (default 30)",
    )
    p.add_argument(
        "--window", type=count(1), default=2000, help="orders allocated together (default 2000)"
    )
    p.add_argument(
        "--forecast",
        help="forecast file (DemandForecast JSON): price each unit of stock by the forecast "
        "demand's opportunity cost of it, added to the objective (docs/lookahead.md)",
    )
    p.add_argument(
        "--theta",
        type=amount(0.0),
        help=f"weight of the opportunity cost in the objective (default {BASKET_THETA:g} when "
        f"λ comes from the forecast's baskets, else {DEFAULT_THETA:g}; needs --forecast)",
    )
    p.set_defaults(func=cmd_allocate)

    p = commands.add_parser(
        "lookahead",
        help="look-ahead routing: evaluate it against myopic routing and hindsight; put a "
        "forecast for the servers",
        description="Look-ahead routing prices each unit of stock by what the forecast demand "
        "will need it for. See docs/lookahead.md.",
    )
    lookahead = p.add_subparsers(dest="lookahead_command", required=True, metavar="SUBCOMMAND")
    q = lookahead.add_parser(
        "evaluate",
        help="replay orders under myopic and look-ahead routing, against hindsight",
        description="Replay the orders in time order against the network's stock (and the "
        "walk-ins, if given), depleting it, once per policy: myopic (CHEAPEST on the stock "
        "left) and lookahead (shipping cost plus theta times the opportunity cost of the "
        "stock used). Units no node can ship when their order arrives are lost at the "
        "lost-sale cost each; no policy turns away a unit that some node could ship. Writes "
        "DIR/plans-<policy>.jsonl (one PlanOrderResponse per order, in replay order) and "
        "DIR/evaluation.json (each policy's shipping cost, lost units and total cost; the "
        "hindsight cost, the clairvoyant lower bound and the gap each policy closes). Without "
        "--forecast the forecast is perfect: the orders' own rates (said in the output).",
    )
    q.add_argument("--network", required=True, help="network file (its stock is the start)")
    q.add_argument("--orders", required=True, help="orders file (JSON lines), any order")
    q.add_argument("--out", required=True, help="output directory")
    q.add_argument(
        "--forecast", help="forecast file (DemandForecast JSON; default: the perfect forecast)"
    )
    q.add_argument(
        "--walkins",
        help="walk-in sales (an orders file; each names its store as pickupStoreId and takes "
        "what that store has, at no shipping cost)",
    )
    q.add_argument(
        "--lost-sale-cost",
        type=amount(0.0, above=True),
        help="cost per lost unit (default: twice the dearest one-unit shipment to any region)",
    )
    q.add_argument(
        "--theta",
        type=amount(0.0),
        help=f"weight of the opportunity cost in the look-ahead objective (default "
        f"{BASKET_THETA:g} when λ comes from the forecast's baskets, as with the perfect "
        f"forecast of a few hundred orders; else {DEFAULT_THETA:g})",
    )
    q.add_argument(
        "--refresh",
        type=count(1),
        help="orders between opportunity-cost refreshes (default: 50 refreshes in all)",
    )
    q.add_argument(
        "--time-limit",
        type=amount(0.0, above=True),
        default=60.0,
        help="seconds for the hindsight MIP (default 60; unproven: its bound is reported)",
    )
    q.set_defaults(func=cmd_lookahead_evaluate)
    q = lookahead.add_parser(
        "put-forecast",
        help="put a demand forecast into a ledger for the servers' look-ahead routing",
        description="Check FILE (DemandForecast JSON) against the ledger's network and store "
        "it as the forecast in force, as the PutDemandForecast RPC does: every server on the "
        "ledger prices its stock by it (in the background, as it notices it) and routes "
        "PlanOrder calls by shipping cost + theta x opportunity cost unless they ask for "
        "MYOPIC. A bad file lists every problem, stores nothing and exits 2.",
    )
    q.add_argument("file", metavar="FILE", help="forecast file (DemandForecast, proto3 JSON)")
    q.add_argument(
        "--db", required=True, help="the ledger: SQLite file (must exist) or postgresql:// URI"
    )
    q.add_argument(
        "--theta",
        type=amount(0.0, above=True),
        help=f"weight of the opportunity cost in the routing objective (default "
        f"{BASKET_THETA:g} when λ comes from the forecast's baskets, else {DEFAULT_THETA:g})",
    )
    q.add_argument("--validate-only", action="store_true", help="check the file and store nothing")
    q.set_defaults(func=cmd_lookahead_put_forecast)

    p = commands.add_parser(
        "scenario",
        help="what-if scenarios: replay orders against a changed network, compare, sweep",
        description="What-if scenarios for planners. See docs/scenarios.md for the changes file.",
    )
    scenario = p.add_subparsers(dest="scenario_command", required=True, metavar="SUBCOMMAND")
    q = scenario.add_parser(
        "run",
        help="replay orders against the network with changes; KPIs and an HTML report",
        description="Replay the orders in time order against the network (with the changes "
        "applied), stock depleting as orders ship and node capacity shared. Writes "
        "DIR/kpis.json, DIR/outcomes.jsonl, DIR/nodes.json and DIR/report.html.",
    )
    q.add_argument("--network", required=True, help="base network file")
    q.add_argument("--orders", required=True, help="orders file (JSON lines)")
    q.add_argument("--changes", help="changes file (JSON); none = the base network")
    q.add_argument(
        "--mode",
        choices=["sequential", "batch"],
        default="sequential",
        help="sequential: each order optimally in turn; batch: windows of 200 jointly",
    )
    q.add_argument("--out", required=True, help="run directory")
    q.add_argument("--name", help="name in reports (default: the directory name)")
    q.add_argument(
        "--forecast",
        help="route look-ahead: price each unit of stock by this forecast (DemandForecast "
        "JSON, checked against the changed network) on the stock at the start, and route "
        "every order by cost + theta x those opportunity costs (docs/lookahead.md)",
    )
    q.add_argument(
        "--theta",
        type=amount(0.0, above=True),
        help=f"weight of the opportunity costs with --forecast (default {BASKET_THETA:g} when "
        f"λ comes from the forecast's baskets, else {DEFAULT_THETA:g})",
    )
    q.set_defaults(func=cmd_scenario_run)
    q = scenario.add_parser(
        "compare",
        help="compare run directories side by side (deltas against the first)",
        description="A KPI table with deltas against the first run, DIR/compare.json and "
        "DIR/report.html with plots (cost per order, delivery days, node utilisation, split "
        "rate, node-to-destination flow maps, where orders moved). Warns when the runs used a "
        "different network file, order set or mode than the first.",
    )
    q.add_argument("runs", nargs="+", help="run directories (the first is the base)")
    q.add_argument("--out", required=True, help="output directory")
    q.set_defaults(func=cmd_scenario_compare)
    q = scenario.add_parser(
        "sweep",
        help="run a grid of changes in parallel",
        description='GRID is JSON: {"base": {changes}, "grid": {"carrierRates.byCarrier.'
        'Australia Post": [0.9, 1.1], "splitPenalty": [0, 3]}}. Every combination runs as '
        "its own scenario (in parallel local processes, or as Ray tasks with --executor ray; "
        "with a progress bar); DIR/sweep.json sums up. Both executors write the same files.",
    )
    q.add_argument("--network", required=True)
    q.add_argument("--orders", required=True)
    q.add_argument("--grid", required=True, help="grid file (JSON)")
    q.add_argument("--mode", choices=["sequential", "batch"], default="sequential")
    q.add_argument("--out", required=True, help="output directory")
    q.add_argument(
        "--executor",
        choices=["processes", "ray"],
        default="processes",
        help="processes: a pool of local processes (default); ray: one Ray task per run, on a "
        "local Ray or the cluster at --ray-address",
    )
    q.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="the Ray cluster for --executor ray: ray://HEAD:10001 (Ray Client), HEAD:6379 or "
        "auto (on a node of the cluster); default: $RAY_ADDRESS, else a local Ray started "
        "for the sweep and shut down after it",
    )
    q.add_argument(
        "--workers",
        type=count(1),
        help="runs at a time: processes, or the local Ray's CPUs (default: one per core); "
        "on a Ray cluster, a cap (default: as many as the cluster has CPUs)",
    )
    q.set_defaults(func=cmd_scenario_sweep)

    p = commands.add_parser(
        "order",
        help="an order's status and timeline, or a customer's or a node's orders (from a server)",
        description="Ask a running server (OrderService) where orders stand, as a call-centre "
        "agent would: `order status ID` shows the units of each line (open, shipped, "
        "delivered, cancelled), the shipments with their tracking numbers and the timeline "
        "(routed, re-routed and why, shipped, delivered, cancelled, returns); `order list` "
        "lists a customer's or a node's orders.",
    )
    order = p.add_subparsers(dest="order_command", required=True, metavar="COMMAND")

    def server_options(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--server",
            default=os.environ.get("OMNIROUTE_SERVER", "localhost:50051"),
            help="the server, HOST:PORT (default $OMNIROUTE_SERVER or localhost:50051)",
        )
        q.add_argument("--tls-ca", help="PEM file of the CA of the server's certificate (TLS)")
        q.add_argument("--token", help="bearer token (default $OMNIROUTE_TOKEN; needs --tls-ca)")
        q.add_argument(
            "--timeout", type=amount(0.0, above=True), default=30.0, help="seconds (default 30)"
        )
        q.add_argument("--json", action="store_true", help="OrderStatus as proto3 JSON lines")

    q = order.add_parser(
        "status",
        help="one order: units per line, shipments with tracking, timeline",
        description="Print one reserved order as it stands: its state, the units of each "
        "line by what happened to them, its shipments (node, carrier, tracking number, "
        "shipped and delivered times) and its timeline, oldest first. Exits 2 when the "
        "server knows no such order.",
    )
    q.add_argument("order_id", metavar="ID", help="the order id (as given to PlanOrder)")
    server_options(q)
    q.set_defaults(func=cmd_order_status)
    q = order.add_parser(
        "list",
        help="a customer's or a node's orders",
        description="List orders by order id: a customer's (--customer), those with units "
        "planned at a node (--node), or both; only those in one state with --state.",
    )
    q.add_argument("--customer", help="the customer id (the order's customerId)")
    q.add_argument("--node", help="a node id: orders with units planned there")
    q.add_argument(
        "--state",
        choices=["RESERVED", "PARTIALLY_SHIPPED", "SHIPPED", "DELIVERED", "CANCELLED", "EXPIRED"],
        type=str.upper,
        help="only orders in this state",
    )
    q.add_argument(
        "--limit", type=count(1), default=100, help="at most this many orders (default 100)"
    )
    server_options(q)
    q.set_defaults(func=cmd_order_list)

    p = commands.add_parser(
        "explain",
        help="explain plans as readable tables: cost breakdown, options, alternatives",
        description="For each order: the plan with each shipment's cost breakdown (parcels, "
        "per-kg, handling, split penalty), the price/date options, and why the best "
        "single-node plan and the baseline plan lost.",
    )
    p.add_argument("--network", required=True, help="network file (Network, proto3 JSON)")
    p.add_argument("--orders", required=True, help="orders file (one Order per line)")
    p.add_argument("--order-id", action="append", help="explain this order (repeatable)")
    p.add_argument(
        "--limit",
        type=count(1),
        help="without --order-id, the first N orders (default 5)",
    )
    p.add_argument(
        "--policy",
        choices=["cheapest", "fastest"],
        default="cheapest",
        help="policy (default cheapest)",
    )
    p.set_defaults(func=cmd_explain)

    p = commands.add_parser(
        "serve",
        help="run the gRPC service on a ledger (an embedded SQLite file or PostgreSQL)",
        description="Serve RoutingService, InventoryService, NetworkService, ScenarioService "
        "and google.longrunning.Operations (plus gRPC health checking and reflection) until "
        "SIGTERM. With --network, the file's network and stock are imported into the ledger at "
        "--db first; without it the server serves what --db holds. A new or empty ledger "
        "starts an empty server: health checking reports the server and NetworkService "
        "SERVING, and RoutingService, InventoryService and ScenarioService NOT_SERVING (their "
        "calls answer FAILED_PRECONDITION, reason NO_NETWORK) until a network is put with "
        "NetworkService.PutNetwork. Several worker processes share the port (SO_REUSEPORT) "
        "and the ledger.",
    )
    p.add_argument(
        "--db",
        required=True,
        help="the ledger: a SQLite file (created if missing, in a folder that exists), or "
        "a PostgreSQL database shared by replicas on many hosts, by its URI "
        "postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE (see docs/ledger.md)",
    )
    p.add_argument(
        "--network", help="network file to import before serving (default: serve what --db holds)"
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only; another address "
        "needs --insecure until TLS and authentication are configured)",
    )
    p.add_argument(
        "--insecure",
        action="store_true",
        help="allow listening beyond loopback without TLS and authentication",
    )
    p.add_argument("--tls-cert", help="PEM certificate (chain) of the server: serve TLS")
    p.add_argument("--tls-key", help="PEM private key of --tls-cert")
    p.add_argument(
        "--tls-client-ca",
        help="PEM CA certificate(s): clients must present a certificate it signed (mTLS); "
        "the certificate's subject is the caller",
    )
    p.add_argument(
        "--auth-tokens",
        help='tokens file {"tokens": [{"name", "sha256", "scopes"}]}: callers send '
        "'authorization: Bearer TOKEN' (see docs/security.md; SIGHUP reloads it and the "
        "certificates)",
    )
    p.add_argument(
        "--port", type=count(0, 65535), default=50051, help="port (default 50051; 0 = any free)"
    )
    p.add_argument(
        "--workers",
        type=count(1),
        default=os.cpu_count() or 1,
        help="server processes (default: one per core)",
    )
    p.add_argument(
        "--dispatch",
        choices=["on", "off", "always"],
        default="on",
        help="on (default): a worker busier than another has it plan part of its PlanOrder "
        "calls and StreamPlanOrders messages, so one client channel (which reaches one worker) "
        "uses every core; off: each worker plans the calls of its own connections; always: "
        "every such call is planned by another worker (to test the path; see docs/deploy.md)",
    )
    p.add_argument(
        "--max-concurrent",
        type=count(1),
        default=256,
        help="calls in progress per process before RESOURCE_EXHAUSTED (default 256)",
    )
    p.add_argument(
        "--grace",
        type=amount(0.0),
        default=10.0,
        help="seconds to drain in-flight calls on SIGTERM (default 10)",
    )
    p.add_argument(
        "--metrics-port",
        type=count(0, 65535),
        default=9464,
        help="Prometheus /metrics port (default 9464; 0 = off)",
    )
    p.add_argument(
        "--metrics-host",
        default="127.0.0.1",
        help="address /metrics listens on (default 127.0.0.1)",
    )
    p.add_argument(
        "--synchronous",
        choices=["FULL", "NORMAL"],
        default="FULL",
        help="SQLite synchronous mode (default FULL; see docs/ledger.md)",
    )
    p.add_argument(
        "--reservation-ttl",
        type=amount(0.0, above=True),
        default=900.0,
        help="seconds a reservation holds stock unless committed or released (default 900)",
    )
    p.add_argument(
        "--batch-window-ms",
        type=amount(0.0),
        default=0.0,
        help="allocate PlanOrder calls arriving within this window jointly (default 0 = off)",
    )
    p.add_argument(
        "--solve-memory-mb",
        type=count(0),
        default=1024,
        help="memory one order's search may use; a larger search is not started and the "
        "best plan known comes back FEASIBLE, stopped by MEMORY_LIMIT (default 1024; 0 = off)",
    )
    p.add_argument(
        "--rate-limit",
        type=amount(0.0, above=True),
        help="calls per second one caller (token, certificate, or everyone without "
        "authentication) may make to one worker process; more: RESOURCE_EXHAUSTED, reason "
        "RATE_LIMITED (default: no limit)",
    )
    p.add_argument(
        "--max-order-lines",
        type=count(1),
        default=1000,
        help="lines one order (or SKUs one availability check) may have; more are refused "
        "with INVALID_ARGUMENT before any work (default 1000)",
    )
    p.add_argument(
        "--max-batch-orders",
        type=count(1),
        default=10_000,
        help="orders one PlanOrders call may carry (default 10000)",
    )
    p.add_argument(
        "--private-stock",
        action="store_true",
        help="each worker process loads its own copy of the stock instead of mapping one "
        "shared snapshot (kept in the temporary directory) read-only",
    )
    p.add_argument(
        "--log-level",
        choices=["debug", "info", "warning"],
        default="info",
        help="debug logs one line per call",
    )
    p.set_defaults(func=cmd_serve)

    p = commands.add_parser(
        "db",
        help="the ledger database: migrate its schema",
        description="Commands on the ledger database that omniroute serve uses (a SQLite "
        "file, or a PostgreSQL database by its postgresql:// URI). See docs/ledger.md.",
    )
    db = p.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    q = db.add_parser(
        "migrate",
        help="bring the ledger's schema to this omniroute's version, print from/to",
        description="Apply the schema migrations the ledger at --db lacks, in one "
        "transaction, and print the version before and after. Safe while servers run and "
        "when several replicas migrate at once (they apply each migration once); serve "
        "does the same at start. A new SQLite file is created with the latest schema.",
    )
    q.add_argument(
        "--db",
        required=True,
        help="the ledger: a SQLite file, or a PostgreSQL URI "
        "(postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE)",
    )
    q.set_defaults(func=cmd_db_migrate)

    p = commands.add_parser(
        "audit",
        help="print the audit trail: every state-changing call, its caller and outcome",
        description="Print the audit records of the ledger at --db as JSON lines, oldest "
        "first: time, principal (token name, client certificate subject, or anonymous), "
        "method, requestId, the resource touched and the outcome (status code name). See "
        "docs/security.md.",
    )
    p.add_argument(
        "--db", required=True, help="the ledger: SQLite file (must exist) or postgresql:// URI"
    )
    p.add_argument("--since", help="only records at or after this RFC 3339 time")
    p.add_argument("--principal", help="only the records of this caller")
    p.set_defaults(func=cmd_audit)

    p = commands.add_parser(
        "token",
        help="issue an API token: print it once, and its entry for serve --auth-tokens",
        description="Make a random token for a caller. The token goes to standard error, to "
        "hand to the caller; standard output gets the JSON entry (its sha256, never the "
        "token) to add to the tokens file of serve --auth-tokens. Send SIGHUP to the server "
        "to load the changed file.",
    )
    p.add_argument("--name", required=True, help="the caller's name (shown in the audit)")
    p.add_argument(
        "--scope",
        action="append",
        required=True,
        help="a scope the token grants (repeat the option for several): routing.plan, "
        "routing.reserve, inventory.read, inventory.write, network.read, network.write, "
        "scenario.run, admin",
    )
    p.set_defaults(func=cmd_token)

    p = commands.add_parser(
        "stock",
        help="bulk stock: import a stock file into the ledger, export the positions",
        description="Bulk stock for the ledger that omniroute serve uses: import millions of "
        "positions from a file in one transaction (running servers see them through the "
        "ledger's change feed, as after UpdateStock), or export them. See docs/ledger.md and "
        "docs/formats.md (stock files).",
    )
    stock = p.add_subparsers(dest="stock_command", required=True, metavar="SUBCOMMAND")
    q = stock.add_parser(
        "import",
        help="import a stock file (snapshot or delta) into the ledger, all rows or none",
        description="Import FILE into the ledger at --db. JSON lines or CSV (header row) of "
        "the API's proto3 JSON names, optionally .gz. snapshot: rows are "
        "StockPositions (nodeId, skuId, onHand, safetyStock; reserved and atp are ignored) "
        "and the file is the WHOLE stock: each position in it gets its onHand and "
        "safetyStock, and every position NOT in the file gets onHand 0 (its safety stock "
        "kept). delta: rows are StockUpdates as UpdateStock takes them (nodeId, skuId, "
        "setOnHand or deltaOnHand, and/or safetyStock) and change only their positions. "
        "Reservations are kept: a position may never end with fewer units on hand than it "
        "has reserved, nor below 0 (as for UpdateStock). Every row is checked first; if any "
        "has a problem, all are listed with their line numbers, nothing changes, and the "
        "exit status is 2.",
    )
    q.add_argument(
        "--db", required=True, help="the ledger: SQLite file (must exist) or postgresql:// URI"
    )
    q.add_argument(
        "file", metavar="FILE", help="stock file (.jsonl, .ndjson, .csv, .gz; - = stdin)"
    )
    q.add_argument(
        "--format",
        choices=["jsonl", "csv"],
        help="file format (default: from the extension; jsonl for -)",
    )
    q.add_argument(
        "--mode",
        choices=["snapshot", "delta"],
        required=True,
        help="snapshot: the file is the whole stock, positions not in it get onHand 0; "
        "delta: the rows change only their positions (required: a partial file imported as "
        "a snapshot would zero everything else)",
    )
    q.add_argument(
        "--request-id",
        help="idempotency key: an import repeated with the same id changes nothing (48 h)",
    )
    q.set_defaults(func=cmd_stock_import)
    q = stock.add_parser(
        "export",
        help="write every stock position to a file (JSON lines or CSV)",
        description="Write every position of the ledger at --db (nodeId, skuId, onHand, "
        "safetyStock, reserved, atp), by node then SKU, from one consistent read. The file "
        "imports back unchanged with stock import (a snapshot).",
    )
    q.add_argument(
        "--db", required=True, help="the ledger: SQLite file (must exist) or postgresql:// URI"
    )
    q.add_argument(
        "file", metavar="FILE", help="output file (.jsonl, .ndjson, .csv, .gz; - = stdout)"
    )
    q.add_argument(
        "--format",
        choices=["jsonl", "csv"],
        help="file format (default: from the extension; jsonl for -)",
    )
    q.set_defaults(func=cmd_stock_export)

    p = commands.add_parser(
        "demo",
        help="the demo: start the service on the demo network and route orders through it",
        description="The main job on the embedded default: writes the demo network and a day "
        "of orders, starts the gRPC service on an embedded SQLite store, routes a sample of "
        "the day through real PlanOrder calls (optimal and baseline), prints a table and a "
        "summary, and shuts the service down. --offline plans the whole day in-process instead.",
    )
    p.add_argument(
        "--dir", default=".omniroute/demo", help="working directory (default .omniroute/demo)"
    )
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.add_argument("--orders", type=count(1), default=DEMO_ORDERS, help="orders in the demo day")
    p.add_argument(
        "--sample",
        type=count(1),
        help="orders routed through gRPC (default 2,000; not with --offline)",
    )
    p.add_argument(
        "--workers",
        type=count(1),
        help="server processes (default: one per core; not with --offline)",
    )
    p.add_argument(
        "--offline", action="store_true", help="plan the whole day in-process, no server"
    )
    p.set_defaults(func=cmd_demo)
    _debug_everywhere(parser)
    return parser


def _debug_everywhere(parser: argparse.ArgumentParser) -> None:
    """Accept ``--debug`` after the command too (``omniroute plan ... --debug``), not only
    before it: every subcommand's parser takes it as well."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                subparser.add_argument(
                    "--debug",
                    action="store_true",
                    default=argparse.SUPPRESS,  # keeps a --debug given before the command
                    help="show the traceback of an internal error",
                )
                _debug_everywhere(subparser)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status: 0 done, 2 a usage error or bad input (the
    message says what to fix), 1 an internal error (``--debug`` shows its traceback)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # the last line of defence: no tracebacks for users
        message = usage_message(error)
        if message is not None:
            print(f"error: {message}", file=sys.stderr)
            return EXIT_INVALID
        if args.debug:
            raise
        print(
            f"internal error: {type(error).__name__}: {one_line(str(error))} (run the same "
            "command with --debug to see where it happened, and report it)",
            file=sys.stderr,
        )
        return 1


def usage_message(error: BaseException) -> str | None:
    """The one-message account of a mistake the user can fix (bad input, a missing or
    unusable file or folder, a port in use), or ``None`` for an internal error."""
    from omniroute.server.process import ServeRefused

    if isinstance(error, ValidationError):
        return validation_message(error)
    if isinstance(error, ServeRefused):
        return one_line(str(error))
    if isinstance(error, (CliError, LedgerError)):
        return str(error)
    if isinstance(error, OSError) and error.filename is not None:
        return file_message(error)
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
        return f"cannot write: {error.strerror}; free some space or write to another folder"
    return None


def validation_message(error: ValidationError) -> str:
    """A :class:`ValidationError` as the CLI prints it: every problem on a line of its own;
    a missing file as ``no such file: PATH``."""
    violations = error.violations
    if len(violations) == 1 and violations[0].description == "no such file":
        return f"no such file: {one_line(violations[0].field)}; check the path"
    return str(error)


def file_message(error: OSError) -> str:
    """What is wrong with the file or folder an :class:`OSError` names, and the fix."""
    path = str(error.filename)
    if isinstance(error, FileNotFoundError):
        parent = Path(path).parent
        if parent != Path(path) and not parent.exists():
            return (
                f"folder {parent} does not exist; create it or choose a path in an existing folder"
            )
        return f"no such file: {path}; check the path"
    if isinstance(error, IsADirectoryError):
        return f"{path} is a folder; pass a file"
    if isinstance(error, NotADirectoryError):
        return f"{path}: a part of this path is a file, not a folder; choose another path"
    if isinstance(error, FileExistsError):
        return f"{path} already exists and is not a folder; choose another path"
    if isinstance(error, PermissionError):
        return f"permission denied: {path}; choose a path you may read and write"
    return f"{path}: {error.strerror or error}"


def one_line(text: str) -> str:
    """``text`` on one line: newlines and other control characters escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


if __name__ == "__main__":
    sys.exit(main())
