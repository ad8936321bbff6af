"""Construct validity: sampling adequacy, factor structure found (EFA) and confirmed (CFA).

Every function takes complete cases (the caller drops incomplete respondents and reports how many): a
factor analysis needs one correlation matrix that is positive definite, which pairwise deletion does
not guarantee; SPSS FACTOR's default is listwise too.

* KMO (overall and per item) and Bartlett's test of sphericity: :mod:`factor_analyzer`.
* EFA: :class:`factor_analyzer.FactorAnalyzer` (minimum residual extraction, varimax and oblimin).
  The number of factors by Kaiser's rule (eigenvalues of the correlation matrix > 1) and by Horn's
  parallel analysis, written by hand because factor_analyzer has none: eigenvalues of the correlation
  matrices of ``PARALLEL_ITERATIONS`` random normal data sets of the same size; a factor is kept while
  the observed eigenvalue exceeds the 95th percentile of the random ones (Glorfeld 1995).
* CFA of the questionnaire's dimensions: :mod:`semopy` (maximum likelihood; χ², CFI, TLI, RMSEA from
  :func:`semopy.calc_stats`). SRMR (Hu & Bentler 1999) is not in semopy: computed here from the
  sample and model-implied covariance matrices. Composite reliability
  ``(Σλ)² / ((Σλ)² + Σ(1 − λ²))`` and average variance extracted ``Σλ² / k`` (Fornell & Larcker
  1981) from the standardised loadings, by hand.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

PARALLEL_ITERATIONS = 100
PARALLEL_PERCENTILE = 95
MAX_EFA_FACTORS = 10
STD = "Est. Std"  # semopy's column of standardised estimates


def sampling_adequacy(frame: pd.DataFrame) -> tuple[dict[str, Any], dict[str, Any]]:
    """(KMO, Bartlett) on complete cases."""
    from factor_analyzer.factor_analyzer import calculate_bartlett_sphericity, calculate_kmo

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a near-singular matrix warns; the numbers say so anyway
        per_item, overall = calculate_kmo(frame)
        chi2, p = calculate_bartlett_sphericity(frame)
    k = frame.shape[1]
    kmo = {
        "overall": float(overall),
        "items": {str(c): float(v) for c, v in zip(frame.columns, per_item, strict=True)},
        "n": len(frame),
    }
    bartlett = {"chi2": float(chi2), "df": k * (k - 1) // 2, "p": float(p), "n": len(frame)}
    return kmo, bartlett


def parallel_analysis(frame: pd.DataFrame, *, seed: int = 0) -> dict[str, Any]:
    """Horn's parallel analysis on principal-component eigenvalues (hand-written; see the module doc)."""
    n, k = frame.shape
    observed = np.sort(np.linalg.eigvalsh(np.corrcoef(frame.to_numpy(), rowvar=False)))[::-1]
    rng = np.random.default_rng(seed)
    random = np.empty((PARALLEL_ITERATIONS, k))
    for it in range(PARALLEL_ITERATIONS):
        # The scatter matrix of n independent normal rows, drawn directly (Bartlett's decomposition of
        # the Wishart distribution with n − 1 degrees of freedom): the same law as simulating the rows,
        # at O(k²) instead of O(n k²) per draw.
        a = np.tril(rng.standard_normal((k, k)), -1)
        a[np.diag_indices(k)] = np.sqrt(rng.chisquare(n - 1 - np.arange(k)))
        w = a @ a.T
        d = 1 / np.sqrt(np.diag(w))
        random[it] = np.sort(np.linalg.eigvalsh(w * np.outer(d, d)))[::-1]
    threshold = np.percentile(random, PARALLEL_PERCENTILE, axis=0)
    keep = observed > threshold
    n_parallel = int(np.argmin(keep)) if not keep.all() else k
    return {
        "eigenvalues": [float(v) for v in observed],
        "random_mean": [float(v) for v in random.mean(axis=0)],
        f"random_p{PARALLEL_PERCENTILE}": [float(v) for v in threshold],
        "iterations": PARALLEL_ITERATIONS,
        "seed": seed,
        "n_factors_parallel": n_parallel,
        "n_factors_kaiser": int((observed > 1).sum()),
    }


def _compatible_factor_analyzer() -> Any:
    """factor_analyzer 0.5.1 passes scikit-learn's ``force_all_finite``, renamed ``ensure_all_finite``
    in scikit-learn 1.6 and removed in 1.8: hand its module a ``check_array`` that translates."""
    from factor_analyzer import factor_analyzer as fa_module
    from sklearn.utils import check_array  # type: ignore[import-untyped]

    def translated(*args: Any, force_all_finite: Any = True, **kwargs: Any) -> Any:
        return check_array(*args, ensure_all_finite=force_all_finite, **kwargs)

    fa_module.check_array = translated
    return fa_module.FactorAnalyzer


def efa(frame: pd.DataFrame, n_factors: int) -> dict[str, Any]:
    """Minimum-residual EFA with varimax (orthogonal) and oblimin (oblique) rotations."""
    factor_analyzer = _compatible_factor_analyzer()

    items = [str(c) for c in frame.columns]
    out: dict[str, Any] = {"n": len(frame), "n_factors": n_factors, "method": "minres"}
    for rotation in ("varimax", "oblimin"):
        fa = factor_analyzer(n_factors=n_factors, rotation=rotation, method="minres")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fa.fit(frame.to_numpy())
        loadings = np.asarray(fa.loadings_)
        ss, prop, cum = fa.get_factor_variance()
        result: dict[str, Any] = {
            "loadings": {i: [float(v) for v in row] for i, row in zip(items, loadings, strict=True)},
            "communalities": {i: float(v) for i, v in zip(items, fa.get_communalities(), strict=True)},
            "ss_loadings": [float(v) for v in ss],
            "proportion_variance": [float(v) for v in prop],
            "cumulative_variance": [float(v) for v in cum],
        }
        if rotation == "oblimin" and fa.phi_ is not None:
            result["factor_correlations"] = [[float(v) for v in row] for row in np.asarray(fa.phi_)]
        out[rotation] = result
    return out


def _model_description(structure: dict[str, list[str]]) -> str:
    return "\n".join(f"{factor} =~ {' + '.join(items)}" for factor, items in structure.items())


def srmr(sample_cov: Any, implied_cov: Any) -> float:
    """Standardised root mean square residual over the lower triangle with the diagonal (Bentler)."""
    s, sigma = np.asarray(sample_cov), np.asarray(implied_cov)
    d = np.sqrt(np.diag(s))
    resid = (s - sigma) / np.outer(d, d)
    low = np.tril_indices_from(resid)
    return float(np.sqrt(np.mean(resid[low] ** 2)))


def fit_sem(description: str, frame: pd.DataFrame) -> tuple[Any, dict[str, Any]]:
    """A fitted semopy model and its fit indices (SRMR by hand)."""
    import semopy

    model = semopy.Model(description)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(frame)
        stats = semopy.calc_stats(model).T["Value"]
    observed = list(model.vars["observed"])
    sample = np.cov(frame[observed].to_numpy(), rowvar=False, ddof=0)
    implied = model.calc_sigma()[0]
    fit = {
        "n": len(frame),
        "chi2": float(stats["chi2"]),
        "df": int(stats["DoF"]),
        "p": float(stats["chi2 p-value"]),
        "cfi": float(stats["CFI"]),
        "tli": float(stats["TLI"]),
        "rmsea": float(stats["RMSEA"]),
        "srmr": srmr(sample, implied),
        "chi2_baseline": float(stats["chi2 Baseline"]),
        "df_baseline": int(stats["DoF Baseline"]),
    }
    return model, fit


def standardised_estimates(model: Any) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table: pd.DataFrame = model.inspect(std_est=True)
    return table


def cfa(frame: pd.DataFrame, structure: dict[str, list[str]]) -> dict[str, Any]:
    """CFA of ``structure`` (factor → its items; each factor needs two or more items)."""
    model, fit = fit_sem(_model_description(structure), frame)
    est = standardised_estimates(model)
    loads = est[est["op"] == "~"]
    factors: dict[str, Any] = {}
    for factor, items in structure.items():
        rows = loads[(loads["rval"] == factor) & loads["lval"].isin(items)]
        lam = dict(zip(rows["lval"].astype(str), rows[STD].astype(float), strict=True))
        values = np.array([lam[i] for i in items])
        cr = values.sum() ** 2 / (values.sum() ** 2 + (1 - values**2).sum())
        factors[factor] = {
            "loadings": {i: lam[i] for i in items},
            "composite_reliability": float(cr),
            "ave": float((values**2).mean()),
        }
    corr = est[(est["op"] == "~~") & est["lval"].isin(structure) & est["rval"].isin(structure)]
    phi = {
        f"{a}~~{b}": float(v) for a, b, v in zip(corr["lval"], corr["rval"], corr[STD], strict=True) if a != b
    }
    return {"fit": fit, "factors": factors, "factor_correlations": phi}
