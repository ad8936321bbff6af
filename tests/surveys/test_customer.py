"""One customer's survey answers scored for Customer 360: dimension means after reverse keying on the
questionnaire's scale, the NPS answer and its class, comments, newest first (both databases)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session

from wealthcrm.customers.models import Customer
from wealthcrm.staff.models import Branch
from wealthcrm.surveys.customer import customer_scores, known_questionnaires, nps_class, score_response
from wealthcrm.surveys.models import SurveyAnswer, SurveyWave, WaveStatus
from wealthcrm.surveys.questionnaire import Questionnaire, parse_questionnaire
from wealthcrm.vocab import CustomerStatus

QUESTIONNAIRE = """
id: q_test
title: {zh: 测试问卷, en: Test survey}
scale: {min: 1, max: 5}
dimensions:
  - id: service
    name: {zh: 服务, en: Service}
    items: [S1, S2, S3]
    reverse: [S3]
  - id: value
    name: {zh: 价值, en: Value}
    items: [V1, V2]
    reverse: [V2]
  - id: digital
    items: [D1]
outcomes:
  nps: NPS
items:
  - id: V2
    scale: {min: 1, max: 9}
  - id: NOTE
    type: text
"""


SERVICE = {"zh": "服务", "en": "Service"}
VALUE = {"zh": "价值", "en": "Value"}


@pytest.fixture
def q() -> Questionnaire:
    return parse_questionnaire(QUESTIONNAIRE)


def _answers(
    response_id: str, customer_id: str, on: date, questionnaire_id: str = "q_test", **items: float | str
) -> list[SurveyAnswer]:
    return [
        SurveyAnswer(
            response_id=response_id,
            item_id=item_id,
            customer_id=customer_id,
            questionnaire_id=questionnaire_id,
            answered_on=on,
            score=None if isinstance(value, str) else float(value),
            text=value if isinstance(value, str) else None,
        )
        for item_id, value in items.items()
    ]


@pytest.fixture
def db(session: Session) -> Session:
    session.add(Branch(branch_id="B1", name="测试支行"))
    session.flush()
    for customer_id in ("C1", "C2"):
        session.add(
            Customer(
                customer_id=customer_id,
                branch_id="B1",
                name="客户" + customer_id,
                onboarded_on=date(2020, 1, 1),
                status=CustomerStatus.active,
            )
        )
    session.flush()
    session.add_all(
        [
            # S3 reversed (1 + 5 − 2 = 4); V2 reversed on its 1–9 scale (1 + 9 − 9 = 1), then mapped onto
            # 1–5 (1); D1 not answered; NPS 8: passive
            *_answers("RA", "C1", date(2026, 10, 1), S1=4, S2=5, S3=2, V1=3, V2=9, NPS=8, NOTE="等候太久"),
            # S2 not answered; S3 5 → 1; V2 5 → 5 → 1 + (5 − 1) × 4 / 8 = 3; NPS 10: promoter
            *_answers("RB", "C1", date(2026, 11, 15), S1=1, S3=5, V1=2, V2=5, D1=4, NPS=10),
            # a questionnaire the caller does not know: no dimensions, NPS from the item NPS (6: detractor)
            *_answers("RC", "C1", date(2026, 9, 1), questionnaire_id="legacy", REL1=4, NPS=6),
            # another customer's answer is never listed
            *_answers("RD", "C2", date(2026, 11, 20), S1=5, NPS=0),
        ]
    )
    session.flush()
    return session


def test_nps_classes() -> None:
    assert [nps_class(s) for s in (0, 6, 6.5, 7, 8, 9, 10, None)] == [
        "detractor",
        "detractor",
        "passive",
        "passive",
        "passive",
        "promoter",
        "promoter",
        None,
    ]


def test_scores_of_one_response(q: Questionnaire) -> None:
    dimensions, nps, comments = score_response(q, {"S1": 4, "S2": 5, "S3": 2, "V1": 3, "V2": 9, "NPS": 8})
    assert [(d.dimension, d.score, d.answered, d.items) for d in dimensions] == [
        ("service", pytest.approx(13 / 3, abs=1e-12), 3, 3),
        ("value", 2.0, 2, 2),
        ("digital", None, 0, 1),
    ]
    assert dimensions[0].name == {"zh": "服务", "en": "Service"} and dimensions[2].name == {}
    assert (nps, comments) == (8, [])
    # unknown questionnaire: nothing to key or group by, the NPS item by its usual id
    assert score_response(None, {"NPS": 3.0, "X": 1.0}, {"C": "太慢"}) == ([], 3.0, ["太慢"])


def test_customer_scores_newest_first_with_exact_numbers(db: Session, q: Questionnaire) -> None:
    found = customer_scores(db, customer_id="C1", questionnaires={"q_test": q})
    assert [(r.response_id, r.answered_on, r.questionnaire_id, r.known) for r in found] == [
        ("RB", date(2026, 11, 15), "q_test", True),
        ("RA", date(2026, 10, 1), "q_test", True),
        ("RC", date(2026, 9, 1), "legacy", False),
    ]
    latest = found[0].to_dict()
    assert latest == {
        "response_id": "RB",
        "questionnaire_id": "q_test",
        "answered_on": "2026-11-15",
        "known": True,
        "title": {"zh": "测试问卷", "en": "Test survey"},
        "scale": {"min": 1, "max": 5},
        "dimensions": [
            {"dimension": "service", "name": SERVICE, "score": 1.0, "answered": 2, "items": 3},
            {"dimension": "value", "name": VALUE, "score": 2.5, "answered": 2, "items": 2},
            {"dimension": "digital", "name": {}, "score": 4.0, "answered": 1, "items": 1},
        ],
        "nps": 10.0,
        "nps_class": "promoter",
        "comments": [],
    }
    earlier = found[1]
    assert [d.score for d in earlier.dimensions] == [pytest.approx(13 / 3, abs=1e-12), 2.0, None]
    assert (earlier.nps, earlier.nps_class, earlier.comments) == (8.0, "passive", ["等候太久"])
    legacy = found[2]
    assert (legacy.dimensions, legacy.scale, legacy.title, legacy.nps, legacy.nps_class) == (
        [],
        None,
        {},
        6.0,
        "detractor",
    )
    assert [r.response_id for r in customer_scores(db, customer_id="C2", questionnaires={})] == ["RD"]
    assert customer_scores(db, customer_id="C9", questionnaires={}) == []
    assert [r.response_id for r in customer_scores(db, customer_id="C1", questionnaires={}, limit=1)] == [
        "RB"
    ]


def test_known_questionnaires_are_the_shipped_ones_and_the_waves(db: Session, q: Questionnaire) -> None:
    known = known_questionnaires(db)
    assert sorted(known) == ["branch_default"]
    db.add(
        SurveyWave(
            name="2026 秋季",
            questionnaire_id=q.id,
            questionnaire_version=q.version,
            questionnaire=q.model_dump(mode="json"),
            tiers=[],
            stages=[],
            opens_on=date(2026, 11, 1),
            closes_on=date(2026, 11, 30),
            status=WaveStatus.open,
            created_at=datetime(2026, 11, 1, 1, 0),
        )
    )
    db.flush()
    known = known_questionnaires(db)
    assert sorted(known) == ["branch_default", "q_test"] and known["q_test"] == q
    scored = customer_scores(db, customer_id="C1", questionnaires=known)
    assert [d.score for d in scored[0].dimensions] == [1.0, 2.5, 4.0]
