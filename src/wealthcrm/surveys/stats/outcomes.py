"""What the dimensions do to satisfaction and loyalty: NPS, importance–performance, key drivers, SEM,
SERVQUAL gaps.

* **NPS** = % promoters (9–10) − % detractors (0–6), in points (−100…100). Its 95% interval is the
  normal (Wald) interval of a difference of two proportions of one multinomial sample:
  ``Var = (p_P + p_D − (p_P − p_D)²) / n`` — the variance of the mean of a score that is +1 for a
  promoter, 0 for a passive and −1 for a detractor (by hand: no library computes it).
* **Importance–performance analysis**: performance = the dimension's mean score; importance = its
  Pearson correlation with overall satisfaction (the standardised regression weight is given beside);
  quadrants split at the mean importance and the mean performance (Martilla & James 1977).
* **Key drivers**: OLS of standardised overall satisfaction on the standardised dimension scores
  (:mod:`statsmodels`), so the coefficients are β weights; VIF per driver; relative importance as
  the LMG / Shapley decomposition of R² (each driver's average gain in R² over all orders of entry,
  Lindeman, Merenda & Gold 1980), by hand from the correlation matrix (2^p subsets; p ≤ 12).
* **Structural model** (:mod:`semopy`): each dimension a latent factor of its items → overall
  satisfaction → loyalty (a latent factor of the loyalty items and the NPS item).
* **SERVQUAL gaps**: perception − expectation per item and dimension, paired t test
  (:func:`scipy.stats.ttest_rel`) and Cohen's d_z.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd

Z95 = 1.959963984540054
MAX_LMG_DRIVERS = 12
QUADRANTS = {
    (True, True): "keep_up_the_good_work",
    (True, False): "concentrate_here",
    (False, False): "low_priority",
    (False, True): "possible_overkill",
}


def nps(values: pd.Series) -> dict[str, Any]:
    x = values.dropna().to_numpy(dtype=float)
    n = len(x)
    if n == 0:
        return {"n": 0, "nps": None}
    promoters, detractors = int((x >= 9).sum()), int((x <= 6).sum())
    p_p, p_d = promoters / n, detractors / n
    score = p_p - p_d
    se = math.sqrt(max(p_p + p_d - score**2, 0.0) / n)
    return {
        "n": n,
        "missing": int(values.isna().sum()),
        "promoters": promoters,
        "passives": n - promoters - detractors,
        "detractors": detractors,
        "nps": 100 * score,
        "se": 100 * se,
        "ci": [max(-100.0, 100 * (score - Z95 * se)), min(100.0, 100 * (score + Z95 * se))],
        "ci_method": "Wald interval, Var = (pP + pD − (pP − pD)²)/n",
    }


def r_squared(corr: np.ndarray[Any, Any], subset: tuple[int, ...], y: int) -> float:
    """R² of y on the predictors in ``subset``, from a correlation matrix."""
    if not subset:
        return 0.0
    idx = list(subset)
    r_xy = corr[idx, y]
    return float(r_xy @ np.linalg.solve(corr[np.ix_(idx, idx)], r_xy))


def lmg(corr: np.ndarray[Any, Any], y: int) -> list[float]:
    """Shapley (LMG) share of R² of every predictor (all columns but ``y``)."""
    preds = [i for i in range(corr.shape[0]) if i != y]
    p = len(preds)
    cache: dict[tuple[int, ...], float] = {}

    def r2(s: tuple[int, ...]) -> float:
        if s not in cache:
            cache[s] = r_squared(corr, s, y)
        return cache[s]

    out = []
    for j in preds:
        others = [i for i in preds if i != j]
        total = 0.0
        for size in range(p):
            weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for s in itertools.combinations(others, size):
                total += weight * (r2(tuple(sorted((*s, j)))) - r2(s))
        out.append(total)
    return out


def key_drivers(drivers: pd.DataFrame, outcome: pd.Series) -> dict[str, Any]:
    """Standardised OLS of ``outcome`` on ``drivers`` (complete cases)."""
    import statsmodels.api as sm  # type: ignore[import-untyped]

    frame = pd.concat([drivers, outcome.rename("__y__")], axis=1).dropna()
    z = (frame - frame.mean()) / frame.std(ddof=1)
    names = [str(c) for c in drivers.columns]
    if len(frame) < len(names) + 3:
        raise ValueError(f"{len(frame)} complete respondents for {len(names)} drivers")
    fit = sm.OLS(z["__y__"], sm.add_constant(z[names])).fit()
    corr = z.corr().to_numpy()
    inv = np.linalg.inv(corr[: len(names), : len(names)])
    shares = lmg(corr, len(names)) if len(names) <= MAX_LMG_DRIVERS else [math.nan] * len(names)
    coefficients = {
        name: {
            "beta": float(fit.params[name]),
            "se": float(fit.bse[name]),
            "t": float(fit.tvalues[name]),
            "p": float(fit.pvalues[name]),
            "vif": float(inv[n, n]),
            "r": float(corr[n, -1]),
            "relative_importance": shares[n],
            "relative_share": shares[n] / float(fit.rsquared) if fit.rsquared > 0 else None,
        }
        for n, name in enumerate(names)
    }
    return {
        "n": len(frame),
        "n_excluded": len(drivers) - len(frame),
        "r2": float(fit.rsquared),
        "adj_r2": float(fit.rsquared_adj),
        "f": float(fit.fvalue),
        "p": float(fit.f_pvalue),
        "relative_importance_method": "LMG (Shapley decomposition of R²)",
        "coefficients": coefficients,
    }


def ipa(dim_scores: pd.DataFrame, satisfaction: pd.Series, betas: dict[str, float]) -> dict[str, Any]:
    """Importance (r with satisfaction) × performance (mean), quadrants at the means."""
    rows: dict[str, dict[str, Any]] = {}
    for dim in dim_scores.columns:
        pair = pd.concat([dim_scores[dim], satisfaction], axis=1).dropna()
        corr = float(np.corrcoef(pair.to_numpy(), rowvar=False)[0, 1]) if len(pair) > 2 else math.nan
        rows[str(dim)] = {
            "performance": float(dim_scores[dim].mean()),
            "importance": corr,
            "beta": betas.get(str(dim)),
            "n": len(pair),
        }
    imp_mean = float(np.nanmean([r["importance"] for r in rows.values()]))
    perf_mean = float(np.mean([r["performance"] for r in rows.values()]))
    for row in rows.values():
        row["quadrant"] = QUADRANTS[(row["importance"] >= imp_mean, row["performance"] >= perf_mean)]
    return {
        "importance_method": "Pearson r with overall satisfaction",
        "importance_mean": imp_mean,
        "performance_mean": perf_mean,
        "dimensions": rows,
    }


def structural_model(
    frame: pd.DataFrame,
    dimensions: dict[str, list[str]],
    satisfaction: list[str],
    loyalty: list[str],
) -> dict[str, Any]:
    """dimensions → satisfaction → loyalty in semopy, on complete cases of ``frame``."""
    from wealthcrm.surveys.stats.validity import STD, fit_sem, standardised_estimates

    lines = [f"{d} =~ {' + '.join(items)}" for d, items in dimensions.items()]
    sat, loy = satisfaction[0], loyalty[0]
    if len(satisfaction) > 1:
        sat = "satisfaction"
        lines.append(f"satisfaction =~ {' + '.join(satisfaction)}")
    if len(loyalty) > 1:
        loy = "loyalty"
        lines.append(f"loyalty =~ {' + '.join(loyalty)}")
    lines.append(f"{sat} ~ {' + '.join(dimensions)}")
    lines.append(f"{loy} ~ {sat}")
    used = frame.dropna()
    model, fit = fit_sem("\n".join(lines), used)
    est = standardised_estimates(model)
    paths: dict[str, dict[str, Any]] = {}
    for target, sources in ((sat, list(dimensions)), (loy, [sat])):
        for source in sources:
            row = est[(est["op"] == "~") & (est["lval"] == target) & (est["rval"] == source)]
            paths[f"{source} -> {target}"] = {
                "std": float(row[STD].iloc[0]),
                "estimate": float(row["Estimate"].iloc[0]),
                "p": _float(row["p-value"].iloc[0]),
            }
    r2: dict[str, float] = {}
    for target in (sat, loy):
        row = est[(est["op"] == "~~") & (est["lval"] == target) & (est["rval"] == target)]
        r2[target] = 1 - float(row[STD].iloc[0])
    fit["n_excluded"] = len(frame) - len(used)
    return {"model": "\n".join(lines), "fit": fit, "paths": paths, "r2": r2}


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def gaps(perception: pd.DataFrame, expectation: pd.DataFrame) -> dict[str, Any]:
    """SERVQUAL gaps of paired item columns (perception[:, j] ↔ expectation[:, j])."""
    from scipy import stats  # type: ignore[import-untyped]

    def paired(p: pd.Series, e: pd.Series) -> dict[str, Any]:
        pair = pd.concat([p.rename("p"), e.rename("e")], axis=1).dropna()
        diff = pair["p"] - pair["e"]
        out: dict[str, Any] = {
            "n": len(pair),
            "perception": float(pair["p"].mean()),
            "expectation": float(pair["e"].mean()),
            "gap": float(diff.mean()),
        }
        if len(pair) > 2 and diff.std() > 0:
            res = stats.ttest_rel(pair["p"], pair["e"])
            out.update(t=float(res.statistic), df=len(pair) - 1, p=float(res.pvalue))
            out["cohen_dz"] = float(diff.mean() / diff.std(ddof=1))
        return out

    items = {
        str(p): paired(perception[p], expectation[e])
        for p, e in zip(perception.columns, expectation.columns, strict=True)
    }
    dimension = paired(perception.mean(axis=1, skipna=False), expectation.mean(axis=1, skipna=False))
    return {"dimension": dimension, "items": items}
