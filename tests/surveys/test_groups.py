"""Group differences: the rule picks the test; statistics checked against pingouin and statsmodels
(the implementation uses scipy), effect sizes against pingouin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from statsmodels.stats.oneway import anova_oneway

from wealthcrm.surveys.stats.groups import compare, describe


def frame(samples: dict[str, np.ndarray]) -> tuple[pd.Series, pd.Series]:
    y = np.concatenate(list(samples.values()))
    g = np.concatenate([[k] * len(v) for k, v in samples.items()])
    return pd.Series(y), pd.Series(g)


def test_two_normal_groups_get_welch_t_with_d_and_g() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(5.0, 1.0, 60), rng.normal(5.5, 1.6, 45)
    result = compare(*frame({"diamond": a, "sunflower": b}))
    ref = pg.ttest(a, b, correction=True)
    assert result["test"] == "welch_t"
    assert result["statistic"] == pytest.approx(float(ref["T"].iloc[0]))
    assert result["df"] == pytest.approx(float(ref["dof"].iloc[0]))
    assert result["p"] == pytest.approx(
        float(ref["p_val"].iloc[0] if "p_val" in ref else ref["p-val"].iloc[0])
    )
    assert result["effect"]["cohen_d"] == pytest.approx(pg.compute_effsize(a, b, eftype="cohen"))
    assert result["effect"]["hedges_g"] == pytest.approx(pg.compute_effsize(a, b, eftype="hedges"), rel=1e-3)
    assert result["groups"]["diamond"]["n"] == 60


def test_k_normal_groups_with_equal_variances_get_anova_and_eta_squared() -> None:
    rng = np.random.default_rng(2)
    samples = {g: rng.normal(mu, 1.0, 50) for g, mu in (("a", 4.8), ("b", 5.0), ("c", 5.4))}
    y, g = frame(samples)
    result = compare(y, g)
    ref = pg.anova(data=pd.DataFrame({"y": y, "g": g}), dv="y", between="g", detailed=True)
    assert result["test"] == "anova" and result["levene_p"] >= 0.05
    assert result["statistic"] == pytest.approx(float(ref["F"].iloc[0]))
    assert result["df"] == [2, 147]
    assert result["effect"]["eta_squared"] == pytest.approx(float(ref["np2"].iloc[0]))


def test_k_normal_groups_with_unequal_variances_get_welch_anova() -> None:
    rng = np.random.default_rng(3)
    samples = {"a": rng.normal(5, 0.3, 40), "b": rng.normal(5.2, 1.5, 60), "c": rng.normal(5.5, 2.5, 50)}
    y, g = frame(samples)
    result = compare(y, g)
    ref = anova_oneway(y, g, use_var="unequal")
    assert result["test"] == "welch_anova" and result["levene_p"] < 0.05
    assert result["statistic"] == pytest.approx(ref.statistic)
    assert result["df"] == pytest.approx(list(ref.df))
    assert result["p"] == pytest.approx(ref.pvalue)


def test_skewed_scores_get_kruskal_wallis_and_epsilon_squared() -> None:
    rng = np.random.default_rng(4)
    samples = {"a": rng.exponential(1, 80) ** 2, "b": rng.exponential(1.5, 70) ** 2}
    y, g = frame(samples)
    result = compare(y, g)
    ref = pg.kruskal(data=pd.DataFrame({"y": y, "g": g}), dv="y", between="g")
    assert result["test"] == "kruskal_wallis" and result["normal_enough"] is False
    assert result["statistic"] == pytest.approx(float(ref["H"].iloc[0]))
    n = 150
    assert result["effect"]["epsilon_squared"] == pytest.approx(
        float(ref["H"].iloc[0]) * (n + 1) / (n**2 - 1)
    )


def test_small_groups_are_left_out_and_named() -> None:
    y, g = frame({"a": np.arange(10.0), "b": np.arange(3.0)})
    result = compare(y, g)
    assert result["left_out"] == ["b"] and result["test"] is None


def test_describe_matches_pandas() -> None:
    values = pd.Series([1.0, 2, 2, 3, 7, np.nan, 5])
    d = describe(values)
    assert d["n"] == 6 and d["missing"] == 1
    assert d["mean"] == pytest.approx(values.mean()) and d["sd"] == pytest.approx(values.std())
    assert d["skewness"] == pytest.approx(values.skew()) and d["kurtosis"] == pytest.approx(values.kurt())
