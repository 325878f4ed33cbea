"""Look-ahead routing against myopic routing and hindsight: the share of the gap it closes.

Each replication draws an instance, replays its orders in time order under the myopic policy
(CHEAPEST on the stock left) and under look-ahead routing with each forecast, and solves the
hindsight MIP (:mod:`omniroute.evaluation`). The gap closed by a policy is
``(myopic - policy) / (myopic - H)`` with ``H`` the hindsight cost (a proven lower bound on
it when HiGHS does not prove it in time or an order's rule is a relaxation: the gap closed
is then an underestimate). Reported: its mean over the replications with a 95% confidence
interval (Student's t), per setting and forecast.

Settings:

* ``demo``: batches of demo orders with the stock of every SKU they want cut to ``ratio`` x
  their demand (``benchmarks.joint_bench.scarce_batch``), ratios 0.8, 1.0 and 1.5.
* ``jasin-sinha``: the Jasin & Sinha (2015) setting rebuilt by ``benchmarks.jasin_sinha``
  (99 US cities, 10 centres, 100 items, stock ``T·λ + 0.5·σ`` at the closest carrying
  centre), with fewer orders per replication than the paper so that hindsight is proven.

Forecasts: ``true`` (demo: the orders' own rates per (region, SKU, order class) and per
store, and the orders themselves as baskets, each at one per replay span; Jasin-Sinha: the
generator's rates, and as baskets an independent sample of ``JS_BASKET_DRAWS`` times as many
orders from the generator, each at its share of the orders per day), ``estimated`` (from an
independent batch of the same generator, smoothed and shrunk toward the overall split as
``estimate_forecast`` does, its orders the baskets) and ``biased+30`` / ``biased-30`` (the
true rates times 1.3 and 0.7).

``--model baskets`` (the default) prices stock from the forecasts' baskets
(:func:`omniroute.lookahead.basket_costs`), ``--model units`` from their rates per SKU alone.

``python -m benchmarks.lookahead_bench [--replications N] [--settings ...] [--model M] [--out DIR]``
prints a JSON summary on stdout and a table on stderr and writes ``DIR/lookahead.json`` and
``DIR/lookahead.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import jasin_sinha
from benchmarks.joint_bench import scarce_batch
from omniroute.evaluation import (
    default_lost_sale,
    default_regions,
    hindsight,
    merged,
    myopic,
    perfect_forecast,
    replay,
    replay_clock,
)
from omniroute.lookahead import (
    BASKET_THETA,
    DEFAULT_THETA,
    Basket,
    DemandForecast,
    DemandRegion,
    LookaheadPolicy,
    OnlineKey,
    OrderClass,
    estimate_forecast,
)
from omniroute.model import Location, Network, Order
from omniroute.network_index import NetworkIndex

RESULTS = Path(__file__).parent / "results"
# Student's t 0.975 quantiles for 1-30 degrees of freedom (beyond: the normal's 1.96)
T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip
SETTINGS = {
    "demo-0.8": ("demo", 0.8),
    "demo-1.0": ("demo", 1.0),
    "demo-1.5": ("demo", 1.5),
    "jasin-sinha": ("jasin-sinha", 0.0),
}
FORECASTS = ("true", "estimated", "biased+30", "biased-30")
DEMO_ORDERS = 200
JS_ORDERS = 300
JS_BASKET_DRAWS = 2  # the true forecast's baskets: this many times the replay's orders
HINDSIGHT_SECONDS = 120.0


def instance(
    setting: str, seed: int
) -> tuple[Network, list[Order], DemandForecast, DemandForecast, float]:
    """The network, the orders, the true and the estimated forecast (rates per day) and the
    lost-sale cost of one replication."""
    kind, ratio = SETTINGS[setting]
    if kind == "demo":
        network, orders = scarce_batch(seed, DEMO_ORDERS, ratio)
        _, history = scarce_batch(seed + 10_000, DEMO_ORDERS, ratio)
        index = NetworkIndex(network)
        regions = default_regions(index, orders)
        span, _ = replay_clock(merged(orders, []), None)
        true = perfect_forecast(index, regions, orders, span)
        history_span, _ = replay_clock(merged(history, []), None)
        estimated = estimate_forecast(history, index, regions, span, history_span)
        return network, orders, true, estimated, default_lost_sale(index, regions, orders)
    setting_ = jasin_sinha.Setting(orders=JS_ORDERS, seed=seed)
    network, orders, rates = jasin_sinha.instance(setting_)
    _, history, _ = jasin_sinha.instance(jasin_sinha.Setting(orders=JS_ORDERS, seed=seed + 10_000))
    cities = tuple(DemandRegion(name, centre) for name, centre in _city_centres().items())
    online: dict[OnlineKey, float] = {}
    for key, rate in rates.items():
        city, item = key.split("|")
        if rate > 0:
            online[(city, item, OrderClass())] = rate
    # the true basket distribution, sampled: orders of an independent draw of the generator
    # (the orders do not depend on the network), each at its share of the orders per day
    days = setting_.horizon_days * JS_BASKET_DRAWS
    _, draws, _ = jasin_sinha.instance(
        jasin_sinha.Setting(
            orders=JS_ORDERS * JS_BASKET_DRAWS, horizon_days=days, seed=seed + 20_000
        )
    )
    baskets = tuple(Basket(order, 1 / days) for order in draws)
    true = DemandForecast(setting_.horizon_days, cities, online, baskets=baskets)
    index = NetworkIndex(network)
    estimated = estimate_forecast(history, index, cities, setting_.horizon_days,
                                  setting_.horizon_days)  # fmt: skip
    return network, orders, true, estimated, jasin_sinha.lost_sale_cost(network)


def _city_centres() -> dict[str, Location]:
    from omniroute.demo_data import _places

    return {c.name: Location(c.latitude, c.longitude) for c in _places("US")[:99]}


def replication(task: tuple[str, int, float, tuple[str, ...], int, str]) -> dict[str, Any]:
    """One replication of one setting: every policy's total cost, H and the gaps closed."""
    setting, seed, theta, wanted, refreshes, model = task
    network, orders, true, estimated, lost = instance(setting, seed)
    lost_costs = {sku.id: lost for sku in network.skus}
    every = {
        "true": true,
        "estimated": estimated,
        "biased+30": true.over(true.horizon_days, 1.3),
        "biased-30": true.over(true.horizon_days, 0.7),
    }
    forecasts = {name: every[name] for name in wanted}
    _, remaining = replay_clock(merged(orders, []), true)
    started = time.perf_counter()
    base = replay(network, orders, myopic, lost)
    totals = {"myopic": base.total_cost}
    lost_units = {"myopic": base.lost_units}
    for name, forecast in forecasts.items():
        forecast = replace(
            forecast,
            lost_sale_cost=lost_costs,
            baskets=forecast.baskets if model == "baskets" else (),
        )
        policy = LookaheadPolicy(forecast, remaining, theta, max(1, len(orders) // refreshes))
        run = replay(network, orders, policy, lost)
        totals[name] = run.total_cost
        lost_units[name] = run.lost_units
    seen = hindsight(network, orders, lost, HINDSIGHT_SECONDS)
    best = seen.best_known
    room = base.total_cost - best
    return {
        "setting": setting,
        "seed": seed,
        "orders": len(orders),
        "lostSaleCost": lost,
        "totalCost": totals,
        "lostUnits": lost_units,
        "hindsightCost": best,
        "hindsightProven": seen.proven and seen.exact_rule,
        "clairvoyantLowerBound": seen.lower_bound,
        "gapClosed": {
            name: (base.total_cost - total) / room if room > 1e-9 else None
            for name, total in totals.items()
            if name != "myopic"
        },
        "seconds": time.perf_counter() - started,
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean gap closed and its 95% confidence interval per setting and forecast."""
    out: dict[str, Any] = {}
    for setting in dict.fromkeys(r["setting"] for r in rows):
        mine = [r for r in rows if r["setting"] == setting]
        entry: dict[str, Any] = {
            "replications": len(mine),
            "hindsightProven": sum(r["hindsightProven"] for r in mine),
            "meanMyopicToHindsight": float(
                np.mean(
                    [
                        (r["totalCost"]["myopic"] - r["hindsightCost"]) / r["totalCost"]["myopic"]
                        for r in mine
                    ]
                )  # fmt: skip
            ),
        }
        for name in FORECASTS:
            values = np.array([r["gapClosed"][name] for r in mine
                               if r["gapClosed"].get(name) is not None])  # fmt: skip
            if len(values) == 0:
                continue
            mean = float(values.mean())
            half = (
                float(_t975(len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values)))
                if len(values) > 1
                else math.nan
            )
            low, high = (mean - half, mean + half) if math.isfinite(half) else (None, None)
            entry[name] = {"mean": mean, "low": low, "high": high, "n": len(values)}
        out[setting] = entry
    return out


def _t975(df: int) -> float:
    return T975[df - 1] if df <= len(T975) else 1.96


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Look-ahead routing: gap closed between myopic routing and hindsight",
        "",
        f"Run {result['started']} on {result['machine']}, Python {result['python']}. "
        f"Command: `{result['command']}`. λ from {result.get('model', 'units')}, "
        f"theta = {result['theta']}; λ refreshed "
        f"{result.get('refreshes', 50)} times "
        "per replay; hindsight MIP limit "
        f"{HINDSIGHT_SECONDS:.0f} s (H is a lower bound where not proven, so the gap closed "
        "is then an underestimate).",
        "",
        "Gap closed = (myopic - look-ahead) / (myopic - H), mean over replications with a 95% "
        "confidence interval.",
        "",
        "| setting | replications | H proven | myopic over H (%) | "
        + " | ".join(f"forecast {f}" for f in FORECASTS)
        + " |",
        "|:---|---:|---:|---:|" + "---:|" * len(FORECASTS),
    ]
    for setting, entry in result["summary"].items():
        cells = []
        for name in FORECASTS:
            if name not in entry:
                cells.append("-")
                continue
            e = entry[name]
            interval = f" [{e['low']:.3f}, {e['high']:.3f}]" if e["low"] is not None else ""
            cells.append(f"{e['mean']:.3f}{interval}")
        lines.append(
            f"| {setting} | {entry['replications']} | {entry['hindsightProven']} | "
            f"{100 * entry['meanMyopicToHindsight']:.2f} | " + " | ".join(cells) + " |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.lookahead_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--replications", type=int, default=20, help="per setting (default 20)")
    parser.add_argument(
        "--settings", nargs="+", choices=sorted(SETTINGS), default=list(SETTINGS),
        help="settings to run (default: all)",
    )  # fmt: skip
    parser.add_argument(
        "--forecasts", nargs="+", choices=FORECASTS, default=list(FORECASTS),
        help="forecasts to route with (default: all)",
    )  # fmt: skip
    parser.add_argument("--name", default="lookahead", help="output file name (default lookahead)")
    parser.add_argument(
        "--model", choices=("baskets", "units"), default="baskets",
        help="λ from the forecasts' baskets (default) or from their rates per SKU",
    )  # fmt: skip
    parser.add_argument(
        "--theta", type=float,
        help=f"weight of λ (default {BASKET_THETA:g} with baskets, {DEFAULT_THETA:g} with units)",
    )  # fmt: skip
    parser.add_argument(
        "--refreshes", type=int, default=50, help="λ computations per replay (default 50)"
    )
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args(argv)
    command = "python -m benchmarks.lookahead_bench " + " ".join(argv or sys.argv[1:])
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    theta = args.theta
    if theta is None:
        theta = BASKET_THETA if args.model == "baskets" else DEFAULT_THETA
    tasks = [
        (s, seed, theta, tuple(args.forecasts), args.refreshes, args.model)
        for s in args.settings
        for seed in range(1, args.replications + 1)
    ]
    rows: list[dict[str, Any]] = []
    with Pool(args.processes) as pool:
        for row in pool.imap_unordered(replication, tasks):
            rows.append(row)
            gaps = ", ".join(
                f"{k} {v:.3f}" if v is not None else f"{k} -" for k, v in row["gapClosed"].items()
            )
            print(f"[{len(rows)}/{len(tasks)}] {row['setting']} seed {row['seed']}: {gaps}",
                  file=sys.stderr)  # fmt: skip
    rows.sort(key=lambda r: (r["setting"], r["seed"]))
    result = {
        "started": started,
        "command": command.strip(),
        "machine": f"{platform.processor() or platform.machine()}",
        "python": platform.python_version(),
        "theta": theta,
        "model": args.model,
        "refreshes": args.refreshes,
        "replications": rows,
        "summary": summarise(rows),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / f"{args.name}.md").write_text(markdown(result))
    print(markdown(result), file=sys.stderr)
    print(json.dumps(result["summary"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
