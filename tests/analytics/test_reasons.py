"""Reasons: every feature has a sentence in English and Chinese, filled with the customer's values."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from wealthcrm.analytics.features import FEATURES
from wealthcrm.analytics.reasons import TEMPLATES, explain, sentence


def test_every_feature_has_a_template() -> None:
    assert set(TEMPLATES) == set(FEATURES)


@pytest.mark.parametrize("feature", list(FEATURES))
@pytest.mark.parametrize("value", [0.0, 1.0, 2.0, -0.25, math.nan])
def test_every_template_renders(feature: str, value: float) -> None:
    text = sentence(feature, value)
    assert text["en"] and text["zh"]
    assert "{" not in text["en"] + text["zh"]


@pytest.mark.parametrize(
    ("feature", "value", "en", "zh"),
    [
        ("aum_chg_3m", -0.34, "AUM down 34% in 3 months", "近3个月资产下降34%"),
        ("aum_chg_3m", 0.12, "AUM up 12% in 3 months", "近3个月资产上升12%"),
        ("matured_not_reinvested_3m", 2.0, "2 products matured, not reinvested", "2笔产品到期未续作"),
        ("matured_not_reinvested_3m", 1.0, "1 product matured, not reinvested", "1笔产品到期未续作"),
        (
            "other_bank_out_3m",
            0.456,
            "Transfers to other banks: 46% of AUM in 3 months",
            "近3个月转出他行资金占资产46%",
        ),
        ("tier_headroom", -0.08, "AUM 8% below the tier threshold", "资产低于等级门槛8%"),
        ("login_trend", 0.4, "Logins down 60% on the 3 months before", "登录次数较前3个月下降60%"),
        ("watch", 1.0, "On watch: AUM below the tier threshold", "关注期：资产低于等级门槛"),
        ("rm_left_6m", 1.0, "Their RM left the bank in the last 6 months", "原客户经理近6个月离职"),
        ("months_since_reached", math.nan, "Never reached by the RM on file", "无有效联系记录"),
        ("tier_rank", 2.0, "Tier: sunflower", "客户等级：金葵花"),
        ("aum", 1234567.0, "AUM 1,234,567 CNY", "资产1,234,567元"),
    ],
)
def test_sentences(feature: str, value: float, en: str, zh: str) -> None:
    assert sentence(feature, value) == {"en": en, "zh": zh}


def test_explain_takes_the_largest_positive_contributions() -> None:
    contributions = pd.DataFrame(
        {
            "aum_chg_3m": [0.9, -0.2],
            "watch": [0.3, -0.1],
            "matured_not_reinvested_3m": [1.2, -0.3],
            "bias": [-3, -3],
        }
    )
    features = pd.DataFrame(
        {"aum_chg_3m": [-0.34, 0.1], "watch": [1.0, 0.0], "matured_not_reinvested_3m": [2.0, 0.0]}
    )
    reasons = explain(contributions, features, top=2)
    assert reasons == [
        [
            {
                "feature": "matured_not_reinvested_3m",
                "contribution": 1.2,
                "value": 2.0,
                "en": "2 products matured, not reinvested",
                "zh": "2笔产品到期未续作",
            },
            {
                "feature": "aum_chg_3m",
                "contribution": 0.9,
                "value": -0.34,
                "en": "AUM down 34% in 3 months",
                "zh": "近3个月资产下降34%",
            },
        ],
        [],
    ]


def test_explain_skips_reasons_that_tell_an_rm_nothing() -> None:
    contributions = pd.DataFrame(
        {"aum_chg_3m": [0.9], "risk_assessment_expired": [0.8], "aum_chg_1m": [0.5], "bias": [-3.0]}
    )
    features = pd.DataFrame({"aum_chg_3m": [0.002], "risk_assessment_expired": [0.0], "aum_chg_1m": [-0.2]})
    reasons = explain(contributions, features)
    assert [r["feature"] for r in reasons[0]] == ["aum_chg_1m"]
    assert reasons[0][0]["en"] == sentence("aum_chg_1m", -0.2)["en"]
