"""Reading contract files (CSV or Parquet) into string columns, whatever the file's encoding.

Every value is read as text and typed later by the validator, so that a bad value is reported with its
row and column instead of failing the whole read. CSV may be UTF-8, UTF-8 with BOM or GB18030 (a
superset of GBK and GB2312, which Chinese core-banking exports use).
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from wealthcrm.ingest.contract import FileSpec, spec_for_filename
from wealthcrm.ingest.problems import Problem

SUPPORTED_SUFFIXES = (".csv", ".parquet", ".pq")
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class RawFile:
    """A file read as text columns; ``frame`` is None when the file could not be read at all."""

    path: Path
    spec: FileSpec
    sha256: str
    encoding: str | None
    frame: pd.DataFrame | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.path.name


def discover(path: Path) -> tuple[list[tuple[Path, FileSpec]], list[Problem], list[str]]:
    """The contract files under a path (one file or a folder), in write order.

    A folder's files whose names match no contract file are ignored with a warning; a single such file is
    a problem. Two files for the same contract file in one folder are a problem (which one wins?).
    """
    problems: list[Problem] = []
    warnings: list[str] = []
    if not path.exists():
        return [], [Problem(str(path), None, None, "no such file or folder")], warnings
    candidates = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())
    found: dict[str, tuple[Path, FileSpec]] = {}
    for file in candidates:
        spec = (
            spec_for_filename(file.name.split(".")[0]) if file.suffix.lower() in SUPPORTED_SUFFIXES else None
        )
        if spec is None:
            msg = "not a data-contract file (expected e.g. customers.csv or aum_monthly.parquet)"
            if path.is_file():
                problems.append(Problem(file.name, None, None, msg))
            elif not file.name.startswith(".") and file.suffix.lower() in SUPPORTED_SUFFIXES:
                warnings.append(f"{file.name}: ignored, {msg}")
            continue
        if spec.name in found:
            problems.append(
                Problem(file.name, None, None, f"{found[spec.name][0].name} is also a {spec.name} file")
            )
            continue
        found[spec.name] = (file, spec)
    if path.is_dir() and not found and not problems:
        problems.append(Problem(path.name, None, None, "the folder holds no data-contract files"))
    from wealthcrm.ingest.contract import FILES

    order = {spec.name: i for i, spec in enumerate(FILES)}
    return sorted(found.values(), key=lambda fs: order[fs[1].name]), problems, warnings


def read_file(path: Path, spec: FileSpec, *, fallback_encoding: str = "gb18030") -> RawFile:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() == ".csv":
        return _read_csv(path, spec, data, digest, fallback_encoding)
    return _read_parquet(path, spec, data, digest)


def _decode(data: bytes, fallback: str) -> tuple[bytes, str] | None:
    """UTF-8 bytes of the file and the encoding it was in, or None if it is in none we accept."""
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return data, "utf-8-sig"
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode(fallback).encode("utf-8"), fallback
    except (UnicodeDecodeError, LookupError):
        return None


def _read_csv(path: Path, spec: FileSpec, data: bytes, digest: str, fallback: str) -> RawFile:
    raw = RawFile(path, spec, digest, None, None)
    decoded = _decode(data, fallback)
    if decoded is None:
        raw.problems.append(Problem(path.name, None, None, f"not readable as UTF-8 or {fallback.upper()}"))
        return raw
    utf8, raw.encoding = decoded
    end = utf8.find(b"\n")
    first_line = utf8[: end if end >= 0 else len(utf8)].decode("utf-8").rstrip("\r")
    if not first_line.strip():
        raw.problems.append(Problem(path.name, 1, None, "the file has no header row"))
        return raw
    header = next(csv.reader([first_line]))
    try:
        # Threads for speed; a file with malformed rows is read again on one thread, the only way
        # pyarrow numbers the bad rows.
        table, bad_rows = _parse_csv(utf8, header, path.name, threads=True)
        if bad_rows:
            table, bad_rows = _parse_csv(utf8, header, path.name, threads=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raw.problems.append(Problem(path.name, None, None, f"not a readable CSV file: {exc}"))
        return raw
    raw.problems.extend(bad_rows)
    raw.frame = _to_frame(table, raw)
    return raw


def _parse_csv(
    utf8: bytes, header: list[str], label: str, *, threads: bool
) -> tuple[pa.Table, list[Problem]]:
    bad_rows: list[Problem] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_rows.append(
            Problem(
                label, row.number, None, f"expected {row.expected_columns} fields, found {row.actual_columns}"
            )
        )
        return "skip"

    table = pacsv.read_csv(
        io.BytesIO(utf8),
        read_options=pacsv.ReadOptions(use_threads=threads, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=True,
        ),
    )
    return table, bad_rows


def _read_parquet(path: Path, spec: FileSpec, data: bytes, digest: str) -> RawFile:
    raw = RawFile(path, spec, digest, None, None)
    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raw.problems.append(Problem(path.name, None, None, f"not a readable Parquet file: {exc}"))
        return raw
    columns = []
    for col in table.columns:
        if pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%d %H:%M:%S")
        elif pa.types.is_boolean(col.type):
            col = pc.if_else(col, "1", "0")
        elif not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            col = col.cast(pa.string())
        columns.append(col)
    raw.frame = _to_frame(pa.table(columns, names=table.column_names), raw)
    return raw


def _to_frame(table: pa.Table, raw: RawFile) -> pd.DataFrame:
    """Normalise headers (trimmed, lower case) and values (trimmed; empty means missing)."""
    names = [str(n).strip().lower() for n in table.column_names]
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raw.problems.append(Problem(raw.label, 1, n, "column appears twice in the header"))
        seen.add(n)
    arrays = {}
    for name, col in zip(names, table.columns, strict=True):
        trimmed = pc.utf8_trim_whitespace(col)
        arrays[name] = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    frame = pa.table(arrays).to_pandas() if arrays else pd.DataFrame()
    known = set(raw.spec.column_names)
    extra = [n for n in names if n not in known]
    if extra:
        raw.warnings.append(f"{raw.label}: columns not in the contract are ignored: {', '.join(extra)}")
    return frame
