"""Service requests in the database: opening, transitions with their events, the paused clock,
escalation with notifications, alerts and tasks, scope and roles, optimistic locking across sessions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from wealthcrm.alerts.models import Alert
from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.errors import Conflict, Forbidden, Invalid, NotFound
from wealthcrm.service import notifications
from wealthcrm.service import service as svc
from wealthcrm.service.models import Notification, ServiceRequest, ServiceRequestEvent
from wealthcrm.service.rules import Action
from wealthcrm.tasks.models import Task
from wealthcrm.vocab import Priority, RequestStatus, RequestType, ServiceChannel, TaskKind

from .data import CALENDAR, bj, make_settings, seed, who


@pytest.fixture
def cfg(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def _complaint(
    session: Session, cfg: Settings, *, at: tuple[int, ...] = (2025, 9, 22, 10), rid: str = "R1"
) -> ServiceRequest:
    return svc.create(
        session,
        user=who("svc"),
        customer_id="C1",
        request_type=RequestType.complaint,
        channel=ServiceChannel.branch,
        now=bj(*at),
        settings=cfg,
        summary="理财赎回到账延迟",
        request_id=rid,
    )


def _act(
    session: Session, cfg: Settings, req: ServiceRequest, action: Action, at: tuple[int, ...], **kw: object
) -> ServiceRequest:
    return svc.transition(
        session,
        user=who("svc"),
        request_id=req.request_id,
        action=action,
        expected_version=req.version,
        now=bj(*at),
        settings=cfg,
        **kw,  # type: ignore[arg-type]
    )


def test_a_complaint_gets_its_sla_an_alert_and_the_rms_task(session: Session, cfg: Settings) -> None:
    seed(session)
    req = _complaint(session, cfg)
    # sunflower complaint opened Mon 22 Sep 10:00: acknowledge by 12:00; resolve within 16 business
    # hours: 7 h Mon (10–17) + 8 h Tue + 1 h Wed → Wed 24 Sep 10:00
    assert (req.status, req.sla_tier, req.staff_id, req.version) == (RequestStatus.new, "sunflower", "S03", 1)
    assert req.acknowledge_due_at == bj(2025, 9, 22, 12)
    assert req.due_at == bj(2025, 9, 24, 10)
    alert = session.scalars(select(Alert)).one()
    assert (alert.alert_type, alert.severity, alert.dedupe_key) == ("complaint", "high", "complaint:C1:R1")
    task = session.scalars(select(Task)).one()
    assert (task.kind, task.assignee_id, task.source_key, task.alert_id) == (
        TaskKind.service_followup,
        "S01",
        "service_followup:R1",
        alert.id,
    )
    assert task.evidence["breached"] is False
    assert session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all() == [
        "test.seed",
        "service_request.create",
    ]


def test_a_gold_customer_and_an_untiered_one_get_their_tiers_sla(session: Session, cfg: Settings) -> None:
    seed(session)
    gold = svc.create(
        session,
        user=who("rm01"),
        customer_id="C2",
        request_type=RequestType.inquiry,
        channel=ServiceChannel.phone,
        now=bj(2025, 9, 22, 10),
        settings=cfg,
    )
    # gold inquiry: acknowledge 4 h → 14:00; resolve 16 h → Wed 24 10:00
    assert (gold.sla_tier, gold.acknowledge_due_at, gold.due_at) == (
        "gold",
        bj(2025, 9, 22, 14),
        bj(2025, 9, 24, 10),
    )
    untiered = svc.create(
        session,
        user=who("rm01"),
        customer_id="C3",
        request_type=RequestType.inquiry,
        channel=ServiceChannel.phone,
        now=bj(2025, 9, 22, 10),
        settings=cfg,
    )
    # no nightly result yet: the mass targets (acknowledge 8 h → Tue 23 10:00)
    assert (untiered.sla_tier, untiered.acknowledge_due_at) == ("mass", bj(2025, 9, 23, 10))
    assert session.scalars(select(Alert)).all() == []  # inquiries raise no alert


def test_transitions_are_recorded_with_who_and_when(session: Session, cfg: Settings) -> None:
    seed(session)
    req = _complaint(session, cfg)
    _act(session, cfg, req, Action.acknowledge, (2025, 9, 22, 10, 30))
    _act(session, cfg, req, Action.start, (2025, 9, 22, 11))
    _act(session, cfg, req, Action.resolve, (2025, 9, 23, 16), root_cause="system_delay")
    _act(session, cfg, req, Action.close, (2025, 9, 23, 16, 30), rating=4)
    assert (req.status, req.rating, req.root_cause, req.version) == (
        RequestStatus.closed,
        4,
        "system_delay",
        5,
    )
    assert (req.acknowledged_at, req.resolved_at, req.closed_at) == (
        bj(2025, 9, 22, 10, 30),
        bj(2025, 9, 23, 16),
        bj(2025, 9, 23, 16, 30),
    )
    history = svc.events(session, user=who("rm01"), request_id="R1")
    assert [(e.kind, e.action, e.from_status, e.to_status, e.actor, e.at) for e in history] == [
        ("created", None, None, "new", "svc", bj(2025, 9, 22, 10)),
        ("transition", "acknowledge", "new", "acknowledged", "svc", bj(2025, 9, 22, 10, 30)),
        ("transition", "start", "acknowledged", "in_progress", "svc", bj(2025, 9, 22, 11)),
        ("transition", "resolve", "in_progress", "resolved", "svc", bj(2025, 9, 23, 16)),
        ("transition", "close", "resolved", "closed", "svc", bj(2025, 9, 23, 16, 30)),
    ]
    assert history[-1].details == {"rating": 4}
    view = svc.sla_view(req, now=bj(2025, 9, 30, 10), calendar=CALENDAR)
    assert (view.breached, view.acknowledged_late, view.paused) == (False, False, True)


def test_invalid_transitions_and_ratings(session: Session, cfg: Settings) -> None:
    seed(session)
    req = _complaint(session, cfg)
    with pytest.raises(Invalid, match="cannot close a request that is new"):
        _act(session, cfg, req, Action.close, (2025, 9, 22, 11))
    _act(session, cfg, req, Action.resolve, (2025, 9, 22, 11))
    with pytest.raises(Invalid, match="rating is 1 to 5"):
        _act(session, cfg, req, Action.close, (2025, 9, 22, 12), rating=6)
    with pytest.raises(Invalid, match="rates the service when the request is closed"):
        _act(session, cfg, req, Action.reopen, (2025, 9, 22, 12), rating=3)
    assert req.status is RequestStatus.resolved
    assert req.acknowledged_at == bj(2025, 9, 22, 11)  # answered at first contact counts as acknowledged


def test_waiting_for_the_customer_pauses_the_clock(session: Session, cfg: Settings) -> None:
    seed(session)
    req = _complaint(session, cfg)  # resolve due Wed 24 10:00
    _act(session, cfg, req, Action.acknowledge, (2025, 9, 22, 10, 30))
    _act(session, cfg, req, Action.wait, (2025, 9, 22, 15))
    assert req.clock_stopped_at == bj(2025, 9, 22, 15)
    # while waiting nothing escalates, however late it gets
    assert svc.escalate_due(session, now=bj(2025, 9, 26, 10), settings=cfg).steps == 0
    # resumed Tue 23 11:00 (a day earlier in this story): paused Mon 15–17 (2 h) + Tue 09–11 (2 h) = 4 h,
    # so the due time moves from Wed 24 10:00 to Wed 24 14:00
    req2 = _complaint(session, cfg, rid="R2")
    _act(session, cfg, req2, Action.acknowledge, (2025, 9, 22, 10, 30))
    _act(session, cfg, req2, Action.wait, (2025, 9, 22, 15))
    _act(session, cfg, req2, Action.resume, (2025, 9, 23, 11))
    assert (req2.due_at, req2.paused_hours, req2.clock_stopped_at) == (bj(2025, 9, 24, 14), 4.0, None)
    view = svc.sla_view(req2, now=bj(2025, 9, 24, 12), calendar=CALENDAR)
    assert (view.remaining_hours, view.breached) == (2.0, False)
    # waiting over the National Day: Tue 30 Sep 16:00 → Thu 9 Oct 10:00 is 1 h + 1 h = 2 h paused
    _act(session, cfg, req2, Action.wait, (2025, 9, 30, 16))
    _act(session, cfg, req2, Action.resume, (2025, 10, 9, 10))
    assert (req2.due_at, req2.paused_hours) == (bj(2025, 9, 24, 16), 6.0)


def test_reopening_a_resolved_request_restarts_the_clock(session: Session, cfg: Settings) -> None:
    seed(session)
    req = _complaint(session, cfg)  # due Wed 24 10:00
    _act(session, cfg, req, Action.acknowledge, (2025, 9, 22, 10, 30))
    _act(session, cfg, req, Action.resolve, (2025, 9, 23, 9))
    _act(session, cfg, req, Action.reopen, (2025, 9, 23, 13))  # stopped 4 business hours
    assert (req.status, req.resolved_at, req.due_at) == (RequestStatus.in_progress, None, bj(2025, 9, 24, 14))


def test_escalation_steps_fire_once_at_the_right_time(session: Session, cfg: Settings) -> None:
    seed(session)
    req = _complaint(session, cfg)
    _act(session, cfg, req, Action.acknowledge, (2025, 9, 22, 11))  # in time (due 12:00)
    _act(session, cfg, req, Action.start, (2025, 9, 22, 11, 5))

    def run(*at: int) -> tuple[int, int, int, int, int]:
        r = svc.escalate_due(session, now=bj(*at), settings=cfg)
        return (r.requests, r.steps, r.notifications, r.alerts, r.tasks)

    assert run(2025, 9, 24, 10, 0) == (0, 0, 0, 0, 0)  # due Wed 24 10:00: not late at 10:00
    # step 1 after 10:00: the assignee (S03); the breach alert; the RM's complaint task marked breached
    assert run(2025, 9, 24, 10, 1) == (1, 1, 1, 1, 1)
    assert run(2025, 9, 24, 10, 1) == (0, 0, 0, 0, 0)  # again: nothing
    assert run(2025, 9, 24, 13, 59) == (0, 0, 0, 0, 0)
    # step 2 after 14:00 (4 business hours): the assignee has no team, so the RM's team lead (S02)
    assert run(2025, 9, 24, 14, 1) == (1, 1, 1, 0, 0)
    # step 3 after Thu 25 10:00 (8 business hours: 7 h Wed + 1 h Thu): the branch manager S04 and
    # the branch-manager user without a staff record (boss, user 6)
    assert run(2025, 9, 25, 9, 59) == (0, 0, 0, 0, 0)
    assert run(2025, 9, 25, 10, 1) == (1, 1, 2, 0, 0)
    assert run(2025, 10, 20, 10, 0) == (0, 0, 0, 0, 0)

    steps = session.scalars(
        select(ServiceRequestEvent)
        .where(ServiceRequestEvent.kind == "escalation")
        .order_by(ServiceRequestEvent.id)
    ).all()
    assert [(e.sla, e.step, e.at, e.details["target"], e.details["staff_ids"]) for e in steps] == [
        ("resolve", 1, bj(2025, 9, 24, 10, 1), "assignee", ["S03"]),
        ("resolve", 2, bj(2025, 9, 24, 14, 1), "team_lead", ["S02"]),
        ("resolve", 3, bj(2025, 9, 25, 10, 1), "branch_manager", ["S04"]),
    ]
    notes = session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(n.staff_id, n.user_id, n.code, n.params["step"]) for n in notes] == [
        ("S03", None, "service.escalation", 1),
        ("S02", None, "service.escalation", 2),
        ("S04", None, "service.escalation", 3),
        (None, 6, "service.escalation", 3),
    ]
    breach = session.scalars(select(Alert).where(Alert.alert_type == "sla_breach")).one()
    assert (breach.dedupe_key, breach.severity, breach.evidence["sla"]) == (
        "sla_breach:C1:R1",
        "high",
        "resolve",
    )
    task = session.scalars(select(Task)).one()  # the complaint's task, now marked breached: no second task
    assert task.evidence["breached"] is True
    # the lead reads and marks their notification
    lead = who("lead")
    assert notifications.unread_count(session, user=lead) == 1
    note = notifications.list_notifications(session, user=lead)[0]
    notifications.mark_read(session, user=lead, notification_id=note.id, now=bj(2025, 9, 24, 15))
    assert notifications.unread_count(session, user=lead) == 0
    with pytest.raises(NotFound):
        notifications.mark_read(session, user=who("rm01"), notification_id=note.id, now=bj(2025, 9, 24, 15))


def test_a_late_acknowledgement_escalates_and_a_late_batch_catches_up(
    session: Session, cfg: Settings
) -> None:
    seed(session)
    req = svc.create(
        session,
        user=who("rm01"),
        customer_id="C2",
        request_type=RequestType.transaction_problem,
        channel=ServiceChannel.phone,
        now=bj(2025, 9, 22, 10),
        settings=cfg,
        request_id="R9",
    )
    # gold transaction problem: acknowledge within 2 h (12:00); resolve within 24 h (Thu 25 10:00)
    assert (req.acknowledge_due_at, req.due_at) == (bj(2025, 9, 22, 12), bj(2025, 9, 25, 10))
    r = svc.escalate_due(session, now=bj(2025, 9, 22, 12, 30), settings=cfg)
    assert (r.steps, r.alerts, r.tasks) == (1, 1, 1)  # acknowledge step 1 to rm01 (the assignee)
    task = session.scalars(select(Task)).one()
    assert (task.source_key, task.assignee_id, task.evidence["breached"]) == (
        "service_followup:R9",
        "S01",
        True,
    )
    # the batch did not run for a week: every step of both ladders fires now, each once
    r = svc.escalate_due(session, now=bj(2025, 9, 29, 12), settings=cfg)
    assert (r.steps, r.alerts, r.tasks) == (5, 0, 0)
    fired = session.scalars(
        select(ServiceRequestEvent.dedupe_key)
        .where(ServiceRequestEvent.kind == "escalation")
        .order_by(ServiceRequestEvent.id)
    ).all()
    assert fired == [
        "escalation:R9:acknowledge:1",
        "escalation:R9:acknowledge:2",
        "escalation:R9:acknowledge:3",
        "escalation:R9:resolve:1",
        "escalation:R9:resolve:2",
        "escalation:R9:resolve:3",
    ]
    assert svc.escalate_due(session, now=bj(2025, 9, 29, 12), settings=cfg).steps == 0


def test_scope_and_roles(session: Session, cfg: Settings) -> None:
    seed(session)
    _complaint(session, cfg)
    with pytest.raises(NotFound):  # another team's RM: as if it did not exist
        svc.get(session, user=who("rm02"), request_id="R1")
    assert svc.get(session, user=who("lead"), request_id="R1").request_id == "R1"
    assert svc.list_requests(session, user=who("rm02")).total == 0
    assert svc.list_requests(session, user=who("audit")).total == 1
    with pytest.raises(Forbidden):  # auditors read, never change
        svc.transition(
            session,
            user=who("audit"),
            request_id="R1",
            action=Action.acknowledge,
            expected_version=1,
            now=bj(2025, 9, 22, 11),
            settings=cfg,
        )
    with pytest.raises(NotFound):  # service staff without a look-up grant for C4
        svc.create(
            session,
            user=who("svc"),
            customer_id="C4",
            request_type=RequestType.inquiry,
            channel=ServiceChannel.branch,
            now=bj(2025, 9, 22, 10),
            settings=cfg,
        )
    # assigned to rm02, who then sees it although C1 is not in their book
    req = svc.update(
        session,
        user=who("lead"),
        request_id="R1",
        expected_version=1,
        now=bj(2025, 9, 22, 11),
        staff_id="S05",
    )
    assert svc.get(session, user=who("rm02"), request_id="R1") is req
    assigned = session.scalars(select(Notification).where(Notification.code == "service.assigned")).one()
    assert (assigned.staff_id, assigned.params["by"]) == ("S05", "lead")
    with pytest.raises(Invalid, match="no active staff"):
        svc.update(
            session,
            user=who("lead"),
            request_id="R1",
            expected_version=2,
            now=bj(2025, 9, 22, 11),
            staff_id="S99",
        )


def test_a_stale_version_is_a_conflict(session: Session, cfg: Settings) -> None:
    seed(session)
    _complaint(session, cfg)
    svc.update(
        session,
        user=who("svc"),
        request_id="R1",
        expected_version=1,
        now=bj(2025, 9, 22, 11),
        priority=Priority.urgent,  # the complaint opened as high (sunflower normal, one step up)
    )
    with pytest.raises(Conflict, match="version 2, not 1"):
        svc.update(
            session,
            user=who("svc"),
            request_id="R1",
            expected_version=1,
            now=bj(2025, 9, 22, 11),
            root_cause="fees",
        )


def test_two_staff_updating_at_once_lose_neither_change(engine: Engine, tmp_path: Path) -> None:
    cfg = make_settings(tmp_path)
    with session_scope(engine) as s:
        seed(s)
        _complaint(s, cfg)
    a, b = Session(engine), Session(engine)
    try:
        # both open the request at version 1
        assert svc.get(a, user=who("svc"), request_id="R1").version == 1
        assert svc.get(b, user=who("lead"), request_id="R1").version == 1
        svc.update(
            a,
            user=who("svc"),
            request_id="R1",
            expected_version=1,
            now=bj(2025, 9, 22, 11),
            priority=Priority.urgent,
        )
        a.commit()
        # b read version 1 before a committed; its write must not overwrite a's
        with pytest.raises(Conflict, match="changed by someone else"):
            svc.update(
                b,
                user=who("lead"),
                request_id="R1",
                expected_version=1,
                now=bj(2025, 9, 22, 11),
                root_cause="fees",
            )
        b.rollback()
        # b reloads (version 2) and applies its change again
        fresh = svc.get(b, user=who("lead"), request_id="R1")
        assert (fresh.version, fresh.priority) == (2, Priority.urgent)
        svc.update(
            b,
            user=who("lead"),
            request_id="R1",
            expected_version=2,
            now=bj(2025, 9, 22, 11, 5),
            root_cause="fees",
        )
        b.commit()
    finally:
        a.close()
        b.close()
    with session_scope(engine) as s:
        req = s.get(ServiceRequest, "R1")
        assert req is not None
        assert (req.priority, req.root_cause, req.version) == (Priority.urgent, "fees", 3)
        updates = s.scalars(
            select(ServiceRequestEvent.actor)
            .where(ServiceRequestEvent.kind == "update")
            .order_by(ServiceRequestEvent.id)
        ).all()
        assert updates == ["svc", "lead"]


def test_two_staff_transitioning_at_once(engine: Engine, tmp_path: Path) -> None:
    """Both acknowledge the same new request: one wins, the other gets a conflict, not a second event."""
    cfg = make_settings(tmp_path)
    with session_scope(engine) as s:
        seed(s)
        _complaint(s, cfg)
    a, b = Session(engine), Session(engine)
    try:
        svc.get(a, user=who("svc"), request_id="R1")
        svc.get(b, user=who("lead"), request_id="R1")
        svc.transition(
            a,
            user=who("svc"),
            request_id="R1",
            action=Action.acknowledge,
            expected_version=1,
            now=bj(2025, 9, 22, 11),
            settings=cfg,
        )
        a.commit()
        with pytest.raises(Conflict):
            svc.transition(
                b,
                user=who("lead"),
                request_id="R1",
                action=Action.acknowledge,
                expected_version=1,
                now=bj(2025, 9, 22, 11),
                settings=cfg,
            )
        b.rollback()
    finally:
        a.close()
        b.close()
    with session_scope(engine) as s:
        acks = s.scalars(
            select(ServiceRequestEvent.actor).where(ServiceRequestEvent.action == "acknowledge")
        ).all()
        assert acks == ["svc"]
