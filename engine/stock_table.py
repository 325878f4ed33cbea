"""Stock positions as columns: a national network's millions of positions in a few arrays.

A :class:`StockTable` holds one row per (node, SKU) position in five ``int64`` numpy columns
(node code, SKU code, on-hand, safety stock, reserved) beside the node and SKU ids the codes
stand for: 40 bytes a position, so 10 million positions take 400 MB where as many
:class:`~omniroute.model.StockPosition` objects would take several gigabytes. It is a
read-only ``Sequence[StockPosition]`` (positions are made on access), so it can stand
wherever a tuple of positions does, e.g. as :attr:`omniroute.model.Network.stock`.

A table sorted by SKU, then node, in its network's node and SKU order is what the planner's
:class:`~omniroute.network_index.Inventory` reads without copying; :meth:`StockTable.save`
and :meth:`StockTable.open` keep such a table in a file that processes map into memory and
share (see ``docs/ledger.md``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from operator import attrgetter
from pathlib import Path
from typing import Any, overload

import numpy as np

from omniroute.model import StockPosition

COLUMNS = ("node", "sku", "on_hand", "safety_stock", "reserved")
_CHUNK = 65_536  # positions made at a time when iterating
_REPR_POSITIONS = 1_000  # a repr lists the positions of a table up to this size


class StockTable(Sequence[StockPosition]):
    """Stock positions, column by column.

    Parameters
    ----------
    node_ids, sku_ids
        The ids the codes stand for: row ``i`` is the position of node
        ``node_ids[node[i]]`` and SKU ``sku_ids[sku[i]]``.
    node, sku, on_hand, safety_stock, reserved
        One value per position (converted to ``int64``; ``reserved`` defaults to zeros).
    """

    __slots__ = ("node_ids", "sku_ids", "node", "sku", "on_hand", "safety_stock", "reserved")

    def __init__(
        self,
        node_ids: Sequence[str],
        sku_ids: Sequence[str],
        node: Any,
        sku: Any,
        on_hand: Any,
        safety_stock: Any,
        reserved: Any = None,
    ) -> None:
        self.node_ids: tuple[str, ...] = tuple(node_ids)
        self.sku_ids: tuple[str, ...] = tuple(sku_ids)
        self.node = np.asarray(node, dtype=np.int64)
        self.sku = np.asarray(sku, dtype=np.int64)
        self.on_hand = np.asarray(on_hand, dtype=np.int64)
        self.safety_stock = np.asarray(safety_stock, dtype=np.int64)
        self.reserved = (
            np.zeros(len(self.node), dtype=np.int64)
            if reserved is None
            else np.asarray(reserved, dtype=np.int64)
        )
        if (
            not len(self.node)
            == len(self.sku)
            == len(self.on_hand)
            == len(self.safety_stock)
            == len(self.reserved)
        ):
            raise ValueError("stock table columns differ in length")

    # ----------------------------------------------------------------------- building

    @classmethod
    def of(cls, positions: Iterable[StockPosition]) -> StockTable:
        """The table of some positions (the same table when given one)."""
        if isinstance(positions, StockTable):
            return positions
        stock = positions if isinstance(positions, Sequence) else list(positions)
        builder = StockTableBuilder()
        builder.add(
            list(map(attrgetter("node_id"), stock)),
            list(map(attrgetter("sku_id"), stock)),
            list(map(attrgetter("on_hand"), stock)),
            list(map(attrgetter("safety_stock"), stock)),
            list(map(attrgetter("reserved"), stock)),
        )
        return builder.build()

    def recoded(self, node_ids: Sequence[str], sku_ids: Sequence[str]) -> StockTable:
        """The same positions coded by other id lists (e.g. a network's node order): this
        table when they are its own.

        A position whose node or SKU is not in those lists gets the code -1 (see
        :meth:`unknown`)."""
        node_ids, sku_ids = tuple(node_ids), tuple(sku_ids)
        if node_ids == self.node_ids and sku_ids == self.sku_ids:
            return self
        node = _recode(self.node, self.node_ids, node_ids)
        sku = _recode(self.sku, self.sku_ids, sku_ids)
        return StockTable(
            node_ids, sku_ids, node, sku, self.on_hand, self.safety_stock, self.reserved
        )

    def unknown(self) -> np.ndarray:
        """Rows whose node or SKU code is -1 (after :meth:`recoded`)."""
        return np.flatnonzero((self.node < 0) | (self.sku < 0))

    def keys(self) -> np.ndarray:
        """One ``int64`` per row, ``sku * len(node_ids) + node``: equal for equal positions,
        ordered by SKU, then node."""
        return self.sku * max(1, len(self.node_ids)) + self.node

    def is_by_sku(self) -> bool:
        """Whether rows are sorted by SKU, then node, each (node, SKU) once."""
        keys = self.keys()
        return bool(np.all(keys[1:] > keys[:-1]))

    def by_sku(self) -> StockTable:
        """The rows sorted by SKU, then node (this table when they already are)."""
        if self.is_by_sku():
            return self
        order = np.argsort(self.keys(), kind="stable")
        return self.take(order)

    def take(self, rows: np.ndarray) -> StockTable:
        """The table of some rows, in the given order."""
        return StockTable(
            self.node_ids,
            self.sku_ids,
            *(getattr(self, name)[rows] for name in COLUMNS),
        )

    def find(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The row of each (node id, SKU id) the table holds (absent keys are left out)."""
        wanted = list(keys)
        if not wanted or not len(self):
            return {}
        node_code = {node_id: i for i, node_id in enumerate(self.node_ids)}
        sku_code = {sku_id: i for i, sku_id in enumerate(self.sku_ids)}
        known = [k for k in wanted if k[0] in node_code and k[1] in sku_code]
        width = max(1, len(self.node_ids))
        codes = np.array([sku_code[s] * width + node_code[n] for n, s in known], dtype=np.int64)
        table_keys = self.keys()
        order = np.argsort(table_keys, kind="stable")
        where = np.searchsorted(table_keys, codes, sorter=order).clip(0, len(self) - 1)
        rows = order[where]
        hit = table_keys[rows] == codes
        return {k: int(r) for k, r, h in zip(known, rows.tolist(), hit.tolist(), strict=True) if h}

    def chunks(self, size: int = _CHUNK) -> Iterator[StockTable]:
        """The rows a chunk at a time (views, not copies)."""
        for start in range(0, len(self), size):
            part = slice(start, start + size)
            yield StockTable(
                self.node_ids, self.sku_ids, *(getattr(self, name)[part] for name in COLUMNS)
            )

    def sku_starts(self) -> np.ndarray:
        """For a table sorted by SKU: the first row of each SKU code (and the row count)."""
        return np.searchsorted(self.sku, np.arange(len(self.sku_ids) + 1))

    # ----------------------------------------------------------------------- sharing

    def save(self, directory: str | Path) -> None:
        """Write the table to ``directory`` (one ``.npy`` file a column and the ids), made
        whole under a temporary name and then renamed, so a reader never sees half of it."""
        target = Path(directory)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        partial.mkdir(parents=True, exist_ok=True)
        for name in COLUMNS:
            np.save(partial / f"{name}.npy", getattr(self, name), allow_pickle=False)
        (partial / "ids.json").write_text(
            json.dumps({"nodeIds": self.node_ids, "skuIds": self.sku_ids}), encoding="utf-8"
        )
        os.replace(partial, target)

    @classmethod
    def open(cls, directory: str | Path) -> StockTable:
        """A table written by :meth:`save`, its columns mapped read-only from the files (so
        processes that open the same table share its memory)."""
        source = Path(directory)
        ids = json.loads((source / "ids.json").read_text(encoding="utf-8"))
        columns = [
            np.load(source / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in COLUMNS
        ]
        return cls(ids["nodeIds"], ids["skuIds"], *columns)

    # ----------------------------------------------------------------------- sequence

    def __len__(self) -> int:
        return len(self.node)

    @overload
    def __getitem__(self, i: int) -> StockPosition: ...

    @overload
    def __getitem__(self, i: slice) -> StockTable: ...

    def __getitem__(self, i: int | slice) -> StockPosition | StockTable:
        if isinstance(i, slice):
            return self.take(np.arange(len(self))[i])
        node, sku = self.node_ids[self.node[i]], self.sku_ids[self.sku[i]]
        return StockPosition(
            node, sku, int(self.on_hand[i]), int(self.safety_stock[i]), int(self.reserved[i])
        )

    def __iter__(self) -> Iterator[StockPosition]:
        for start in range(0, len(self), _CHUNK):
            part = slice(start, start + _CHUNK)
            yield from map(
                StockPosition,
                map(self.node_ids.__getitem__, self.node[part].tolist()),
                map(self.sku_ids.__getitem__, self.sku[part].tolist()),
                self.on_hand[part].tolist(),
                self.safety_stock[part].tolist(),
                self.reserved[part].tolist(),
            )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(map(StockPosition.__eq__, self, other))

    __hash__ = None  # type: ignore[assignment]  # mutable arrays

    def __repr__(self) -> str:
        if len(self) <= _REPR_POSITIONS:
            return f"StockTable({list(self)!r})"
        return (
            f"StockTable({len(self)} positions, {len(self.node_ids)} nodes, "
            f"{len(self.sku_ids)} SKUs)"
        )


class StockTableBuilder:
    """Builds a :class:`StockTable` from columns given in chunks (e.g. while a file or a
    database cursor streams), interning node and SKU ids as it goes."""

    def __init__(self) -> None:
        self._node_code: dict[str, int] = {}
        self._sku_code: dict[str, int] = {}
        self._chunks: list[list[np.ndarray]] = []

    def add(
        self,
        node_ids: Sequence[str],
        sku_ids: Sequence[str],
        on_hand: Sequence[int],
        safety_stock: Sequence[int],
        reserved: Sequence[int] | None = None,
    ) -> None:
        """Append positions given column by column (``reserved`` absent: zeros)."""
        count = len(node_ids)
        if not count:
            return

        def column(values: Iterable[int]) -> np.ndarray:
            return np.fromiter(values, dtype=np.int64, count=count)

        self._chunks.append(
            [
                column(map(_interned(self._node_code, node_ids).__getitem__, node_ids)),
                column(map(_interned(self._sku_code, sku_ids).__getitem__, sku_ids)),
                column(on_hand),
                column(safety_stock),
                column(repeat(0, count) if reserved is None else reserved),
            ]
        )

    def build(self) -> StockTable:
        """The table of every position added, in the order added."""
        columns = (
            [np.concatenate(parts) for parts in zip(*self._chunks, strict=True)]
            if self._chunks
            else [np.zeros(0, dtype=np.int64)] * len(COLUMNS)
        )
        self._chunks = []
        return StockTable(list(self._node_code), list(self._sku_code), *columns)


def _interned(codes: dict[str, int], ids: Sequence[str]) -> dict[str, int]:
    """``codes`` with every id of ``ids`` in it (new ids get the next codes)."""
    for new in dict.fromkeys(ids):  # in order of first appearance: the same codes every run
        if new not in codes:
            codes[new] = len(codes)
    return codes


def _recode(codes: np.ndarray, old: tuple[str, ...], new: tuple[str, ...]) -> np.ndarray:
    if old == new:
        return codes
    where = {identifier: i for i, identifier in enumerate(new)}
    mapping = (
        np.fromiter(map(where.get, old, repeat(-1)), dtype=np.int64, count=len(old))
        if old
        else np.zeros(0, dtype=np.int64)
    )
    return mapping[codes] if len(codes) else codes.copy()
