"""The public survey form ``/s/<token>``: no login, the questionnaire's languages, every answer checked,
one use per token, friendly pages for bad links, CSRF and rate limits."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from wealthcrm.config import Settings, SurveySettings
from wealthcrm.db import session_scope
from wealthcrm.surveys import distribution as waves
from wealthcrm.surveys.distribution import Segment
from wealthcrm.surveys.models import SurveyAnswer, SurveyInvitation
from wealthcrm.surveys.questionnaire import shipped_questionnaire
from wealthcrm.surveys.responses import required_items
from wealthcrm.users import service as users
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date
from wealthcrm.web.routes.survey_form import RateLimiter

from ..customers.workbench import load_workbench
from .conftest import CSRF_RE, TestClient
from .html import parse

TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 9, 0)
Q = shipped_questionnaire()


@pytest.fixture
def branch(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


def make_app(branch: Engine, settings: Settings, **limits: int) -> FastAPI:
    tuned = settings.model_copy(update={"surveys": SurveySettings(**limits)}) if limits else settings
    application = create_app(tuned, branch)
    application.dependency_overrides[current_date] = lambda: TODAY
    return application


@pytest.fixture
def app(branch: Engine, settings: Settings) -> FastAPI:
    return make_app(branch, settings)


def wave_tokens(engine: Engine, *, opens_on: date = TODAY, closes_on: date | None = None) -> dict[str, str]:
    """A wave to C001, C003 and C004 (made by the branch manager); customer → token."""
    with session_scope(engine) as session:
        boss = users.get(session, username="boss")
        wave = waves.create_wave(
            session,
            user=boss,
            name="Q4",
            questionnaire=Q,
            segment=Segment(),
            opens_on=opens_on,
            closes_on=closes_on or TODAY + timedelta(days=14),
            today=TODAY,
            now=NOW,
        )
        issued = waves.issue_tokens(session, user=boss, wave_id=wave.id, today=TODAY, now=NOW)
    return {t.customer_id: t.token for t in issued}


def answers(nps: int = 9) -> dict[str, Any]:
    return {**dict.fromkeys(required_items(Q), "6"), "NPS": str(nps), "COMMENT": "很满意", "P_AGE": "2"}


def csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match
    return match.group(1)


def test_the_form_shows_every_question_in_the_chosen_language(client: TestClient, branch: Engine) -> None:
    token = wave_tokens(branch)["C001"]
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    doc = parse(page.text)
    assert "中高端客户满意度与忠诚度调查" in page.text and "贵宾理财中心环境舒适、私密性好" in page.text
    items = [f.attrs["data-item"] for f in doc.iter("fieldset")]
    assert items[:4] == ["TAN1", "TAN2", "TAN3", "TAN4"]
    assert set(items) == set(Q.item_map())
    assert [s.text() for s in doc.iter("h2")] == [
        "有形性",
        "可靠性",
        "响应性",
        "保证性",
        "移情性",
        "客户经理关系",
        "数字渠道",
        "感知价值",
        "总体评价",
        "其他问题",
        "关于您",
    ]
    tan1 = doc.find(id="q-TAN1")
    assert tan1 is not None
    assert [i.attrs["value"] for i in tan1.iter("input")] == [str(v) for v in range(1, 8)]
    assert "非常不同意" in tan1.text() and "非常同意" in tan1.text()
    nps = doc.find(id="q-NPS")
    assert nps is not None and [i.attrs["value"] for i in nps.iter("input")] == [str(v) for v in range(11)]
    assert "Log out" not in page.text and "退出" not in page.text  # no staff navigation
    assert "<script" not in page.text and "style=" not in page.text  # the CSP allows neither
    english = client.get(f"/s/{token}?lang=en")
    assert "Satisfaction and loyalty survey of mid-to-high-end customers" in english.text
    assert "Strongly disagree" in english.text and "Overall" in english.text
    assert client.cookies.get("lang") == "en"
    assert "Satisfaction and loyalty survey" in client.get(f"/s/{token}").text  # remembered


def test_answering_once_then_the_link_is_spent(client: TestClient, branch: Engine) -> None:
    token = wave_tokens(branch)["C004"]
    form = client.get(f"/s/{token}")
    sent = client.post(
        f"/s/{token}?lang=zh_CN", data=answers() | {"csrf_token": csrf(form.text)}, follow_redirects=False
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/s/thanks?lang=zh_CN"
    thanks = client.get(sent.headers["location"])
    assert thanks.status_code == 200 and "感谢您" in thanks.text
    with session_scope(branch) as session:
        invitation = session.scalars(
            select(SurveyInvitation).where(SurveyInvitation.customer_id == "C004")
        ).one()
        stored = dict(
            session.execute(
                select(SurveyAnswer.item_id, SurveyAnswer.score).where(
                    SurveyAnswer.response_id == invitation.response_id
                )
            ).all()
        )
    assert (stored["NPS"], stored["P_AGE"], len(stored)) == (9.0, 2.0, len(required_items(Q)) + 2)
    again = client.get(f"/s/{token}")
    assert again.status_code == 410
    assert parse(again.text).find(data_testid="survey-message") is not None
    assert "已经填写过" in again.text
    repost = client.post(f"/s/{token}", data=answers() | {"csrf_token": csrf(form.text)})
    assert repost.status_code == 410


def test_problems_are_shown_next_to_their_questions_and_answers_kept(
    client: TestClient, branch: Engine
) -> None:
    token = wave_tokens(branch)["C001"]
    form = client.get(f"/s/{token}?lang=en")
    values = answers() | {"TAN1": "9", "COMMENT": "keep me"}
    del values["REL2"]
    sent = client.post(f"/s/{token}?lang=en", data=values | {"csrf_token": csrf(form.text)})
    assert sent.status_code == 422
    doc = parse(sent.text)
    errors = doc.find(data_testid="form-errors")
    assert errors is not None and "2 questions need your attention" in errors.text()
    assert [a.attrs["href"] for a in errors.iter("a")] == ["#q-TAN1", "#q-REL2"]
    assert doc.find(data_testid="error-REL2") is not None
    tan2 = doc.find(id="q-TAN2")
    assert tan2 is not None
    assert [i.attrs["value"] for i in tan2.iter("input") if "checked" in i.attrs] == ["6"]
    assert "keep me" in sent.text
    assert client.get(f"/s/{token}").status_code == 200  # still unanswered


def test_a_post_without_the_forms_csrf_token_keeps_the_answers(client: TestClient, branch: Engine) -> None:
    token = wave_tokens(branch)["C001"]
    client.get(f"/s/{token}")
    sent = client.post(f"/s/{token}?lang=en", data=answers() | {"csrf_token": "forged"})
    assert sent.status_code == 403
    assert "your answers were not sent yet" in sent.text
    retry = client.post(
        f"/s/{token}", data=answers() | {"csrf_token": csrf(sent.text)}, follow_redirects=False
    )
    assert retry.status_code == 303


@pytest.mark.parametrize(
    ("when", "status", "words"),
    [
        ({"opens_on": TODAY + timedelta(days=3)}, 409, "This survey is not open yet"),
        ({"opens_on": TODAY - timedelta(days=10), "closes_on": TODAY - timedelta(days=1)}, 410, "has ended"),
    ],
)
def test_a_wave_outside_its_days(
    client: TestClient, branch: Engine, when: dict[str, date], status: int, words: str
) -> None:
    with session_scope(branch) as session:
        boss = users.get(session, username="boss")
        wave = waves.create_wave(
            session,
            user=boss,
            name="Q",
            questionnaire=Q,
            segment=Segment(),
            today=when["opens_on"],
            now=NOW,
            **{"closes_on": TODAY + timedelta(days=14)} | when,
        )
        token = waves.issue_tokens(session, user=boss, wave_id=wave.id, today=when["opens_on"], now=NOW)[
            0
        ].token
    page = client.get(f"/s/{token}?lang=en")
    assert (page.status_code, words in page.text) == (status, True)


@pytest.mark.parametrize("token", ["not-a-token-but-long-enough", "short", "%00" * 3, "x" * 500, "a/b"])
def test_a_bad_link_gets_a_clear_page_never_a_500(client: TestClient, token: str) -> None:
    page = client.get(f"/s/{token}?lang=en")
    assert page.status_code == 404, token
    assert "This survey link is not valid" in page.text
    posted = client.post(f"/s/{token}", data={"TAN1": "3"})
    assert posted.status_code in (404, 405)


def test_requests_are_limited_per_address_and_per_link(branch: Engine, settings: Settings) -> None:
    tokens = wave_tokens(branch)
    app = make_app(branch, settings, form_ip_requests=5, form_token_requests=2, form_window_seconds=60)
    with TestClient(app) as client:
        assert [client.get(f"/s/{tokens['C001']}").status_code for _ in range(3)] == [200, 200, 429]
        limited = client.get(f"/s/{tokens['C001']}?lang=en")
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert "Too many requests" in limited.text and "Please wait 1 minutes" in limited.text
        assert client.get(f"/s/{tokens['C003']}").status_code == 200  # another link: its own count
        assert client.get(f"/s/{tokens['C004']}").status_code == 429  # the address's 5 are used up


def test_the_rate_limiter_slides() -> None:
    limiter = RateLimiter(limit=2, window=10)
    assert [limiter.hit("a", now=t) for t in (0, 1)] == [None, None]
    assert limiter.hit("a", now=5) == pytest.approx(5)
    assert limiter.hit("b", now=5) is None
    assert limiter.hit("a", now=10.5) is None  # the hit at 0 has left the window


def test_form_fields_are_named_after_items(client: TestClient, branch: Engine) -> None:
    token = wave_tokens(branch)["C003"]
    html = client.get(f"/s/{token}").text
    names = set(re.findall(r'<(?:input|textarea)[^>]* name="([A-Za-z0-9_]+)"', html))
    assert names == set(Q.item_map()) | {"csrf_token"}


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
