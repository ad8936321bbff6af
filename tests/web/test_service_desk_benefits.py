"""The desk's benefits panel: this year's quota, used and remaining for a looked-up customer, redeeming
through the page (htmx panel, or a page of its own), refusals shown with the domain's message (never a
500), the downgrade grace period, the audit trail, and the scope (404 outside it, auditors read only)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import httpx
from sqlalchemy import Engine, func, select, update

from wealthcrm.analytics.models import CustomerMonth
from wealthcrm.audit.models import AuditEntry
from wealthcrm.db import session_scope
from wealthcrm.vocab import Tier

from ..customers.workbench import MOBILE, NATIONAL_ID
from .conftest import TestClient, csrf_token
from .html import by_id, parse
from .service_fixtures import HTMX, app, as_user

__all__ = ["app", "as_user"]  # the fixtures

PANEL = "/service/benefits/C001"
#: C001 is sunflower in September and October 2026
SUNFLOWER = [
    ["机场贵宾厅", "2", "0", "2"],
    ["机场贵宾通道", "本等级不享有"],
    ["体检", "1", "0", "1"],
    ["优先排队", "不限次数", "0", "不限次数"],
    ["费用减免", "不限次数", "0", "不限次数"],
]


def _redeem(
    client: TestClient, benefit: str, *, htmx: bool = True, customer: str = "C001", **fields: str
) -> httpx.Response:
    return client.post(
        f"/service/benefits/{customer}/redeem",
        data={"benefit": benefit, "csrf_token": csrf_token(client, "/service/standard"), **fields},
        headers=HTMX if htmx else {},
        follow_redirects=False,
    )


def _rows(html: str) -> list[list[str]]:
    return by_id(html, "desk-benefits-table").table()[1:]


def _text(html: str, testid: str) -> str | None:
    node = parse(html).find(data_testid=testid)
    return None if node is None else node.text()


def test_the_desk_loads_the_looked_up_customers_benefits(as_user: Callable[[str], TestClient]) -> None:
    desk = as_user("svc")
    page = desk.get("/service").text
    placeholder = by_id(page, "benefits-panel")
    assert (placeholder.attrs.get("hx-get"), placeholder.attrs.get("hx-trigger")) == (PANEL, "load")
    panel = desk.get(PANEL, headers=HTMX)
    assert panel.status_code == 200
    assert "<html" not in panel.text  # a fragment
    assert by_id(panel.text, "benefits-title").text() == "2026 年权益"
    assert _text(panel.text, "benefit-tier") == "按金葵花等级享受权益。"
    assert _rows(panel.text) == SUNFLOWER
    options = [o.attrs.get("value") for o in by_id(panel.text, "redeem-form").iter("option")]
    assert options == ["airport_lounge", "health_checkup", "priority_queue", "fee_waiver"]
    assert NATIONAL_ID not in panel.text and MOBILE not in panel.text
    assert "138****5678" in panel.text
    # without htmx, the same panel is a page of its own
    full = desk.get(PANEL)
    assert full.status_code == 200 and "<html" in full.text and _rows(full.text) == SUNFLOWER


def test_redeeming_decrements_the_remaining_quota(
    as_user: Callable[[str], TestClient], engine: Engine
) -> None:
    desk = as_user("svc")
    first = _redeem(desk, "airport_lounge", note="T3 航站楼")
    assert first.status_code == 200
    assert _text(first.text, "message") == "权益已核销。"
    assert _rows(first.text)[0] == ["机场贵宾厅", "2", "1", "1"]
    assert by_id(first.text, "redemptions-table").table()[1][1:] == ["机场贵宾厅", "1", "svc", "T3 航站楼"]
    # a plain form post: back to the page, with the message
    second = _redeem(desk, "airport_lounge", htmx=False)
    assert (second.status_code, second.headers["location"]) == (303, f"{PANEL}?redeemed=1")
    page = desk.get(second.headers["location"]).text
    assert _text(page, "message") == "权益已核销。"
    assert _rows(page)[0] == ["机场贵宾厅", "2", "2", "0"]
    options = [o.attrs.get("value") for o in by_id(page, "redeem-form").iter("option")]
    assert "airport_lounge" not in options  # nothing left of it
    # several uses at once
    fees = _redeem(desk, "fee_waiver", quantity="3")
    assert _rows(fees.text)[4] == ["费用减免", "不限次数", "3", "不限次数"]
    with session_scope(engine) as session:
        audited = session.scalars(
            select(AuditEntry.details)
            .where(AuditEntry.action == "entitlement.redeem")
            .order_by(AuditEntry.seq)
        ).all()
    assert [(d["benefit"], d["quantity"], d["used"]) for d in audited] == [
        ("airport_lounge", 1, 1),
        ("airport_lounge", 1, 2),
        ("fee_waiver", 3, 3),
    ]


def test_refusals_show_the_domains_message(as_user: Callable[[str], TestClient], engine: Engine) -> None:
    desk = as_user("svc")
    assert _redeem(desk, "airport_lounge", quantity="2").status_code == 200
    over = _redeem(desk, "airport_lounge")
    assert over.status_code == 200  # htmx swaps 2xx only: the refusal is inside the panel
    assert _text(over.text, "error") == "benefit airport_lounge: 2 of 2 uses taken in 2026; 0 left, 1 asked"
    assert _rows(over.text)[0] == ["机场贵宾厅", "2", "2", "0"]
    plain = _redeem(desk, "airport_lounge", htmx=False)
    assert plain.status_code == 409
    assert _text(plain.text, "error") == "benefit airport_lounge: 2 of 2 uses taken in 2026; 0 left, 1 asked"
    not_in_tier = _redeem(desk, "airport_vip_lane", htmx=False)
    assert not_in_tier.status_code == 422
    assert _text(not_in_tier.text, "error") == (
        "benefit airport_vip_lane is not included in the customer's tier (sunflower)"
    )
    assert _redeem(desk, "yacht", htmx=False).status_code == 422
    for quantity in ("0", "x", "21"):
        bad = _redeem(desk, "health_checkup", quantity=quantity)
        assert bad.status_code == 200 and _text(bad.text, "error"), quantity
    assert _redeem(desk, "health_checkup", htmx=False, quantity="x").status_code == 422
    with session_scope(engine) as session:
        count = session.scalar(select(func.count()).where(AuditEntry.action == "entitlement.redeem"))
    assert count == 1  # only the one that went through


def test_a_downgraded_customer_keeps_the_higher_tiers_benefits(
    as_user: Callable[[str], TestClient], engine: Engine
) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(CustomerMonth)
            .where(CustomerMonth.customer_id == "C001", CustomerMonth.month == date(2026, 9, 1))
            .values(tier=Tier.diamond)
        )
    desk = as_user("svc")
    desk.get("/lang/en")
    panel = desk.get(PANEL, headers=HTMX).text
    assert _text(panel, "benefit-tier") == (
        "Benefits of the Diamond tier. Kept through the downgrade grace period until 2026-12 "
        "A downgraded customer keeps the higher tier's benefits for 3 months."
    )
    assert _rows(panel)[:2] == [["Airport lounge", "6", "0", "6"], ["Airport VIP lane", "2", "0", "2"]]
    taken = _redeem(desk, "airport_vip_lane")
    assert _text(taken.text, "message") == "Benefit redeemed."
    assert _rows(taken.text)[1] == ["Airport VIP lane", "2", "1", "1"]


def test_scope_roles_and_read_only(as_user: Callable[[str], TestClient]) -> None:
    # the desk sees only what its look-ups opened; an RM only their book: 404, as for an unknown id
    assert as_user("svc").get("/service/benefits/C004").status_code == 404
    other = as_user("rm02")
    assert other.get(PANEL).status_code == 404
    assert other.get("/service/benefits/C999").status_code == 404
    assert _redeem(other, "fee_waiver").status_code == 404
    assert _redeem(other, "fee_waiver", htmx=False).status_code == 404
    # the customer's own RM redeems
    rm = as_user("rm01")
    assert _rows(_redeem(rm, "health_checkup").text)[2] == ["体检", "1", "1", "0"]
    # auditors read, never act
    auditor = as_user("audit")
    page = auditor.get(PANEL)
    assert page.status_code == 200 and _rows(page.text)[2] == ["体检", "1", "1", "0"]
    assert "redeem-form" not in page.text and "只读。" in page.text
    assert _redeem(auditor, "fee_waiver").status_code == 403
    assert as_user("analyst").get(PANEL).status_code == 403
    # the branch manager opens any customer from the desk's form
    boss = as_user("boss")
    found = boss.get("/service/benefits?customer_id=C004", follow_redirects=False)
    assert (found.status_code, found.headers["location"]) == (303, "/service/benefits/C004")
    assert boss.get("/service/benefits?customer_id=", follow_redirects=False).status_code == 422
