"""The workflow's pure rules: transitions, SLA due times per tier × type, the escalation ladder."""

from __future__ import annotations

import pytest

from wealthcrm.config import SlaSettings
from wealthcrm.errors import Invalid
from wealthcrm.service.rules import (
    TRANSITIONS,
    Action,
    EscalationTarget,
    RequestClock,
    Sla,
    allowed_actions,
    due_escalations,
    next_status,
    sla_due,
)
from wealthcrm.vocab import RequestStatus as S
from wealthcrm.vocab import RequestType, Tier

from .data import CALENDAR, bj


def test_the_happy_path_and_reopen() -> None:
    path = [
        (S.new, Action.acknowledge, S.acknowledged),
        (S.acknowledged, Action.start, S.in_progress),
        (S.in_progress, Action.wait, S.waiting_customer),
        (S.waiting_customer, Action.resume, S.in_progress),
        (S.in_progress, Action.resolve, S.resolved),
        (S.resolved, Action.reopen, S.in_progress),
        (S.in_progress, Action.resolve, S.resolved),
        (S.resolved, Action.close, S.closed),
        (S.closed, Action.reopen, S.in_progress),
    ]
    for before, action, after in path:
        assert next_status(before, action) is after


def test_every_other_transition_is_invalid() -> None:
    allowed = set(TRANSITIONS)
    refused = [(s, a) for s in S for a in Action if (s, a) not in allowed]
    assert len(refused) == len(S) * len(Action) - 12
    for s, a in refused:
        with pytest.raises(Invalid, match=f"cannot {a.value}"):
            next_status(s, a)
    assert allowed_actions(S.new) == [Action.acknowledge, Action.resolve]
    assert allowed_actions(S.closed) == [Action.reopen]


def test_sunflower_complaint_is_acknowledged_in_2_hours_and_resolved_in_2_working_days() -> None:
    # opened Tue 30 Sep 15:00: acknowledge by 17:00 the same day; resolve 16 business hours later:
    # 2 h Tue + (holidays) + 8 h Thu 9 Oct + 6 h Fri 10 Oct → Fri 10 Oct 15:00
    due = sla_due(
        SlaSettings(),
        CALENDAR,
        tier=Tier.sunflower,
        request_type=RequestType.complaint,
        opened_at=bj(2025, 9, 30, 15),
    )
    assert (due.acknowledge_hours, due.resolve_hours) == (2, 16)
    assert due.acknowledge_due_at == bj(2025, 9, 30, 17)
    assert due.due_at == bj(2025, 10, 10, 15)


def test_targets_differ_by_tier_and_type() -> None:
    sla = SlaSettings()
    assert sla.resolve_hours.hours("complaint", Tier.gold) == 40
    assert sla.resolve_hours.hours("inquiry", Tier.private) == 4
    assert sla.acknowledge_hours.hours("transaction_problem", Tier.private) == 0.5
    with pytest.raises(ValueError, match="5 positive numbers"):
        SlaSettings(resolve_hours={"complaint": [1, 2, 3]})  # type: ignore[arg-type]


def test_escalation_steps_fire_after_their_times_and_once() -> None:
    # resolve due Wed 24 Sep 10:00; steps after 0, 4 and 8 business hours:
    # assignee after Wed 10:00, team lead after Wed 14:00, branch manager after Thu 25 10:00
    # (Wed 10:00 + 8 h = 7 h Wed + 1 h Thu)
    clock = RequestClock(S.in_progress, True, bj(2025, 9, 22, 12), bj(2025, 9, 24, 10))

    def due(now_: tuple[int, ...], fired: set[tuple[str, int]] | None = None) -> list[tuple[str, int, str]]:
        steps = due_escalations(
            clock, now=bj(*now_), fired=fired or set(), after_hours=[0, 4, 8], calendar=CALENDAR
        )
        return [(s.sla.value, s.step, s.target.value) for s in steps]

    assert due((2025, 9, 24, 10, 0)) == []  # at the due time it is not late yet
    assert due((2025, 9, 24, 10, 1)) == [("resolve", 1, "assignee")]
    assert due((2025, 9, 24, 14, 1)) == [("resolve", 1, "assignee"), ("resolve", 2, "team_lead")]
    assert due((2025, 9, 24, 14, 1), {("resolve", 1)}) == [("resolve", 2, "team_lead")]
    assert due((2025, 9, 25, 10, 0), {("resolve", 1), ("resolve", 2)}) == []
    assert due((2025, 9, 25, 10, 1), {("resolve", 1), ("resolve", 2)}) == [("resolve", 3, "branch_manager")]
    assert due((2025, 12, 1, 10, 0), {("resolve", 1), ("resolve", 2), ("resolve", 3)}) == []


def test_no_escalation_while_the_clock_stands_or_once_acknowledged() -> None:
    waiting = RequestClock(S.waiting_customer, True, None, bj(2025, 9, 24, 10))
    assert (
        due_escalations(waiting, now=bj(2025, 9, 30, 10), fired=set(), after_hours=[0], calendar=CALENDAR)
        == []
    )
    unacked = RequestClock(S.new, False, bj(2025, 9, 22, 12), bj(2025, 9, 24, 10))
    steps = due_escalations(
        unacked, now=bj(2025, 9, 22, 12, 1), fired=set(), after_hours=[0, 4], calendar=CALENDAR
    )
    assert [(s.sla, s.step, s.target) for s in steps] == [(Sla.acknowledge, 1, EscalationTarget.assignee)]
    acked = RequestClock(S.acknowledged, True, bj(2025, 9, 22, 12), bj(2025, 9, 24, 10))
    assert (
        due_escalations(acked, now=bj(2025, 9, 22, 18), fired=set(), after_hours=[0, 4], calendar=CALENDAR)
        == []
    )
