"""Typing the columns of an analyst's own table, and deciding which of them may be features.

A column is dropped, with its reason, when it cannot generalise or would cheat:

- *empty*: no values; *constant*: one value and no blanks (one value *with* blanks is kept: the
  blank-or-not pattern of a "Y"/blank flag can carry signal, and LightGBM splits on missing values);
- *leaky*: on its own it predicts the target almost perfectly — out-of-fold AUC ≥ 0.99 (``LEAK_AUC``)
  or the target is a function of it (every value occurs with one class only, at least 10 rows a value);
- *ID-like*: text with ≥ 90% distinct values; integers that are all distinct and either dense (a
  renumbering of the rows), fixed-width with ≥ 5 digits (customer and account numbers) or monotone
  with the row order (RowNumber);
- *free text*: text with more than half its values distinct, or more than max(50, 5% of its rows)
  distinct values (Surname: 2,932 names in 10,000 rows) — too many categories, too few rows each.

The checks run in that order and the first that applies names the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from wealthcrm.errors import Invalid

LEAK_AUC = 0.99
ID_DISTINCT_SHARE = 0.9
FREE_TEXT_DISTINCT_SHARE = 0.5
FREE_TEXT_MIN_VALUES = 50
FREE_TEXT_ROW_SHARE = 0.05
FUNCTIONAL_MIN_ROWS_PER_VALUE = 10
_LEAK_BINS = 20

# Exports write "missing" in many ways; these (compared trimmed and case-blind) count as blank.
NULL_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a", "-", "--"})
POSITIVE_DEFAULTS = ("1", "yes", "true", "y", "是")

# A number as exports print it: sign, currency sign, thousands separators, decimals, exponent, percent.
_NUMBER = re.compile(r"[+-]?[¥￥$€£]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?%?|[+-]?\.\d+%?")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DroppedColumn:
    column: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"column": self.column, "reason": self.reason}


@dataclass
class ColumnReport:
    """Which columns are features (and of which kind), and which were dropped and why."""

    features: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # feature -> "numeric" | "categorical"
    cleaned: list[str] = field(default_factory=list)  # numbers written with separators, spaces, %
    dropped: list[DroppedColumn] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "kinds": dict(self.kinds),
            "cleaned_numbers": list(self.cleaned),
            "dropped_columns": [d.to_dict() for d in self.dropped],
        }


def as_text(series: pd.Series[Any]) -> pd.Series[Any]:
    """Trimmed strings, with blanks and the usual "missing" spellings as NaN."""
    text = series.astype("str").str.strip()
    return text.mask(text.str.lower().isin(NULL_TOKENS))


def parse_numbers(text: pd.Series[Any]) -> pd.Series[Any] | None:
    """Text as float64 when every non-blank value is a number ("1,234.5", " 42 ", "12%" = 0.12), else None.

    A decimal comma ("1,5") is not a number; zero-padded values ("0101") are codes and stay text.
    """
    values = text.dropna().str.strip()
    if values.empty or not bool(values.str.fullmatch(_NUMBER).all()):
        return None
    if bool(values.str.match(r"[+-]?0\d").any()):
        return None  # zero-padded: codes (branch 0101, customer 000123), not quantities
    numbers = pd.to_numeric(values.str.replace(r"[,¥￥$€£%]", "", regex=True), errors="raise")
    numbers = numbers.where(~values.str.endswith("%"), numbers / 100)
    return numbers.astype("float64").reindex(text.index)


def type_column(series: pd.Series[Any]) -> tuple[pd.Series[Any], str, bool]:
    """The column as float64 ("numeric") or trimmed text ("text"), and whether numbers needed cleaning.

    Cleaning: surrounding spaces, thousands separators, currency signs or percent signs.
    """
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64"), "numeric", False
    if pd.api.types.is_datetime64_any_dtype(series):
        # Days since the earliest date: trees only need the order.
        return (series - series.min()).dt.total_seconds() / 86400.0, "numeric", False
    if pd.api.types.is_numeric_dtype(series):
        return series.astype("float64"), "numeric", False
    text = as_text(series)
    numbers = parse_numbers(text)
    if numbers is None:
        return text, "text", False
    present = text.notna()
    padded = series[present].astype("str") != text[present]
    decorated = text[present].str.contains(r"[,¥￥$€£%]")
    return numbers, "numeric", bool(padded.any() or decorated.any())


def binary_labels(
    series: pd.Series[Any], positive: object | None
) -> tuple[IntArray, npt.NDArray[np.bool_], str, str]:
    """0/1 labels of the rows with a target, the mask of those rows, and the positive and negative values.

    Numbers are compared as numbers (1, "1" and "1.0" are one class). Without ``positive``, the class
    spelled 1 / yes / true / Y / 是 (case-blind) is the positive one.
    """
    name = str(series.name)
    text = as_text(series)
    numbers = parse_numbers(text)
    if numbers is not None:
        text = numbers.map(_canonical_number, na_action="ignore")
    present = text.notna().to_numpy()
    classes = sorted(text.dropna().unique().tolist(), key=str)
    if len(classes) != 2:
        shown = ", ".join(map(str, classes[:10])) + (", …" if len(classes) > 10 else "")
        raise Invalid(
            f"target {name!r} has {len(classes)} class(es) ({shown or 'no values'}); it must have exactly 2"
        )
    if positive is not None:
        chosen = _match_class(str(positive).strip(), classes)
        if chosen is None:
            raise Invalid(f"positive value {positive!r} is not a value of {name!r} ({', '.join(classes)})")
    else:
        hits = [c for c in classes if c.lower() in POSITIVE_DEFAULTS]
        if len(hits) != 1:
            raise Invalid(
                f"cannot tell which value of {name!r} ({', '.join(classes)}) is the positive class: "
                "name it with --positive"
            )
        chosen = hits[0]
    other = classes[1] if classes[0] == chosen else classes[0]
    labels = np.asarray(text[present] == chosen, dtype=np.int64)
    return labels, present, str(chosen), str(other)


def _canonical_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _match_class(wanted: str, classes: list[str]) -> str | None:
    if wanted in classes:
        return wanted
    folded = [c for c in classes if c.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    number = parse_numbers(pd.Series([wanted], dtype="str"))
    if number is not None:
        canonical = _canonical_number(float(number.iloc[0]))
        if canonical in classes:
            return canonical
    return None


def rank_auc(scores: FloatArray, labels: IntArray) -> float:
    """ROC AUC as the Mann-Whitney statistic from average ranks (ties count half)."""
    positives = int(labels.sum())
    negatives = len(labels) - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = pd.Series(scores).rank(method="average").to_numpy()
    return float((ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _out_of_fold_encoding(codes: IntArray, labels: IntArray, fold_of_row: IntArray) -> FloatArray:
    """Each row's positive rate of its value, learned on the other folds (unseen values get the prior)."""
    encoded = np.empty(len(codes), dtype=np.float64)
    size = int(codes.max()) + 1
    for fold in np.unique(fold_of_row):
        test = fold_of_row == fold
        train = ~test
        counts = np.bincount(codes[train], minlength=size)
        hits = np.bincount(codes[train], weights=labels[train], minlength=size)
        prior = labels[train].mean()
        rate = np.divide(hits, counts, out=np.full(size, prior), where=counts > 0)
        encoded[test] = rate[codes[test]]
    return encoded


def single_column_auc(values: pd.Series[Any], kind: str, labels: IntArray, fold_of_row: IntArray) -> float:
    """How well this one column predicts the target out of fold (0.5 = not at all, 1 = perfectly).

    The best of: the raw number as a score, either direction, blanks lowest or highest (nothing is fitted
    but the direction); and the positive rate of its value (text) or of its ventile (numbers), blanks
    being a value of their own, learned on the other folds.
    """
    best = 0.5
    if kind == "numeric":
        raw = values.to_numpy(dtype=np.float64)
        finite = raw[~np.isnan(raw)]
        if finite.size:
            span = float(finite.max() - finite.min()) + 1.0
            for blank in (float(finite.min()) - span, float(finite.max()) + span):
                auc = rank_auc(np.where(np.isnan(raw), blank, raw), labels)
                best = max(best, auc, 1.0 - auc)
        groups = pd.qcut(values, q=_LEAK_BINS, duplicates="drop", labels=False)
    else:
        groups = values
    codes, _ = pd.factorize(groups, use_na_sentinel=False)
    auc = rank_auc(_out_of_fold_encoding(codes.astype(np.int64), labels, fold_of_row), labels)
    return max(best, auc)


def _functional(values: pd.Series[Any], labels: IntArray) -> int:
    """The number of values if each occurs with one class only (and there are ≥ 10 rows a value), else 0."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    n_values = len(uniques)
    if n_values < 2 or len(values) < FUNCTIONAL_MIN_ROWS_PER_VALUE * n_values:
        return 0
    counts = np.bincount(codes, minlength=n_values)
    hits = np.bincount(codes, weights=labels, minlength=n_values)
    return n_values if bool(np.all((hits == 0) | (hits == counts))) else 0


def _id_like_integers(values: pd.Series[Any], order: FloatArray) -> str | None:
    present = values.dropna()
    if len(present) < 0.9 * len(values) or not bool(np.all(np.mod(present, 1) == 0)):
        return None
    distinct = present.nunique()
    if distinct >= ID_DISTINCT_SHARE * len(present) and len(present) > 2:
        rho = pd.Series(order[values.notna().to_numpy()]).corr(
            pd.Series(present.to_numpy()), method="spearman"
        )
        if abs(rho) >= 0.99:
            return "ID-like: integers that follow the row order (a row counter)"
    if distinct < len(present):
        return None
    low, high = float(present.min()), float(present.max())
    if high - low + 1 <= 2 * len(present):
        return "ID-like: a distinct integer per row, numbering the rows"
    digits = present.abs().astype("int64").astype("str").str.len()
    if digits.nunique() == 1 and int(digits.iloc[0]) >= 5:
        return (
            f"ID-like: a distinct {int(digits.iloc[0])}-digit number per row (a customer or account number)"
        )
    return None


def _high_cardinality(text: pd.Series[Any]) -> str | None:
    present = text.dropna()
    distinct = present.nunique()
    share = distinct / len(present)
    if share >= ID_DISTINCT_SHARE:
        return f"ID-like: {distinct:,} distinct values in {len(present):,} rows"
    if share > FREE_TEXT_DISTINCT_SHARE or distinct > max(
        FREE_TEXT_MIN_VALUES, FREE_TEXT_ROW_SHARE * len(present)
    ):
        return (
            f"free text: {distinct:,} distinct values in {len(present):,} rows "
            f"({len(present) / distinct:.1f} rows a value), too many categories to generalise"
        )
    return None


def profile_typed(
    frame: pd.DataFrame, kinds: dict[str, str], labels: IntArray, fold_of_row: IntArray, row_order: FloatArray
) -> ColumnReport:
    """Keep or drop each column of a typed frame (the target and ID columns already taken out)."""
    report = ColumnReport()
    for column in frame.columns:
        name = str(column)
        values = frame[column]
        reason = _drop_reason(values, kinds[name], labels, fold_of_row, row_order)
        if reason is not None:
            report.dropped.append(DroppedColumn(name, reason))
        else:
            report.features.append(name)
            report.kinds[name] = "numeric" if kinds[name] == "numeric" else "categorical"
    return report


def _drop_reason(
    values: pd.Series[Any], kind: str, labels: IntArray, fold_of_row: IntArray, row_order: FloatArray
) -> str | None:
    present = values.dropna()
    if present.empty:
        return "empty: no values"
    if present.nunique() == 1 and len(present) == len(values):
        return f"constant: every row is {present.iloc[0]!r}"
    auc = single_column_auc(values, kind, labels, fold_of_row)
    if auc >= LEAK_AUC:
        return f"leaky: on its own it predicts the target (out-of-fold AUC {auc:.3f})"
    n_values = _functional(values, labels)
    if n_values:
        return f"leaky: the target is a function of it (each of its {n_values} values has one class only)"
    if kind == "numeric":
        return _id_like_integers(values, row_order)
    return _high_cardinality(values)


def as_features(frame: pd.DataFrame, report: ColumnReport) -> pd.DataFrame:
    """The feature columns, text as pandas categoricals (LightGBM splits on them natively)."""
    features = {}
    for name in report.features:
        values = frame[name]
        if report.kinds[name] == "categorical":
            values = values.astype(pd.CategoricalDtype(sorted(values.dropna().unique())))
        features[name] = values
    return pd.DataFrame(features, index=frame.index)
