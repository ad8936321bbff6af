"""Reliability of one dimension: Cronbach's α raw and standardised, α if item deleted, item–total r.

Missing answers, explicitly:

* ``pairwise`` (R ``psych::alpha``'s default, SPSS has none): every covariance uses the respondents
  who answered both items; respondents who skipped every item of the dimension are not counted;
* ``listwise`` (SPSS RELIABILITY): only respondents who answered every item of the dimension.

Raw α and its confidence interval come from :func:`pingouin.cronbach_alpha` (which computes α from the
covariance matrix, pairwise or listwise, and the interval from the F distribution, Feldt 1965), as does
α if item deleted. Written by hand, because pingouin does not give them: standardised α
``k r̄ / (1 + (k − 1) r̄)`` from the mean inter-item correlation (of the covariance matrix), and
the corrected item–total correlation from the same covariance matrix,
``Σ_j C_ij / sqrt(C_ii · Σ_{j,l≠i} C_jl)`` (as psych's ``r.drop``), so both follow the chosen
missing-data rule.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

Missing = Literal["pairwise", "listwise"]
Matrix = npt.NDArray[np.float64]


def _alpha(frame: pd.DataFrame, missing: Missing) -> tuple[float, list[float]]:
    import pingouin as pg

    value, ci = pg.cronbach_alpha(frame, nan_policy=missing)
    return float(value), [float(c) for c in ci]


def _usable(frame: pd.DataFrame, missing: Missing) -> pd.DataFrame:
    return frame.dropna(how="any" if missing == "listwise" else "all")


def standardised_alpha(corr: Matrix) -> float:
    """``k r̄ / (1 + (k − 1) r̄)``, r̄ the mean inter-item correlation."""
    k = corr.shape[0]
    r_bar = float(corr[np.triu_indices(k, 1)].mean())
    return float(k * r_bar / (1 + (k - 1) * r_bar))


def item_total(cov: Matrix) -> list[float]:
    """Corrected item–total correlation of each item, from a covariance matrix."""
    k = cov.shape[0]
    out = []
    for i in range(k):
        rest = [j for j in range(k) if j != i]
        num = cov[i, rest].sum()
        den = np.sqrt(cov[i, i] * cov[np.ix_(rest, rest)].sum())
        out.append(float(num / den))
    return out


def reliability(frame: pd.DataFrame, *, missing: Missing = "pairwise") -> dict[str, Any]:
    """The dimension's reliability: keyed item scores in ``frame`` (one column per item)."""
    k = frame.shape[1]
    used = _usable(frame, missing)
    complete = int(frame.notna().all(axis=1).sum())
    out: dict[str, Any] = {
        "k": k,
        "n": len(used),
        "n_complete": complete,
        "n_excluded": len(frame) - len(used),
        "missing": missing,
    }
    answered = used.notna().sum()
    items: dict[str, dict[str, Any]] = {
        str(c): {
            "n": int(answered[c]),
            "mean": float(used[c].mean()),
            "sd": float(used[c].std()),
        }
        for c in frame.columns
    }
    pair_n = used.notna().astype(int).T @ used.notna().astype(int)
    out["n_min_pairwise"] = int(pair_n.to_numpy().min())
    if k < 2 or len(used) < 3 or out["n_min_pairwise"] < 3:
        out.update(alpha=None, alpha_std=None, alpha_ci=None, items=items)
        out["note"] = "α needs at least two items answered together by three respondents"
        return out
    cov = used.cov().to_numpy()
    # cov2cor of the covariance matrix, as psych::alpha does (under pairwise deletion this differs a
    # little from pandas' pairwise correlations, whose means and SDs change from pair to pair)
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    alpha, ci = _alpha(used, missing)
    out.update(alpha=alpha, alpha_std=standardised_alpha(corr), alpha_ci=ci)
    totals = item_total(cov)
    for n, c in enumerate(frame.columns):
        rest = used.drop(columns=c)
        items[str(c)]["item_total_r"] = totals[n]
        # listwise: the same respondents (as SPSS); pairwise: whoever answered one of the rest
        items[str(c)]["alpha_if_deleted"] = _alpha(_usable(rest, missing), missing)[0] if k > 2 else None
    out["items"] = items
    out["mean_inter_item_r"] = float(corr[np.triu_indices(k, 1)].mean())
    return out
