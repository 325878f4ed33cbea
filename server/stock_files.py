"""Stock files: bulk import into the ledger and export from it (``omniroute stock``).

A stock file is JSON lines (one object per line) or CSV (a header row, then one row per
line), optionally gzip-compressed (``.gz``). Its rows use the proto3 JSON names of the API
(lowerCamelCase, or the proto's snake_case names):

* a **snapshot** row is a ``StockPosition``: ``nodeId``, ``skuId``, ``onHand``,
  ``safetyStock`` (absent: 0), and the output-only ``reserved`` and ``atp``, which are read,
  type-checked and ignored, so an export imports unchanged;
* a **delta** row is a ``StockUpdate``, as ``InventoryService.UpdateStock`` takes it:
  ``nodeId``, ``skuId``, one of ``setOnHand`` and ``deltaOnHand``, and/or ``safetyStock``.

Rows stream through in chunks (:data:`CHUNK`) into the ledger's staging table
(:mod:`omniroute.ledger.bulk`); every problem is collected with its line number, and the
ledger applies the rows in one transaction only when there are none. See docs/ledger.md.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from omniroute.files import INT32_MAX, INT32_MIN, _Bad, _int32, _show, _string
from omniroute.ledger import Ledger
from omniroute.ledger.bulk import ImportMode, ImportSummary, Problems, StagedRow
from omniroute.model import FieldViolation, ValidationError
from omniroute.server.progress import ProgressBar

CHUNK = 50_000  # rows parsed, then staged, at a time
FORMATS = ("jsonl", "csv")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}

NODE, SKU, SET, DELTA, SAFETY, IGNORED = range(6)


@dataclass(frozen=True)
class RowSchema:
    """The fields of a row: lowerCamelCase name -> (snake_case name, role)."""

    message: str
    fields: Mapping[str, tuple[str, int]]

    def lookup(self) -> dict[str, str]:
        """Both names of every field -> its lowerCamelCase name."""
        names = {name: name for name in self.fields}
        names.update({snake: name for name, (snake, _) in self.fields.items()})
        return names

    def listing(self) -> str:
        return ", ".join(self.fields)


SCHEMAS = {
    ImportMode.SNAPSHOT: RowSchema(
        "StockPosition",
        {
            "nodeId": ("node_id", NODE),
            "skuId": ("sku_id", SKU),
            "onHand": ("on_hand", SET),
            "safetyStock": ("safety_stock", SAFETY),
            "reserved": ("reserved", IGNORED),
            "atp": ("atp", IGNORED),
        },
    ),
    ImportMode.DELTA: RowSchema(
        "StockUpdate",
        {
            "nodeId": ("node_id", NODE),
            "skuId": ("sku_id", SKU),
            "setOnHand": ("set_on_hand", SET),
            "deltaOnHand": ("delta_on_hand", DELTA),
            "safetyStock": ("safety_stock", SAFETY),
        },
    ),
}
EXPORT_COLUMNS = ("nodeId", "skuId", "onHand", "safetyStock", "reserved", "atp")


def file_format(path: str | Path, given: str | None = None) -> str:
    """``jsonl`` or ``csv``: ``given``, else from the extension (``.gz`` looked through)."""
    if given:
        if given not in FORMATS:
            raise _file_error(path, f"unknown format {given!r}: use jsonl or csv")
        return given
    name = Path(path).name.lower().removesuffix(".gz")
    if str(path) == "-":
        return "jsonl"
    for suffix, fmt in _SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    raise _file_error(
        path,
        "cannot tell the format from the name: use .jsonl, .ndjson or .csv (optionally .gz), "
        "or --format",
    )


def _file_error(path: str | Path, problem: str) -> ValidationError:
    return ValidationError([FieldViolation(str(path), problem)], f"stock file {path}")


# ----------------------------------------------------------------------------- rows


class RowReader:
    """Decodes rows (JSON objects or CSV records) of one mode into staged rows, collecting
    every problem with its line number; the ids are checked against ``nodes`` / ``skus``."""

    def __init__(
        self, mode: ImportMode, nodes: set[str], skus: set[str], problems: Problems
    ) -> None:
        self.mode = mode
        self.schema = SCHEMAS[mode]
        self.names = self.schema.lookup()
        self.roles = {name: role for name, (_, role) in self.schema.fields.items()}
        self.nodes, self.skus = nodes, skus
        self.problems = problems
        self.fast = self._snapshot if mode is ImportMode.SNAPSHOT else self._delta
        self.camel = frozenset(self.schema.fields)

    def row(self, line: int, items: Mapping[str, Any]) -> StagedRow | None:
        """One row from its (name -> JSON value) items; None when it has problems."""
        if items.keys() <= self.camel:
            row = self.fast(line, items)
            if row is not None:
                return row
        return self._slow(line, items)

    # The fast paths take the common rows (lowerCamelCase names, known ids, integers in
    # range) and give up (None) on anything else, which the slow path then reads and reports.

    def _snapshot(self, line: int, items: Mapping[str, Any]) -> StagedRow | None:
        get = items.get
        node_id, sku_id = get("nodeId"), get("skuId")
        on_hand, safety = get("onHand", 0), get("safetyStock", 0)
        reserved, atp = get("reserved", 0), get("atp", 0)
        if (
            type(node_id) is str
            and type(sku_id) is str
            and type(on_hand) is int
            and type(safety) is int
            and type(reserved) is int
            and type(atp) is int
            and 0 <= on_hand <= INT32_MAX
            and 0 <= safety <= INT32_MAX
            and INT32_MIN <= reserved <= INT32_MAX
            and INT32_MIN <= atp <= INT32_MAX
            and node_id in self.nodes
            and sku_id in self.skus
        ):
            return (line, node_id, sku_id, on_hand, None, safety)
        return None

    def _delta(self, line: int, items: Mapping[str, Any]) -> StagedRow | None:
        get = items.get
        node_id, sku_id = get("nodeId"), get("skuId")
        set_on_hand, delta, safety = get("setOnHand"), get("deltaOnHand"), get("safetyStock")
        if (
            type(node_id) is str
            and type(sku_id) is str
            and node_id in self.nodes
            and sku_id in self.skus
            and (set_on_hand is None or delta is None)
            and (set_on_hand is not None or delta is not None or safety is not None)
            and (
                set_on_hand is None or (type(set_on_hand) is int and 0 <= set_on_hand <= INT32_MAX)
            )
            and (delta is None or (type(delta) is int and INT32_MIN <= delta <= INT32_MAX))
            and (safety is None or (type(safety) is int and 0 <= safety <= INT32_MAX))
        ):
            return (line, node_id, sku_id, set_on_hand, delta, safety)
        return None

    def _slow(self, line: int, items: Mapping[str, Any]) -> StagedRow | None:
        values: dict[int, Any] = {}
        seen: dict[str, str] = {}
        ok = True
        add = self.problems.add
        for key, value in items.items():
            name = self.names.get(key)
            if name is None:
                add(
                    f"line {line}: {key}",
                    f"unknown field (a {self.schema.message} row of --mode {self.mode.value} has {self.schema.listing()})",
                )
                ok = False
                continue
            if name in seen:
                add(f"line {line}: {name}", f"given twice ({seen[name]} and {key})")
                ok = False
                continue
            seen[name] = key
            if value is None:
                continue
            role = self.roles[name]
            try:
                values[role] = _string(value) if role <= SKU else _int32(value)
            except _Bad as error:
                add(f"line {line}: {name}", str(error))
                ok = False
        return self._check(line, values, ok)

    def _check(self, line: int, values: dict[int, Any], ok: bool) -> StagedRow | None:
        """The staged row, after the checks of its values (``ok``: they all decoded)."""
        add = self.problems.add
        node_id, sku_id = values.get(NODE, ""), values.get(SKU, "")
        for name, value, known, what in (
            ("nodeId", node_id, self.nodes, "node"),
            ("skuId", sku_id, self.skus, "SKU"),
        ):
            if not value:
                add(f"line {line}: {name}", "is required")
                ok = False
            elif value not in known:
                add(f"line {line}: {name}", f"unknown {what} {value!r}")
                ok = False
        set_on_hand, delta, safety = values.get(SET), values.get(DELTA), values.get(SAFETY)
        set_name = "onHand" if self.mode is ImportMode.SNAPSHOT else "setOnHand"
        if self.mode is ImportMode.SNAPSHOT:
            set_on_hand = set_on_hand or 0  # proto3: absent is 0
            safety = safety or 0
        elif set_on_hand is not None and delta is not None:
            add(f"line {line}", "give setOnHand or deltaOnHand, not both (they are one oneof)")
            ok = False
        elif ok and set_on_hand is None and delta is None and safety is None:
            add(f"line {line}", "nothing to change: give setOnHand, deltaOnHand or safetyStock")
            ok = False
        if set_on_hand is not None and set_on_hand < 0:
            add(f"line {line}: {set_name}", f"must be >= 0, got {set_on_hand}")
            ok = False
        if safety is not None and safety < 0:
            add(f"line {line}: safetyStock", f"must be >= 0, got {safety}")
            ok = False
        return (line, node_id, sku_id, set_on_hand, delta, safety) if ok else None

    # ------------------------------------------------------------------------- formats

    def jsonl(self, handle: IO[str]) -> Iterator[StagedRow]:
        """The rows of a JSON-lines file (blank lines skipped)."""
        batch: list[tuple[int, str]] = []
        for number, text in enumerate(handle, start=1):
            text = text.strip()
            if text:
                batch.append((number, text))
                if len(batch) == CHUNK:
                    yield from self._json_lines(batch)
                    batch = []
        if batch:
            yield from self._json_lines(batch)

    def _json_lines(self, batch: list[tuple[int, str]]) -> Iterator[StagedRow]:
        # One json.loads for the whole batch, as an array, when every line is one flat
        # object: "{" first, "}" last, no other brace. Then the array has one element per
        # line, each exactly that line (every brace is structural, so no object can span
        # lines), and it parses twice as fast as line by line. Else: line by line.
        objects = None
        if all(
            t[0] == "{" and t[-1] == "}" and t.count("{") == t.count("}") == 1 for _, t in batch
        ):
            try:
                objects = json.loads("[" + ",".join(text for _, text in batch) + "]")
            except json.JSONDecodeError:
                objects = None
        if objects is not None and len(objects) == len(batch):
            for (number, _), data in zip(batch, objects, strict=True):
                row = self.row(number, data)
                if row is not None:
                    yield row
            return
        add = self.problems.add
        for number, text in batch:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as error:
                add(f"line {number}", f"not JSON: {error}")
                continue
            if not isinstance(data, dict):
                add(f"line {number}", f"must be a JSON object, got {_show(data)}")
                continue
            row = self.row(number, data)
            if row is not None:
                yield row

    def csv(self, handle: IO[str]) -> Iterator[StagedRow]:
        """The rows of a CSV file: a header row of field names, then one row per position
        (an empty cell is an absent field)."""
        add = self.problems.add
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        header_ok = True
        seen: dict[str, str] = {}
        for column in header:
            name = self.names.get(column)
            if name is None:
                add(
                    f"line {reader.line_num}",
                    f"unknown column {_show(column)} (a {self.schema.message} row of --mode {self.mode.value} has "
                    f"{self.schema.listing()})",
                )
                header_ok = False
            elif name in seen:
                add(
                    f"line {reader.line_num}",
                    f"column {name} given twice ({seen[name]} and {column})",
                )
                header_ok = False
            else:
                seen[name] = column
        for required in ("nodeId", "skuId"):
            if required not in seen:
                add(f"line {reader.line_num}", f"the header has no column {required}")
                header_ok = False
        if not header_ok:
            return  # the rows cannot be read without their columns
        names = [self.names[column] for column in header]
        numeric = [self.roles[name] > SKU for name in names]
        width = len(header)
        for record in reader:
            if not record:
                continue
            if len(record) != width:
                add(f"line {reader.line_num}", f"has {len(record)} cells, the header {width}")
                continue
            items = {
                name: _number(cell) if number else cell
                for name, number, cell in zip(names, numeric, record, strict=True)
                if cell
            }
            row = self.row(reader.line_num, items)
            if row is not None:
                yield row


def _number(cell: str) -> int | str:
    """A CSV cell of plain ASCII digits (optionally negative) as an int; else the text, for
    the proto3 JSON rules of numeric strings ("3.0", "1e3") to read or refuse."""
    digits = cell[1:] if cell[:1] == "-" else cell
    if digits.isascii() and digits.isdigit() and len(digits) <= 10:
        return int(cell)
    return cell


# ----------------------------------------------------------------------------- files


@contextmanager
def _reading(path: str | Path) -> Iterator[tuple[IO[str], Callable[[], int], int]]:
    """The text of ``path`` (``-``: standard input; ``.gz`` decompressed), a function giving
    the bytes of the file read so far, and its size (0 when unknown)."""
    if str(path) == "-":
        yield io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline=""), lambda: 0, 0
        return
    try:
        raw = open(path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        raise _file_error(path, "no such file") from None
    except OSError as error:
        raise _file_error(path, f"cannot be read: {error.strerror or error}") from None
    with raw:
        size = os.fstat(raw.fileno()).st_size
        binary: Any = gzip.GzipFile(fileobj=raw) if str(path).endswith(".gz") else raw
        with io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
            yield text, raw.tell, size


def _chunks(rows: Iterator[StagedRow]) -> Iterator[list[StagedRow]]:
    chunk: list[StagedRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_stock(
    ledger: Ledger,
    path: str | Path,
    mode: ImportMode,
    fmt: str | None = None,
    request_id: str = "",
    show_progress: bool | None = None,
) -> ImportSummary:
    """Import a stock file into the ledger: all its rows in one transaction, or nothing.

    Raises
    ------
    omniroute.ledger.bulk.ImportInvalid
        Listing the problems (each ``line N: ...``), up to 100, and how many more; nothing
        was changed.
    ValidationError
        The file is missing, or its format cannot be told from its name.
    LedgerError
        No network; the request id was used for another request; the network changed while
        the file was read.
    """
    fmt = file_format(path, fmt)
    problems = Problems()
    subject = f"stock file {path}"
    fingerprint = hashlib.sha256(f"{mode.value}\n".encode())
    with ledger.stock.importer(mode) as importer, _reading(path) as (text, done, size):
        reader = RowReader(mode, importer.nodes, importer.skus, problems)
        rows = reader.csv(text) if fmt == "csv" else reader.jsonl(text)
        bar = ProgressBar(max(1, -(-size // 1_000_000)), f"reading {path} (MB)", show_progress)
        try:
            for chunk in _chunks(rows):
                fingerprint.update("\n".join(map(repr, [row[1:] for row in chunk])).encode())
                fingerprint.update(b"\n")
                importer.stage(chunk)
                bar.update(done() // 1_000_000)
        except UnicodeDecodeError as error:
            problems.add(subject, f"not UTF-8 text: {error}")
        except (gzip.BadGzipFile, EOFError, csv.Error) as error:
            problems.add(subject, f"cannot be read: {error}")
        bar.update(bar.total)
        bar.close()
        writing: list[ProgressBar] = []

        def on_progress(written: int, total: int) -> None:
            if not writing:
                writing.append(ProgressBar(total, "writing positions", show_progress))
            writing[0].update(written)

        summary = importer.apply(
            problems,
            subject,
            request_id=request_id,
            fingerprint=fingerprint.digest(),
            reference=request_id or "stock-import",
            on_progress=on_progress,
        )
        for bar in writing:
            bar.close()
    return summary


@contextmanager
def _writing(path: str | Path) -> Iterator[IO[str]]:
    """A text file written in full or not at all (``-``: standard output)."""
    if str(path) == "-":
        yield sys.stdout
        return
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        if target.name.endswith(".gz"):
            with gzip.open(partial, "wt", encoding="utf-8", newline="") as handle:
                yield handle
        else:
            with open(partial, "w", encoding="utf-8", newline="") as handle:
                yield handle
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def export_stock(
    ledger: Ledger, path: str | Path, fmt: str | None = None, show_progress: bool | None = None
) -> int:
    """Write every position (``nodeId, skuId, onHand, safetyStock, reserved, atp``, zeros
    included) by node, then SKU, from one consistent read; the number written."""
    fmt = file_format(path, fmt)
    total = ledger.stock.page((), 1).total
    bar = ProgressBar(total, f"writing {path}", show_progress)
    count = 0
    with _writing(path) as handle:
        if fmt == "csv":
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(EXPORT_COLUMNS)
            for p in ledger.stock.export():
                writer.writerow((p.node_id, p.sku_id, p.on_hand, p.safety_stock, p.reserved, p.atp))
                count += 1
                if not count % CHUNK:
                    bar.update(count)
        else:
            quoted: dict[str, str] = {}  # ids repeat: encode each once

            def q(text: str) -> str:
                found = quoted.get(text)
                if found is None:
                    found = quoted[text] = json.dumps(text, ensure_ascii=False)
                return found

            write = handle.write
            for p in ledger.stock.export():
                write(
                    f'{{"nodeId":{q(p.node_id)},"skuId":{q(p.sku_id)},"onHand":{p.on_hand},'
                    f'"safetyStock":{p.safety_stock},"reserved":{p.reserved},"atp":{p.atp}}}\n'
                )
                count += 1
                if not count % CHUNK:
                    bar.update(count)
    bar.update(count)
    bar.close()
    return count
