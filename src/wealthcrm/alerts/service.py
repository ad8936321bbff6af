"""Storing the nightly's candidate alerts: one row per episode, de-duplicated across nights.

:func:`upsert_alerts` takes the candidates of one month (:func:`wealthcrm.alerts.rules.evaluate_rules`):

- a candidate whose ``dedupe_key`` is stored and *open* updates that row (``last_month``, severity,
  evidence, ``updated_at``) — only when something differs, so running the same month twice changes
  nothing; ``first_month``/``last_month`` only widen, so re-running an earlier month never moves
  ``last_month`` back, and its evidence is kept from the latest month;
- a candidate whose key is stored and *closed* is left alone: an event is never raised twice, and a
  condition's key names its episode (a new episode has a new key);
- a new key creates an open alert;
- an open alert of a condition type (:data:`~wealthcrm.alerts.rules.CONDITION_TYPES`) whose key is not
  among the candidates, and whose ``last_month`` is not after ``month``, is closed: the condition no
  longer holds. Event alerts stay open until someone closes them.

Nothing here commits: the nightly (or the test) owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from wealthcrm.alerts.models import Alert
from wealthcrm.alerts.rules import CANDIDATE_COLUMNS, CONDITION_TYPES
from wealthcrm.vocab import AlertStatus, AlertType, Severity

_CHUNK = 500  # keys per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


@dataclass(frozen=True, slots=True)
class AlertSyncResult:
    created: int
    updated: int
    closed: int


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def upsert_alerts(
    session: Session, *, month: date, candidates: pd.DataFrame, now: datetime
) -> AlertSyncResult:
    """Store the candidate alerts of ``month`` (first day of the month); see the module docstring."""
    month = month.replace(day=1)
    missing = set(CANDIDATE_COLUMNS) - set(candidates.columns)
    if missing:
        raise ValueError(f"candidates lack columns: {sorted(missing)}")
    records: list[dict[str, Any]] = candidates[CANDIDATE_COLUMNS].to_dict("records")  # type: ignore[assignment]
    rows = {str(r["dedupe_key"]): r for r in records}
    keys = sorted(rows)
    stored: dict[str, Alert] = {}
    for chunk in _chunks(keys):
        stored.update(
            (a.dedupe_key, a) for a in session.scalars(select(Alert).where(Alert.dedupe_key.in_(chunk)))
        )

    created = updated = 0
    for key in keys:
        row = rows[key]
        alert = stored.get(key)
        if alert is None:
            session.add(
                Alert(
                    customer_id=row["customer_id"],
                    alert_type=AlertType(row["alert_type"]),
                    severity=Severity(row["severity"]),
                    dedupe_key=key,
                    status=AlertStatus.open,
                    first_month=month,
                    last_month=month,
                    evidence=dict(row["evidence"]),
                    action=row["action"],
                    created_at=now,
                    updated_at=now,
                    closed_at=None,
                )
            )
            created += 1
        elif alert.status is AlertStatus.open and _refresh(alert, row, month):
            alert.updated_at = now
            updated += 1

    closed = 0
    condition_types = sorted(CONDITION_TYPES)
    open_conditions = session.scalars(
        select(Alert).where(
            Alert.status == AlertStatus.open,
            Alert.alert_type.in_(condition_types),
            Alert.last_month <= month,
        )
    )
    for alert in open_conditions:
        if alert.dedupe_key not in rows:
            alert.status = AlertStatus.closed
            alert.closed_at = now
            alert.updated_at = now
            closed += 1
    session.flush()
    return AlertSyncResult(created=created, updated=updated, closed=closed)


def _refresh(alert: Alert, row: dict[str, Any], month: date) -> bool:
    """Apply a candidate to its stored alert; True when anything changed."""
    changed = False
    if month < alert.first_month:
        alert.first_month = month
        changed = True
    if month >= alert.last_month:
        values = {
            "last_month": month,
            "severity": Severity(row["severity"]),
            "evidence": dict(row["evidence"]),
            "action": row["action"],
        }
        for name, value in values.items():
            if getattr(alert, name) != value:
                setattr(alert, name, value)
                changed = True
    return changed


def list_alerts(
    session: Session,
    *,
    customer_id: str | None = None,
    status: AlertStatus | None = None,
    month: date | None = None,
) -> list[Alert]:
    """Alerts, optionally of one customer, of one status, or seen in ``month`` (first_month ≤ month ≤
    last_month); highest severity first, then newest, then customer."""
    stmt = select(Alert)
    if customer_id is not None:
        stmt = stmt.where(Alert.customer_id == customer_id)
    if status is not None:
        stmt = stmt.where(Alert.status == status)
    if month is not None:
        first = month.replace(day=1)
        stmt = stmt.where(Alert.first_month <= first, Alert.last_month >= first)
    alerts = list(session.scalars(stmt.order_by(Alert.customer_id, Alert.id)))
    rank = {Severity.high: 0, Severity.medium: 1, Severity.low: 2}
    return sorted(alerts, key=lambda a: (rank[a.severity], -a.last_month.toordinal()))
