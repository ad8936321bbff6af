"""Survey answers in, one row per respondent out: reading files, wide or long form, checks, keying.

Two forms are understood, and told apart by their columns:

* **long** — the data contract's ``survey_answers`` (``response_id, item_id, score`` …, one row per
  response and item); rows of other questionnaires (``questionnaire_id``) are left out;
* **wide** — one row per respondent and one column per item; every other column (an id, a tier, an
  age band, an RM) is kept as a possible group.

Scores are checked against each item's scale (a 9 on a 1–7 item is an error, not a missing answer);
blank cells are missing answers.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from wealthcrm.errors import Invalid
from wealthcrm.surveys.questionnaire import Questionnaire

LONG_COLUMNS = ("response_id", "item_id", "score")
_UTF8_BOM = b"\xef\xbb\xbf"
_MAX_EXAMPLES = 3
#: cells that mean "no answer" in a text file
BLANKS = ("", "NA", "N/A", "NaN", "nan", "null", "NULL", "-")


@dataclass
class SurveyData:
    """Respondents × scored items (raw, not yet reverse-keyed) and the other columns, same index."""

    scores: pd.DataFrame
    extra: pd.DataFrame
    form: str
    #: scored items of the questionnaire that the data does not hold
    absent: list[str] = field(default_factory=list)


def read_answers(path: str | Path) -> pd.DataFrame:
    """A CSV (UTF-8 or GB18030), XLSX (first sheet) or Parquet file, as read."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise Invalid(f"{path}: no such file") from None
    except OSError as exc:
        raise Invalid(f"{path}: cannot read ({exc.strerror or exc})") from None
    suffix = path.suffix.lower()
    try:
        if data.startswith(b"PAR1") or suffix in (".parquet", ".pq"):
            return pd.read_parquet(io.BytesIO(data))
        if data.startswith(b"PK") or suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(io.BytesIO(data), engine="openpyxl")
    except Exception as exc:  # pyarrow and openpyxl raise many types for a damaged file
        raise Invalid(f"{path}: not a readable {suffix.lstrip('.') or 'data'} file ({exc})") from None
    try:
        text = data.removeprefix(_UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # Chinese bank exports
        except UnicodeDecodeError:
            raise Invalid(f"{path}: not readable as UTF-8 or GB18030 text") from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise Invalid(f"{path}: not a readable CSV file ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def is_long(frame: pd.DataFrame) -> bool:
    return all(c in frame.columns for c in LONG_COLUMNS)


def _numbers(values: pd.Series, where: str) -> pd.Series:
    """Numbers from numbers or text; blank → NaN; anything else is an error naming the rows."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    text = values.astype("string").str.strip().str.replace(",", "", regex=False)
    text = text.mask(text.isin(BLANKS))
    out = pd.to_numeric(text, errors="coerce")
    bad = out.isna() & text.notna()
    if bad.any():
        rows = ", ".join(f"row {int(r) + 2}: {values[r]!r}" for r in bad[bad].index[:_MAX_EXAMPLES])
        raise Invalid(f"{where}: {int(bad.sum())} value(s) are not numbers ({rows})")
    return out.astype(float)


def _pivot(frame: pd.DataFrame, q: Questionnaire) -> tuple[pd.DataFrame, pd.DataFrame]:
    if "questionnaire_id" in frame.columns:
        ids = frame["questionnaire_id"].astype(str).str.strip()
        if not (ids == q.id).any():
            found = ", ".join(sorted(set(ids))[:5])
            raise Invalid(f"no answers to questionnaire {q.id!r} in the file (it holds: {found})")
        frame = frame[ids == q.id]
    frame = frame.reset_index(drop=True)
    response = frame["response_id"].astype(str).str.strip()
    item = frame["item_id"].astype(str).str.strip()
    score = _numbers(frame["score"], "column score")
    dup = pd.DataFrame({"r": response, "i": item}).duplicated()
    if dup.any():
        first = int(np.argmax(dup.to_numpy()))
        raise Invalid(
            f"{int(dup.sum())} duplicate answer(s): response {response.iloc[first]!r} answers "
            f"{item.iloc[first]!r} more than once"
        )
    wide = pd.DataFrame({"r": response, "i": item, "s": score}).pivot(index="r", columns="i", values="s")
    wide.columns.name = None
    wide.index.name = "response_id"
    keep = [c for c in ("customer_id", "answered_on") if c in frame.columns]
    extra = frame.assign(response_id=response).groupby("response_id", sort=True)[keep].first()
    if "answered_on" in extra.columns:
        extra["wave"] = pd.to_datetime(extra["answered_on"], errors="coerce").dt.strftime("%Y-%m")
    return wide, extra.reindex(wide.index)


def prepare(frame: pd.DataFrame, q: Questionnaire) -> SurveyData:
    """The answers as :class:`SurveyData`; raises :class:`Invalid` listing what is wrong."""
    if frame.empty:
        raise Invalid("the answers hold no rows")
    items = q.item_map()
    if is_long(frame):
        wide, extra = _pivot(frame, q)
        form = "long"
    else:
        wide = frame.reset_index(drop=True)
        extra = wide[[c for c in wide.columns if c not in items]]
        form = "wide"
    scored = q.scored_items()
    present = [i for i in scored if i in wide.columns]
    dims = [i for d in q.dimensions for i in d.items]
    if not any(i in wide.columns for i in dims):
        raise Invalid(
            f"none of the questionnaire's dimension items ({', '.join(dims[:6])}…) is a column or item_id "
            f"of the answers; columns found: {', '.join(map(str, list(frame.columns)[:10]))}"
        )
    scores = pd.DataFrame(index=wide.index)
    problems: list[str] = []
    for item_id in present:
        values = _numbers(wide[item_id], f"item {item_id}")
        item = items[item_id]
        if item.type in ("single", "multiple"):
            codes = {o.code for o in item.options}
            bad = values.notna() & ~values.isin(codes)
            allowed = f"one of the codes {sorted(codes)}"
        else:
            lo, hi = q.scale_of(item_id)
            bad = values.notna() & ((values < lo) | (values > hi) | (values != np.round(values)))
            allowed = f"a whole number from {lo} to {hi}"
        if bad.any():
            rows = ", ".join(f"{r}: {values[r]:g}" for r in bad[bad].index[:_MAX_EXAMPLES])
            problems.append(f"item {item_id}: {int(bad.sum())} answer(s) not {allowed} ({rows})")
        scores[item_id] = values
    if problems:
        raise Invalid("answers out of range:\n  " + "\n  ".join(problems))
    absent = [i for i in scored if i not in wide.columns]
    return SurveyData(scores=scores, extra=extra, form=form, absent=absent)


def keyed(data: SurveyData, q: Questionnaire) -> pd.DataFrame:
    """The scores with reverse-keyed items reversed: ``min + max − x`` on the item's scale."""
    out = data.scores.copy()
    for item_id in q.reversed_items():
        if item_id in out.columns:
            lo, hi = q.scale_of(item_id)
            out[item_id] = lo + hi - out[item_id]
    return out


AGE_BANDS = ((0, "<30"), (30, "30-44"), (45, "45-59"), (60, "60+"))


def age_band(age: object) -> str | None:
    if not isinstance(age, int | float) or np.isnan(age):
        return None
    return [label for lower, label in AGE_BANDS if age >= lower][-1]


def attach_customers(data: SurveyData, customers: pd.DataFrame) -> SurveyData:
    """Add the customers' columns (``customers.csv`` of the data contract) to the respondents by
    ``customer_id``, and ``age_band`` from ``birth_date`` at the answer's date (or today)."""
    if "customer_id" not in data.extra.columns:
        raise Invalid("the answers have no customer_id column to join customers on")
    if "customer_id" not in customers.columns:
        raise Invalid("the customers file has no customer_id column")
    table = customers.copy()
    table["customer_id"] = table["customer_id"].astype(str).str.strip()
    table = table.drop_duplicates("customer_id").set_index("customer_id")
    table = table.drop(columns=[c for c in ("national_id", "mobile", "name") if c in table.columns])
    keys = data.extra["customer_id"].astype(str).str.strip()
    joined = table.reindex(keys.to_numpy())
    joined.index = data.extra.index
    extra = data.extra.join(joined[[c for c in joined.columns if c not in data.extra.columns]])
    if "birth_date" in extra.columns:
        born = pd.to_datetime(extra["birth_date"], errors="coerce", format="mixed")
        when = (
            pd.to_datetime(extra["answered_on"], errors="coerce", format="mixed")
            if "answered_on" in extra.columns
            else pd.Series(pd.Timestamp.today(), index=extra.index)
        )
        years = (when - born).dt.days / 365.25
        extra["age_band"] = years.map(age_band)
    return SurveyData(scores=data.scores, extra=extra, form=data.form, absent=data.absent)
