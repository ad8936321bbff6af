"""Descriptives, and differences between groups of respondents (tier, age band, RM…) with effect sizes.

The test is chosen by a stated rule, per score and grouping:

1. groups with fewer than ``MIN_GROUP`` answers are left out (and listed);
2. the score is *normal enough* when in every group |skewness| ≤ 2 and |excess kurtosis| ≤ 7 (West,
   Finch & Curran 1995: beyond these, t and F tests mislead; Shapiro–Wilk is not used because with
   hundreds of answers it rejects trivial departures);
3. two groups, normal enough: Welch's t test (no equal-variance assumption), effect size Cohen's d
   (pooled SD) and Hedges' g (d × the small-sample correction ``1 − 3 / (4(n₁ + n₂) − 9)``);
4. three or more groups, normal enough: Levene's test (median-centred, Brown–Forsythe); variances
   equal (p ≥ .05) → one-way ANOVA, else Welch's ANOVA; effect size η² = SS_between / SS_total;
5. otherwise (any number of groups): Kruskal–Wallis H, effect size ε² = H / (n − 1)
   (Tomczak & Tomczak 2014).

The tests come from :mod:`scipy.stats` (``ttest_ind(equal_var=False)``, ``f_oneway``, ``levene``,
``kruskal``) and :func:`pingouin.welch_anova`; the effect sizes are the textbook formulas, by hand.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

MIN_GROUP = 5
MAX_SKEW, MAX_KURTOSIS = 2.0, 7.0


def describe(values: pd.Series) -> dict[str, Any]:
    """n, missing, mean, sd, median, min, max, skewness, excess kurtosis (bias-corrected, as SPSS)."""
    from scipy import stats  # type: ignore[import-untyped]

    x = values.dropna().to_numpy(dtype=float)
    out: dict[str, Any] = {"n": len(x), "missing": int(values.isna().sum())}
    if len(x) == 0:
        return out
    out.update(
        mean=float(x.mean()),
        sd=float(x.std(ddof=1)) if len(x) > 1 else None,
        median=float(np.median(x)),
        min=float(x.min()),
        max=float(x.max()),
    )
    if len(x) > 3 and x.std() > 0:
        out["skewness"] = float(stats.skew(x, bias=False))
        out["kurtosis"] = float(stats.kurtosis(x, bias=False))
    return out


def frequencies(values: pd.Series) -> dict[str, int]:
    counts = values.dropna().value_counts().sort_index()
    return {f"{k:g}" if isinstance(k, float) else str(k): int(v) for k, v in counts.items()}


def cohen_d(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    na, nb = len(a), len(b)
    pooled = math.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    return float((a.mean() - b.mean()) / pooled) if pooled > 0 else math.nan


def hedges_g(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> float:
    return cohen_d(a, b) * (1 - 3 / (4 * (len(a) + len(b)) - 9))


def eta_squared(samples: list[np.ndarray[Any, Any]]) -> float:
    allx = np.concatenate(samples)
    grand = allx.mean()
    between = sum(len(s) * (s.mean() - grand) ** 2 for s in samples)
    total = ((allx - grand) ** 2).sum()
    return float(between / total) if total > 0 else math.nan


def _normal_enough(samples: list[np.ndarray[Any, Any]]) -> bool:
    from scipy import stats

    for s in samples:
        if len(s) < 4 or s.std() == 0:
            continue
        if abs(stats.skew(s, bias=False)) > MAX_SKEW or abs(stats.kurtosis(s, bias=False)) > MAX_KURTOSIS:
            return False
    return True


def compare(score: pd.Series, group: pd.Series) -> dict[str, Any]:
    """Compare ``score`` across the values of ``group`` (same index) by the module's rule."""
    from scipy import stats

    frame = pd.DataFrame({"y": score, "g": group}).dropna()
    frame["g"] = frame["g"].astype(str)
    sizes = frame["g"].value_counts()
    small = sorted(sizes[sizes < MIN_GROUP].index)
    frame = frame[~frame["g"].isin(small)]
    labels = sorted(frame["g"].unique())
    samples = [frame.loc[frame["g"] == g, "y"].to_numpy(dtype=float) for g in labels]
    out: dict[str, Any] = {
        "groups": {
            g: {"n": len(s), "mean": float(s.mean()), "sd": float(s.std(ddof=1))}
            for g, s in zip(labels, samples, strict=True)
        },
        "left_out": small,
    }
    if len(samples) < 2:
        out["test"] = None
        out["note"] = f"fewer than two groups with at least {MIN_GROUP} answers"
        return out
    normal = _normal_enough(samples)
    n = sum(len(s) for s in samples)
    if normal and len(samples) == 2:
        res = stats.ttest_ind(samples[0], samples[1], equal_var=False)
        out.update(
            test="welch_t",
            statistic=float(res.statistic),
            df=float(res.df),
            p=float(res.pvalue),
            effect={
                "cohen_d": cohen_d(samples[0], samples[1]),
                "hedges_g": hedges_g(samples[0], samples[1]),
                "direction": f"{labels[0]} − {labels[1]}",
            },
        )
    elif normal:
        levene = stats.levene(*samples, center="median")
        if levene.pvalue >= 0.05:
            res = stats.f_oneway(*samples)
            out.update(test="anova", statistic=float(res.statistic), df=[len(samples) - 1, n - len(samples)])
            out["p"] = float(res.pvalue)
        else:
            import pingouin as pg

            w = pg.welch_anova(data=frame, dv="y", between="g")
            out.update(
                test="welch_anova",
                statistic=float(w["F"].iloc[0]),
                df=[float(w["ddof1"].iloc[0]), float(w["ddof2"].iloc[0])],
                p=float(w["p_unc"].iloc[0]),
            )
        out["levene_p"] = float(levene.pvalue)
        out["effect"] = {"eta_squared": eta_squared(samples)}
    else:
        res = stats.kruskal(*samples)
        out.update(
            test="kruskal_wallis",
            statistic=float(res.statistic),
            df=len(samples) - 1,
            p=float(res.pvalue),
            effect={"epsilon_squared": float(res.statistic / (n - 1))},
        )
    out["normal_enough"] = normal
    return out
