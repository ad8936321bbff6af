"""Typing text columns, vectorised: every parser returns the typed values and the rows it rejected.

Dates and months repeat heavily in bank extracts (24 months over a million rows), so they are parsed
once per distinct value and broadcast back (``pd.factorize``), which is what makes validation of a
million-row file take about a second.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, ValidationError

from wealthcrm.security.pii import is_valid_mobile, normalize_mobile

#: (typed values, {message: mask of rejected rows})
Parsed = tuple[pd.Series, list[tuple[str, np.ndarray]]]

_TRUE = {"1", "true", "t", "yes", "y", "是"}
_FALSE = {"0", "false", "f", "no", "n", "否"}
_DATE_8 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATE_SEP = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})[-/.]?(\d{1,2})$")
_DATETIME = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")


def _by_unique(values: pd.Series, parse_one: Callable[[str], object]) -> tuple[np.ndarray, np.ndarray]:
    """Apply a scalar parser to each distinct value; returns (parsed objects, failed mask)."""
    codes, uniques = pd.factorize(values)
    parsed_u = [parse_one(str(u)) for u in uniques]
    failed_u = np.array([p is None for p in parsed_u] + [False], dtype=bool)
    obj_u = np.empty(len(parsed_u) + 1, dtype=object)
    obj_u[:-1] = parsed_u
    obj_u[-1] = None
    # code -1 (missing) maps to the sentinel slot at the end
    return obj_u[codes], failed_u[codes]


def _date_or_none(text: str) -> date | None:
    m = _DATE_SEP.match(text) or _DATE_8.match(text)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _month_or_none(text: str) -> date | None:
    m = _MONTH.match(text)
    if not m or not 1 <= int(m[2]) <= 12:
        return None
    return date(int(m[1]), int(m[2]), 1)


def _to_datetime64(objs: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(pd.Series(objs, dtype=object), errors="coerce")).astype("datetime64[s]")


def parse_date(values: pd.Series) -> Parsed:
    objs, failed = _by_unique(values, _date_or_none)
    return _to_datetime64(objs), [("not a date: use YYYY-MM-DD", failed)]


def parse_month(values: pd.Series) -> Parsed:
    objs, failed = _by_unique(values, _month_or_none)
    return _to_datetime64(objs), [("not a month: use YYYY-MM", failed)]


def parse_datetime(values: pd.Series) -> Parsed:
    def one(text: str) -> pd.Timestamp | None:
        m = _DATETIME.match(text)
        if not m:
            return None
        try:
            return pd.Timestamp(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6] or 0))
        except ValueError:
            return None

    objs, failed = _by_unique(values, one)
    return _to_datetime64(objs), [("not a date and time: use YYYY-MM-DD HH:MM:SS", failed)]


def local_to_utc(values: pd.Series, time_zone: str) -> pd.Series:
    """Naive local date-times in ``time_zone`` as naive UTC, the stored convention, in one vectorised pass.

    Where the zone has summer time, a wall-clock time its spring change skips is moved forward, and an
    hour its autumn change repeats is read as the first one (still summer time). China has neither.
    """
    local = values.dt.tz_localize(
        time_zone, ambiguous=np.ones(len(values), dtype=bool), nonexistent="shift_forward"
    )
    utc: pd.Series = local.dt.tz_convert("UTC").dt.tz_localize(None).astype(values.dtype)
    return utc


def _arrow_float(values: pd.Series, *, strip_commas: bool) -> pd.Series | None:
    """All values as float64 in one C++ pass, or None when some value is not a number."""
    try:
        chunked = pa.array(values.array)  # zero-copy for pandas' Arrow-backed strings
        if strip_commas:
            chunked = pc.replace_substring(chunked, ",", "")
        return pd.Series(pc.cast(chunked, pa.float64()).to_numpy(zero_copy_only=False), index=values.index)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None


def parse_number(values: pd.Series, *, integer: bool) -> Parsed:
    num = _arrow_float(values, strip_commas=not integer)
    if num is None:  # some value is not a number: find which, row by row
        text = values.str.replace(",", "", regex=False) if not integer else values
        num = pd.to_numeric(text, errors="coerce").astype("float64")
    present = values.notna().to_numpy()
    bad = present & ~np.isfinite(num.to_numpy(na_value=np.nan))
    if integer:
        frac = present & ~bad & (np.mod(num.fillna(0).to_numpy(), 1) != 0)
        return num, [("not a whole number", bad | frac)]
    return num.round(2), [("not a number", bad)]


def parse_bool(values: pd.Series) -> Parsed:
    lowered = values.str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[lowered.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = True
    out[lowered.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = False
    bad = values.notna().to_numpy() & out.isna().to_numpy()
    return out, [("not a yes/no value: use 1 or 0", bad)]


def parse_enum(values: pd.Series, allowed: tuple[str, ...]) -> Parsed:
    """Exact values, or the same letters in another case (``c3`` → ``C3``)."""
    canonical = {a.lower(): a for a in allowed}
    out = values.where(values.isin(allowed), values.str.lower().map(canonical))
    bad = values.notna().to_numpy() & out.isna().to_numpy()
    return out, [(f"not one of: {', '.join(allowed)}", bad)]


def parse_national_id(values: pd.Series) -> Parsed:
    normalized = values.str.upper()
    reasons: dict[str, str] = {}

    def one(text: str) -> str | None:
        try:
            ric.validate(text)
        except InvalidChecksum:
            reasons[text] = "check digit is wrong (GB 11643)"
            return None
        except InvalidComponent:
            reasons[text] = "encodes an impossible birth date or region"
            return None
        except ValidationError:
            reasons[text] = "must be 18 characters: 17 digits and a check digit 0–9 or X"
            return None
        if len(text) != 18:  # 15-digit IDs were withdrawn in 2013
            reasons[text] = "must be 18 characters: 17 digits and a check digit 0–9 or X"
            return None
        return text

    objs, failed = _by_unique(normalized, one)
    out = pd.Series(objs, index=values.index, dtype=object)
    problems = []
    for message in sorted(set(reasons.values())):
        texts = {t for t, r in reasons.items() if r == message}
        problems.append((message, failed & normalized.isin(texts).fillna(False).to_numpy(dtype=bool)))
    return out, problems


def parse_mobile(values: pd.Series) -> Parsed:
    def one(text: str) -> str | None:
        number = normalize_mobile(text)
        return number if is_valid_mobile(number) else None

    objs, failed = _by_unique(values, one)
    return pd.Series(objs, index=values.index, dtype=object), [
        ("not a mainland mobile number (11 digits starting 13–19)", failed)
    ]


def birth_date_of_id(national_id: str) -> date:
    return ric.get_birth_date(national_id)
