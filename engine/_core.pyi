"""Types of ``omniroute._core`` (engine/_core.cpp), for mypy."""

from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Doubles = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

class Network:
    def __init__(
        self,
        latitude: Doubles,
        longitude: Doubles,
        handling_shipment: Doubles,
        handling_unit: Doubles,
        processing_days: Ints,
        usable: Bools,
        offers: Bools,
        zone_max: Doubles,
        zone_base: Doubles,
        zone_per_kg: Doubles,
        zone_transit: Ints,
        zone_count: Ints,
        max_parcel: Doubles,
    ) -> None: ...
    def problem(
        self,
        holders: list[Ints],
        on_hand: list[Ints],
        safety_stock: list[Ints],
        reserved: list[Ints],
        excluded: Ints,
        latitude: float,
        longitude: float,
        pickup: int,
        promise_days: int,
        max_distance: float,
        adjustment: Doubles,
        prices: Doubles | None,
        skus: list[int],
    ) -> tuple[
        Ints, Ints, Doubles, Ints, Ints, Doubles, Doubles, Doubles, Ints, Doubles, Doubles,
        Ints, Ints, Ints, Doubles | None,
    ]: ...  # fmt: skip

def bounds(*args: Any) -> tuple[Any, ...]: ...
def front_bounds(
    *args: Any,
) -> tuple[list[int], list[float], list[int], list[float]]: ...
def part_bounds(
    *args: Any,
) -> tuple[list[int], list[float], list[int], list[float], Ints]: ...
def sku_group_lists(*args: Any) -> list[list[int]]: ...
def lower_bounds(*args: Any) -> Doubles: ...
def cheapest_lanes(*args: Any) -> list[int]: ...
def part_layout(*args: Any) -> tuple[Any, ...]: ...
def split_step(*args: Any) -> tuple[float, int, list[int], int, list[int], int, bool]: ...
def sku_groups(*args: Any) -> Ints: ...

class Reduction:
    def __init__(self, *args: Any) -> None: ...
    def add(self, cap: int) -> int: ...
    def kept(self, ks: list[int], must_keep: list[int]) -> Bools: ...
    def best_pair(self, j: int, penalty: float) -> tuple[float, int, int, int, int]: ...
    def best_triple(self, j: int, penalty: float) -> tuple[float, int, int, int, int, int, int]: ...
    def parts_bounds(self, j: int, penalty: float, parts: int) -> list[float]: ...

class Dp:
    size: int
    def __init__(self, *args: Any) -> None: ...
    def final(self) -> Ints: ...
    def reconstruct(self, *args: Any) -> Any: ...
    def loads(self) -> Ints: ...
