"""Reliability against R's psych::alpha on bfi, and against hand formulas (numpy, scipy) elsewhere.

The implementation uses pingouin for α and its interval; every check here is independent of it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.surveys.conftest import simulated
from wealthcrm.simulate.survey import DIMENSIONS
from wealthcrm.surveys.analysis import analyze
from wealthcrm.surveys.questionnaire import Questionnaire
from wealthcrm.surveys.stats.reliability import reliability

#: R psych::alpha, raw α with the reverse-keyed items reversed (published; /work/shared/datasets/README.md)
PSYCH_ALPHA = {
    "agreeableness": 0.703,
    "conscientiousness": 0.727,
    "extraversion": 0.762,
    "neuroticism": 0.814,
    "openness": 0.600,
}


def pairwise_cov(x: np.ndarray) -> np.ndarray:
    """Covariances over the rows where both columns are present (ddof 1), with numpy only."""
    k = x.shape[1]
    out = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            both = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            a, b = x[both, i], x[both, j]
            out[i, j] = ((a - a.mean()) * (b - b.mean())).sum() / (both.sum() - 1)
    return out


def alpha_from_cov(c: np.ndarray) -> float:
    k = c.shape[0]
    return k / (k - 1) * (1 - np.trace(c) / c.sum())


@pytest.fixture(scope="module")
def bfi_result(bfi_raw: pd.DataFrame, bfi_q: Questionnaire) -> dict:
    return analyze(bfi_raw, bfi_q, models=False)


def test_bfi_raw_alpha_equals_psych_to_three_decimals(bfi_result: dict) -> None:
    got = {d: round(v["alpha"], 3) for d, v in bfi_result["dimensions"].items()}
    assert got == PSYCH_ALPHA


def test_bfi_alpha_and_details_equal_hand_formulas(bfi_result: dict, bfi_keyed: pd.DataFrame) -> None:
    for dim, letter in zip(PSYCH_ALPHA, "ACENO", strict=True):
        x = bfi_keyed[[f"{letter}{i}" for i in range(1, 6)]].to_numpy()
        c = pairwise_cov(x)
        d = bfi_result["dimensions"][dim]
        assert d["alpha"] == pytest.approx(alpha_from_cov(c), abs=1e-12)
        r = c / np.sqrt(np.outer(np.diag(c), np.diag(c)))
        r_bar = r[np.triu_indices(5, 1)].mean()
        assert d["alpha_std"] == pytest.approx(5 * r_bar / (1 + 4 * r_bar), abs=1e-12)
        assert d["n"] == int((~np.isnan(x)).any(axis=1).sum())
        assert d["n_complete"] == int((~np.isnan(x)).all(axis=1).sum())
        for j, item in enumerate(f"{letter}{i}" for i in range(1, 6)):
            rest = [m for m in range(5) if m != j]
            entry = d["items"][item]
            assert entry["alpha_if_deleted"] == pytest.approx(
                alpha_from_cov(pairwise_cov(x[:, rest])), abs=1e-12
            )
            expect = c[j, rest].sum() / np.sqrt(c[j, j] * c[np.ix_(rest, rest)].sum())
            assert entry["item_total_r"] == pytest.approx(expect, abs=1e-12)
            assert entry["reversed"] is (item in ("A1", "C4", "C5", "E1", "E2", "O2", "O5"))


def test_bfi_agreeableness_items_match_psych_r_drop(bfi_result: dict) -> None:
    """psych::alpha(bfi[1:5], keys = "A1"): r.drop .31 .56 .59 .39 .49; α if dropped .72 .62 .60 .69 .64."""
    items = bfi_result["dimensions"]["agreeableness"]["items"]
    assert [round(items[f"A{i}"]["item_total_r"], 2) for i in range(1, 6)] == [0.31, 0.56, 0.59, 0.39, 0.49]
    assert [round(items[f"A{i}"]["alpha_if_deleted"], 2) for i in range(1, 6)] == [
        0.72,
        0.62,
        0.60,
        0.69,
        0.64,
    ]


@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_simulated_answers_with_blanks(missing: str) -> None:
    frame = simulated(500, seed=3, blanks=0.08)
    x = frame[list(DIMENSIONS["reliability"])].to_numpy()
    complete = x[~np.isnan(x).any(axis=1)]
    rel = reliability(frame[list(DIMENSIONS["reliability"])], missing=missing)  # type: ignore[arg-type]
    if missing == "listwise":
        c = np.cov(complete, rowvar=False)
        n = len(complete)
        assert rel["n"] == n and rel["n_excluded"] == len(x) - n
        # corrected item–total r is then just the correlation of the item with the sum of the others
        for j, item in enumerate(DIMENSIONS["reliability"]):
            rest = complete[:, [m for m in range(4) if m != j]].sum(axis=1)
            assert rel["items"][item]["item_total_r"] == pytest.approx(
                np.corrcoef(complete[:, j], rest)[0, 1]
            )
        z = (complete - complete.mean(0)) / complete.std(0, ddof=1)
        assert rel["alpha_std"] == pytest.approx(alpha_from_cov(np.cov(z, rowvar=False)))
    else:
        c = pairwise_cov(x)
        n = int((~np.isnan(x)).any(axis=1).sum())
        assert rel["n"] == n and rel["n_complete"] == len(complete)
    alpha = alpha_from_cov(c)
    assert rel["alpha"] == pytest.approx(alpha, abs=1e-12)
    # Feldt's interval from the F distribution (scipy), rounded to 3 decimals as pingouin reports it
    df1, df2 = n - 1, (n - 1) * 3
    lower = 1 - (1 - alpha) * stats.f.ppf(0.975, df1, df2)
    upper = 1 - (1 - alpha) * stats.f.ppf(0.025, df1, df2)
    assert rel["alpha_ci"] == pytest.approx([lower, upper], abs=6e-4)
    assert 0.75 < alpha < 0.95  # the simulator's loadings around 0.8 on 4 items


def test_a_dimension_nobody_answered_together_has_no_alpha() -> None:
    frame = pd.DataFrame({"a": [1.0, np.nan, np.nan, 2.0], "b": [np.nan, 3.0, 4.0, np.nan]})
    rel = reliability(frame)
    assert rel["alpha"] is None and rel["n_min_pairwise"] == 0
