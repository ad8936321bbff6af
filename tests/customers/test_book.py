"""The Book's query: scope, every filter, orders, paging, the CSV rows and saved views (both databases)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.customers import book
from wealthcrm.customers.book import BookOrder, BookQuery, Direction, RiskBand
from wealthcrm.customers.models import SavedView
from wealthcrm.db import session_scope
from wealthcrm.errors import Conflict, Invalid, NotFound
from wealthcrm.users import service as users
from wealthcrm.users.models import User
from wealthcrm.vocab import Stage, Tier

from .bookdata import MOBILE, NATIONAL_ID, ON, load_book
from .workbench import OCT

#: username → their book in the default order (AUM at risk, largest first; unscored last)
SCOPE = {
    "rm01": ["C003", "C001"],
    "rm02": ["C004"],
    "rm05": ["C005"],
    "rm06": [],
    "lead": ["C003", "C001", "C005", "C002"],
    "boss": ["C003", "C004", "C001", "C005", "C002"],
    "audit": ["C003", "C004", "C001", "C005", "C002"],
    "analyst": ["C003", "C004", "C001", "C005", "C002"],
    "admin1": ["C003", "C004", "C001", "C005", "C002"],
    "svc": [],
}


@pytest.fixture
def bk(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_book(engine, settings, tmp_path / "branch")
    return engine


def _user(session: Session, username: str) -> User:
    return users.get(session, username=username)


def _ids(session: Session, username: str = "boss", **fields: object) -> list[str]:
    query = book.check(BookQuery(**fields))  # type: ignore[arg-type]
    found = book.search(session, user=_user(session, username), query=query, month=OCT, on=ON, limit=100)
    assert found.total == len(found.items)
    return [i.customer_id for i in found.items]


def test_each_role_sees_its_book_in_search_count_and_export(bk: Engine) -> None:
    with session_scope(bk) as session:
        for username in SCOPE:
            if username != "analyst":  # pseudonymised: tests/customers/test_pseudonym.py
                _check_scope(session, username)


def _check_scope(session: Session, username: str) -> None:
    user = _user(session, username)
    assert _ids(session, username) == SCOPE[username]
    for text in ("C00", "c004", "周四"):
        expected = [c for c in SCOPE[username] if text == "C00" or c == "C004"]
        assert _ids(session, username, q=text) == expected
    assert book.count(session, user=user, query=BookQuery(), month=OCT, on=ON) == len(SCOPE[username])
    exported = [
        i.customer_id for i in book.export_rows(session, user=user, query=BookQuery(), month=OCT, on=ON)
    ]
    assert exported == SCOPE[username]


def test_filters(bk: Engine) -> None:
    with session_scope(bk) as session:
        assert _ids(session, tiers=(Tier.sunflower,)) == ["C004", "C001", "C005"]
        assert _ids(session, tiers=(Tier.diamond, Tier.gold)) == ["C003", "C002"]
        assert _ids(session, stages=(Stage.mature,)) == ["C004", "C005"]
        assert _ids(session, risk=(RiskBand.high,)) == ["C004", "C001"]
        assert _ids(session, risk=(RiskBand.medium, RiskBand.low)) == ["C003", "C005"]
        assert _ids(session, risk=(RiskBand.unscored,)) == ["C002"]
        assert _ids(session, aum_min=900_000) == ["C003", "C004", "C001"]
        assert _ids(session, aum_max=900_000) == ["C001", "C005", "C002"]
        assert _ids(session, aum_min=800_000, aum_max=2_000_000) == ["C004", "C001", "C005"]
        # today 2026-11-28: a contact 30 days ago (C004, 10-29) is "no contact in 30 days", 29 days is not
        assert _ids(session, no_contact_days=30) == ["C004", "C001", "C002"]
        assert _ids(session, no_contact_days=60) == ["C002"]
        assert _ids(session, no_contact_days=90) == ["C002"]
        assert _ids(session, rm_id="S001") == ["C003", "C001"]
        assert _ids(session, "rm01", rm_id="S004") == []  # another RM's book stays out of scope
        assert _ids(session, q="吴") == ["C005"]
        assert _ids(session, q="%") == []  # wildcards are text
        assert _ids(session, tiers=(Tier.sunflower,), no_contact_days=30) == ["C004", "C001"]
        assert _ids(session, "lead", risk=(RiskBand.high,)) == ["C001"]


def test_orders(bk: Engine) -> None:
    with session_scope(bk) as session:
        assert _ids(session, sort=BookOrder.p_loss) == ["C001", "C004", "C003", "C005", "C002"]
        assert _ids(session, sort=BookOrder.aum) == ["C003", "C004", "C001", "C005", "C002"]
        assert _ids(session, sort=BookOrder.aum, direction=Direction.asc) == [
            "C002",
            "C005",
            "C001",
            "C004",
            "C003",
        ]
        # oldest contact first, never contacted at the top; newest first puts them last
        assert _ids(session, sort=BookOrder.last_contact) == ["C002", "C001", "C004", "C005", "C003"]
        assert _ids(session, sort=BookOrder.last_contact, direction=Direction.desc) == [
            "C003", "C005", "C004", "C001", "C002",
        ]  # fmt: skip
        # names by code point (刘 吴 周 张 陈), the same on SQLite and PostgreSQL's C collation
        assert _ids(session, sort=BookOrder.name) == ["C002", "C005", "C004", "C003", "C001"]
        assert _ids(session, sort=BookOrder.customer_id, direction=Direction.desc) == [
            "C005", "C004", "C003", "C002", "C001",
        ]  # fmt: skip


def test_pages_and_the_items_numbers(bk: Engine) -> None:
    with session_scope(bk) as session:
        boss = _user(session, "boss")
        page = book.search(session, user=boss, query=BookQuery(), month=OCT, on=ON, limit=2, offset=2)
        assert (page.total, [i.customer_id for i in page.items]) == (5, ["C001", "C005"])
        c001 = page.items[0]
        assert c001.to_dict() | {"reasons": []} == {
            "customer_id": "C001",
            "name": "陈一",
            "rm_id": "S001",
            "rm_name": "王经理",
            "tier": "sunflower",
            "stage": "declining",
            "watch": False,
            "aum": 900_000.0,
            "p_loss": 0.42,
            "risk_band": "high",
            "aum_at_risk": 378_000.0,
            "expected_outflow": 250_000.0,
            "last_contact_at": "2026-10-03T10:30:00",
            "days_since_contact": 56,
            "open_alerts": 1,
            "reasons": [],
            "alerts": [],
        }
        assert [r["feature"] for r in c001.reasons] == ["aum_change_3m", "outflow_other_bank_3m"]
        last = book.search(session, user=boss, query=BookQuery(), month=OCT, on=ON, limit=2, offset=4)
        c002 = last.items[0]
        assert (c002.customer_id, c002.risk_band, c002.last_contact_at, c002.days_since_contact) == (
            "C002", "unscored", None, None,
        )  # fmt: skip
        assert c002.open_alerts == 1
        # before the first nightly run: every customer, no results
        empty = book.search(session, user=boss, query=BookQuery(), month=None, on=ON)
        assert (empty.total, {i.tier for i in empty.items}) == (5, {None})


def test_query_strings_round_trip_and_bad_ones_are_refused() -> None:
    query = BookQuery(
        tiers=(Tier.sunflower, Tier.diamond),
        risk=(RiskBand.high,),
        aum_min=500_000,
        aum_max=2_500_000.5,
        no_contact_days=60,
        rm_id="S001",
        q="陈",
        sort=BookOrder.last_contact,
        direction=Direction.desc,
    )
    text = query.query_string()
    assert text == (
        "tier=sunflower&tier=diamond&risk=high&aum_min=500000&aum_max=2500000.5&no_contact_days=60"
        "&rm=S001&q=%E9%99%88&sort=last_contact&direction=desc"
    )
    assert book.parse_query(parse_qs(text)) == query
    assert book.parse_query({"tier": [""], "q": [""], "page": ["3"]}) == BookQuery()
    assert BookQuery().query_string() == ""
    bad = {
        "tier": ["platinum"],
        "sort": ["rm"],
        "aum_min": ["lots"],
        "no_contact_days": ["0"],
        "colour": ["red"],
        "direction": ["up"],
    }
    for key, values in bad.items():
        with pytest.raises(Invalid, match=key):
            book.parse_query({key: values})
    with pytest.raises(Invalid, match="aum_min: must not be larger than aum_max"):
        book.parse_query({"aum_min": ["2"], "aum_max": ["1"]})
    with pytest.raises(Invalid, match="q: give one value"):
        book.parse_query({"q": ["a", "b"]})


def test_csv_rows_hold_masked_pii_only(bk: Engine) -> None:
    with session_scope(bk) as session:
        boss = _user(session, "boss")
        items = list(book.export_rows(session, user=boss, query=BookQuery(), month=OCT, on=ON, chunk=2))
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(book.CSV_COLUMNS)
        for item in items:
            writer.writerow(book.csv_record(item))
        rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
        assert [r["customer_id"] for r in rows] == ["C003", "C004", "C001", "C005", "C002"]
        assert rows[2] == {
            "customer_id": "C001",
            "name": "陈一",
            "rm_id": "S001",
            "rm_name": "王经理",
            "tier": "sunflower",
            "stage": "declining",
            "watch": "0",
            "aum": "900000.00",
            "p_loss": "0.4200",
            "risk_band": "high",
            "aum_at_risk": "378000.00",
            "expected_outflow": "250000.00",
            "last_contact_on": "2026-10-03",
            "days_since_contact": "56",
            "open_alerts": "1",
            "national_id_masked": "110105********002X",
            "mobile_masked": "138****5678",
        }
        assert rows[4]["p_loss"] == "" and rows[4]["last_contact_on"] == ""
        text = buffer.getvalue()
        assert NATIONAL_ID not in text and MOBILE not in text


def test_csv_cells_cannot_start_a_formula() -> None:
    item = book.BookItem(
        customer_id="C9",
        name="=HYPERLINK(1)",
        rm_id=None,
        rm_name="@x",
        tier=None,
        stage=None,
        watch=None,
        aum=-5.0,
        p_loss=None,
        risk_band="unscored",
        aum_at_risk=None,
        expected_outflow=None,
        last_contact_at=datetime(2026, 1, 2, 3, 4),
        days_since_contact=330,
        open_alerts=0,
    )
    record = dict(zip(book.CSV_COLUMNS, book.csv_record(item), strict=True))
    assert (record["name"], record["rm_name"], record["aum"]) == ("'=HYPERLINK(1)", "'@x", "-5.00")


def test_saved_views_belong_to_their_user(bk: Engine) -> None:
    with session_scope(bk) as session:
        rm01, boss = _user(session, "rm01"), _user(session, "boss")
        first = book.save_view(
            session, user=rm01, name="  Sunflowers  at risk ", query="?tier=sunflower&risk=high&page=2"
        )
        book.save_view(session, user=rm01, name="Never called", query=BookQuery(no_contact_days=90))
        book.save_view(
            session, user=boss, name="Sunflowers at risk", query="tier=sunflower"
        )  # same name, other user
        assert (first.name, first.query, first.params) == (
            "Sunflowers at risk",
            "tier=sunflower&risk=high",
            {"tier": ["sunflower"], "risk": ["high"]},
        )
        assert [(v.name, v.query) for v in book.list_views(session, user_id=rm01.id)] == [
            ("Never called", "no_contact_days=90"),
            ("Sunflowers at risk", "tier=sunflower&risk=high"),
        ]
        assert [v.name for v in book.list_views(session, user_id=boss.id)] == ["Sunflowers at risk"]
        with pytest.raises(Conflict):
            book.save_view(session, user=rm01, name="Sunflowers at risk", query="")
        with pytest.raises(Invalid, match="tier"):
            book.save_view(session, user=rm01, name="Bad", query="tier=platinum")
        with pytest.raises(Invalid, match="name"):
            book.save_view(session, user=rm01, name="   ", query="")
        with pytest.raises(NotFound):
            book.delete_view(session, user=boss, view_id=first.id)  # not boss's
        with pytest.raises(NotFound):
            book.get_view(session, user_id=boss.id, view_id=first.id)
        book.delete_view(session, user=rm01, view_id=first.id)
        assert [v.name for v in book.list_views(session, user_id=rm01.id)] == ["Never called"]
        assert session.scalar(select(SavedView).where(SavedView.id == first.id)) is None
        entries = session.execute(
            select(AuditEntry.actor, AuditEntry.action, AuditEntry.entity_id).order_by(AuditEntry.seq)
        ).all()
        assert [(a, b) for a, b, _ in entries if b.startswith("saved_view")] == [
            ("rm01", "saved_view.create"),
            ("rm01", "saved_view.create"),
            ("boss", "saved_view.create"),
            ("rm01", "saved_view.delete"),
        ]
