"""The service and survey sections of the monthly report.

**Service** (service requests and complaints, months by the branch's local time): requests opened in
the month; of those *resolved* in the month with a resolution due time, the share resolved by it
(SLA compliance); of those *acknowledged* in the month with an acknowledgement due time, the share
acknowledged by it; complaints opened, resolved, and still open at the month's end; the mean rating
(1–5) of the requests resolved in the month that carry one.

**Surveys** (answers dated in the month): responses, NPS from the Net Promoter item
(:func:`wealthcrm.surveys.stats.outcomes.nps`: % promoters 9–10 − % detractors 0–6), and per
questionnaire that ships with wealthcrm, the mean of its overall-satisfaction items.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wealthcrm.analytics.extract import NPS_ITEM
from wealthcrm.config import Settings
from wealthcrm.reports.document import Chart, Column, Figure, Section, Series, Table, Text
from wealthcrm.reports.months import mno, month_of, utc_bounds
from wealthcrm.service.models import ServiceRequest
from wealthcrm.surveys.models import SurveyAnswer
from wealthcrm.surveys.questionnaire import shipped_questionnaire
from wealthcrm.surveys.stats.outcomes import nps
from wealthcrm.vocab import RequestType

TYPE_LABELS = {
    "inquiry": "Inquiry",
    "transaction_problem": "Transaction problem",
    "complaint": "Complaint",
    "appointment": "Appointment",
    "entitlement": "Entitlement",
}


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _by(value: datetime | None, due: datetime | None) -> bool:
    return value is not None and due is not None and value <= due


def service_section(session: Session, *, month: date, settings: Settings) -> Section:
    lo, hi = utc_bounds(month, settings.sla.time_zone)
    req = ServiceRequest
    rows = session.execute(
        select(
            req.request_type, req.opened_at, req.acknowledged_at, req.acknowledge_due_at,
            req.resolved_at, req.due_at, req.rating,
        ).where(
            (req.opened_at < hi)
            & ((req.resolved_at.is_(None)) | (req.resolved_at >= lo) | (req.acknowledged_at >= lo))
        )
    ).all()  # fmt: skip
    counters = ("opened", "resolved", "due", "on_time", "ack", "ack_on_time")
    stats: dict[str, dict[str, Any]] = {
        t.value: dict.fromkeys(counters, 0) | {"ratings": []} for t in RequestType
    }
    complaints_open = 0
    for kind, opened, acked, ack_due, resolved, due, rating in rows:
        s = stats[str(kind)]
        if lo <= opened < hi:
            s["opened"] += 1
        if resolved is not None and lo <= resolved < hi:
            s["resolved"] += 1
            if due is not None:
                s["due"] += 1
                s["on_time"] += _by(resolved, due)
            if rating is not None:
                s["ratings"].append(int(rating))
        if acked is not None and lo <= acked < hi and ack_due is not None:
            s["ack"] += 1
            s["ack_on_time"] += _by(acked, ack_due)
        if str(kind) == RequestType.complaint.value and (resolved is None or resolved >= hi):
            complaints_open += 1
    table_rows = []
    for code, s in stats.items():
        ratings = s["ratings"]
        table_rows.append(
            (
                TYPE_LABELS[code],
                s["opened"],
                s["resolved"],
                _share(s["on_time"], s["due"]),
                _share(s["ack_on_time"], s["ack"]),
                len(ratings),
                sum(ratings) / len(ratings) if ratings else None,
            )
        )
    total = {
        k: sum(s[k] for s in stats.values())
        for k in ("opened", "resolved", "due", "on_time", "ack", "ack_on_time")
    }
    ratings = [r for s in stats.values() for r in s["ratings"]]
    table_rows.append(
        (
            "Total",
            total["opened"],
            total["resolved"],
            _share(total["on_time"], total["due"]),
            _share(total["ack_on_time"], total["ack"]),
            len(ratings),
            sum(ratings) / len(ratings) if ratings else None,
        )
    )
    table = Table(
        "requests",
        "Service requests by type",
        (
            Column("type", "Request type", "label"),
            Column("opened", "Opened"),
            Column("resolved", "Resolved"),
            Column("resolved_on_time", "Resolved within SLA", "pct"),
            Column("acknowledged_on_time", "Acknowledged within SLA", "pct"),
            Column("rated", "Rated"),
            Column("rating", "Mean rating", "num2"),
        ),
        tuple(table_rows),
    )
    chart = Chart(
        "sla",
        "Resolved within SLA",
        "bar",
        tuple(TYPE_LABELS.values()),
        (Series("Resolved within SLA", tuple(r[3] for r in table_rows[:-1])),),
        unit="pct",
    )
    complaints = stats[RequestType.complaint.value]
    return Section(
        "service",
        "Service",
        figures=(
            Figure("opened", "Requests opened", total["opened"]),
            Figure("sla_compliance", "Resolved within SLA", _share(total["on_time"], total["due"]), "pct"),
            Figure("complaints", "Complaints opened", complaints["opened"]),
            Figure("complaints_resolved", "Complaints resolved", complaints["resolved"]),
            Figure("complaints_open", "Complaints open at month end", complaints_open),
            Figure("rating", "Mean rating", sum(ratings) / len(ratings) if ratings else None, "num2"),
        ),
        tables=(table,),
        charts=(chart,),
        definitions=(
            (
                "Resolved within SLA",
                Text(
                    "Of the requests resolved this month that have a resolution due time, the share "
                    "resolved by it (business hours on the working calendar, by tier and type)."
                ),
            ),
            (
                "Acknowledged within SLA",
                Text("Of the requests acknowledged this month, the share acknowledged by the due time."),
            ),
            (
                "Complaints open at month end",
                Text("Complaints opened by the month's end and not resolved by then."),
            ),
            ("Mean rating", Text("The customers' mean rating (1–5) of the requests resolved this month.")),
        ),
    )


def _satisfaction(frame: pd.DataFrame) -> list[tuple[str, int, float | None, int]]:
    """Per questionnaire: (id, responses, mean overall satisfaction, scale maximum); satisfaction only
    for questionnaires that ship with wealthcrm (their outcome items are known)."""
    out = []
    for qid, part in frame.groupby("questionnaire_id", sort=True):
        responses = int(part["response_id"].nunique())
        mean, top = None, 0
        try:
            q = shipped_questionnaire(str(qid))
        except Exception:  # not a shipped questionnaire (or unreadable): no satisfaction item known
            q = None
        if q is not None and q.outcomes.satisfaction:
            items = q.outcomes.satisfaction
            scores = part[part["item_id"].isin(items)]["score"].dropna()
            mean = float(scores.mean()) if len(scores) else None
            top = q.scale_of(items[0])[1]
        out.append((str(qid), responses, mean, top))
    return out


def survey_section(session: Session, *, month: date) -> Section:
    end = month_of(mno(month) + 1)
    rows = session.execute(
        select(
            SurveyAnswer.response_id, SurveyAnswer.questionnaire_id, SurveyAnswer.item_id, SurveyAnswer.score
        ).where(SurveyAnswer.answered_on >= month, SurveyAnswer.answered_on < end)
    ).all()
    frame = pd.DataFrame(rows, columns=["response_id", "questionnaire_id", "item_id", "score"])
    responses = int(frame["response_id"].nunique()) if len(frame) else 0
    found = (
        nps(frame.loc[frame["item_id"] == NPS_ITEM, "score"].astype("float64")) if len(frame) else {"n": 0}
    )
    sat = _satisfaction(frame) if len(frame) else []
    table = Table(
        "questionnaires",
        "Satisfaction by questionnaire",
        (
            Column("questionnaire", "Questionnaire", "text"),
            Column("responses", "Responses"),
            Column("satisfaction", "Overall satisfaction (mean)", "num2"),
            Column("scale_max", "Scale maximum"),
        ),
        tuple(sat),
    )
    nps_table = Table(
        "nps",
        "Net Promoter Score",
        (Column("group", "Group", "label"), Column("answers", "Answers"), Column("share", "Share", "pct")),
        tuple(
            (name, found.get(key, 0), _share(found.get(key, 0), found["n"]))
            for name, key in (
                ("Promoters", "promoters"),
                ("Passives", "passives"),
                ("Detractors", "detractors"),
            )
        ),
    )
    counts = session.scalar(select(func.count()).select_from(SurveyAnswer))
    notes = () if responses else (Text("No survey answers in this month."),)
    if not counts:
        notes = (Text("No survey answers are stored yet."),)
    return Section(
        "surveys",
        "Surveys",
        figures=(
            Figure("responses", "Responses", responses),
            Figure("nps", "NPS", found.get("nps"), "num1"),
            Figure("nps_answers", "NPS answers", found["n"]),
        ),
        tables=(nps_table, table),
        definitions=(
            (
                "NPS",
                Text(
                    "Share of promoters (9–10) minus share of detractors (0–6) on the 0–10 "
                    "recommendation item, in points (−100 to 100)."
                ),
            ),
            (
                "Overall satisfaction",
                Text("The mean answer to the questionnaire's overall-satisfaction item(s), on its scale."),
            ),
        ),
        notes=notes,
    )
