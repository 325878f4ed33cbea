"""The benchmark suite: throughput and latency under peak order rates against the machine's
own ceiling, and plan quality. ``make bench`` (full, about 20-30 minutes), ``make bench-quick``
(shorter steps, about 5-9 minutes) or ``python -m benchmarks.suite --help``.

1. Starts omniroute (``serve``, one worker process per core, the demo network) and the
   no-op ceiling service (same stack, same process model, same message sizes).
2. Capacity search, per service and mode: offer an open-loop Poisson load, step the rate up
   until p99 exceeds the SLO or any call fails or is shed (a server that falls behind an
   open-loop load shows it as latency); the highest passing rate is the sustainable
   throughput. Omniroute's is reported as a ratio of the ceiling's measured with the same
   client shape. Modes with several client processes and channels: unary PlanOrder,
   StreamPlanOrders (a stream per channel), PlanOrder with reserve. Modes with one client
   process and one channel (the client most integrators write): one-channel unary PlanOrder
   and one StreamPlanOrders stream (also as a ratio of omniroute's one-channel unary rate);
   then p99 at 50 calls/s over one channel, the ceiling and omniroute in turn.
3. Peak day: a compressed Black-Friday profile (base, ramp to 1.5x the sustainable rate,
   hold, ramp down) against omniroute: latency and throughput over time, errors and shed
   calls, and the server's memory.
4. Quality: the engine benchmark (cost, split rate, delivery days, proof rate) against the
   baseline and the naive exact peer.

Writes ``suite.json``, ``suite.md`` and PNG plots to ``benchmarks/results/`` (or ``--out``).
Targets are recorded, not asserted. ``--replot`` measures nothing: it rewrites ``suite.md`` and
redraws the plots from the ``suite.json`` in ``--out``; ``--readme`` also rewrites the README's
marked results table from the results.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import engine_bench
from benchmarks.harness import wait_planning
from benchmarks.loadgen import CHANNELS_PER_PROCESS, LoadResult, merge, run_load
from omniroute.demo_data import demo_dataset
from omniroute.files import write_network
from omniroute.planner import Planner
from omniroute.server.client import OmnirouteClient
from omniroute.server.convert import result_to_proto
from omniroute.server.launch import serve_command, stop
from omniroute.server.process import free_port

RESULTS = Path(__file__).parent / "results"
README = Path(__file__).parents[1] / "README.md"
MODES = {
    # step seconds, first rate, growth factor, most steps, peak-day seconds, engine orders
    "smoke": (1.0, 40.0, 2.5, 2, 6.0, 300),
    "quick": (3.0, 200.0, 1.6, 10, 24.0, 2000),
    "full": (8.0, 150.0, 1.25, 25, 90.0, 20_000),
}
# p99 at a light load, one channel: the rate, and per mode the rounds (each a step of the
# mode's length against the ceiling, then against omniroute) pooled per service
LOW_RATE = 50.0
LOW_ROUNDS = {"smoke": 1, "quick": 2, "full": 3}
# the targets, recorded beside the measurements (not asserted)
TARGETS = {
    "unary": 0.5,  # of the ceiling, many channels
    "stream": 0.5,
    "reserve": 0.3,
    "one_channel_unary": 0.5,  # of the one-channel ceiling
    "one_stream_vs_one_channel_unary": 3.0,  # one stream against one channel's unary rate
    "low_load_p99_ratio": 2.0,  # at most, omniroute's p99 at 50 calls/s over the no-op's
}
# the capacity searches: label -> (service, load generator mode, client shape)
SEARCHES = (
    ("ceiling unary", "ceiling", "unary", "many"),
    ("omniroute unary", "omniroute", "unary", "many"),
    ("ceiling stream", "ceiling", "stream", "many"),
    ("omniroute stream", "omniroute", "stream", "many"),
    ("omniroute reserve", "omniroute", "reserve", "many"),
    ("ceiling one-channel unary", "ceiling", "unary", "one"),
    ("omniroute one-channel unary", "omniroute", "unary", "one"),
    ("ceiling one stream", "ceiling", "stream", "one"),
    ("omniroute one stream", "omniroute", "stream", "one"),
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def start(command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def capacity_search(
    label: str,
    port: int,
    mode: str,
    requests: list[bytes],
    slo_ms: float,
    settings: tuple,
    processes: int,
    channels: int = CHANNELS_PER_PROCESS,
) -> list[dict[str, Any]]:
    """Step the offered rate up from the mode's first rate until a step fails twice in a row
    (``processes`` client processes with ``channels`` channels each; in stream mode one
    stream per channel)."""
    step, rate, factor, most = settings[:4]
    steps: list[dict[str, Any]] = []
    retried = False
    while len(steps) < most:
        result = run_load(
            f"localhost:{port}",
            mode,
            requests,
            rate,
            step,
            processes=processes,
            seed=len(steps),
            tag=label.replace(" ", ""),
            channels=channels,
        )
        summary = result.summary()
        # open loop: a server that falls behind shows it as latency, so the SLO and zero
        # failures are the whole criterion
        summary["passed"] = (
            summary["p99_ms"] <= slo_ms and summary["errors"] == 0 and summary["shed"] == 0
        )
        steps.append(summary)
        log(
            f"{label}: offered {rate:,.0f}/s achieved {summary['achieved_rate']:,.0f}/s "
            f"p99 {summary['p99_ms']:.1f} ms errors {summary['errors']} shed {summary['shed']}"
        )
        if not summary["passed"]:
            if retried:
                break
            # one retry of a failed rate: a single noisy step on a shared machine should not
            # end the search (both attempts are reported)
            retried = True
            continue
        retried = False
        rate *= factor
    return steps


def sustainable(steps: list[dict[str, Any]]) -> float:
    return max((s["offered_rate"] for s in steps if s["passed"]), default=0.0)


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def low_load(
    ports: dict[str, int], requests: list[bytes], seconds: float, rounds: int
) -> dict[str, Any]:
    """p50/p99 at LOW_RATE calls/s over one channel, the ceiling and omniroute in turn for
    ``rounds`` rounds, pooled per service: what a light load sees beyond gRPC's own cost."""
    parts: dict[str, list[LoadResult]] = {name: [] for name in ports}
    for round_ in range(rounds):
        for name, port in ports.items():
            parts[name].append(
                run_load(
                    f"localhost:{port}",
                    "unary",
                    requests,
                    LOW_RATE,
                    seconds,
                    processes=1,
                    channels=1,
                    seed=500 + round_,
                    tag=f"low{name}",
                )
            )
    out: dict[str, Any] = {"rate": LOW_RATE, "seconds": seconds, "rounds": rounds}
    for name, results in parts.items():
        summary = merge(results).summary()
        out[name] = {k: summary[k] for k in ("calls", "errors", "p50_ms", "p99_ms", "max_ms")}
        log(
            f"{name} one channel at {LOW_RATE:.0f}/s: p50 {summary['p50_ms']:.2f} ms "
            f"p99 {summary['p99_ms']:.2f} ms"
        )
    out["p99_ratio"] = ratio(out["omniroute"]["p99_ms"], out["ceiling"]["p99_ms"])
    out["p50_ratio"] = ratio(out["omniroute"]["p50_ms"], out["ceiling"]["p50_ms"])
    return out


def server_pids(parent: int) -> list[int]:
    pids = [parent]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == parent:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return pids


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def peak_day(
    port: int,
    server: subprocess.Popen[bytes],
    requests: list[bytes],
    rate: float,
    seconds: float,
    slo_ms: float,
    processes: int,
) -> tuple[dict[str, Any], LoadResult, list]:
    """Base 30%, ramp to 150% of the sustainable rate, hold, ramp down, base."""
    unit = seconds / 6
    profile = [(unit, 0.3 * rate)]
    profile += [(unit / 3, rate * f) for f in (0.6, 1.0, 1.3)]
    profile += [(2 * unit, 1.5 * rate)]
    profile += [(unit / 3, rate * f) for f in (1.3, 1.0, 0.6)]
    profile += [(unit, 0.3 * rate)]
    pids = server_pids(server.pid)
    memory: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        begin = time.monotonic()
        while not done.is_set():
            memory.append((time.monotonic() - begin, rss_mb(pids)))
            done.wait(0.5)

    sampler = threading.Thread(target=sample)
    sampler.start()
    result = run_load(
        f"localhost:{port}",
        "unary",
        requests,
        rate,
        seconds,
        processes=processes,
        profile=profile,
        seed=99,
        tag="peak",
    )
    done.set()
    sampler.join()
    held = [
        lat for t, lat, code in result.timeline if code == "OK" and 2.0 * unit <= t <= 4.0 * unit
    ]
    held.sort()
    p99_hold = held[int(0.99 * (len(held) - 1))] * 1000 if held else 0.0
    summary = result.summary()
    summary.update(
        {
            "sustainable_rate": rate,
            "peak_rate": 1.5 * rate,
            "profile": profile,
            "p99_during_peak_ms": p99_hold,
            "slo_ms": slo_ms,
            "memory_mb_start": memory[0][1] if memory else 0.0,
            "memory_mb_end": memory[-1][1] if memory else 0.0,
            "memory_mb_max": max((m for _, m in memory), default=0.0),
        }
    )
    return summary, result, memory


# One colour per service (kept in both panels), one line style per percentile.
SERVICE_COLOURS = {
    "ceiling unary": "#555555",
    "ceiling stream": "#555555",
    "omniroute unary": "#1f77b4",
    "omniroute stream": "#1f77b4",
    "omniroute reserve": "#d62728",
    "ceiling one-channel unary": "#555555",
    "omniroute one-channel unary": "#1f77b4",
    "ceiling one stream": "#aaaaaa",
    "omniroute one stream": "#2ca02c",
}
NAMES = {
    "ceiling unary": "no-op ceiling",
    "ceiling stream": "no-op ceiling",
    "omniroute unary": "omniroute",
    "omniroute stream": "omniroute",
    "omniroute reserve": "omniroute with reserve",
    "ceiling one-channel unary": "no-op, unary",
    "omniroute one-channel unary": "omniroute, unary",
    "ceiling one stream": "no-op, one stream",
    "omniroute one stream": "omniroute, one stream",
}
PANELS = (
    (
        "unary calls (PlanOrder), many channels",
        ("ceiling unary", "omniroute unary", "omniroute reserve"),
    ),
    ("StreamPlanOrders, a stream per channel", ("ceiling stream", "omniroute stream")),
    (
        "one channel: PlanOrder, one StreamPlanOrders stream",
        (
            "ceiling one-channel unary",
            "omniroute one-channel unary",
            "ceiling one stream",
            "omniroute one stream",
        ),
    ),
)


def retried(steps: list[dict[str, Any]]) -> list[bool]:
    """For each step of a capacity search: whether it was a failed first attempt that the search
    tried once more at the same rate (the next step), so that only the retry counts."""
    return [
        i + 1 < len(steps) and steps[i + 1]["offered_rate"] == step["offered_rate"]
        for i, step in enumerate(steps)
    ]


def pyplot() -> Any:
    """matplotlib's pyplot, off screen, imported only to plot: the load generator's client
    processes are spawned, and each imports this module again (all that it imports at the
    top) before its step starts, once a step per client process."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_latency(ladders: dict[str, list[dict[str, Any]]], slo_ms: float, path: Path) -> None:
    """Latency against offered load, one panel per call type, log-scaled axes: p99 (solid, one
    point per offered rate: the attempt the search kept) and p50 (dashed) per service, a failed
    first attempt that was retried as a hollow marker, the sustainable rate as a star. The
    one-channel panel only when the results have its modes."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, NullFormatter

    plt = pyplot()
    panels = [(title, labels) for title, labels in PANELS if any(ladders.get(x) for x in labels)]
    figure, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 5.4), sharey=True)
    for axis, (title, labels) in zip(axes, panels, strict=True):
        found: list[tuple[str, float, str]] = []
        for label in labels:
            steps = ladders.get(label, [])
            if not steps:
                continue
            colour = SERVICE_COLOURS.get(label, "#2ca02c")
            again = retried(steps)
            kept = [s for s, first in zip(steps, again, strict=True) if not first]
            rates = [s["offered_rate"] for s in kept]
            axis.plot(rates, [s["p99_ms"] for s in kept], marker="o", markersize=4, color=colour)
            axis.plot(
                rates,
                [s["p50_ms"] for s in kept],
                linestyle="--",
                linewidth=1,
                color=colour,
                alpha=0.7,
            )
            firsts = [s for s, first in zip(steps, again, strict=True) if first]
            axis.scatter(
                [s["offered_rate"] for s in firsts],
                [s["p99_ms"] for s in firsts],
                facecolors="none",
                edgecolors=colour,
                s=40,
                zorder=3,
            )
            best = sustainable(steps)
            if best:
                at = next(s for s in reversed(kept) if s["passed"] and s["offered_rate"] == best)
                axis.scatter(
                    [best],
                    [at["p99_ms"]],
                    marker="*",
                    s=180,
                    color=colour,
                    zorder=4,
                    edgecolors="black",
                    linewidths=0.5,
                )
                found.append((NAMES.get(label, label), best, colour))
        # the sustainable rates in the panel's empty upper left corner, coloured like their lines
        axis.text(0.02, 0.96, "sustainable (star):", transform=axis.transAxes, fontsize=8, va="top")
        for row, (name, best, colour) in enumerate(found, start=1):
            axis.text(
                0.02,
                0.96 - 0.055 * row,
                f"{name} {best:,.0f} calls/s",
                transform=axis.transAxes,
                fontsize=8,
                va="top",
                color=colour,
            )
        axis.axhline(slo_ms, color="red", linewidth=1)
        axis.text(
            0.01,
            slo_ms * 1.1,
            f"SLO: p99 \u2264 {slo_ms:.0f} ms",
            color="red",
            fontsize=8,
            transform=axis.get_yaxis_transform(),
        )
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.0f}"))
        axis.xaxis.set_minor_formatter(
            FuncFormatter(lambda x, _: f"{x:,.0f}" if f"{x:.0e}"[0] in "25" else "")
        )
        axis.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:,g}"))
        axis.yaxis.set_minor_formatter(NullFormatter())
        # at least 0.5 ms to 20x the SLO, so the rate list has room above the SLO line
        low, high = axis.get_ylim()
        axis.set_ylim(min(low, 0.5), max(high, 20 * slo_ms))
        axis.tick_params(axis="x", which="minor", labelsize=8)
        axis.set_title(title)
        axis.set_xlabel("offered load (calls/s, log scale)")
        axis.grid(True, which="major", alpha=0.3)
        axis.grid(True, which="minor", axis="x", alpha=0.1)
    axes[0].set_ylabel("latency (ms, log scale; from the intended send time)")
    figure.suptitle("Latency against offered load (open-loop Poisson arrivals)")
    legend = [
        Line2D([], [], color=SERVICE_COLOURS["ceiling unary"], lw=2, label="no-op ceiling"),
        Line2D([], [], color=SERVICE_COLOURS["omniroute unary"], lw=2, label="omniroute"),
        Line2D(
            [],
            [],
            color=SERVICE_COLOURS["omniroute reserve"],
            lw=2,
            label="omniroute PlanOrder with reserve",
        ),
        Line2D([], [], color="black", marker="o", markersize=4, label="p99 (solid)"),
        Line2D([], [], color="black", linestyle="--", linewidth=1, label="p50 (dashed)"),
        Line2D(
            [],
            [],
            color="black",
            marker="o",
            markerfacecolor="none",
            linestyle="none",
            label="p99 of a failed first attempt (retried at that rate)",
        ),
        Line2D(
            [],
            [],
            color="#888888",
            marker="*",
            markersize=12,
            markeredgecolor="black",
            linestyle="none",
            label="sustainable rate (highest within the SLO)",
        ),
        Line2D([], [], color="red", lw=1, label=f"SLO: p99 \u2264 {slo_ms:.0f} ms"),
    ]
    if len(panels) == 3:
        legend[2:2] = [
            Line2D(
                [],
                [],
                color=SERVICE_COLOURS["omniroute one stream"],
                lw=2,
                label="omniroute, one stream",
            ),
            Line2D(
                [], [], color=SERVICE_COLOURS["ceiling one stream"], lw=2, label="no-op, one stream"
            ),
        ]
    figure.legend(
        handles=legend, loc="lower center", ncol=len(panels) + 2, fontsize=8, frameon=False
    )
    figure.tight_layout(rect=(0, 0.09, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)


def hold_window(profile: list) -> tuple[float, float]:
    """The peak-day hold (the profile's highest-rate segment) as (start, end) seconds."""
    start, best = 0.0, (0.0, 0.0, -1.0)
    for seconds, rate in profile:
        if rate > best[2]:
            best = (start, start + seconds, rate)
        start += seconds
    return best[0], best[1]


def peak_series(result: LoadResult, memory: list) -> dict[str, Any]:
    """Per second of the peak day (by intended send time): calls completed, calls shed and the
    p99 of that second's completed calls; and the server's memory samples. Kept in suite.json
    so that ``--replot`` can draw the peak-day plot again."""
    seconds = int(result.duration) + 1
    ok, shed = [0] * seconds, [0] * seconds
    buckets: list[list[float]] = [[] for _ in range(seconds)]
    for t, latency, code in result.timeline:
        second = min(seconds - 1, max(0, int(t)))
        if code == "OK":
            ok[second] += 1
            buckets[second].append(latency * 1000)
        elif code == "RESOURCE_EXHAUSTED":
            shed[second] += 1
    p99: list[float | None] = []
    for bucket in buckets:
        bucket.sort()
        p99.append(round(bucket[int(0.99 * (len(bucket) - 1))], 3) if bucket else None)
    return {
        "completed_per_s": ok,
        "shed_per_s": shed,
        "p99_ms_per_s": p99,
        "memory_mb": [[round(t, 2), round(mb, 1)] for t, mb in memory],
    }


def plot_peak(peak: dict[str, Any], path: Path) -> bool:
    """The peak-day plot from ``peak`` (suite.json's ``peak_day``, with its per-second
    ``series``): offered and completed calls per second, latency (each second's p99 and the p99
    over the whole hold, the figure the summary reports) and server memory. False, and nothing
    written, when the results carry no per-second series (runs before it was kept)."""
    series = peak.get("series")
    if not series:
        return False
    slo_ms = peak["slo_ms"]
    hold = tuple(peak.get("hold_s") or hold_window(peak["profile"]))
    # a second's figures belong to the middle of that second
    middle_of = [second + 0.5 for second in range(len(series["completed_per_s"]))]
    figure = pyplot().figure(figsize=(12, 9.5))
    grid = figure.add_gridspec(3, 1, height_ratios=[3, 3, 2])
    top = figure.add_subplot(grid[0])
    middle = figure.add_subplot(grid[1], sharex=top)
    bottom = figure.add_subplot(grid[2])
    for axis in (top, middle):
        axis.axvspan(*hold, color="#f2d0a0", alpha=0.35, linewidth=0)
    for axis in (top, middle, bottom):
        axis.grid(True, alpha=0.3)
    steps_x, steps_y, start = [], [], 0.0
    for length, rate in peak["profile"]:
        steps_x += [start, start + length]
        steps_y += [rate, rate]
        start += length
    top.plot(steps_x, steps_y, color="#888888", linestyle="--", label="offered")
    top.plot(middle_of, series["completed_per_s"], color="#1f77b4", label="completed")
    top.plot(middle_of, series["shed_per_s"], color="#d62728", label="shed (RESOURCE_EXHAUSTED)")
    top.set_ylabel("calls per second")
    top.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    top.text(
        (hold[0] + hold[1]) / 2,
        0.12,
        f"the hold: {peak['peak_rate']:,.0f} calls/s offered",
        ha="center",
        fontsize=8,
        transform=top.get_xaxis_transform(),
    )
    p99 = [float("nan") if v is None else v for v in series["p99_ms_per_s"]]
    middle.plot(
        middle_of, p99, color="#e0a070", linewidth=1, label="p99 of each second's\ncompleted calls"
    )
    middle.hlines(
        peak["p99_during_peak_ms"],
        *hold,
        color="#1f4e79",
        linewidth=3,
        label=f"p99 of all completed calls\nin the hold: {peak['p99_during_peak_ms']:.1f} ms\n"
        "(the figure reported)",
    )
    middle.axhline(
        2 * slo_ms,
        color="red",
        linewidth=1,
        label=f"target for the hold's p99:\n2 x SLO = {2 * slo_ms:.0f} ms",
    )
    middle.axhline(slo_ms, color="red", linewidth=0.8, linestyle=":", label=f"SLO {slo_ms:.0f} ms")
    if max((v for v in p99 if v == v), default=0.0) > 8 * slo_ms:
        middle.set_yscale("log")  # an overloaded run's seconds would flatten everything else
    middle.set_ylabel("latency (ms, from the intended send time)")
    middle.set_xlabel("seconds since the load started (shaded: the hold)")
    middle.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    memory = series["memory_mb"]
    bottom.plot([t for t, _ in memory], [m for _, m in memory], color="#707")
    bottom.set_ylim(0, 1.15 * max((m for _, m in memory), default=1.0))  # from 0: flat is flat
    bottom.set_ylabel("server resident\nmemory (MB)")
    bottom.set_xlabel(
        "seconds since memory sampling began (it starts before the load generator's processes "
        "and ends after them)"
    )
    top.set_title(
        f"Peak day (compressed): 30% of the sustainable {peak['sustainable_rate']:,.0f} calls/s, "
        "ramp to 150%, hold, ramp down"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot().close(figure)
    return True


# the engine benchmark's peers in plain words
PEER_NAMES = {
    "omniroute": "omniroute (CHEAPEST)",
    "baseline": "rule-based baseline",
    "naive-cp-sat": "naive exact peer (one CP-SAT model per order)",
    "omniroute-on-naive-sample": "omniroute on the naive peer's sample",
}


def markdown(result: dict[str, Any]) -> str:
    """suite.md: the run's results as readable tables, from suite.json's contents."""
    m = result["machine"]
    factor = MODES.get(result["mode"], MODES["full"])[2]
    lines = [
        "# Benchmark suite",
        "",
        f"Run {result['started']} ({result['mode']} mode) on {m['cpu']}, {m['cores']} cores, shared "
        f"by the server ({result['workers']} worker processes) and the load generator "
        f"({result['client_processes']} client processes). SLO: p99 <= {result['slo_ms']:.0f} ms. "
        "Open-loop Poisson arrivals, latency from the intended send time, HdrHistogram. "
        f"Command: `{result['command']}`.",
        "",
        "## Sustainable throughput",
        "",
        "The highest offered rate whose step stayed within the SLO with no failed or shed call. "
        f"The offered rate grows by {factor:g}x a step, so the true limit lies between this rate "
        "and the next step's.",
        "",
        "| service / mode | sustainable calls/s | ratio to its ceiling | target |",
        "|---|---:|---:|---|",
    ]
    r = result["ratios"]
    s = result["sustainable"]
    lines += [
        f"| ceiling (no-op), unary | {s['ceiling unary']:,.0f} | 1.00 | |",
        f"| omniroute PlanOrder, unary | {s['omniroute unary']:,.0f} | {r['unary']:.2f} | >= 0.50 |",
        f"| ceiling (no-op), stream | {s['ceiling stream']:,.0f} | 1.00 | |",
        f"| omniroute StreamPlanOrders | {s['omniroute stream']:,.0f} | {r['stream']:.2f} | >= 0.50 |",
        f"| omniroute PlanOrder with reserve | {s['omniroute reserve']:,.0f} | {r['reserve']:.2f} (of unary ceiling) | >= 0.30 |",
        "",
    ]
    if "low_load" in result:
        lines += one_channel_markdown(result)
    lines += [
        "## Capacity search",
        "",
        "Every step in order. A step that failed is tried once more at the same rate; the first "
        'attempt is listed as "no, retried" and only the retry counts (the plot shows it as a '
        "hollow marker).",
        "",
        "| service / mode | offered calls/s | achieved calls/s | p50 (ms) | p95 (ms) | p99 (ms) | p99.9 (ms) | errors | shed | within SLO |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for label, steps in result["ladders"].items():
        for step, again in zip(steps, retried(steps), strict=True):
            verdict = "yes" if step["passed"] else "no, retried" if again else "no"
            lines.append(
                f"| {label} | {step['offered_rate']:,.0f} | {step['achieved_rate']:,.0f} | "
                f"{step['p50_ms']:.2f} | {step['p95_ms']:.2f} | {step['p99_ms']:.2f} | "
                f"{step['p999_ms']:.2f} | {step['errors']} | {step['shed']} | {verdict} |"
            )
    p = result["peak_day"]
    hold = tuple(p.get("hold_s") or hold_window(p["profile"]))
    series = p.get("series")
    if series:
        in_hold = f"{sum(series['completed_per_s'][int(hold[0]) : int(hold[1])]):,}"
    else:
        in_hold = f"about {round(p['peak_rate'] * (hold[1] - hold[0]), -2):,.0f}"
    lines += [
        "",
        "![latency against load](latency_vs_load.png)",
        "",
        "## Peak day",
        "",
        f"Base 30%, ramp to {p['peak_rate']:,.0f} calls/s (1.5x the sustainable {p['sustainable_rate']:,.0f}/s), "
        f"hold, ramp down; {p['calls']:,} calls: {p['ok']:,} completed, {p['shed']:,} shed with "
        f"RESOURCE_EXHAUSTED, {p['errors']:,} other errors. p99 of completed calls during the peak hold "
        f"(seconds {hold[0]:.0f}-{hold[1]:.0f}): {p['p99_during_peak_ms']:.1f} ms "
        f"(target: at most 2 x SLO = {2 * p['slo_ms']:.0f} ms). Server memory "
        f"{p['memory_mb_start']:.0f} MB at the start, {p['memory_mb_max']:.0f} MB at most, "
        f"{p['memory_mb_end']:.0f} MB at the end.",
        "",
        "![peak day](peak_day.png)",
        "",
        "The plot's latency panel shows the p99 of each second's completed calls (about "
        f"{p['peak_rate']:,.0f} a second in the hold), so a single slow second can rise above "
        "2 x SLO; the target applies to the p99 over all of the hold's completed calls "
        f"({in_hold}), the {p['p99_during_peak_ms']:.1f} ms above.",
        "",
        "## Quality (engine benchmark, run by this suite)",
        "",
        "Per order, one core, from the validated order to the reported plan; costs over the "
        "orders every peer in the row's comparison completed (the naive peer: its sample).",
        "",
        "| peer | orders | cost per order (AUD) | proven optimal | split rate | mean delivery days | p50 (ms) | p99 (ms) | orders/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, peer in result["quality"]["peers"].items():
        lat = peer["latency_ms"]
        lines.append(
            f"| {PEER_NAMES.get(name, name)} | {peer['orders']:,} | {peer['cost_per_order']:.2f} | "
            f"{100 * peer['proven_share']:.1f}% | {100 * peer['split_rate']:.1f}% | "
            f"{peer['mean_delivery_days']:.2f} | {lat['p50']:.3f} | {lat['p99']:.2f} | "
            f"{peer['throughput_orders_per_s']:,.0f} |"
        )
    q = result["quality"]
    lines += [
        "",
        f"Saving against the baseline {100 * q['saving_vs_baseline']['share']:.1f}% "
        f"(orders costlier than the baseline: {q['saving_vs_baseline']['orders_costlier_than_baseline']}); "
        f"{q['throughput_ratio_vs_naive']:.1f}x the naive exact peer's throughput at identical costs "
        f"(largest difference {q['naive_sample']['max_cost_difference']:.6f}). "
        "`make bench-engine` (engine.md) measures the same in its own run; compare ratios within "
        "one run.",
    ]
    return "\n".join(lines) + "\n"


def verdict(met: bool) -> str:
    return "met" if met else "not met"


def one_channel_markdown(result: dict[str, Any]) -> list[str]:
    """suite.md's section on the one-channel modes (runs since they were added)."""
    s, r, t, low = result["sustainable"], result["ratios"], result["targets"], result["low_load"]
    many = result["client_shapes"]["many"]
    ceiling, ours = low["ceiling"], low["omniroute"]
    return [
        "The rows above use several client processes and channels "
        f"({many['processes']} processes x {many['channels']} channels; in stream mode one "
        "stream per channel). The rows below use the client most integrators write: one "
        "process, one channel.",
        "",
        "## One channel (what a typical integrator's client sees)",
        "",
        "One client process with one gRPC channel, Poisson arrivals as above: every unary call "
        "goes over that channel's one connection, and in the one-stream mode a single "
        "StreamPlanOrders stream carries every request (written on the open-loop schedule; "
        "each response's latency from its request's intended send time). The ceiling is "
        "measured with the same client shape in the same run.",
        "",
        "| service / mode | sustainable calls/s | ratio | target |",
        "|---|---:|---:|---|",
        f"| ceiling (no-op), one-channel unary | {s['ceiling one-channel unary']:,.0f} | 1.00 | |",
        f"| omniroute PlanOrder, one-channel unary | {s['omniroute one-channel unary']:,.0f} | "
        f"{r['one_channel_unary']:.2f} of its ceiling | >= {t['one_channel_unary']:.2f} of the "
        f"ceiling: {verdict(r['one_channel_unary'] >= t['one_channel_unary'])} |",
        f"| ceiling (no-op), one stream | {s['ceiling one stream']:,.0f} | 1.00 | |",
        f"| omniroute StreamPlanOrders, one stream | {s['omniroute one stream']:,.0f} | "
        f"{r['one_stream']:.2f} of its ceiling; {r['one_stream_vs_one_channel_unary']:.2f}x "
        f"omniroute's one-channel unary | >= {t['one_stream_vs_one_channel_unary']:g}x "
        "one-channel unary: "
        f"{verdict(r['one_stream_vs_one_channel_unary'] >= t['one_stream_vs_one_channel_unary'])} |",
        "",
        f"Latency at a light load: {low['rate']:.0f} calls/s over one channel, {low['rounds']} "
        f"round(s) of {low['seconds']:g} s, the ceiling and omniroute in turn, pooled per service.",
        "",
        f"| one channel, {low['rate']:.0f} calls/s | calls | errors | p50 (ms) | p99 (ms) | max (ms) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| ceiling (no-op) | {ceiling['calls']:,} | {ceiling['errors']} | "
        f"{ceiling['p50_ms']:.2f} | {ceiling['p99_ms']:.2f} | {ceiling['max_ms']:.2f} |",
        f"| omniroute PlanOrder | {ours['calls']:,} | {ours['errors']} | {ours['p50_ms']:.2f} | "
        f"{ours['p99_ms']:.2f} | {ours['max_ms']:.2f} |",
        f"| ratio omniroute / ceiling | | | {low['p50_ratio']:.2f} | {low['p99_ratio']:.2f} "
        f"(target <= {t['low_load_p99_ratio']:g}: "
        f"{verdict(low['p99_ratio'] <= t['low_load_p99_ratio'])}) | |",
        "",
    ]


README_BEGIN = "<!-- suite results: begin (python -m benchmarks.suite --replot --readme) -->"
README_END = "<!-- suite results: end -->"


def readme_block(result: dict[str, Any]) -> str:
    """The README's table of the service under load, made from suite.json (the lines between
    README_BEGIN and README_END)."""
    s, r = result["sustainable"], result["ratios"]
    t = {**TARGETS, **result.get("targets", {})}
    many = result.get("client_shapes", {}).get(
        "many", {"processes": result["client_processes"], "channels": CHANNELS_PER_PROCESS}
    )
    clients = f"{many['processes']} x {many['channels']}"
    rows = [
        f"Run of {result['started'][:10]} ({result['mode']} mode, `{result['command']}`), "
        f"SLO p99 ≤ {result['slo_ms']:.0f} ms.",
        "",
        "| service / mode | client processes x channels | sustainable calls/s | ratio | target |",
        "|---|---|---:|---:|---|",
        f"| no-op ceiling, unary | {clients} | {s['ceiling unary']:,.0f} | 1.00 | |",
        f"| omniroute `PlanOrder` | {clients} | {s['omniroute unary']:,.0f} | "
        f"{r['unary']:.2f} of the ceiling | ≥ {t['unary']:.2f}: {verdict(r['unary'] >= t['unary'])} |",
        f"| no-op ceiling, stream | {clients} (a stream per channel) | {s['ceiling stream']:,.0f} | 1.00 | |",
        f"| omniroute `StreamPlanOrders` | {clients} (a stream per channel) | "
        f"{s['omniroute stream']:,.0f} | {r['stream']:.2f} of the ceiling | "
        f"≥ {t['stream']:.2f}: {verdict(r['stream'] >= t['stream'])} |",
        f"| omniroute `PlanOrder` with `reserve` | {clients} | {s['omniroute reserve']:,.0f} | "
        f"{r['reserve']:.2f} of the unary ceiling | "
        f"≥ {t['reserve']:.2f}: {verdict(r['reserve'] >= t['reserve'])} |",
    ]
    if "low_load" in result:
        low = result["low_load"]
        rows += [
            f"| no-op ceiling, one-channel unary | 1 x 1 | {s['ceiling one-channel unary']:,.0f} | 1.00 | |",
            f"| omniroute `PlanOrder`, one channel | 1 x 1 | "
            f"{s['omniroute one-channel unary']:,.0f} | {r['one_channel_unary']:.2f} of the "
            f"one-channel ceiling | ≥ {t['one_channel_unary']:.2f}: "
            f"{verdict(r['one_channel_unary'] >= t['one_channel_unary'])} |",
            f"| no-op ceiling, one stream | 1 x 1 (one stream) | {s['ceiling one stream']:,.0f} | 1.00 | |",
            f"| omniroute `StreamPlanOrders`, one stream | 1 x 1 (one stream) | "
            f"{s['omniroute one stream']:,.0f} | {r['one_stream']:.2f} of the one-stream "
            f"ceiling; {r['one_stream_vs_one_channel_unary']:.2f}x one-channel `PlanOrder` | "
            f"≥ {t['one_stream_vs_one_channel_unary']:g}x one-channel `PlanOrder`: "
            f"{verdict(r['one_stream_vs_one_channel_unary'] >= t['one_stream_vs_one_channel_unary'])} |",
            "",
            f"p99 at {low['rate']:.0f} calls/s over one channel: omniroute "
            f"{low['omniroute']['p99_ms']:.1f} ms against the no-op's "
            f"{low['ceiling']['p99_ms']:.1f} ms, {low['p99_ratio']:.2f}x (target ≤ "
            f"{t['low_load_p99_ratio']:g}x: {verdict(low['p99_ratio'] <= t['low_load_p99_ratio'])}).",
        ]
    p = result["peak_day"]
    hold = tuple(p.get("hold_s") or hold_window(p["profile"]))
    rows += [
        "",
        f"Peak day at 1.5x the sustainable many-channel `PlanOrder` rate, {p['peak_rate']:,.0f} "
        f"calls/s during the hold ({hold[1] - hold[0]:.0f} s): {p['calls']:,} calls, "
        f"{p['ok']:,} completed, {p['shed']:,} shed, {p['errors']:,} other errors; the p99 over "
        f"all completed calls of the hold is {p['p99_during_peak_ms']:.1f} ms (target ≤ 2x SLO "
        f"= {2 * p['slo_ms']:.0f} ms: {verdict(p['p99_during_peak_ms'] <= 2 * p['slo_ms'])}); "
        f"server memory {p['memory_mb_start']:.0f} MB at the start, "
        f"{p['memory_mb_max']:.0f} MB at most, {p['memory_mb_end']:.0f} MB at the end.",
    ]
    return "\n".join(rows) + "\n"


def update_readme(result: dict[str, Any], readme: Path) -> None:
    """Replace the block between README_BEGIN and README_END in ``readme`` with
    :func:`readme_block`."""
    text = readme.read_text()
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        raise SystemExit(f"{readme} has no block marked {README_BEGIN!r} ... {README_END!r}")
    head = text[: begin + len(README_BEGIN)]
    readme.write_text(f"{head}\n{readme_block(result)}{text[end:]}")
    log(f"rewrote the suite's table in {readme}")


def replot(out: Path, parser: argparse.ArgumentParser, readme: bool = False) -> int:
    """``--replot``: suite.md and the plots again from ``out/suite.json``, without measuring.
    The peak-day plot needs the per-second series that runs keep since it was added; from
    older results it is left as it was."""
    source = out / "suite.json"
    try:
        result = json.loads(source.read_text())
    except FileNotFoundError:
        parser.error(f"--replot: {source} does not exist; run the suite first or pass --out DIR")
    except (OSError, ValueError) as error:
        parser.error(f"--replot: cannot read {source} as suite results: {error}")
    if not isinstance(result, dict) or result.get("benchmark") != "suite":
        parser.error(f"--replot: {source} is not the benchmark suite's results")
    plot_latency(result["ladders"], result["slo_ms"], out / "latency_vs_load.png")
    written = ["latency_vs_load.png"]
    if plot_peak(result["peak_day"], out / "peak_day.png"):
        written.append("peak_day.png")
    else:
        log(
            f"{source} has no per-second peak-day series (an older run): peak_day.png left as it was"
        )
    (out / "suite.md").write_text(markdown(result))
    log(f"wrote {out}/suite.md, " + ", ".join(written) + f" from {source}")
    if readme:
        update_readme(result, README)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.suite",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--mode",
        choices=list(MODES),
        default="full",
        help="full (~20-30 min), quick (~5-9 min) or smoke (~2 min)",
    )
    parser.add_argument(
        "--slo-ms", type=float, default=50.0, help="p99 latency objective (default 50)"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server processes")
    parser.add_argument("--client-processes", type=int, default=2, help="load generator processes")
    parser.add_argument(
        "--max-concurrent",
        type=int,
        default=32,
        help="omniroute's calls in progress per process before shedding (default 32)",
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="results folder (default benchmarks/results)"
    )
    parser.add_argument(
        "--replot",
        action="store_true",
        help="measure nothing: redraw the plots and rewrite suite.md from the suite.json in --out",
    )
    parser.add_argument(
        "--readme",
        action="store_true",
        help="also rewrite the marked table of the service under load in README.md from the "
        "results (of this run, or with --replot of the suite.json in --out)",
    )
    args = parser.parse_args(argv)
    if args.replot:
        return replot(args.out, parser, args.readme)
    settings = MODES[args.mode]
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    log(f"benchmark suite ({args.mode}): generating the demo data")
    network, orders = demo_dataset(seed=7, orders=20_000)
    requests = [OmnirouteClient.plan_request(o).SerializeToString() for o in orders]
    planner = Planner(network)
    sizes = sorted(
        (len(result_to_proto(planner.plan(o)).SerializeToString()), i)
        for i, o in enumerate(orders[:400])
    )
    typical = result_to_proto(planner.plan(orders[sizes[len(sizes) // 2][1]])).SerializeToString()
    result: dict[str, Any] = {
        "benchmark": "suite",
        "mode": args.mode,
        "started": started,
        "slo_ms": args.slo_ms,
        "workers": args.workers,
        "client_processes": args.client_processes,
        "command": "python -m benchmarks.suite " + " ".join(argv or sys.argv[1:]),
        "machine": engine_bench.machine(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        network_file, response_file = Path(tmp) / "network.json", Path(tmp) / "response.bin"
        write_network(network, network_file)
        response_file.write_bytes(typical)
        ours_port, noop_port = free_port(), free_port()
        ours = start(
            serve_command(
                ours_port,
                "--db",
                str(Path(tmp) / "bench.db"),
                "--network",
                str(network_file),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "--max-concurrent",
                str(args.max_concurrent),
            )
        )
        noop = start(
            [
                sys.executable,
                "-m",
                "benchmarks.noop_server",
                "--port",
                str(noop_port),
                "--workers",
                str(args.workers),
                "--response",
                str(response_file),
            ]
        )
        try:
            wait_planning(ours_port, orders[0])
            wait_planning(noop_port, orders[0])
            log("warming up both services (off the clock)")
            for port in (ours_port, noop_port):
                run_load(
                    f"localhost:{port}",
                    "unary",
                    requests,
                    settings[1] * 2,
                    settings[0],
                    processes=args.client_processes,
                    seed=1000,
                    tag="warm",
                )
            ports = {"ceiling": noop_port, "omniroute": ours_port}
            shapes = {"many": (args.client_processes, CHANNELS_PER_PROCESS), "one": (1, 1)}
            result["client_shapes"] = {
                "many": {"processes": args.client_processes, "channels": CHANNELS_PER_PROCESS},
                "one": {"processes": 1, "channels": 1},
            }
            ladders = {}
            for label, service, mode, shape in SEARCHES:
                processes, channels = shapes[shape]
                ladders[label] = capacity_search(
                    label,
                    ports[service],
                    mode,
                    requests,
                    args.slo_ms,
                    settings,
                    processes,
                    channels,
                )
            result["ladders"] = ladders
            result["sustainable"] = {k: sustainable(v) for k, v in ladders.items()}
            s = result["sustainable"]
            result["ratios"] = {
                "unary": ratio(s["omniroute unary"], s["ceiling unary"]),
                "stream": ratio(s["omniroute stream"], s["ceiling stream"]),
                "reserve": ratio(s["omniroute reserve"], s["ceiling unary"]),
                "one_channel_unary": ratio(
                    s["omniroute one-channel unary"], s["ceiling one-channel unary"]
                ),
                "one_stream": ratio(s["omniroute one stream"], s["ceiling one stream"]),
                "one_stream_vs_one_channel_unary": ratio(
                    s["omniroute one stream"], s["omniroute one-channel unary"]
                ),
            }
            log(f"one channel at {LOW_RATE:.0f} calls/s, the ceiling and omniroute in turn")
            result["low_load"] = low_load(ports, requests, settings[0], LOW_ROUNDS[args.mode])
            result["targets"] = TARGETS
            log("peak day")
            rate = max(s["omniroute unary"], settings[1])
            peak, peak_result, memory = peak_day(
                ours_port, ours, requests, rate, settings[4], args.slo_ms, args.client_processes
            )
            peak["hold_s"] = list(hold_window(peak["profile"]))
            peak["series"] = peak_series(peak_result, memory)
            result["peak_day"] = peak
        finally:
            stop(ours)
            stop(noop)
    log("quality (engine benchmark)")
    quality_args = argparse.Namespace(
        seed=7, orders=settings[5], naive_orders=max(100, settings[5] // 10), naive_time_limit=10.0
    )
    result["quality"] = engine_bench.demo_benchmark(quality_args)
    args.out.mkdir(parents=True, exist_ok=True)
    plot_latency(ladders, args.slo_ms, args.out / "latency_vs_load.png")
    plot_peak(result["peak_day"], args.out / "peak_day.png")
    (args.out / "suite.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    text = markdown(result)
    (args.out / "suite.md").write_text(text)
    print(text)
    log(f"wrote {args.out}/suite.json, suite.md, latency_vs_load.png, peak_day.png")
    if args.readme:
        update_readme(result, README)
    return 0


if __name__ == "__main__":
    sys.exit(main())
