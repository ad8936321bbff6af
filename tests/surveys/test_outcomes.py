"""NPS, key drivers, IPA, gaps, structural model: checked with numpy and statsmodels formulas."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.outliers_influence import variance_inflation_factor

from tests.surveys.conftest import simulated
from wealthcrm.surveys.analysis import analyze
from wealthcrm.surveys.questionnaire import parse_questionnaire, shipped_questionnaire
from wealthcrm.surveys.stats import outcomes


def test_nps_and_its_interval_from_the_plus_minus_one_coding() -> None:
    values = pd.Series([10, 9, 9, 8, 7, 6, 3, 0, 10, np.nan, 9, 5], dtype=float)
    result = outcomes.nps(values)
    assert (result["promoters"], result["passives"], result["detractors"]) == (5, 2, 4)
    code = np.select([values.dropna() >= 9, values.dropna() <= 6], [1.0, -1.0], 0.0)
    assert result["nps"] == pytest.approx(100 * code.mean())
    se = np.sqrt(code.var() / len(code))  # the variance of the mean of the +1/0/−1 score
    assert result["se"] == pytest.approx(100 * se)
    assert result["ci"] == pytest.approx(
        [100 * (code.mean() - 1.96 * se), 100 * (code.mean() + 1.96 * se)], abs=0.01
    )
    assert result["n"] == 11 and result["missing"] == 1


def test_key_drivers_are_standardised_ols_with_lmg_shares() -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.standard_normal((300, 3)), columns=["a", "b", "c"])
    x["b"] += 0.5 * x["a"]
    y = 0.6 * x["a"] + 0.3 * x["b"] + 0.1 * x["c"] + rng.standard_normal(300)
    result = outcomes.key_drivers(x, y)
    z = (x - x.mean()) / x.std()
    zy = (y - y.mean()) / y.std()
    beta, *_ = np.linalg.lstsq(np.c_[np.ones(300), z], zy, rcond=None)
    assert [result["coefficients"][c]["beta"] for c in "abc"] == pytest.approx(list(beta[1:]))
    resid = zy - np.c_[np.ones(300), z] @ beta
    assert result["r2"] == pytest.approx(1 - (resid**2).sum() / ((zy - zy.mean()) ** 2).sum())
    vifs = [variance_inflation_factor(np.c_[np.ones(300), x.to_numpy()], i) for i in (1, 2, 3)]
    assert [result["coefficients"][c]["vif"] for c in "abc"] == pytest.approx(vifs)
    shares = [result["coefficients"][c]["relative_importance"] for c in "abc"]
    assert sum(shares) == pytest.approx(result["r2"])  # LMG decomposes R²

    # LMG by brute force over the 3! orders of entry, with R² from numpy regressions
    def r2(cols: tuple[str, ...]) -> float:
        if not cols:
            return 0.0
        design = np.c_[np.ones(300), x[list(cols)]]
        fitted = design @ np.linalg.lstsq(design, y, rcond=None)[0]
        return 1 - ((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum()

    orders = list(itertools.permutations("abc"))
    for c, share in zip("abc", shares, strict=True):
        gains = [r2(tuple(o[: o.index(c) + 1])) - r2(tuple(o[: o.index(c)])) for o in orders]
        assert share == pytest.approx(np.mean(gains))


def test_ipa_quadrants_split_at_the_means() -> None:
    rng = np.random.default_rng(1)
    sat = pd.Series(rng.standard_normal(400))
    dims = pd.DataFrame(
        {
            "strong_important": 6 + 0.9 * sat + 0.3 * rng.standard_normal(400),
            "weak_important": 4 + 0.9 * sat + 0.3 * rng.standard_normal(400),
            "strong_minor": 6 + 0.1 * sat + rng.standard_normal(400),
            "weak_minor": 4 + 0.1 * sat + rng.standard_normal(400),
        }
    )
    result = outcomes.ipa(dims, sat, {})
    quadrant = {d: v["quadrant"] for d, v in result["dimensions"].items()}
    assert quadrant == {
        "strong_important": "keep_up_the_good_work",
        "weak_important": "concentrate_here",
        "strong_minor": "possible_overkill",
        "weak_minor": "low_priority",
    }
    assert result["dimensions"]["weak_minor"]["importance"] == pytest.approx(
        np.corrcoef(dims["weak_minor"], sat)[0, 1]
    )


def test_servqual_gaps_with_declared_expectation_items() -> None:
    q = parse_questionnaire(
        "id: g\nscale: {min: 1, max: 7}\ndimensions:\n  - id: reliability\n    items: [P1, P2]\n"
        "    expectations: {P1: E1, P2: E2}\n"
    )
    rng = np.random.default_rng(2)
    e = rng.integers(5, 8, (120, 2)).astype(float)
    p = np.clip(e - rng.integers(0, 3, (120, 2)), 1, 7)
    frame = pd.DataFrame(np.c_[p, e], columns=["P1", "P2", "E1", "E2"])
    frame.iloc[3, 0] = np.nan
    result = analyze(frame, q, models=False)["gaps"]["reliability"]
    d = (frame["P1"] - frame["E1"]).dropna()
    item = result["items"]["P1"]
    assert item["n"] == 119 and item["gap"] == pytest.approx(d.mean())
    assert item["t"] == pytest.approx(d.mean() / (d.std() / np.sqrt(len(d))))
    assert item["cohen_dz"] == pytest.approx(d.mean() / d.std())
    dim = (frame[["P1", "P2"]].mean(axis=1, skipna=False) - frame[["E1", "E2"]].mean(axis=1)).dropna()
    assert result["dimension"]["gap"] == pytest.approx(dim.mean()) and result["dimension"]["gap"] < 0


@pytest.fixture(scope="module")
def full() -> dict:
    return analyze(simulated(800, seed=21, blanks=0.0), shipped_questionnaire(), groups=["tier", "rm_id"])


def test_full_analysis_of_simulated_answers(full: dict) -> None:
    assert full["warnings"] == []
    assert full["items_absent"] == ["COMP1", "COMP2", "P_AGE", "P_TENURE", "P_MAIN_BANK"]
    assert set(full["dimensions"]) == {d.id for d in shipped_questionnaire().dimensions}
    assert len(full["dimensions"]) == 8
    assert all(d["alpha"] > 0.7 for d in full["dimensions"].values())
    assert full["efa"]["n_factors"] == 8  # the simulator's eight dimensions
    assert full["cfa"]["fit"]["cfi"] > 0.95
    sem = full["outcomes"]["structural_model"]
    assert sem["paths"]["SAT1 -> loyalty"]["std"] > 0.5  # the simulator drives loyalty by satisfaction
    assert sem["paths"]["reliability -> SAT1"]["std"] > sem["paths"]["tangibles -> SAT1"]["std"]
    assert 0.3 < sem["r2"]["SAT1"] < 0.95
    drivers = full["outcomes"]["drivers"]["coefficients"]
    assert max(drivers, key=lambda d: drivers[d]["relative_importance"]) in (
        "reliability",
        "responsiveness",
        "empathy",
    )
    # tier was drawn from satisfaction, RM at random
    assert full["groups"]["tier"]["satisfaction"]["p"] < 0.001
    assert full["groups"]["rm_id"]["satisfaction"]["p"] > 0.001
    nps = full["outcomes"]["nps"]
    assert nps["promoters"] + nps["passives"] + nps["detractors"] == nps["n"]


def test_listwise_scores_only_complete_respondents() -> None:
    frame = simulated(300, seed=4, blanks=0.1)
    q = shipped_questionnaire()
    pair = analyze(frame, q, models=False)
    lst = analyze(frame, q, models=False, missing="listwise")
    items = list(q.dimension("value").items)
    complete = int(frame[items].notna().all(axis=1).sum())
    at_least_half = int((frame[items].notna().sum(axis=1) >= 2).sum())
    assert lst["dimensions"]["value"]["n"] == complete == lst["dimensions"]["value"]["score"]["n"]
    assert pair["dimensions"]["value"]["score"]["n"] == at_least_half
    assert pair["dimensions"]["value"]["n"] == int(frame[items].notna().any(axis=1).sum())
    # 10% blanks on 33 items leave almost nobody complete: the multivariate parts say so and step aside
    assert lst["warnings"] == [
        "factor analysis skipped: 9 complete respondents for 29 items",
        "key drivers: not computed (ValueError: 9 complete respondents for 8 drivers)",
    ]
    assert lst["outcomes"]["drivers"] is None and "kmo" not in lst
