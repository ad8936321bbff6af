"""Storing alerts night after night: one row per episode, conditions closed, re-runs change nothing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wealthcrm.alerts.models import Alert
from wealthcrm.alerts.rules import CANDIDATE_COLUMNS
from wealthcrm.alerts.service import AlertSyncResult, list_alerts, upsert_alerts
from wealthcrm.customers.models import Customer
from wealthcrm.staff.models import Branch
from wealthcrm.vocab import AlertStatus, CustomerStatus

SEP, OCT, NOV = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
NIGHT1, NIGHT2, NIGHT3 = datetime(2026, 10, 2, 1), datetime(2026, 11, 2, 1), datetime(2026, 12, 2, 1)


@pytest.fixture
def db(session: Session) -> Session:
    session.add(Branch(branch_id="B1", name="福田支行"))
    session.flush()
    for cid in ("A", "B"):
        session.add(
            Customer(
                customer_id=cid,
                branch_id="B1",
                name=cid,
                onboarded_on=date(2015, 1, 1),
                status=CustomerStatus.active,
            )
        )
    session.flush()
    return session


def cand(cid: str, alert_type: str, key: str, severity: str = "medium", **evidence: Any) -> dict[str, Any]:
    return {
        "customer_id": cid,
        "alert_type": alert_type,
        "severity": severity,
        "dedupe_key": f"{alert_type}:{cid}:{key}",
        "evidence": evidence,
        "action": "x",
    }


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=CANDIDATE_COLUMNS)


def stored(session: Session) -> list[tuple[Any, ...]]:
    alerts = session.scalars(select(Alert).order_by(Alert.dedupe_key))
    return [
        (a.dedupe_key, a.status.value, a.severity.value, a.first_month, a.last_month, a.evidence, a.closed_at)
        for a in alerts
    ]


def test_new_updated_and_closed_across_nights(db: Session) -> None:
    oct_run = frame(
        cand("A", "watch", "sunflower:2026-10", months_below=1),
        cand("A", "large_outflow", "T1", severity="high", amount=300000.0),
        cand("B", "activity_collapse", "2026-10", activity=0.0),
    )
    assert upsert_alerts(db, month=OCT, candidates=oct_run, now=NIGHT1) == AlertSyncResult(3, 0, 0)

    nov_run = frame(cand("A", "watch", "sunflower:2026-10", severity="high", months_below=2))
    assert upsert_alerts(db, month=NOV, candidates=nov_run, now=NIGHT2) == AlertSyncResult(0, 1, 1)
    assert stored(db) == [
        # the collapse is over: closed; the outflow is an event: it stays open
        ("activity_collapse:B:2026-10", "closed", "medium", OCT, OCT, {"activity": 0.0}, NIGHT2),
        ("large_outflow:A:T1", "open", "high", OCT, OCT, {"amount": 300000.0}, None),
        ("watch:A:sunflower:2026-10", "open", "high", OCT, NOV, {"months_below": 2}, None),
    ]
    watch = db.scalars(select(Alert).where(Alert.alert_type == "watch")).one()
    assert (watch.created_at, watch.updated_at) == (NIGHT1, NIGHT2)


def test_the_same_month_twice_changes_nothing(db: Session) -> None:
    run = frame(cand("A", "watch", "sunflower:2026-10", months_below=1), cand("B", "large_outflow", "T9"))
    upsert_alerts(db, month=OCT, candidates=run, now=NIGHT1)
    before = stored(db)
    assert upsert_alerts(db, month=OCT, candidates=run, now=NIGHT2) == AlertSyncResult(0, 0, 0)
    assert stored(db) == before
    assert {a.updated_at for a in db.scalars(select(Alert))} == {NIGHT1}


def test_an_event_is_never_raised_twice_even_after_it_was_closed(db: Session) -> None:
    run = frame(cand("A", "not_reinvested", "P1"))
    upsert_alerts(db, month=OCT, candidates=run, now=NIGHT1)
    alert = db.scalars(select(Alert)).one()
    alert.status, alert.closed_at = AlertStatus.closed, NIGHT1  # the RM dealt with it
    db.flush()
    assert upsert_alerts(db, month=NOV, candidates=run, now=NIGHT2) == AlertSyncResult(0, 0, 0)
    assert db.scalar(select(func.count()).select_from(Alert)) == 1
    assert stored(db)[0][1:5] == ("closed", "medium", OCT, OCT)


def test_rerunning_an_earlier_month_neither_moves_back_nor_closes_later_alerts(db: Session) -> None:
    upsert_alerts(
        db, month=OCT, candidates=frame(cand("A", "watch", "s:2026-10", months_below=1)), now=NIGHT1
    )
    nov = frame(cand("A", "watch", "s:2026-10", months_below=2), cand("B", "near_threshold", "s:2026-11"))
    upsert_alerts(db, month=NOV, candidates=nov, now=NIGHT2)
    sep = frame(cand("A", "watch", "s:2026-10", months_below=0))
    assert upsert_alerts(db, month=SEP, candidates=sep, now=NIGHT3) == AlertSyncResult(0, 1, 0)
    assert [r[:6] for r in stored(db)] == [
        ("near_threshold:B:s:2026-11", "open", "medium", NOV, NOV, {}),
        ("watch:A:s:2026-10", "open", "medium", SEP, NOV, {"months_below": 2}),
    ]


def test_candidates_need_the_candidate_columns(db: Session) -> None:
    with pytest.raises(ValueError, match="dedupe_key"):
        upsert_alerts(db, month=OCT, candidates=pd.DataFrame({"customer_id": ["A"]}), now=NIGHT1)


def test_list_alerts_filters_and_orders(db: Session) -> None:
    upsert_alerts(
        db,
        month=OCT,
        candidates=frame(
            cand("A", "watch", "s:2026-10", severity="low"),
            cand("B", "large_outflow", "T1", severity="high"),
            cand("A", "large_outflow", "T2", severity="high"),
        ),
        now=NIGHT1,
    )
    upsert_alerts(db, month=NOV, candidates=frame(cand("B", "large_outflow", "T3")), now=NIGHT2)

    def keys(alerts: list[Alert]) -> list[str]:
        return [a.dedupe_key for a in alerts]

    assert keys(list_alerts(db)) == [
        "large_outflow:A:T2",
        "large_outflow:B:T1",
        "large_outflow:B:T3",
        "watch:A:s:2026-10",
    ]
    assert keys(list_alerts(db, customer_id="A")) == ["large_outflow:A:T2", "watch:A:s:2026-10"]
    assert keys(list_alerts(db, status=AlertStatus.closed)) == ["watch:A:s:2026-10"]
    assert keys(list_alerts(db, month=date(2026, 11, 15))) == ["large_outflow:B:T3"]
    assert keys(list_alerts(db, customer_id="B", status=AlertStatus.open, month=OCT)) == [
        "large_outflow:B:T1"
    ]
