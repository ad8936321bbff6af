"""The monthly tier report, on SQLite and (when WEALTHCRM_TEST_DATABASE_URL is set) PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, insert
from sqlalchemy.orm import Session

from wealthcrm.config import Settings
from wealthcrm.customers.models import Customer
from wealthcrm.holdings.models import AumMonthly
from wealthcrm.staff.models import Branch
from wealthcrm.tiers.service import NoDataForMonth, TierReport, tier_report
from wealthcrm.vocab import AssetClass, CustomerStatus

SETTINGS = Settings(database_url="sqlite://")
MONTHS = [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
_ = None  # no AUM rows that month

# customer id: month-average AUM Dec 2025 … Apr 2026 (CNY), and closing date if closed.
BOOK: dict[str, tuple[list[float | None], date | None]] = {
    "C1": ([600_000] * 5, None),  # steady sunflower (stored in two asset classes)
    "C2": ([600_000, 400_000, 400_000, 400_000, 350_000], None),  # downgraded to gold in April
    "C3": ([700_000, 700_000, 700_000, 450_000, 450_000], None),  # on watch
    "C4": ([100_000, 100_000, 100_000, 6_000_000, 6_000_000], None),  # gold -> diamond in April
    "C5": ([_, _, _, _, 60_000], None),  # new in April (also has a May row, after the report)
    "C6": ([800_000, 800_000, 800_000, 100_000, _], date(2026, 3, 15)),  # closed in March
    "C7": ([5_500_000] * 4 + [1_000_000], date(2026, 4, 20)),  # closes in April while diamond
    "C8": ([300_000, 300_000, 300_000, _, 100_000], None),  # March missing counts 0
    "C9": ([10_000] * 5, None),  # mass
    "C10": ([12_000_000] * 5, None),  # private
}


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection whose transaction is rolled back after the test (engine: shared conftest)."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture
def book(conn: Connection) -> Connection:
    conn.execute(insert(Branch), [{"branch_id": "B1", "name": "Test branch", "city": None}])
    customers: list[dict[str, Any]] = []
    aum_rows: list[dict[str, Any]] = []
    for cid, (values, closed_on) in BOOK.items():
        customers.append(
            {
                "customer_id": cid,
                "branch_id": "B1",
                "name": f"Customer {cid}",
                "onboarded_on": date(2020, 1, 1),
                "status": CustomerStatus.closed if closed_on else CustomerStatus.active,
                "closed_on": closed_on,
            }
        )
        for month, value in zip(MONTHS, values, strict=True):
            if value is None:
                continue
            # C1 holds its AUM in two asset classes: the report sums them.
            parts = [400_000.0, 200_000.0] if cid == "C1" else [value]
            for asset_class, part in zip([AssetClass.demand_deposit, AssetClass.fund], parts, strict=False):
                aum_rows.append(
                    {
                        "customer_id": cid,
                        "month": month,
                        "asset_class": asset_class,
                        "avg_daily_balance": part,
                        "month_end_balance": part,
                    }
                )
    aum_rows.append(
        {
            "customer_id": "C5",
            "month": date(2026, 5, 1),
            "asset_class": AssetClass.wmp,
            "avg_daily_balance": 1_000_000.0,
            "month_end_balance": 1_000_000.0,
        }
    )
    conn.execute(insert(Customer), customers)
    conn.execute(insert(AumMonthly), aum_rows)
    return conn


def _migration(**cells: int) -> dict[str, dict[str, int]]:
    """A full migration matrix, zero except ``row__col=count`` cells."""
    rows = ["mass", "gold", "sunflower", "diamond", "private", "new"]
    cols = ["mass", "gold", "sunflower", "diamond", "private", "gone"]
    out = {r: dict.fromkeys(cols, 0) for r in rows}
    for key, count in cells.items():
        row, col = key.split("__")
        out[row][col] = count
    return out


def test_april_report(book: Connection) -> None:
    report = tier_report(book, month=date(2026, 4, 1), settings=SETTINGS)
    assert isinstance(report, TierReport)
    assert report.to_dict() == {
        "month": "2026-04-01",
        "previous_month": "2026-03-01",
        "tiers": {
            "mass": {"customers": 1, "aum": 10_000.0},  # C9
            "gold": {"customers": 3, "aum": 510_000.0},  # C2 350k, C5 60k, C8 100k
            "sunflower": {"customers": 2, "aum": 1_050_000.0},  # C1 600k, C3 450k
            "diamond": {"customers": 2, "aum": 7_000_000.0},  # C4 6M, C7 1M
            "private": {"customers": 1, "aum": 12_000_000.0},  # C10
        },
        "total": {"customers": 9, "aum": 20_570_000.0},  # C6 closed in March: left out
        "watch": {"customers": 2, "aum": 1_450_000.0},  # C3 450k, C7 1M
        "migration": _migration(
            mass__mass=1,
            gold__gold=1,  # C8
            gold__diamond=1,  # C4
            sunflower__sunflower=2,  # C1, C3
            sunflower__gold=1,  # C2
            sunflower__gone=1,  # C6
            diamond__diamond=1,  # C7
            private__private=1,  # C10
            new__gold=1,  # C5
        ),
        "customer_loss": {"customers": 2, "aum": 1_350_000.0},  # C2 downgraded, C7 closed
        "asset_loss": {"events": 1, "amount_lost": 4_500_000.0},  # C7; C3, C8 episodes began in March
    }


def test_march_report(book: Connection) -> None:
    report = tier_report(book, month=date(2026, 3, 31), settings=SETTINGS)
    assert report.month == date(2026, 3, 1)
    assert report.previous_month == date(2026, 2, 1)
    assert report.tiers["gold"].customers == 2  # C4 (met diamond, upgrades next month), C8
    assert report.tiers["gold"].aum == 6_000_000.0
    assert report.tiers["sunflower"].customers == 4  # C1, C2, C3, C6 (closes mid-March: counted)
    assert report.total.customers == 9
    assert report.total.aum == 25_060_000.0
    assert (report.watch.customers, report.watch.aum) == (4, 950_000.0)  # C2, C3, C6, C8
    assert report.migration == _migration(
        mass__mass=1, gold__gold=2, sunflower__sunflower=4, diamond__diamond=1, private__private=1
    )
    assert (report.customer_loss.customers, report.customer_loss.aum) == (1, 100_000.0)  # C6 closed
    # C2 600k->400k, C3 700k->450k, C6 800k->100k, C8 300k->0
    assert (report.asset_loss.events, report.asset_loss.amount_lost) == (4, 1_450_000.0)


def test_first_month_everyone_is_new(book: Connection) -> None:
    report = tier_report(book, month=date(2025, 12, 1), settings=SETTINGS)
    assert report.previous_month is None
    assert report.migration == _migration(
        new__mass=1, new__gold=2, new__sunflower=4, new__diamond=1, new__private=1
    )
    assert (report.watch.customers, report.customer_loss.customers, report.asset_loss.events) == (0, 0, 0)


def test_works_with_a_session(book: Connection) -> None:
    with Session(bind=book) as session:
        report = tier_report(session, month=date(2026, 4, 1), settings=SETTINGS)
    assert report.total.customers == 9


@pytest.mark.parametrize("month", [date(2025, 11, 1), date(2026, 6, 1)])
def test_month_without_data(book: Connection, month: date) -> None:
    with pytest.raises(NoDataForMonth, match=f"{month:%Y-%m}") as info:
        tier_report(book, month=month, settings=SETTINGS)
    assert info.value.month == month
    assert isinstance(info.value, ValueError)


def test_empty_database(conn: Connection) -> None:
    with pytest.raises(NoDataForMonth):
        tier_report(conn, month=date(2026, 4, 1), settings=SETTINGS)
