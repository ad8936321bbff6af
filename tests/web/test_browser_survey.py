"""The public survey form in Debian's Chromium (Playwright): a customer opens the link of their invitation,
switches to English, answers every question (a first try without some answers shows where they are
missing), submits, and sees the thank-you page; the link then cannot be used again, and a bad link gets a
clear page. The answers are stored for that customer, shown to their RM on Customer 360 and counted by
the next analysis. Screenshots: test-artifacts/survey-form.png, survey-form-mobile.png, survey-thanks.png
and survey-on-customer360.png."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, select

from wealthcrm.config import Settings
from wealthcrm.db import make_engine, session_scope
from wealthcrm.simulate.survey import ITEM_IDS, answers
from wealthcrm.surveys import distribution as waves
from wealthcrm.surveys.analysis import analyze
from wealthcrm.surveys.distribution import Segment
from wealthcrm.surveys.models import SurveyAnswer, SurveyInvitation
from wealthcrm.surveys.questionnaire import shipped_questionnaire
from wealthcrm.surveys.responses import answers_frame, required_items, store_answers
from wealthcrm.users import service as users
from wealthcrm.web import create_app
from wealthcrm.web.deps import current_date

from ..customers.workbench import PASSWORD, load_workbench
from .browser import ARTIFACTS, BROWSER_MARKS, browser_page, serve

pytestmark = BROWSER_MARKS
TODAY = date(2026, 11, 28)
Q = shipped_questionnaire()
EARLIER = 60  # responses stored before the wave (the simulator's), so the analysis has data to run on


@dataclass
class Survey:
    url: str
    engine: Engine
    tokens: dict[str, str]


def seed_answers(engine: Engine) -> None:
    rng = np.random.default_rng(3)
    scores = answers(rng.standard_normal(EARLIER), rng.standard_normal(EARLIER), rng.standard_normal(EARLIER),
                     rng.random(EARLIER) < 0.1, rng)  # fmt: skip
    with session_scope(engine) as session:
        for n, row in enumerate(scores):
            store_answers(
                session,
                response_id=f"SIM{n:03d}",
                customer_id=("C001", "C003", "C004")[n % 3],
                questionnaire_id=Q.id,
                answered_on=date(2026, 10, 15),
                answers={i: (float(v), None) for i, v in zip(ITEM_IDS, row, strict=True) if not np.isnan(v)},
            )


@pytest.fixture
def survey(tmp_path: Path, settings: Settings, sqlite_template: Path) -> Iterator[Survey]:
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    load_workbench(engine, settings, tmp_path / "branch")
    seed_answers(engine)
    with session_scope(engine) as session:
        boss = users.get(session, username="boss")
        wave = waves.create_wave(
            session,
            user=boss,
            name="2026 Q4",
            questionnaire=Q,
            segment=Segment(tiers=()),
            opens_on=TODAY,
            closes_on=TODAY + timedelta(days=14),
            today=TODAY,
            now=datetime(2026, 11, 28, 9, 0),
        )
        issued = waves.issue_tokens(
            session, user=boss, wave_id=wave.id, today=TODAY, now=datetime(2026, 11, 28)
        )
    app = create_app(settings, engine)
    app.dependency_overrides[current_date] = lambda: TODAY
    try:
        with serve(app) as url:
            yield Survey(url, engine, {t.customer_id: t.token for t in issued})
    finally:
        engine.dispose()


def choose(page: object, item_id: str, value: str) -> None:
    # the radio is visually hidden behind its face: the customer taps the label
    page.locator(f"label.survey-point:has(input[name='{item_id}'][value='{value}'])").click()  # type: ignore[attr-defined]


def test_a_customer_answers_the_survey_once(survey: Survey) -> None:
    with session_scope(survey.engine) as session:
        before = analyze(answers_frame(session, questionnaire_id=Q.id), Q, models=False)
    assert before["n_respondents"] == EARLIER

    problems: list[str] = []
    token = survey.tokens["C003"]
    with browser_page(problems) as page:
        page.goto(f"{survey.url}/s/{token}")
        assert page.locator("h1").inner_text() == "中高端客户满意度与忠诚度调查"
        page.click("[data-testid=lang-en]")
        page.wait_for_url(f"{survey.url}/s/{token}?lang=en")
        assert (
            page.locator("h1").inner_text() == "Satisfaction and loyalty survey of mid-to-high-end customers"
        )
        required = required_items(Q)
        for n, item_id in enumerate(required):
            if item_id in ("REL3", "VAL2"):
                continue  # forgotten on the first try
            choose(page, item_id, "3" if item_id == "NPS" else str(5 + n % 3))
        choose(page, "P_MAIN_BANK", "1")
        page.fill("textarea[name=COMMENT]", "Returns could be better; my RM is great.")
        page.click("[data-testid=submit]")
        errors = page.locator("[data-testid=form-errors]")
        errors.wait_for()
        assert "2 questions need your attention" in errors.inner_text()
        assert page.locator("[data-testid=error-REL3]").is_visible()
        # what was answered is still chosen
        assert page.locator("input[name=NPS][value='3']").is_checked()
        assert (
            page.locator("textarea[name=COMMENT]").input_value() == "Returns could be better; my RM is great."
        )
        choose(page, "REL3", "4")
        choose(page, "VAL2", "2")
        page.locator("#q-REL3").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "survey-form.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.locator("#q-TAN1").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "survey-form-mobile.png"))
        page.click("[data-testid=submit]")
        page.wait_for_url(f"{survey.url}/s/thanks?lang=en")
        assert page.locator("[data-testid=survey-thanks] h1").inner_text() == "Thank you"
        page.screenshot(path=str(ARTIFACTS / "survey-thanks.png"))

        # the link cannot be used twice
        again = page.goto(f"{survey.url}/s/{token}")
        assert again is not None and again.status == 410
        assert (
            page.locator("[data-testid=survey-message] h1").inner_text()
            == "This survey has already been answered"
        )
        # a bad link gets a clear page
        bad = page.goto(f"{survey.url}/s/{token[:-3]}xyz")
        assert bad is not None and bad.status == 404
        assert page.locator("[data-testid=survey-message] h1").inner_text() == "This survey link is not valid"
        # the customer's RM sees the answers on Customer 360: the NPS of 3, a detractor
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(f"{survey.url}/login")
        page.fill("#username", "rm01")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{survey.url}/today")
        page.goto(f"{survey.url}/customers/C003?lang=en")
        latest = page.locator("[data-testid=survey-latest]").inner_text()
        assert latest.startswith(f"Latest answer {TODAY.isoformat()}"), latest
        assert page.locator("#survey [data-field=nps]").inner_text() == "3"
        assert page.locator("#survey [data-field=nps-class]").inner_text() == "Detractor"
        assert page.locator("#survey-dimensions tbody tr").count() == len(Q.dimensions)
        page.locator("#survey").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "survey-on-customer360.png"))
    # only the refusals the test asked for: the 422 of the first try, the 410 and the 404
    assert all(any(f"status of {code}" in p for code in (404, 410, 422)) for p in problems), problems

    with session_scope(survey.engine) as session:
        invitation = session.scalars(
            select(SurveyInvitation).where(SurveyInvitation.customer_id == "C003")
        ).one()
        stored = dict(
            session.execute(
                select(SurveyAnswer.item_id, SurveyAnswer.score).where(
                    SurveyAnswer.response_id == invitation.response_id, SurveyAnswer.customer_id == "C003"
                )
            ).all()
        )
        after = analyze(answers_frame(session, questionnaire_id=Q.id), Q, models=False)
    assert (stored["NPS"], stored["REL3"], stored["VAL2"], stored["P_MAIN_BANK"]) == (3.0, 4.0, 2.0, 1.0)
    assert after["n_respondents"] == EARLIER + 1
    assert after["outcomes"]["nps"]["n"] == before["outcomes"]["nps"]["n"] + 1
    assert after["outcomes"]["nps"]["detractors"] == before["outcomes"]["nps"]["detractors"] + 1
