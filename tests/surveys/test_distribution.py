"""Survey waves, one-time tokens and submissions on the workbench's branch (SQLite and PostgreSQL).

Active customers and their 2026-10 results: C001 (S001, sunflower, declining), C003 (S001, diamond,
onboarding), C004 (S004, team T02, sunflower, mature); C002 is closed. ``lead`` leads team T01 (S001,
S002); ``boss`` is the branch manager.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.surveys import distribution as waves
from wealthcrm.surveys import responses
from wealthcrm.surveys import wave_stats as stats
from wealthcrm.surveys.analysis import analyze
from wealthcrm.surveys.distribution import Segment
from wealthcrm.surveys.models import SurveyAnswer, SurveyInvitation, SurveyWave
from wealthcrm.surveys.questionnaire import shipped_questionnaire
from wealthcrm.surveys.responses import AnswersInvalid, TokenUnknown, TokenUsed, WaveEnded, WaveNotOpen
from wealthcrm.tasks import service as tasks
from wealthcrm.tasks.models import Task
from wealthcrm.users import service as users
from wealthcrm.users.models import User
from wealthcrm.vocab import Stage, TaskKind, TaskStatus, Tier

from ..customers.workbench import load_workbench

ON = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 9, 0)
Q = shipped_questionnaire()


@pytest.fixture
def wb(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_workbench(engine, settings, tmp_path / "branch")
    return engine


@pytest.fixture
def db(wb: Engine) -> Iterator[Session]:
    with Session(wb) as session:
        yield session
        session.rollback()


def user(session: Session, name: str) -> User:
    return users.get(session, username=name)


def make_wave(session: Session, who: str = "boss", **kwargs: Any) -> SurveyWave:
    values: dict[str, Any] = {
        "name": "2026 Q4 satisfaction",
        "questionnaire": Q,
        "segment": Segment(),
        "opens_on": ON,
        "closes_on": ON + timedelta(days=14),
        "today": ON,
        "now": NOW,
    }
    return waves.create_wave(session, user=user(session, who), **(values | kwargs))


def invited(session: Session, wave: SurveyWave) -> list[str]:
    return sorted(
        session.scalars(select(SurveyInvitation.customer_id).where(SurveyInvitation.wave_id == wave.id))
    )


def full_answers(nps: int = 9, likert: int = 6) -> dict[str, Any]:
    out: dict[str, Any] = {i: str(likert) for i in responses.required_items(Q)}
    out["NPS"] = str(nps)
    return out


def test_segments_are_resolved_in_the_creators_scope(db: Session) -> None:
    everyone = make_wave(db)
    assert invited(db, everyone) == ["C001", "C003", "C004"]  # active customers only
    sunflower = make_wave(db, segment=Segment(tiers=(Tier.sunflower,)))
    assert (invited(db, sunflower), sunflower.segment_month) == (["C001", "C004"], date(2026, 10, 1))
    declining = make_wave(
        db, segment=Segment(tiers=(Tier.sunflower, Tier.diamond), stages=(Stage.declining,))
    )
    assert invited(db, declining) == ["C001"]
    book = make_wave(db, segment=Segment(rm_id="S004"))
    assert invited(db, book) == ["C004"]
    team = make_wave(db, "lead")  # team T01's customers only
    assert invited(db, team) == ["C001", "C003"]
    preview = waves.preview(db, user=user(db, "lead"), segment=Segment(tiers=(Tier.sunflower,)))
    assert (preview.matched, preview.targeted, preview.month) == (1, 1, date(2026, 10, 1))
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "survey.wave_create")).all()[-1]
    assert (entry.actor, entry.entity_id, entry.details["invited"]) == ("lead", str(team.id), 2)
    assert entry.details["segment"] == {
        "tiers": [],
        "stages": [],
        "rm_id": None,
        "sample_size": None,
        "seed": 0,
    }


def test_a_random_sample_is_reproducible_from_its_seed(db: Session) -> None:
    first = make_wave(db, segment=Segment(sample_size=2, seed=7))
    again = make_wave(db, segment=Segment(sample_size=2, seed=7))
    expected = sorted(random.Random(7).sample(["C001", "C003", "C004"], 2))
    assert invited(db, first) == invited(db, again) == expected
    assert (first.sample_size, first.sample_seed) == (2, 7)
    larger = make_wave(db, segment=Segment(sample_size=50, seed=1))
    assert invited(db, larger) == ["C001", "C003", "C004"]


@pytest.mark.parametrize(
    ("who", "kwargs", "error", "message"),
    [
        ("rm01", {}, Forbidden, "the rm role may not run survey waves"),
        ("audit", {}, Forbidden, "the auditor role may not run survey waves"),
        ("boss", {"name": "  "}, Invalid, "the name must be 1 to 100 characters long"),
        ("boss", {"closes_on": ON - timedelta(days=1)}, Invalid, "closes (2026-11-27) before it opens"),
        (
            "boss",
            {"opens_on": ON - timedelta(days=9), "closes_on": ON - timedelta(days=1)},
            Invalid,
            "before today",
        ),
        ("boss", {"segment": Segment(rm_id="S999")}, Invalid, "no RM 'S999'"),
        ("boss", {"segment": Segment(sample_size=0)}, Invalid, "the sample size must be from 1"),
        ("rm02", {}, Forbidden, "the rm role"),
        (
            "lead",
            {"segment": Segment(rm_id="S004")},
            Invalid,
            "no customer in your scope matches the segment",
        ),
    ],
)
def test_who_may_create_a_wave_and_what_it_needs(
    db: Session, who: str, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_wave(db, who, **kwargs)


def test_tokens_are_issued_once_and_only_their_hash_is_stored(db: Session) -> None:
    wave = make_wave(db)
    boss = user(db, "boss")
    issued = waves.issue_tokens(db, user=boss, wave_id=wave.id, today=ON, now=NOW)
    assert [(t.customer_id, t.rm_id) for t in issued] == [
        ("C001", "S001"),
        ("C003", "S001"),
        ("C004", "S004"),
    ]
    assert all(len(t.token) == 32 and t.token[0].isalnum() for t in issued)
    stored = {
        i.customer_id: i
        for i in db.scalars(select(SurveyInvitation).where(SurveyInvitation.wave_id == wave.id))
    }
    for t in issued:
        assert stored[t.customer_id].token_hash == hashlib.sha256(t.token.encode()).hexdigest()
        assert stored[t.customer_id].issued_at == NOW
    with pytest.raises(Conflict, match="already has a token"):
        waves.issue_tokens(db, user=boss, wave_id=wave.id, today=ON, now=NOW)
    again = waves.issue_tokens(db, user=boss, wave_id=wave.id, today=ON, now=NOW, reissue=True)
    with pytest.raises(TokenUnknown):
        responses.open_token(db, token=issued[0].token, today=ON)
    assert responses.open_token(db, token=again[0].token, today=ON).invitation.customer_id == "C001"
    actions = db.scalars(
        select(AuditEntry.details).where(AuditEntry.action == "survey.tokens_issue").order_by(AuditEntry.seq)
    ).all()
    assert actions == [{"count": 3, "reissue": False}, {"count": 3, "reissue": True}]
    # a team lead issues (and sees) only their team's part of the branch-wide wave
    lead_tokens = waves.issue_tokens(
        db, user=user(db, "lead"), wave_id=wave.id, today=ON, now=NOW, reissue=True
    )
    assert [t.customer_id for t in lead_tokens] == ["C001", "C003"]
    with pytest.raises(Forbidden, match="the analyst role may not issue survey links"):  # pseudonyms only
        waves.issue_tokens(db, user=user(db, "analyst"), wave_id=wave.id, today=ON, now=NOW)
    with pytest.raises(Forbidden, match="may not see survey waves"):
        waves.get_wave(db, user=user(db, "rm02"), wave_id=wave.id)  # an RM does not see waves at all


def test_a_token_opens_only_while_the_wave_is_open(db: Session) -> None:
    wave = make_wave(db, opens_on=ON + timedelta(days=2), closes_on=ON + timedelta(days=5))
    token = waves.issue_tokens(db, user=user(db, "boss"), wave_id=wave.id, today=ON, now=NOW)[0].token
    with pytest.raises(WaveNotOpen, match="opens on 2026-11-30"):
        responses.open_token(db, token=token, today=ON)
    assert responses.open_token(db, token=token, today=ON + timedelta(days=2)).wave.id == wave.id
    with pytest.raises(WaveEnded, match="ended on 2026-12-03"):
        responses.open_token(db, token=token, today=ON + timedelta(days=6))
    waves.close_wave(db, user=user(db, "boss"), wave_id=wave.id, now=NOW)
    with pytest.raises(WaveEnded):
        responses.open_token(db, token=token, today=ON + timedelta(days=3))
    with pytest.raises(Conflict, match="already closed"):
        waves.close_wave(db, user=user(db, "boss"), wave_id=wave.id, now=NOW)
    for bad in ("", "x" * 10, token[:-1] + "!", "a" * 200):
        with pytest.raises(TokenUnknown):
            responses.open_token(db, token=bad, today=ON)


def test_every_problem_with_the_answers_is_listed(db: Session, settings: Settings) -> None:
    wave = make_wave(db)
    token = waves.issue_tokens(db, user=user(db, "boss"), wave_id=wave.id, today=ON, now=NOW)[0].token
    answers = full_answers()
    answers |= {"TAN1": "8", "TAN2": "", "NPS": "6.5", "COMP1": "2", "P_AGE": ["1", "2"], "BOGUS": "3"}
    del answers["REL1"]
    with pytest.raises(AnswersInvalid) as caught:
        responses.submit(db, token=token, answers=answers, today=ON, now=NOW, settings=settings)
    problems = [(p.item_id, p.code, p.message) for p in caught.value.problems]
    assert problems == [
        ("TAN1", "out_of_range", "8 is not from 1 to 7"),
        ("TAN2", "required", "an answer is required"),
        ("REL1", "required", "an answer is required"),
        ("NPS", "whole_number", "'6.5' is not a whole number"),
        ("COMP1", "option", "'2' is not one of the codes [0, 1]"),
        ("P_AGE", "whole_number", "more than one answer"),
        ("BOGUS", "unknown", "not an item of questionnaire branch_default"),
    ]
    assert responses.open_token(db, token=token, today=ON).invitation.used_at is None  # still usable


def test_a_submission_stores_the_answers_and_spends_the_token(db: Session, settings: Settings) -> None:
    wave = make_wave(db)
    token = waves.issue_tokens(db, user=user(db, "boss"), wave_id=wave.id, today=ON, now=NOW)[2].token  # C004
    answers = full_answers(nps=10) | {"COMMENT": "  服务很好  ", "P_AGE": "3", "COMP2": ""}
    done = responses.submit(db, token=token, answers=answers, today=ON, now=NOW, settings=settings)
    invitation = db.scalars(select(SurveyInvitation).where(SurveyInvitation.customer_id == "C004")).one()
    assert (done.customer_id, done.response_id, done.task_id) == ("C004", f"W{wave.id}-{invitation.id}", None)
    assert (invitation.used_at, invitation.response_id) == (NOW, done.response_id)
    rows = db.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id == done.response_id)).all()
    by_item = {a.item_id: (a.score, a.text) for a in rows}
    assert len(by_item) == len(responses.required_items(Q)) + 2
    assert (by_item["NPS"], by_item["COMMENT"], by_item["P_AGE"], by_item["TAN1"]) == (
        (10.0, None),
        (None, "服务很好"),
        (3.0, None),
        (6.0, None),
    )
    assert {(a.customer_id, a.questionnaire_id, a.answered_on) for a in rows} == {("C004", Q.id, ON)}
    with pytest.raises(TokenUsed):
        responses.submit(db, token=token, answers=answers, today=ON, now=NOW, settings=settings)
    detail = stats.wave_detail(db, user=user(db, "boss"), wave_id=wave.id, today=ON)
    assert (detail.row.invited, detail.row.issued, detail.row.answered) == (3, 3, 1)
    assert detail.nps == {"n": 1, "promoters": 1, "passives": 0, "detractors": 0, "nps": 100.0}
    assert [(r.rm_id, r.invited, r.answered) for r in detail.by_rm] == [("S001", 2, 0), ("S004", 1, 1)]
    lead = stats.wave_detail(db, user=user(db, "lead"), wave_id=wave.id, today=ON)
    assert (lead.row.invited, lead.row.answered, lead.nps) == (2, 0, None)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "survey.answer")).one()
    assert (entry.actor, entry.customer_id, entry.entity_id) == ("system", "C004", done.response_id)
    # the answers are there for the next analysis
    frame = responses.answers_frame(db, questionnaire_id=Q.id, wave_id=wave.id)
    assert set(frame["response_id"]) == {done.response_id}
    result = analyze(frame, Q, models=False)
    assert result["n_respondents"] == 1
    assert result["outcomes"]["nps"]["n"] == 1


def test_a_detractor_gets_a_recovery_task_that_the_nightly_batch_keeps(
    db: Session, settings: Settings
) -> None:
    wave = make_wave(db)
    token = waves.issue_tokens(db, user=user(db, "boss"), wave_id=wave.id, today=ON, now=NOW)[2].token  # C004
    done = responses.submit(
        db, token=token, answers=full_answers(nps=3), today=ON, now=NOW, settings=settings
    )
    key = f"survey_recovery:{done.response_id}"
    task = db.scalars(select(Task).where(Task.source_key == key)).one()
    assert (task.id, task.kind, task.assignee_id, task.customer_id, task.due_on) == (
        done.task_id,
        TaskKind.survey_recovery,
        "S004",
        "C004",
        ON,
    )
    assert (task.evidence, task.priority_amount) == (
        {"response_id": done.response_id, "answered_on": "2026-11-28", "nps": 3.0},
        600_000.0,
    )
    tasks.generate(db, on=ON, settings=settings)
    again = db.scalars(
        select(Task).where(Task.kind == TaskKind.survey_recovery, Task.customer_id == "C004")
    ).all()
    assert [(t.id, t.status, t.version) for t in again] == [(task.id, TaskStatus.open, 1)]  # kept, untouched
    tasks.generate(db, on=ON, settings=settings)
    count = db.scalar(select(func.count()).select_from(Task).where(Task.source_key == key))
    assert count == 1


def test_no_task_for_a_passive_or_for_a_customer_without_rm(db: Session, settings: Settings) -> None:
    wave = make_wave(db)
    token = waves.issue_tokens(db, user=user(db, "boss"), wave_id=wave.id, today=ON, now=NOW)[1].token  # C003
    done = responses.submit(
        db, token=token, answers=full_answers(nps=7), today=ON, now=NOW, settings=settings
    )
    assert done.task_id is None
    assert responses.raise_recovery_task(db, customer_id="C002", on=ON, settings=settings) is None  # closed


def test_lists_hold_the_scope_and_page(db: Session) -> None:
    first = make_wave(db, name="Branch-wide")
    second = make_wave(db, "boss", name="Team T02", segment=Segment(rm_id="S004"))
    boss, lead = user(db, "boss"), user(db, "lead")
    page = stats.list_waves(db, user=boss, today=ON)
    assert [(r.id, r.invited, r.state) for r in page.rows] == [(second.id, 1, "open"), (first.id, 3, "open")]
    assert page.total == 2
    assert [r.id for r in stats.list_waves(db, user=boss, today=ON, limit=1, offset=1).rows] == [first.id]
    assert [(r.id, r.invited) for r in stats.list_waves(db, user=lead, today=ON).rows] == [(first.id, 2)]
    with pytest.raises(NotFound):
        stats.wave_detail(db, user=lead, wave_id=second.id, today=ON)
    with pytest.raises(Forbidden):
        stats.list_waves(db, user=user(db, "rm01"), today=ON)
    assert stats.list_waves(db, user=user(db, "audit"), today=ON).total == 2
    assert [r.state for r in stats.list_waves(db, user=boss, today=ON + timedelta(days=30)).rows] == [
        "ended"
    ] * 2
    with pytest.raises(Forbidden, match="creator or a branch manager"):
        waves.close_wave(db, user=user(db, "analyst"), wave_id=first.id, now=NOW)
