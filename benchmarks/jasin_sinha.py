"""The Jasin & Sinha (Operations Research, 2015) e-commerce fulfilment setting, rebuilt in
omniroute's cost model by our own code, for look-ahead routing experiments.

The setting (as the paper describes it; every number below is a parameter):

* Demand regions: the 99 largest US cities (GeoNames), each order's destination is its
  city; a region's share of orders is proportional to its population.
* 10 fulfilment centres at 10 of those cities (drawn with weight by population).
* 100 items, each carried by a random 2-5 of the fulfilment centres; item popularity
  follows a Zipf-like law. An order has 1-10 distinct items (mostly few), one unit each.
* Shipping a package costs $8.759 plus, per unit, $0.423 + $0.000541 per mile.
* Lost sale: twice the dearest shipping cost of one unit (one-unit package from the
  farthest carrying centre to the farthest region).
* Initial stock of an item at a centre: ``T·λ + 0.5·σ`` for the demand of the regions to
  which it is the closest carrying centre, where ``T·λ`` is the expected demand over the
  horizon and ``σ = sqrt(T·λ)`` (Poisson), rounded to the nearest unit.

In the cost model: one carrier service without a parcel limit, base $8.759 per parcel (one
parcel per shipment), items weigh 1 kg, and per-kg prices by 10-mile distance bands carry
the per-unit distance charge at each band's middle (so the distance charge is within
$0.0027 per unit of the paper's); $0.423 per unit is the centres' handling cost per unit.

``python -m benchmarks.jasin_sinha --out DIR [--seed S] [--orders N]`` writes
``DIR/network.json`` and ``DIR/orders.jsonl`` (orders in arrival order, with create times).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omniroute.demo_data import _places
from omniroute.files import write_network, write_orders
from omniroute.geo import distances_km
from omniroute.model import (
    CarrierService,
    Channel,
    Location,
    Network,
    Node,
    NodeKind,
    Order,
    OrderLine,
    Sku,
    StockPosition,
    Zone,
)

KM_PER_MILE = 1.609344
PACKAGE = 8.759
PER_UNIT = 0.423
PER_UNIT_MILE = 0.000541
BAND_MILES = 10.0
MAX_MILES = 3300.0  # farther than any two of the 99 cities


@dataclass(frozen=True, slots=True)
class Setting:
    """The parameters of one instance (defaults: the paper's setting)."""

    regions: int = 99
    centres: int = 10
    items: int = 100
    max_items: int = 10
    orders: int = 2000
    horizon_days: float = 10.0
    seed: int = 1


def service() -> CarrierService:
    """One ground service: $8.759 per package, the per-unit mile charge by 10-mile bands."""
    zones = []
    for band in range(int(MAX_MILES / BAND_MILES)):
        middle = (band + 0.5) * BAND_MILES
        zones.append(
            Zone(
                max_distance_km=(band + 1) * BAND_MILES * KM_PER_MILE,
                base_cost=PACKAGE,
                cost_per_kg=PER_UNIT_MILE * middle,
                transit_days=1 + int(middle // 700),
            )
        )
    return CarrierService("GROUND", "Parcel carrier", "Ground", 0.0, tuple(zones))


def instance(setting: Setting) -> tuple[Network, list[Order], dict[str, float]]:
    """The network (centres, items, stock), the orders in arrival order, and the expected
    demand rate per (region, item) in units per day (the "true" forecast)."""
    rng = np.random.default_rng(setting.seed)
    cities = _places("US")[: setting.regions]
    population = np.array([c.population for c in cities], dtype=np.float64)
    share = population / population.sum()
    latitude = np.array([c.latitude for c in cities])
    longitude = np.array([c.longitude for c in cities])
    sites = rng.choice(len(cities), setting.centres, replace=False, p=share)
    centres = [
        Node(
            id=f"FC-{i:02d}",
            kind=NodeKind.DC,
            location=Location(float(latitude[s]), float(longitude[s])),
            handling_cost_per_unit=PER_UNIT,
            service_ids=("GROUND",),
            name=f"Fulfilment centre {cities[s].name}",
        )
        for i, s in enumerate(sites.tolist())
    ]
    popularity = 1.0 / np.arange(1, setting.items + 1) ** 0.8
    popularity /= popularity.sum()
    items = [Sku(f"ITEM-{k:03d}", 1.0) for k in range(setting.items)]
    sizes = np.arange(1, setting.max_items + 1)
    size_p = 0.5**sizes
    size_p /= size_p.sum()
    mean_size = float(sizes @ size_p)
    orders_per_day = setting.orders / setting.horizon_days
    # expected units per day of item k at region r (each item of an order is one unit)
    rates = orders_per_day * mean_size * np.outer(share, popularity)
    carried = [
        np.sort(rng.choice(setting.centres, int(rng.integers(2, 6)), replace=False))
        for _ in range(setting.items)
    ]
    distance = np.stack(
        [
            distances_km(latitude, longitude, c.location.latitude, c.location.longitude)
            for c in centres
        ]
    )  # (centres, regions)
    stock: list[StockPosition] = []
    for k, carriers in enumerate(carried):
        nearest = carriers[np.argmin(distance[carriers], axis=0)]  # per region
        for c in carriers.tolist():
            mean = setting.horizon_days * float(rates[nearest == c, k].sum())
            units = int(round(mean + 0.5 * np.sqrt(mean)))
            if units:
                stock.append(StockPosition(centres[c].id, items[k].id, units))
    network = Network(
        nodes=tuple(centres),
        carrier_services=(service(),),
        skus=tuple(items),
        stock=tuple(stock),
        split_penalty=0.0,
        currency="USD",
    )
    start = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    times = np.sort(rng.uniform(0, setting.horizon_days * 86400, setting.orders))
    orders = []
    for i, seconds in enumerate(times.tolist()):
        r = int(rng.choice(len(cities), p=share))
        size = int(rng.choice(sizes, p=size_p))
        picked = np.sort(rng.choice(setting.items, size, replace=False, p=popularity))
        created = start + dt.timedelta(seconds=seconds)
        orders.append(
            Order(
                id=f"JS-{i:05d}",
                lines=tuple(
                    OrderLine(str(n + 1), items[k].id, 1) for n, k in enumerate(picked.tolist())
                ),
                destination=Location(float(latitude[r]), float(longitude[r])),
                channel=Channel.WEB,
                allow_partial=True,
                create_time=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )
    forecast = {
        f"{cities[r].name}|{items[k].id}": float(rates[r, k])
        for r in range(len(cities))
        for k in range(setting.items)
    }
    return network, orders, forecast


def lost_sale_cost(network: Network) -> float:
    """Twice the dearest one-unit shipment: the farthest band's package plus one unit."""
    farthest = network.carrier_services[0].zones[-1]
    return 2.0 * (farthest.base_cost + farthest.cost_per_kg * 1.0 + PER_UNIT)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.jasin_sinha",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--orders", type=int, default=2000)
    args = parser.parse_args(argv)
    network, orders, _ = instance(Setting(orders=args.orders, seed=args.seed))
    args.out.mkdir(parents=True, exist_ok=True)
    write_network(network, args.out / "network.json")
    write_orders(orders, args.out / "orders.jsonl")
    print(
        f"wrote {args.out / 'network.json'} ({len(network.nodes)} centres, "
        f"{len(network.skus)} items, {sum(p.on_hand for p in network.stock):,} units) and "
        f"{args.out / 'orders.jsonl'} ({len(orders):,} orders)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
