"""The analysis a researcher would run in SPSS on a satisfaction survey, as one JSON-ready dict.

>>> from wealthcrm.surveys.analysis import analyze
>>> from wealthcrm.surveys.questionnaire import shipped_questionnaire
>>> result = analyze(answers, shipped_questionnaire(), missing="pairwise", groups=["tier"])  # doctest: +SKIP
>>> result["dimensions"]["reliability"]["alpha"]  # doctest: +SKIP
0.91

Missing answers (``missing``) decide two things: each dimension's reliability (pairwise covariances,
or only respondents who answered all its items) and each respondent's dimension score (pairwise: the
mean of the items answered, when at least half were; listwise: only when all were). Multivariate
methods (KMO, Bartlett, EFA, CFA, regression, SEM) always use the respondents complete on their
variables, and report how many that is. See docs/surveys.md for every definition.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from wealthcrm.errors import Invalid
from wealthcrm.surveys.data import BLANKS, SurveyData, keyed, prepare
from wealthcrm.surveys.questionnaire import Questionnaire
from wealthcrm.surveys.stats import groups as group_stats
from wealthcrm.surveys.stats import outcomes, reliability, validity

MISSING_RULES = ("pairwise", "listwise")


def jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars to Python, NaN and ±inf to None, tuples to lists."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dimension_scores(scores: pd.DataFrame, dims: dict[str, list[str]], missing: str) -> pd.DataFrame:
    """Each respondent's mean of a dimension's (keyed) items, by the missing-answers rule."""
    out = {}
    for dim, items in dims.items():
        block = scores[items]
        answered = block.notna().sum(axis=1)
        need = len(items) if missing == "listwise" else math.ceil(len(items) / 2)
        out[dim] = block.mean(axis=1).where(answered >= need)
    return pd.DataFrame(out, index=scores.index)


def _attempt(name: str, warnings: list[str], fn: Callable[[], Any]) -> Any:
    """Run one analysis; a failure (a singular matrix, a model that does not converge) becomes a
    warning so the rest of the report still comes out. Statistical libraries raise many types."""
    try:
        return fn()
    except Exception as exc:
        warnings.append(f"{name}: not computed ({type(exc).__name__}: {exc})")
        return None


def _group_column(data: SurveyData, q: Questionnaire, name: str) -> pd.Series:
    if name in data.extra.columns:
        text = data.extra[name].astype("string").str.strip()
        return text.mask(text.isin(BLANKS))
    if name in data.scores.columns:
        item = q.item_map()[name]
        labels = {float(o.code): o.label.en for o in item.options}
        return data.scores[name].map(lambda v: labels.get(v, f"{v:g}") if pd.notna(v) else pd.NA)
    known = [*map(str, data.extra.columns), *q.profile]
    raise Invalid(f"group {name!r} is not a column of the answers; available: {', '.join(known) or 'none'}")


def analyze(
    answers: pd.DataFrame | SurveyData,
    questionnaire: Questionnaire,
    *,
    missing: str = "pairwise",
    groups: Sequence[str] = (),
    n_factors: int | None = None,
    models: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Reliability, validity, descriptives, group differences, NPS, IPA, key drivers, SEM, gaps.

    ``answers``: wide (one row per respondent, one column per item) or long (the data contract's
    ``survey_answers``); ``groups``: columns of the answers (or profile items) to compare
    respondents by; ``n_factors``: EFA factors (default: parallel analysis); ``models=False`` skips
    the slow CFA and structural model; ``seed``: parallel analysis's random draws.
    """
    if missing not in MISSING_RULES:
        raise Invalid(f"missing must be one of {', '.join(MISSING_RULES)}, not {missing!r}")
    q = questionnaire
    data = answers if isinstance(answers, SurveyData) else prepare(answers, q)
    scores = keyed(data, q)
    warnings: list[str] = []
    rule: reliability.Missing = "listwise" if missing == "listwise" else "pairwise"
    reversed_items = q.reversed_items()
    dims = {d.id: [i for i in d.items if i in scores.columns] for d in q.dimensions}
    for d in q.dimensions:
        lost = [i for i in d.items if i not in scores.columns]
        if lost:
            warnings.append(f"dimension {d.id}: items absent from the data: {', '.join(lost)}")
    dims = {d: items for d, items in dims.items() if items}
    dim_scores = dimension_scores(scores, dims, missing)

    out: dict[str, Any] = {
        "questionnaire": {"id": q.id, "version": q.version},
        "form": data.form,
        "missing": missing,
        "n_respondents": len(scores),
        "items_absent": data.absent,
        "warnings": warnings,
    }
    item_map = q.item_map()
    items_out: dict[str, Any] = {}
    for item_id in scores.columns:
        item = item_map[item_id]
        entry = {
            "type": item.type,
            "reversed": item_id in reversed_items,
            **group_stats.describe(scores[item_id]),
        }
        if item.type in ("single", "multiple"):
            entry["frequencies"] = group_stats.frequencies(scores[item_id])
        items_out[item_id] = entry
    out["items"] = items_out

    dimensions: dict[str, Any] = {}
    for dim, items in dims.items():
        rel = reliability.reliability(scores[items], missing=rule)
        for item_id, entry in rel["items"].items():
            entry["reversed"] = item_id in reversed_items
        rel["score"] = group_stats.describe(dim_scores[dim])
        dimensions[dim] = rel
    out["dimensions"] = dimensions

    likert = [i for items in dims.values() for i in items]
    complete = scores[likert].dropna()
    out["complete_cases"] = {"n": len(complete), "n_excluded": len(scores) - len(complete)}
    if len(complete) > len(likert) and len(likert) >= 3:
        adequacy = _attempt("kmo", warnings, lambda: validity.sampling_adequacy(complete))
        if adequacy is not None:
            out["kmo"], out["bartlett"] = adequacy
        parallel = _attempt(
            "parallel analysis", warnings, lambda: validity.parallel_analysis(complete, seed=seed)
        )
        if parallel is not None:
            chosen = n_factors or max(1, parallel["n_factors_parallel"])
            chosen = min(chosen, validity.MAX_EFA_FACTORS, len(likert) - 1)
            found = _attempt("efa", warnings, lambda: validity.efa(complete, chosen))
            out["efa"] = {"factor_retention": parallel, **(found or {})}
        structure = {d: items for d, items in dims.items() if len(items) >= 2}
        if models and len(structure) >= 1:
            out["cfa"] = _attempt("cfa", warnings, lambda: validity.cfa(complete, structure))
    else:
        warnings.append(
            f"factor analysis skipped: {len(complete)} complete respondents for {len(likert)} items"
        )

    out["outcomes"] = _outcomes(q, scores, dims, dim_scores, warnings, rule, models)
    if any(d.expectations for d in q.dimensions):
        out["gaps"] = _gaps(q, scores, warnings)
    if groups:
        out["groups"] = _groups(data, q, groups, dim_scores, scores)
    return jsonable(out)  # type: ignore[no-any-return]


def _outcomes(
    q: Questionnaire,
    scores: pd.DataFrame,
    dims: dict[str, list[str]],
    dim_scores: pd.DataFrame,
    warnings: list[str],
    rule: reliability.Missing,
    models: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    sat_items = [i for i in q.outcomes.satisfaction if i in scores.columns]
    loy_items = [i for i in q.outcomes.loyalty if i in scores.columns]
    nps_item = q.outcomes.nps if q.outcomes.nps in scores.columns else None
    sat = scores[sat_items].mean(axis=1) if sat_items else None
    if sat is not None:
        out["satisfaction"] = {"items": sat_items, **group_stats.describe(sat)}
    if loy_items:
        out["loyalty"] = {"items": loy_items, **group_stats.describe(scores[loy_items].mean(axis=1))}
        if len(loy_items) >= 2:
            out["loyalty"]["reliability"] = reliability.reliability(scores[loy_items], missing=rule)
    if nps_item is not None:
        out["nps"] = outcomes.nps(scores[nps_item])
    if sat is not None and len(dims) >= 2:
        drivers = _attempt("key drivers", warnings, lambda: outcomes.key_drivers(dim_scores, sat))
        out["drivers"] = drivers
        betas = {d: c["beta"] for d, c in (drivers or {}).get("coefficients", {}).items()}
        out["ipa"] = _attempt("ipa", warnings, lambda: outcomes.ipa(dim_scores, sat, betas))
    loyalty_indicators = loy_items + ([nps_item] if nps_item else [])
    structure = {d: items for d, items in dims.items() if len(items) >= 2}
    if models and sat_items and loyalty_indicators and structure:
        variables = [i for items in structure.values() for i in items] + sat_items + loyalty_indicators
        out["structural_model"] = _attempt(
            "structural model",
            warnings,
            lambda: outcomes.structural_model(scores[variables], structure, sat_items, loyalty_indicators),
        )
    return out


def _gaps(q: Questionnaire, scores: pd.DataFrame, warnings: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in q.dimensions:
        pairs = [(p, e) for p, e in d.expectations.items() if p in scores.columns and e in scores.columns]
        if not pairs:
            if d.expectations:
                warnings.append(f"gaps of {d.id}: no perception–expectation pair is in the data")
            continue
        perception = scores[[p for p, _ in pairs]]
        expectation = scores[[e for _, e in pairs]]
        out[d.id] = outcomes.gaps(perception, expectation)
    return out


def _groups(
    data: SurveyData,
    q: Questionnaire,
    names: Sequence[str],
    dim_scores: pd.DataFrame,
    scores: pd.DataFrame,
) -> dict[str, Any]:
    targets = {str(c): dim_scores[c] for c in dim_scores.columns}
    sat_items = [i for i in q.outcomes.satisfaction if i in scores.columns]
    loy_items = [i for i in q.outcomes.loyalty if i in scores.columns]
    if sat_items:
        targets["satisfaction"] = scores[sat_items].mean(axis=1)
    if loy_items:
        targets["loyalty"] = scores[loy_items].mean(axis=1)
    if q.outcomes.nps in scores.columns:
        targets["nps_score"] = scores[q.outcomes.nps]
    out: dict[str, Any] = {}
    for name in names:
        column = _group_column(data, q, name)
        out[name] = {target: group_stats.compare(values, column) for target, values in targets.items()}
    return out
