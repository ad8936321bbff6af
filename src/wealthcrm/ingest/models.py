"""The record of every import: who loaded which files, how many rows, with what result."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from wealthcrm.db import Base


class ImportRun(Base):
    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(500))
    # {"customers.csv": {"sha256": ..., "rows": 1200, "table": "customers"}, ...}
    files: Mapped[dict[str, dict[str, object]]] = mapped_column(JSON)
    rows: Mapped[int]
