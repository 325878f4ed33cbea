"""Types of ``omniroute._exact`` (engine/_exact.cpp), for mypy."""

from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]

def search(*args: Any) -> tuple[int, float, float, Ints, Ints, int, bool]:
    """(atp, demand, weight, lane arrays..., cap, keep, penalty, most, upper, combo_limit,
    node_limit) -> (status, cost, bound, lanes, units, nodes searched, at a parcel edge)."""
