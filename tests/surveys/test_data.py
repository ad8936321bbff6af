"""Reading answers: wide and long form give the same analysis; bad answers are rejected with reasons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.surveys.conftest import simulated
from wealthcrm.errors import Invalid
from wealthcrm.simulate.survey import ITEM_IDS
from wealthcrm.surveys.analysis import analyze
from wealthcrm.surveys.data import attach_customers, keyed, prepare, read_answers
from wealthcrm.surveys.questionnaire import parse_questionnaire, shipped_questionnaire


def to_long(wide: pd.DataFrame) -> pd.DataFrame:
    """The data contract's survey_answers from a wide frame (blank answers are simply absent rows)."""
    long = wide.melt(
        id_vars=["respondent"], value_vars=list(ITEM_IDS), var_name="item_id", value_name="score"
    )
    long = long.dropna(subset=["score"]).rename(columns={"respondent": "response_id"})
    long["customer_id"] = "C" + long["response_id"].str[1:]
    long["questionnaire_id"] = "branch_default"
    long["answered_on"] = "2026-04-15"
    return long


def test_long_and_wide_forms_give_the_same_numbers(tmp_path: Path) -> None:
    wide = simulated(300, seed=1, blanks=0.0)
    long = to_long(wide)
    other = long.head(40).assign(questionnaire_id="another", response_id=lambda f: "X" + f["response_id"])
    pd.concat([long, other]).to_csv(tmp_path / "survey_answers.csv", index=False)
    q = shipped_questionnaire()
    from_long = analyze(read_answers(tmp_path / "survey_answers.csv"), q, models=False)
    from_wide = analyze(wide, q, models=False)
    assert from_long["form"] == "long" and from_wide["form"] == "wide"
    assert from_long["n_respondents"] == 300
    for dim in from_wide["dimensions"]:
        assert from_long["dimensions"][dim]["alpha"] == pytest.approx(from_wide["dimensions"][dim]["alpha"])
    assert from_long["kmo"]["overall"] == pytest.approx(from_wide["kmo"]["overall"])


def test_xlsx_and_parquet_are_read(tmp_path: Path) -> None:
    wide = simulated(50, seed=2)
    wide.to_excel(tmp_path / "a.xlsx", index=False)
    wide.to_parquet(tmp_path / "a.parquet")
    q = shipped_questionnaire()
    for name in ("a.xlsx", "a.parquet"):
        data = prepare(read_answers(tmp_path / name), q)
        assert data.scores["REL1"].tolist() == pytest.approx(wide["REL1"].tolist(), nan_ok=True)
        assert list(data.extra.columns) == ["respondent", "tier", "rm_id"]


def test_reverse_keying_uses_the_items_scale() -> None:
    q = parse_questionnaire(
        "id: r\nscale: {min: 1, max: 5}\ndimensions:\n  - id: d\n    items: [a, b]\n    reverse: [b]\n"
    )
    data = prepare(pd.DataFrame({"a": ["1", "5"], "b": ["1", ""]}), q)
    assert keyed(data, q)["b"].tolist() == pytest.approx([5.0, np.nan], nan_ok=True)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            pd.DataFrame({"A1": ["1", "9"], "A2": ["2", "3"]}),
            "item A1: 1 answer(s) not a whole number from 1 to 6",
        ),
        (
            pd.DataFrame({"A1": ["1", "x"], "A2": ["2", "3"]}),
            "item A1: 1 value(s) are not numbers (row 3: 'x')",
        ),
        (pd.DataFrame({"B1": ["1"]}), "none of the questionnaire's dimension items"),
        (
            pd.DataFrame({"response_id": ["r", "r"], "item_id": ["A1", "A1"], "score": ["1", "2"]}),
            "duplicate answer(s): response 'r' answers 'A1'",
        ),
        (
            pd.DataFrame(
                {"response_id": ["r"], "item_id": ["A1"], "score": ["1"], "questionnaire_id": ["x"]}
            ),
            "no answers to questionnaire 'bfi' in the file (it holds: x)",
        ),
    ],
)
def test_bad_answers_are_rejected_with_the_reason(frame: pd.DataFrame, message: str) -> None:
    q = parse_questionnaire("id: bfi\nscale: {min: 1, max: 6}\ndimensions:\n  - id: a\n    items: [A1, A2]\n")
    with pytest.raises(Invalid) as caught:
        prepare(frame, q)
    assert message in str(caught.value)


def test_customers_add_rm_and_age_band() -> None:
    long = to_long(simulated(20, seed=3))
    data = prepare(long, shipped_questionnaire())
    customers = pd.DataFrame(
        {
            "customer_id": ["C00000", "C00001"],
            "birth_date": ["1990-05-01", "1950-01-01"],
            "rm_id": ["S0001", "S0002"],
            "mobile": ["13800138000", "13800138001"],
        }
    )
    joined = attach_customers(data, customers).extra
    assert joined.loc["V00000", "age_band"] == "30-44" and joined.loc["V00001", "age_band"] == "60+"
    assert joined.loc["V00001", "rm_id"] == "S0002"
    assert "mobile" not in joined.columns  # PII is never carried into an analysis
    assert joined.loc["V00000", "wave"] == "2026-04"
