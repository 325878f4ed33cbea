"""Scenario reports as a planner opens them: a "close DC-SYD" comparison on the demo data,
rendered by a real headless Chromium (screenshot, no console messages), with the map's
country outline, legend and closed-node mark; the run's inputs printed; warnings when the
compared runs differ in their inputs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from omniroute.server import maps
from omniroute.server.reports import describe_changes


def omniroute(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "omniroute.server.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def _install_chromium() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "install", "-y", "-q", "chromium"],
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "chromium"],
    ):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode == 0 and command[1] == "install":
            return
    pytest.fail(
        "the report tests need Debian's chromium (a real headless browser) and installing it "
        f"failed: {done.stderr.strip()[-500:]}\nInstall it with: apt-get install -y chromium",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of Debian's chromium, installed with apt-get when it is missing."""
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if path is None:
        _install_chromium()
        path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("chromium is not on PATH even after apt-get install -y chromium", pytrace=False)
    return path


def screenshot(chromium: str, page: Path, out: Path, profile: Path, height: int = 5600) -> str:
    """Open ``page`` in headless Chromium, write a PNG; return the browser's console output."""
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={out}",
            f"--window-size=1700,{height}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.exists(), done.stderr[-2000:]
    return "\n".join(
        line
        for line in done.stderr.splitlines()
        if ":CONSOLE" in line or "Uncaught" in line or "Failed to load resource" in line
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo data (300 orders), the base run, "close DC-SYD" and their comparison."""
    root = tmp_path_factory.mktemp("reports")
    demo = root / "demo"
    made = omniroute("demo-data", "--out", str(demo), "--orders", "300", "--seed", "5")
    assert made.returncode == 0, made.stderr
    (root / "close-syd.json").write_text(json.dumps({"closeNodes": ["DC-SYD"]}))
    common = ["--network", str(demo / "network.json"), "--orders", str(demo / "orders.jsonl")]
    for name, extra in (("base", []), ("no-syd", ["--changes", str(root / "close-syd.json")])):
        done = omniroute("scenario", "run", *common, *extra, "--out", str(root / name))
        assert done.returncode == 0, done.stderr
    done = omniroute(
        "scenario", "compare", str(root / "base"), str(root / "no-syd"), "--out", str(root / "cmp")
    )
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr.lower()  # same network, orders and mode
    return root


def test_console_check_catches_script_errors(chromium: str, tmp_path: Path) -> None:
    """The console check below can fail: a page with a script error is caught."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><p>x</p><script>throw new Error('boom')</script></body></html>")
    console = screenshot(chromium, page, tmp_path / "broken.png", tmp_path / "profile", 600)
    assert "Uncaught Error: boom" in console


def test_compare_report_in_headless_chromium(chromium: str, runs: Path, tmp_path: Path) -> None:
    """The comparison opens without console messages; the map shows the country outline,
    a legend, the closed DC marked and where its orders went."""
    report = runs / "cmp" / "report.html"
    page = report.read_text(encoding="utf-8")
    shot = tmp_path / "report_compare.png"
    console = screenshot(chromium, report, shot, tmp_path / "profile")
    assert console == ""
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert pixels.shape == (5600, 1700, 3)
    # the closed node's red X and label (#d00000) are drawn by the browser, on the maps
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    red = int(((r > 190) & (r < 225) & (g < 15) & (b < 15)).sum())
    assert red > 200, f"only {red} red pixels: the closed-node mark is not visible"
    assert len(np.unique(pixels[::10, ::10].reshape(-1, 3), axis=0)) > 200  # not blank

    assert "<img" not in page and "<script" not in page  # inline SVG only, works offline
    svgs = re.findall(r"<svg\b", page)
    assert len(svgs) >= 5  # two flow maps, the moved-orders map and three charts
    assert 'id="closed-node' in page and 'id="map-legend' in page and 'id="moved-legend' in page
    assert "DC-SYD" in page and "(closed)" in page and "closed node (ships nothing)" in page
    assert "coastline" in page and "state border" in page
    assert re.search(r"line width: \d[\d,]* shipments?", page)
    # the outline is the real coastline: many points, not a bounding box
    assert page.count("<path") > 100
    # where Sydney's orders went, in a table as well as on the map
    moves = re.search(r"<tr><td>DC-SYD</td><td class='text'>DC-MEL</td><td>(\d+)</td>", page)
    assert moves and int(moves.group(1)) > 10
    assert "close DC-SYD" in page  # the change, in words
    assert "split rate (%)" in page and "(AUD)" in page
    kpis = json.loads((runs / "no-syd" / "kpis.json").read_text())
    assert f"<td>{100 * kpis['splitRate']:.1f}</td>" in page
    assert f"<td>{kpis['costPerOrder']:,.2f}</td>" in page


def test_run_report_names_its_inputs(chromium: str, runs: Path, tmp_path: Path) -> None:
    """A run's report.html says which changes, input files and mode produced it."""
    kpis = json.loads((runs / "no-syd" / "kpis.json").read_text())
    network = kpis["inputs"]["network"]
    assert network["path"] == str((runs / "demo" / "network.json").resolve())
    assert network["bytes"] == (runs / "demo" / "network.json").stat().st_size
    assert len(network["sha256"]) == 64 and kpis["inputs"]["orders"]["records"] == 300
    assert kpis["mode"] == "sequential" and kpis["currency"] == "AUD"
    report = runs / "no-syd" / "report.html"
    page = report.read_text(encoding="utf-8")
    for text in (
        "close DC-SYD",
        network["path"],
        network["sha256"][:12],
        "sequential",
        "300 orders",
        'id="map-legend',
        "split rate (%)",
    ):
        assert text in page, text
    assert screenshot(chromium, report, tmp_path / "run.png", tmp_path / "profile", 3000) == ""


def test_compare_warns_when_inputs_differ(chromium: str, runs: Path, tmp_path: Path) -> None:
    """Runs on another order set and in another mode are compared with a warning, on stderr
    and at the top of the report."""
    orders = (runs / "demo" / "orders.jsonl").read_text().splitlines()[:150]
    (tmp_path / "half.jsonl").write_text("\n".join(orders) + "\n")
    done = omniroute(
        "scenario",
        "run",
        "--network",
        str(runs / "demo" / "network.json"),
        "--orders",
        str(tmp_path / "half.jsonl"),
        "--mode",
        "batch",
        "--out",
        str(tmp_path / "half"),
    )
    assert done.returncode == 0, done.stderr
    done = omniroute(
        "scenario",
        "compare",
        str(runs / "base"),
        str(tmp_path / "half"),
        "--out",
        str(tmp_path / "cmp"),
    )
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert any("different order set" in w for w in warnings), done.stderr
    assert any("batch mode" in w for w in warnings), done.stderr
    assert not any("different network" in w for w in warnings)
    comparison = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert len(comparison["warnings"]) == 2
    page = (tmp_path / "cmp" / "report.html").read_text(encoding="utf-8")
    assert page.index("id='input-warnings'") < page.index("<h2>KPIs")
    assert "different order set" in page


def test_changes_in_words() -> None:
    words = describe_changes(
        {
            "closeNodes": ["DC-SYD"],
            "addNodes": [
                {
                    "id": "DC-BNE",
                    "kind": "DC",
                    "name": "Brisbane DC",
                    "location": {"latitude": -27.47, "longitude": 153.03},
                }
            ],
            "addStock": [{"nodeId": "DC-BNE", "skuId": "A", "onHand": 40}],
            "carrierRates": {"byCarrier": {"Australia Post": 1.2}},
            "safetyStock": {"byKind": {"STORE": 2}},
            "processingDays": {"byNode": {"DC-MEL": 1}},
            "capacity": {"byNode": {"DC-MEL": 500}},
            "splitPenalty": 10,
        },
        "AUD",
    )
    assert words == [
        "close DC-SYD (ships nothing)",
        "add DC DC-BNE (Brisbane DC) at latitude -27.47, longitude 153.03",
        "add 1 stock position (40 units) at DC-BNE",
        "carrier Australia Post: prices × 1.2 (+20%)",
        "safety stock set to 2 units at every STORE node",
        "processing time set to 1 day at DC-MEL",
        "daily shipment capacity set to 500 shipments at DC-MEL",
        "split penalty set to 10 AUD per extra shipment",
    ]
    assert describe_changes({}) == []


def test_outline_is_the_country() -> None:
    """The packaged outline has Australia's coast and its state borders (and the USA's)."""
    australia = maps.outline((112.0, -44.0, 154.0, -10.0))
    points = sum(len(p) for _, p in australia.coast)
    assert points > 2000 and len(australia.states) >= 5
    assert any(
        (p[:, 0].min() < 116 and p[:, 0].max() > 152) for kind, p in australia.coast if kind == 1
    )  # the mainland spans Perth to Brisbane
    usa = maps.outline((-125.0, 24.0, -66.0, 50.0))
    assert len(usa.states) > 40
