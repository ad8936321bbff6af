"""Validation of contract files: types, required values, allowed values, references, keys, checks.

Everything is checked before anything is written; each problem names file, row and column. Every check
reads date-times as the file gives them, the branch's local time (today is the branch's today too);
only the typed file handed to the writer has its ``utc`` columns converted to naive UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wealthcrm.config import DEFAULT_TIME_ZONE
from wealthcrm.ingest import checks, parsing
from wealthcrm.ingest.contract import Column, FileSpec
from wealthcrm.ingest.problems import Problem
from wealthcrm.ingest.readers import RawFile
from wealthcrm.security.pii import FieldCipher, mask_mobile, mask_national_id

_PII_TYPES = {"national_id": mask_national_id, "mobile": mask_mobile}


@dataclass
class Context:
    """What validation needs to know beyond the file: today, keys already stored or arriving."""

    today: date  # the branch's local date
    cipher: FieldCipher
    max_future_days: int = 0
    #: the branch's time zone: the files' date-times are local to it (``sla.time_zone``)
    time_zone: str = DEFAULT_TIME_ZONE
    #: (file, column) → every value that exists: stored in the database or in this import's files
    known: dict[tuple[str, str], pd.Index] = field(default_factory=dict)
    #: staff_id → role, stored or arriving
    staff_roles: dict[str, str] = field(default_factory=dict)
    #: national-ID blind index → customer_id, as stored
    national_id_owner: dict[str, str] = field(default_factory=dict)

    @property
    def latest_date(self) -> pd.Timestamp:
        return pd.Timestamp(self.today + timedelta(days=self.max_future_days))


@dataclass
class Validated:
    """A file turned into typed columns named as the table's, ready to write."""

    spec: FileSpec
    frame: pd.DataFrame
    #: columns written on insert only: defaults for columns the file lacks, so an update keeps stored values
    insert_only: tuple[str, ...] = ()


class RowProblems:
    """Collects problems for one file; rows are spreadsheet line numbers (header = 1)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.items: list[Problem] = []

    def add(
        self, mask: np.ndarray, column: str | None, message: str, values: pd.Series | None = None
    ) -> None:
        if not mask.any():
            return
        rows = np.flatnonzero(mask)
        if values is None:
            self.items.extend(Problem(self.label, int(i) + 2, column, message) for i in rows)
        else:
            shown = values.to_numpy()
            self.items.extend(
                Problem(self.label, int(i) + 2, column, f"{shown[i]!r}: {message}") for i in rows
            )


def validate_file(raw: RawFile, ctx: Context) -> tuple[Validated | None, list[Problem]]:
    """Type and check one file; returns (typed file or None, its problems)."""
    if raw.frame is None:
        return None, list(raw.problems)
    spec, frame = raw.spec, raw.frame
    out = RowProblems(raw.label)
    out.items.extend(raw.problems)
    missing = [c.name for c in spec.columns if c.required and c.name not in frame.columns]
    for name in missing:
        out.items.append(Problem(raw.label, 1, name, "required column is missing from the header"))
    if missing:
        return None, out.items

    typed: dict[str, pd.Series] = {}
    ok = np.ones(len(frame), dtype=bool)  # value parsed, so later checks on it make sense
    for col in spec.columns:
        if col.name not in frame.columns:
            continue
        values = frame[col.name]
        series, bad = _type_column(col, values, ctx, out)
        typed[col.name] = series
        ok_col = ~bad
        ok &= ok_col | values.isna().to_numpy()

    for col in spec.columns:
        if col.ref and col.name in typed:
            _check_reference(col, typed[col.name], ctx, out)
    _check_keys(spec, typed, out)
    frame_typed = pd.DataFrame(typed, index=frame.index)
    checks.run(spec.name, frame_typed, ctx, out)
    if out.items:
        return None, out.items
    return _to_table_columns(spec, frame_typed, ctx), []


def _type_column(
    col: Column, values: pd.Series, ctx: Context, out: RowProblems
) -> tuple[pd.Series, np.ndarray]:
    """Parse one column; report missing, malformed, too long, too small and future values."""
    shown = values.map(_PII_TYPES[col.type], na_action="ignore") if col.type in _PII_TYPES else values
    present = values.notna().to_numpy()
    if col.required:
        out.add(~present, col.name, "a value is required")
    if col.type == "str":
        series: pd.Series = values
        problems: list[tuple[str, np.ndarray]] = []
        if col.max_length:
            too_long = present & (values.str.len().fillna(0).to_numpy() > col.max_length)
            problems.append((f"longer than {col.max_length} characters", too_long))
    elif col.type in ("int", "money"):
        series, problems = parsing.parse_number(values, integer=col.type == "int")
    elif col.type == "date":
        series, problems = parsing.parse_date(values)
    elif col.type == "month":
        series, problems = parsing.parse_month(values)
    elif col.type == "datetime":
        series, problems = parsing.parse_datetime(values)
    elif col.type == "bool":
        series, problems = parsing.parse_bool(values)
    elif col.type == "enum":
        series, problems = parsing.parse_enum(values, col.allowed)
    elif col.type == "national_id":
        series, problems = parsing.parse_national_id(values)
    else:
        series, problems = parsing.parse_mobile(values)

    bad = np.zeros(len(values), dtype=bool)
    for message, mask in problems:
        out.add(mask, col.name, message, shown)
        bad |= mask
    if col.min_value is not None:
        num = series.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            low = (num <= col.min_value) if col.min_exclusive else (num < col.min_value)
        low &= ~bad
        word = "positive" if col.min_exclusive and col.min_value == 0 else f"at least {col.min_value:g}"
        if not col.min_exclusive and col.min_value == 0:
            word = "zero or more (negative values are impossible)"
        out.add(low, col.name, f"must be {word}", values)
        bad |= low
    if col.max_value is not None:
        num = series.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            high = (num > col.max_value) & ~bad
        out.add(high, col.name, f"must be at most {col.max_value:g}", values)
        bad |= high
    if col.not_future:
        limit = ctx.latest_date
        if col.type == "month":
            limit = limit.to_period("M").to_timestamp()
        # a date-time: any time of the latest allowed day (local times both)
        later = series >= limit + pd.Timedelta(days=1) if col.type == "datetime" else series > limit
        future = later.fillna(False).to_numpy(dtype=bool) & ~bad
        out.add(future, col.name, f"is after today ({ctx.today.isoformat()})", values)
        bad |= future
    return series, bad


def _check_reference(col: Column, series: pd.Series, ctx: Context, out: RowProblems) -> None:
    assert col.ref is not None
    ref_file, ref_col = col.ref
    known = ctx.known.get(col.ref, pd.Index([], dtype=object))
    present = series.notna().to_numpy()
    found = pc.is_in(pa.array(series.array), value_set=pa.array(known.to_numpy(), pa.string()))
    unknown = present & ~np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    out.add(unknown, col.name, f"unknown {ref_col}: not in the {ref_file} file nor in the database", series)


def _check_keys(spec: FileSpec, typed: dict[str, pd.Series], out: RowProblems) -> None:
    key = pd.DataFrame({k: typed[k] for k in spec.key})
    complete = key.notna().all(axis=1).to_numpy()
    # One int64 per row from the columns' factor codes: duplicated() on it is far faster than on strings.
    combined = np.zeros(len(key), dtype=np.int64)
    for name in spec.key:
        codes, uniques = pd.factorize(key[name])
        combined = combined * (len(uniques) + 1) + (codes + 1)
    dup = pd.Series(combined).duplicated(keep="first").to_numpy() & complete
    if not dup.any():
        return
    numbered = key.assign(_row=np.arange(len(key)) + 2)
    first = numbered.groupby(list(spec.key), sort=False)["_row"].transform("min").to_numpy()
    names = ", ".join(spec.key)
    for i in np.flatnonzero(dup):
        out.items.append(
            Problem(
                out.label,
                int(i) + 2,
                spec.key[0] if len(spec.key) == 1 else None,
                f"duplicate key ({names}): same as row {first[i]}",
            )
        )


def _to_table_columns(spec: FileSpec, typed: pd.DataFrame, ctx: Context) -> Validated:
    """Rename and derive columns as the table stores them (PII encrypted, indexed and masked; local
    date-times of ``utc`` columns as naive UTC)."""
    frame = typed.copy()
    insert_only: list[str] = []
    for col in spec.columns:
        if col.utc and col.name in frame.columns:
            frame[col.name] = parsing.local_to_utc(frame[col.name], ctx.time_zone)
        if col.default is None:
            continue
        if col.name not in frame.columns:
            frame[col.name] = cast(Any, col.default)
            insert_only.append(col.name)
        else:  # a blank cell takes the default too
            frame[col.name] = frame[col.name].astype(object).where(frame[col.name].notna(), col.default)
    for name, masker in _PII_TYPES.items():
        if name not in frame.columns:
            continue
        plain = frame.pop(name)
        mask = plain.notna().to_numpy()
        enc = np.full(len(plain), None, dtype=object)
        idx = np.full(len(plain), None, dtype=object)
        masked = np.full(len(plain), None, dtype=object)
        for i in np.flatnonzero(mask).tolist():
            value = str(plain.iat[i])
            enc[i] = ctx.cipher.encrypt(value)
            idx[i] = ctx.cipher.blind_index(value)
            masked[i] = masker(value)
        frame[f"{name}_enc"] = enc
        frame[f"{name}_index"] = idx
        frame[f"{name}_masked"] = masked
    return Validated(spec, frame, tuple(insert_only))
