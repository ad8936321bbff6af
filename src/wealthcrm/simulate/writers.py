"""Writing contract files block by block, as CSV or Parquet, byte-for-byte reproducibly.

CSV: UTF-8, a plain header row, no quotes (no generated value holds a comma, quote or line break;
Arrow raises if one ever did), money with two decimals (``1234.50``, never ``1.2e+07``), dates
``YYYY-MM-DD``, datetimes ``YYYY-MM-DD HH:MM:SS``, booleans ``1``/``0``, missing values empty.
Parquet: the same logical columns with native types (date32, timestamp[s], bool, float64), zstd.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from wealthcrm.ingest.contract import BY_NAME

Format = Literal["csv", "parquet"]

_MONEY = pa.decimal128(20, 2)


def _for_csv(table: pa.Table, money: set[str]) -> pa.Table:
    columns = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        if name in money:
            col = col.cast(_MONEY)
        elif pa.types.is_boolean(col.type):
            col = col.cast(pa.int8())
        columns.append(col)
    return pa.table(columns, names=table.column_names)


def _csv_writer(path: Path, schema: pa.Schema) -> tuple[BinaryIO, pacsv.CSVWriter]:
    """Arrow quotes the header whatever the quoting style, so the header line is written here."""
    fh = path.open("wb")
    fh.write((",".join(schema.names) + "\n").encode("utf-8"))
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    return fh, pacsv.CSVWriter(fh, schema, write_options=options)


class Sink:
    """One output file, written a table at a time."""

    def __init__(self, path: Path, schema: pa.Schema, fmt: Format, money: set[str]) -> None:
        self.path = path
        self.fmt = fmt
        self.money = money
        self.rows = 0
        self._csv: pacsv.CSVWriter | None = None
        self._fh: BinaryIO | None = None
        self._pq: pq.ParquetWriter | None = None
        if fmt == "csv":
            self._fh, self._csv = _csv_writer(path, _for_csv(schema.empty_table(), money).schema)
        else:
            self._pq = pq.ParquetWriter(str(path), schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        if self._csv is not None:
            self._csv.write_table(_for_csv(table, self.money))
        elif self._pq is not None:
            self._pq.write_table(table)

    def close(self) -> None:
        if self._csv is not None:
            self._csv.close()
        if self._fh is not None:
            self._fh.close()
        if self._pq is not None:
            self._pq.close()


def contract_sink(out: Path, name: str, schema: pa.Schema, fmt: Format) -> Sink:
    spec = BY_NAME[name]
    money = {c.name for c in spec.columns if c.type == "money"}
    return Sink(out / f"{name}.{fmt}", schema, fmt, money)


class DecimalCsv:
    """A CSV outside the contract (the ground truth), float columns written with fixed decimals."""

    def __init__(self, path: Path, schema: pa.Schema, decimals: dict[str, int]) -> None:
        self.path = path
        self.decimals = decimals
        self.rows = 0
        self._schema = pa.schema(
            [
                pa.field(f.name, pa.decimal128(18, decimals[f.name])) if f.name in decimals else f
                for f in schema
            ]
        )
        self._fh, self._csv = _csv_writer(path, self._schema)

    def write(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        self._csv.write_table(table.cast(self._schema))

    def close(self) -> None:
        self._csv.close()
        self._fh.close()
