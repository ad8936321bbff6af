"""The monthly report's sections on the hand-made branch (tests/reports/data.py): every figure equals
the figure computed here from the test's own rows (both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.errors import NotFound
from wealthcrm.reports import monthly
from wealthcrm.reports.document import Report
from wealthcrm.reports.i18n import report_dict
from wealthcrm.scorecards.models import ScorecardLevel

from .data import BOOK, MONTHS, OCT, RESULTS, SCORECARD_FIGURES, SEP, load_report_branch

TIERS = ("mass", "gold", "sunflower", "diamond", "private")
LABELS = {
    "mass": "Mass",
    "gold": "Gold",
    "sunflower": "Sunflower",
    "diamond": "Diamond",
    "private": "Private banking",
}


@pytest.fixture
def branch(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        load_report_branch(session)
    return engine


@pytest.fixture
def report(branch: Engine, settings: Settings) -> Iterator[Report]:
    with session_scope(branch) as session:
        yield monthly.build(session, month=date(2026, 10, 17), settings=settings, today=date(2026, 11, 2))


def _aum(cid: str, month: date) -> float:
    return dict(zip(MONTHS, BOOK[cid][1], strict=True))[month] or 0.0


def _counted(month: date) -> list[str]:
    """Customers counted in the month: a nightly row that month."""
    return sorted(c for c, rows in RESULTS.items() if month in rows)


def _rows(report: Report, section: str, table: str) -> list[dict[str, Any]]:
    return _rounded(report.section(section).table(table).records())


def _rounded(value: Any) -> Any:
    """Floats to 9 places, through lists and dicts: compare sums and shares without float noise."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def test_customers_and_aum_by_tier(report: Report) -> None:
    section = report.section("tiers")
    counted = _counted(OCT)
    by_tier = {t: [c for c in counted if RESULTS[c][OCT][0].value == t] for t in TIERS}
    total_aum = sum(_aum(c, OCT) for c in counted)
    expected = [
        {
            "tier": LABELS[t],
            "customers": len(by_tier[t]),
            "customer_share": len(by_tier[t]) / len(counted),
            "aum": sum(_aum(c, OCT) for c in by_tier[t]),
            "aum_share": sum(_aum(c, OCT) for c in by_tier[t]) / total_aum,
        }
        for t in reversed(TIERS)
    ]
    expected.append(
        {
            "tier": "Total",
            "customers": len(counted),
            "customer_share": 1.0,
            "aum": total_aum,
            "aum_share": 1.0,
        }
    )
    assert _rows(report, "tiers", "tiers") == _rounded(expected)
    assert [r["customers"] for r in expected] == [1, 1, 4, 1, 1, 8]  # C04 · C02 · C01 C03 C07 C08 · C05 · C06
    assert section.figure("customers").value == 8
    assert section.figure("aum").value == total_aum == 21_030_000
    # on watch: below the tier, not yet downgraded: C03 (300,000) and C07 (closed, AUM 0)
    assert (section.figure("watch").value, section.figure("watch_aum").value) == (2, 300_000)


def test_tier_migration(report: Report) -> None:
    before, after = _counted(SEP), _counted(OCT)
    cells: dict[tuple[str, str], int] = {}
    for c in sorted(set(before) | set(after)):
        row = RESULTS[c][SEP][0].value if c in before else "new"
        col = RESULTS[c][OCT][0].value if c in after else "gone"
        cells[row, col] = cells.get((row, col), 0) + 1
    assert cells == {
        ("sunflower", "sunflower"): 3,  # C01, C03, C07
        ("diamond", "diamond"): 1,
        ("private", "private"): 1,
        ("gold", "gold"): 1,
        ("mass", "mass"): 1,
        ("sunflower", "gone"): 1,  # C09 closed in Sep
        ("new", "sunflower"): 1,  # C08
    }
    rows = {r["from"]: r for r in _rows(report, "migration", "migration")}
    names = {**LABELS, "new": "New customers"}
    for row in (*TIERS, "new"):
        for col in (*TIERS, "gone"):
            assert rows[names[row]][col] == cells.get((row, col), 0), (row, col)
    section = report.section("migration")
    assert {f.key: f.value for f in section.figures} == {
        "upgrades": 0,
        "downgrades": 0,
        "new": 1,
        "closed": 1,
    }


def test_losses_and_saves(report: Report) -> None:
    section = report.section("losses")
    lost = [c for c in _counted(OCT) if RESULTS[c][OCT][2]]
    events = {c: RESULTS[c][OCT][3] for c in _counted(OCT) if RESULTS[c][OCT][3] is not None}
    assert lost == ["C07"] and events == {"C03": 500_000, "C07": 700_000}
    assert {f.key: f.value for f in section.figures} == {
        "customer_loss": len(lost),
        "customer_loss_aum": sum(_aum(c, OCT) for c in lost),
        "asset_loss_events": len(events),
        "asset_loss_amount": sum(events.values()),
        # retention tasks done in Oct, Shanghai time: C03, C07, C01, C05, C04 (done at 01:00 on Oct 1)
        "retention_worked": 5,
        # retained: C03, C07, C05, C04; C07 was lost in Oct
        "saves": 3,
    }
    trend = _rows(report, "losses", "trend")
    assert [r["month"] for r in trend] == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    expected_losses = [sum(1 for c in RESULTS if m in RESULTS[c] and RESULTS[c][m][2]) for m in MONTHS]
    assert [r["customer_loss"] for r in trend] == [0, 0, *expected_losses]
    assert [r["asset_loss_amount"] for r in trend] == [0, 0, 0, 0, 0, 1_200_000]
    assert [(r["retention_worked"], r["saves"]) for r in trend] == [(0, 0)] * 4 + [(1, 1), (5, 3)]


def test_early_warning_effectiveness(report: Report) -> None:
    section = report.section("early_warning")
    # lost in Oct: C07; flagged by its alert from Aug (2 months ahead) and by a top-decile score in Sep
    # (the highest of 5 scored customers: C07 0.45)
    assert {f.key: f.value for f in section.figures} == pytest.approx(
        {
            "lost": 1,
            "caught": 1,
            "recall": 1.0,
            "months_ahead": 2.0,
            # flagged in Jul (the cohort): alerts C03 and C09 (C05 is gold), the top score C09 (0.60);
            # lost Aug–Oct among them: C09 → 1 of 2
            "precision": 0.5,
            # every sunflower+ customer in Jul: C01 C02 C03 C04 C07 C09; lost since: C07, C09
            "base_rate": 2 / 6,
        }
    )
    assert _rows(report, "early_warning", "caught") == [
        {"flag": "An alert", "customers": 1, "share": 1.0},
        {"flag": "A top-decile score", "customers": 1, "share": 1.0},
        {"flag": "Either", "customers": 1, "share": 1.0},
        {"flag": "Not flagged", "customers": 0, "share": 0.0},
    ]
    assert _rows(report, "early_warning", "ahead") == [
        {"months": 3, "customers": 0},
        {"months": 2, "customers": 1},
        {"months": 1, "customers": 0},
    ]
    assert _rows(report, "early_warning", "precision") == _rounded(
        [
            {"flag": "An alert", "flagged": 2, "lost": 1, "precision": 0.5},
            {"flag": "A top-decile score", "flagged": 1, "lost": 1, "precision": 1.0},
            {"flag": "Either", "flagged": 2, "lost": 1, "precision": 0.5},
            {"flag": "Every customer (base rate)", "flagged": 6, "lost": 2, "precision": 2 / 6},
        ]
    )


def test_service(report: Report) -> None:
    section = report.section("service")
    # opened in Oct (Shanghai): R1, R3, R5 (R4 is Nov 1 there); resolved in Oct: R1 (on time), R2 (late),
    # R5 (no due time); acknowledged in Oct: R1 on time, R3 late; complaints: R3 opened and still open,
    # R2 resolved; ratings of those resolved: 5, 2, 4
    assert {f.key: f.value for f in section.figures} == pytest.approx(
        {
            "opened": 3,
            "sla_compliance": 0.5,
            "complaints": 1,
            "complaints_resolved": 1,
            "complaints_open": 1,
            "rating": 11 / 3,
        }
    )
    rows = {r["type"]: r for r in _rows(report, "service", "requests")}
    assert rows["Complaint"] == {
        "type": "Complaint",
        "opened": 1,
        "resolved": 1,
        "resolved_on_time": 0.0,
        "acknowledged_on_time": 0.0,
        "rated": 1,
        "rating": 2.0,
    }
    assert rows["Total"]["acknowledged_on_time"] == 0.5
    assert rows["Transaction problem"]["opened"] == 0


def test_surveys(report: Report) -> None:
    section = report.section("surveys")
    # Oct answers: NPS 10, 5, 8 → one promoter, one passive, one detractor: NPS 0; SAT1 6 and 4 → 5.0
    assert {f.key: f.value for f in section.figures} == {"responses": 3, "nps": 0.0, "nps_answers": 3}
    assert _rows(report, "surveys", "nps") == _rounded(
        [
            {"group": "Promoters", "answers": 1, "share": 1 / 3},
            {"group": "Passives", "answers": 1, "share": 1 / 3},
            {"group": "Detractors", "answers": 1, "share": 1 / 3},
        ]
    )
    assert _rows(report, "surveys", "questionnaires") == [
        {"questionnaire": "branch_default", "responses": 3, "satisfaction": 5.0, "scale_max": 7}
    ]


def test_rm_scorecards(report: Report) -> None:
    section = report.section("scorecards")
    book = {r["name"]: r for r in _rows(report, "scorecards", "scorecards_book")}
    assert list(book) == ["王经理", "李经理", "财富一组", "测试支行"]
    for (level, uid), figures in SCORECARD_FIGURES.items():
        name = {"S1": "王经理", "S2": "李经理", "T1": "财富一组", "B1": "测试支行"}[uid]
        assert book[name]["customers"] == figures["customers"]
        assert book[name]["aum"] == figures["aum"]
        assert book[name]["level"] == {"rm": "RM", "team": "Team", "branch": "Branch"}[level.value]
    retention = {r["name"]: r for r in _rows(report, "scorecards", "scorecards_retention")}
    assert retention["李经理"]["risk_adjusted_retention"] == -1.5
    branch = SCORECARD_FIGURES[ScorecardLevel.branch, "B1"]
    assert section.figure("risk_adjusted_retention").value == branch["risk_adjusted_retention"]
    assert section.figure("nps").value == branch["nps"]
    assert len(section.definitions) >= 30  # every scorecard figure defined


def test_every_section_defines_its_figures_and_is_json(report: Report) -> None:
    data = report_dict(report)
    assert [s["key"] for s in data["sections"]] == [
        "tiers", "migration", "losses", "early_warning", "service", "surveys", "scorecards",
    ]  # fmt: skip
    for section in data["sections"]:
        assert section["definitions"], section["key"]
        assert all(d["definition"] for d in section["definitions"])
    assert data["month"] == "2026-10" and data["generated_on"] == "2026-11-02"


def test_a_month_without_data_and_without_scorecards(branch: Engine, settings: Settings) -> None:
    with session_scope(branch) as session:
        with pytest.raises(NotFound, match="2026-12"):
            monthly.build(session, month=date(2026, 12, 1), settings=settings)
        september = monthly.build(session, month=SEP, settings=settings)
    notes = report_dict(september)["sections"][-1]["notes"]
    assert notes == [
        "No scorecards are stored for 2026-09: run `wealthcrm scorecard compute --month 2026-09` first."
    ]
