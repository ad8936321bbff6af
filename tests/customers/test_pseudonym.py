"""Analysts' pseudonymised views in the service layer: the pseudonym itself, the Book, its count and
export, search by pseudonym only, and no identified customer anywhere (both databases)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from wealthcrm.audit.models import AuditEntry
from wealthcrm.config import Settings
from wealthcrm.customers import book, service
from wealthcrm.customers.book import BookOrder, BookQuery
from wealthcrm.customers.pseudonym import (
    Pseudonymiser,
    is_pseudonymised,
    pseudonymiser_for,
    require_identified,
)
from wealthcrm.db import session_scope
from wealthcrm.errors import Forbidden, Invalid
from wealthcrm.tasks import service as tasks
from wealthcrm.users import service as users
from wealthcrm.vocab import Role

from .bookdata import MOBILE, NATIONAL_ID, ON, load_book
from .workbench import OCT

#: the book in the default order (AUM at risk, largest first; unscored last), and every name
ORDER = ["C003", "C004", "C001", "C005", "C002"]
NAMES = ["陈一", "刘二", "张三", "周四", "吴五"]
KEY = bytes(range(32))


@pytest.fixture
def bk(engine: Engine, settings: Settings, tmp_path: Path) -> Engine:
    load_book(engine, settings, tmp_path / "branch")
    return engine


def test_a_pseudonym_is_a_keyed_stable_code() -> None:
    p = Pseudonymiser(KEY)
    alias = p("C001")
    assert re.fullmatch(r"P[0-9A-F]{16}", alias)
    assert alias == Pseudonymiser(KEY)("C001") != p("C002")
    assert Pseudonymiser(bytes(32))("C001") != alias  # another installation's key, other pseudonyms
    assert "C001" not in alias
    ids = ["C001", "C002", "C003"]
    assert p.find(alias, ids) == ["C001"]
    assert p.find(f"  {alias.lower()} ", ids) == ["C001"]  # any case, spaces ignored
    for text in ("", "C001", "陈一", alias[:-1], alias + "0", "X" + alias[1:]):
        assert p.find(text, ids) == []
    with pytest.raises(ValueError, match="16 bytes"):
        Pseudonymiser(b"short")


def test_the_key_comes_from_the_settings(settings: Settings, tmp_path: Path) -> None:
    assert pseudonymiser_for(settings)("C001") == Pseudonymiser(KEY)("C001")  # field_key = bytes 0..31
    keyless = Settings(data_dir=tmp_path / "keyless")
    first = pseudonymiser_for(keyless)("C001")  # the key file is created once, then read
    assert pseudonymiser_for(keyless)("C001") == first
    other = Settings(data_dir=tmp_path / "other", field_key=base64.b64encode(bytes(32)).decode())
    assert pseudonymiser_for(other)("C001") != first


def test_who_sees_pseudonyms() -> None:
    class Viewer:
        def __init__(self, role: Role) -> None:
            self.role, self.staff_id = role, None

    assert [r.value for r in Role if is_pseudonymised(Viewer(r))] == ["analyst"]
    require_identified(Viewer(Role.auditor))
    with pytest.raises(Forbidden, match="pseudonymised"):
        require_identified(Viewer(Role.analyst))


def test_the_analysts_book_count_and_export_are_pseudonymised(bk: Engine, settings: Settings) -> None:
    p = pseudonymiser_for(settings)
    with session_scope(bk) as session:
        analyst = users.get(session, username="analyst")
        with pytest.raises(Forbidden):  # never without pseudonyms
            book.search(session, user=analyst, query=BookQuery(), month=OCT, on=ON)
        with pytest.raises(Forbidden):
            book.count(session, user=analyst, query=BookQuery(), month=OCT, on=ON)
        found = book.search(session, user=analyst, query=BookQuery(), month=OCT, on=ON, pseudonyms=p)
        assert (found.total, [i.customer_id for i in found.items]) == (5, [p(c) for c in ORDER])
        for item in found.items:
            assert item.name == item.customer_id
            assert (item.national_id_masked, item.mobile_masked) == (None, None)
        # the rest of the row is the same as everyone else's
        boss = users.get(session, username="boss")
        seen = book.search(session, user=boss, query=BookQuery(), month=OCT, on=ON, pseudonyms=p).items
        assert [i.customer_id for i in seen] == ORDER  # other roles never get pseudonyms
        for mine, theirs in zip(found.items, seen, strict=True):
            assert (mine.tier, mine.aum, mine.p_loss, mine.rm_name, mine.open_alerts) == (
                theirs.tier,
                theirs.aum,
                theirs.p_loss,
                theirs.rm_name,
                theirs.open_alerts,
            )
        assert book.count(session, user=analyst, query=BookQuery(), month=OCT, on=ON, pseudonyms=p) == 5
        exported = list(
            book.export_rows(session, user=analyst, query=BookQuery(), month=OCT, on=ON, pseudonyms=p)
        )
        assert [i.customer_id for i in exported] == [p(c) for c in ORDER]
        text = "".join(",".join(book.csv_record(i)) for i in exported)
        for secret in [*ORDER, *NAMES, NATIONAL_ID, MOBILE, "110105", "5678"]:
            assert secret not in text, secret


def test_analysts_search_by_whole_pseudonym_only(bk: Engine, settings: Settings) -> None:
    p = pseudonymiser_for(settings)
    with session_scope(bk) as session:
        analyst = users.get(session, username="analyst")

        def ids(**fields: object) -> list[str]:
            query = book.check(BookQuery(**fields))  # type: ignore[arg-type]
            found = book.search(session, user=analyst, query=query, month=OCT, on=ON, pseudonyms=p)
            assert found.total == len(found.items)
            assert (
                book.count(session, user=analyst, query=query, month=OCT, on=ON, pseudonyms=p) == found.total
            )
            return [i.customer_id for i in found.items]

        assert ids(q=p("C004")) == [p("C004")]
        assert ids(q=p("C004").lower()) == [p("C004")]
        for text in ("C004", "c00", "周四", "周", p("C004")[:8]):
            assert ids(q=text) == [], text
        assert ids(q=p("C004"), tiers=("gold",)) == []  # the other filters still apply
        assert ids(sort=BookOrder.customer_id) == [p(c) for c in sorted(ORDER)]
        with pytest.raises(Invalid, match="sort: analysts cannot sort by name"):
            ids(sort=BookOrder.name)


def test_analysts_open_no_identified_customer_and_see_no_tasks(bk: Engine, settings: Settings) -> None:
    with session_scope(bk) as session:
        tasks.generate(session, on=ON, settings=settings)
    with session_scope(bk) as session:
        analyst = users.get(session, username="analyst")
        for customer_id in ("C001", "C999"):  # existing or not: the same refusal
            with pytest.raises(Forbidden, match="pseudonymised views only"):
                service.get_customer(session, user=analyst, customer_id=customer_id)
            with pytest.raises(Forbidden):
                service.customer_360(session, user=analyst, customer_id=customer_id, on=ON)
        assert tasks.list_tasks(session, user=analyst, on=ON).total == 0
        boss = users.get(session, username="boss")
        assert tasks.list_tasks(session, user=boss, on=ON).total > 0
    with session_scope(bk) as session:  # the attempt on an existing customer is audited
        denied = session.scalars(
            select(AuditEntry.customer_id).where(
                AuditEntry.action == "access_denied", AuditEntry.actor == "analyst"
            )
        ).all()
        assert denied == ["C001"]
