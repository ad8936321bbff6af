"""KMO, Bartlett, EFA, CFA: bfi against factor_analyzer and published figures; hand formulas elsewhere."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from factor_analyzer.factor_analyzer import calculate_bartlett_sphericity, calculate_kmo
from scipy import optimize, stats

from tests.surveys.conftest import BFI_ITEMS, simulated
from wealthcrm.simulate.survey import DIMENSIONS
from wealthcrm.surveys.analysis import analyze
from wealthcrm.surveys.questionnaire import Questionnaire
from wealthcrm.surveys.stats import validity


@pytest.fixture(scope="module")
def bfi_result(bfi_raw: pd.DataFrame, bfi_q: Questionnaire) -> dict:
    return analyze(bfi_raw, bfi_q, models=False, missing="listwise")


def hand_kmo(x: np.ndarray) -> tuple[np.ndarray, float]:
    r = np.corrcoef(x, rowvar=False)
    inv = np.linalg.inv(r)
    partial = -inv / np.sqrt(np.outer(np.diag(inv), np.diag(inv)))
    np.fill_diagonal(r, 0)
    np.fill_diagonal(partial, 0)
    r2, p2 = r**2, partial**2
    return r2.sum(0) / (r2.sum(0) + p2.sum(0)), r2.sum() / (r2.sum() + p2.sum())


def test_bfi_kmo_and_bartlett_equal_factor_analyzer_on_the_complete_rows(
    bfi_result: dict, bfi_keyed: pd.DataFrame
) -> None:
    complete = bfi_keyed[BFI_ITEMS].dropna()
    assert len(complete) == 2436 == bfi_result["kmo"]["n"] == bfi_result["complete_cases"]["n"]
    per_item, overall = calculate_kmo(complete)
    chi2, p = calculate_bartlett_sphericity(complete)
    assert bfi_result["kmo"]["overall"] == pytest.approx(overall, abs=1e-12)
    assert round(bfi_result["kmo"]["overall"], 3) == 0.849  # published
    assert list(bfi_result["kmo"]["items"].values()) == pytest.approx(list(per_item), abs=1e-12)
    assert bfi_result["bartlett"]["chi2"] == pytest.approx(chi2, rel=1e-12)
    assert bfi_result["bartlett"]["df"] == 300
    assert bfi_result["bartlett"]["p"] == pytest.approx(p) and p < 0.001


def test_kmo_and_bartlett_equal_hand_formulas_on_simulated_answers() -> None:
    frame = simulated(400, seed=5)[[*DIMENSIONS["tangibles"], *DIMENSIONS["empathy"], *DIMENSIONS["value"]]]
    complete = frame.dropna()
    kmo, bartlett = validity.sampling_adequacy(complete)
    per_item, overall = hand_kmo(complete.to_numpy())
    assert kmo["overall"] == pytest.approx(overall, abs=1e-10)
    assert list(kmo["items"].values()) == pytest.approx(list(per_item), abs=1e-10)
    n, p = complete.shape
    chi2 = -(n - 1 - (2 * p + 5) / 6) * np.log(np.linalg.det(np.corrcoef(complete, rowvar=False)))
    assert bartlett["chi2"] == pytest.approx(chi2, rel=1e-10)
    assert bartlett["df"] == p * (p - 1) // 2
    assert bartlett["p"] == pytest.approx(stats.chi2.sf(chi2, p * (p - 1) // 2))


def test_bfi_eigenvalues_and_factor_retention(bfi_result: dict) -> None:
    retention = bfi_result["efa"]["factor_retention"]
    assert [round(v, 2) for v in retention["eigenvalues"][:6]] == [5.13, 2.75, 2.14, 1.85, 1.55, 1.07]
    assert retention["n_factors_kaiser"] == 6
    assert retention["n_factors_parallel"] == 5 == bfi_result["efa"]["n_factors"]


def test_parallel_analysis_draws_match_simulating_the_rows() -> None:
    """The Wishart shortcut has the law of eigenvalues of correlation matrices of normal data."""
    n, k = 300, 6
    frame = pd.DataFrame(np.random.default_rng(0).standard_normal((n, k)))
    shortcut = validity.parallel_analysis(frame, seed=1)["random_mean"]
    rng = np.random.default_rng(2)
    direct = np.mean(
        [
            np.sort(np.linalg.eigvalsh(np.corrcoef(rng.standard_normal((n, k)), rowvar=False)))[::-1]
            for _ in range(400)
        ],
        axis=0,
    )
    assert shortcut == pytest.approx(list(direct), abs=0.02)


def uls_reproduced(r: np.ndarray, m: int) -> np.ndarray:
    """Minimum-residual (ULS) factor solution by direct minimisation with scipy: Λ Λᵀ off the diagonal."""
    p = r.shape[0]
    off = ~np.eye(p, dtype=bool)
    start = np.linalg.eigh(r)[1][:, -m:] * 0.7

    def loss(flat: np.ndarray) -> float:
        lam = flat.reshape(p, m)
        return float((((r - lam @ lam.T)[off]) ** 2).sum())

    lam = optimize.minimize(loss, start.ravel(), method="BFGS", options={"gtol": 1e-10}).x.reshape(p, m)
    return lam @ lam.T


def test_efa_reproduces_the_correlations_as_an_independent_minres_fit() -> None:
    frame = simulated(600, seed=7)[[*DIMENSIONS["reliability"], *DIMENSIONS["digital"]]].dropna()
    result = validity.efa(frame, 2)
    r = np.corrcoef(frame, rowvar=False)
    expected = uls_reproduced(r, 2)
    off = ~np.eye(r.shape[0], dtype=bool)
    for rotation in ("varimax", "oblimin"):
        lam = np.array(list(result[rotation]["loadings"].values()))
        phi = np.array(result[rotation].get("factor_correlations", np.eye(2)))
        reproduced = lam @ phi @ lam.T  # rotation leaves the reproduced correlations unchanged
        assert reproduced[off] == pytest.approx(expected[off], abs=2e-3)
    varimax = np.array(list(result["varimax"]["loadings"].values()))
    assert list(result["varimax"]["communalities"].values()) == pytest.approx(list((varimax**2).sum(1)))
    # each block of items loads on its own factor
    main = np.abs(varimax).argmax(1)
    assert len(set(main[:4])) == 1 and len(set(main[4:])) == 1 and main[0] != main[4]


def implied_cov(estimates: pd.DataFrame, structure: dict[str, list[str]], items: list[str]) -> np.ndarray:
    """Σ = Λ Φ Λᵀ + Θ from semopy's printed estimates, assembled with numpy."""
    factors = list(structure)
    lam = np.zeros((len(items), len(factors)))
    phi = np.zeros((len(factors), len(factors)))
    theta = np.zeros((len(items), len(items)))
    for row in estimates.itertuples():
        value = float(row.Estimate)
        if row.op == "~":
            lam[items.index(row.lval), factors.index(row.rval)] = value
        elif row.op == "~~" and row.lval in factors:
            i, j = factors.index(row.lval), factors.index(row.rval)
            phi[i, j] = phi[j, i] = value
        elif row.op == "~~":
            i, j = items.index(row.lval), items.index(row.rval)
            theta[i, j] = theta[j, i] = value
    return lam @ phi @ lam.T + theta


def test_cfa_fit_indices_equal_their_formulas() -> None:
    structure = {d: list(DIMENSIONS[d]) for d in ("reliability", "responsiveness", "value")}
    items = [i for v in structure.values() for i in v]
    frame = simulated(500, seed=9)[items].dropna()
    result = validity.cfa(frame, structure)
    model, _ = validity.fit_sem("\n".join(f"{f} =~ {' + '.join(v)}" for f, v in structure.items()), frame)
    sigma = implied_cov(model.inspect(), structure, items)
    s = np.cov(frame[items].to_numpy(), rowvar=False, ddof=0)
    n, p = frame.shape
    f_ml = np.log(np.linalg.det(sigma)) + np.trace(s @ np.linalg.inv(sigma)) - np.log(np.linalg.det(s)) - p
    fit = result["fit"]
    assert fit["chi2"] == pytest.approx(n * f_ml, rel=1e-4)
    assert fit["df"] == p * (p + 1) // 2 - (p - 3 + p + 3 + 3)  # loadings, residuals, factor (co)variances
    chi2_b = n * (np.log(np.diag(s)).sum() - np.log(np.linalg.det(s)))
    assert fit["chi2_baseline"] == pytest.approx(chi2_b, rel=1e-4)
    df, df_b = fit["df"], p * (p - 1) // 2
    assert fit["rmsea"] == pytest.approx(np.sqrt(max(fit["chi2"] - df, 0) / (df * (n - 1))), abs=1e-6)
    cfi = 1 - max(fit["chi2"] - df, 0) / max(chi2_b - df_b, fit["chi2"] - df, 0)
    assert fit["cfi"] == pytest.approx(cfi, abs=1e-4)
    tli = (chi2_b / df_b - fit["chi2"] / df) / (chi2_b / df_b - 1)
    assert fit["tli"] == pytest.approx(tli, abs=1e-4)
    d = np.sqrt(np.diag(s))
    resid = ((s - sigma) / np.outer(d, d))[np.tril_indices(p)]
    assert fit["srmr"] == pytest.approx(np.sqrt((resid**2).mean()), abs=1e-6)
    assert fit["cfi"] > 0.95 and fit["srmr"] < 0.05  # the simulator's structure is the true one
    for factor, values in result["factors"].items():
        lam = np.array(list(values["loadings"].values()))
        # standardised loading = λ sd(factor) / sd(item), from the unstandardised estimates
        assert values["ave"] == pytest.approx((lam**2).mean())
        assert values["composite_reliability"] == pytest.approx(
            lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
        )
        assert 0.45 < values["ave"] < 0.9, factor
    est = model.inspect()
    for factor, items_f in structure.items():
        var_f = float(est[(est.op == "~~") & (est.lval == factor) & (est.rval == factor)].Estimate.iloc[0])
        for item in items_f:
            raw = float(est[(est.op == "~") & (est.lval == item) & (est.rval == factor)].Estimate.iloc[0])
            std = raw * np.sqrt(var_f) / np.sqrt(sigma[items.index(item), items.index(item)])
            assert result["factors"][factor]["loadings"][item] == pytest.approx(std, abs=1e-6)
