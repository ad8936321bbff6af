"""The test branch of the web tests: the importer's factories data plus a second month (2026-10).

2026-09 is the factories' month. In 2026-10, C001 holds 900,000 (sunflower); C002, closed on
2026-10-15, has no rows (AUM 0: gold, on watch); C003 arrives with 6,000,000 (diamond).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from wealthcrm.config import Settings
from wealthcrm.db import session_scope
from wealthcrm.ingest.importer import import_path
from wealthcrm.users import service as users
from wealthcrm.vocab import Role

from ..ingest.factories import VALID, write_folder

TODAY = date(2026, 11, 28)
PASSWORD = "correct horse battery"
#: username → (role, staff id)
USERS: dict[str, tuple[Role, str | None]] = {
    "boss": (Role.branch_manager, None),
    "lead": (Role.team_lead, "S002"),
    "rm01": (Role.rm, "S001"),
}


def _aum(customer_id: str, month: str, asset_class: str, amount: int) -> dict[str, str]:
    return {
        "customer_id": customer_id,
        "month": month,
        "asset_class": asset_class,
        "avg_daily_balance": str(amount),
        "month_end_balance": str(amount),
    }


def branch_files() -> dict[str, list[dict[str, str]]]:
    files = {name: [dict(row) for row in rows] for name, rows in VALID.items()}
    newcomer = dict(files["customers"][0])
    newcomer.update(customer_id="C003", name="张三", national_id="", mobile="", onboarded_on="2026-10-02")
    files["customers"].append(newcomer)
    files["aum_monthly"] += [
        _aum("C001", "2026-10", "demand_deposit", 400_000),
        _aum("C001", "2026-10", "wmp", 500_000),
        _aum("C003", "2026-10", "fund", 6_000_000),
    ]
    return files


def load_branch(engine: Engine, settings: Settings, folder: Path, *, with_data: bool = True) -> None:
    """Import the test branch (or, with ``with_data=False``, only its staff) and add the USERS."""
    files = branch_files()
    if not with_data:
        files = {name: files[name] for name in ("branches", "teams", "staff")}
    import_path(engine, write_folder(folder, files), settings=settings, today=TODAY)
    with session_scope(engine) as session:
        for username, (role, staff_id) in USERS.items():
            users.create(session, username=username, password=PASSWORD, role=role, staff_id=staff_id)
