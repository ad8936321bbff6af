"""`wealthcrm import`: validate every file, then write all of them in one transaction, or nothing.

    >>> result = import_path(engine, Path("extract/"), settings=load_settings())  # doctest: +SKIP

Dates and date-times in the files are the branch's local time (``sla.time_zone``) and are checked as
such, against the branch's today; the columns the app keeps as instants (``service_requests``' times)
are then stored as naive UTC (:mod:`wealthcrm.ingest.contract`).

A rejected import raises :class:`ImportRejected` listing every problem; the database is untouched. An
import interrupted half-way (killed, power cut) leaves nothing behind, because the only commit is the
last statement. Re-importing the same files changes no row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, Engine, Table, select

from wealthcrm.config import Settings
from wealthcrm.db import all_models, refresh_statistics
from wealthcrm.ingest.contract import FileSpec
from wealthcrm.ingest.models import ImportRun
from wealthcrm.ingest.problems import ImportRejected, Problem
from wealthcrm.ingest.readers import RawFile, discover, read_file
from wealthcrm.ingest.validate import Context, Validated, validate_file
from wealthcrm.security.pii import FieldCipher, load_or_create_key

Progress = Callable[[str, str], None]  # (stage, file label)


@dataclass(frozen=True)
class FileResult:
    file: str
    table: str
    encoding: str | None
    rows: int
    changed: int


@dataclass
class ImportResult:
    files: list[FileResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    run_id: int | None = None

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": True,
            "run_id": self.run_id,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "files": [f.__dict__ for f in self.files],
            "warnings": self.warnings,
        }


def cipher_for(settings: Settings) -> FieldCipher:
    key = settings.field_key.get_secret_value() if settings.field_key else None
    return FieldCipher(load_or_create_key(key, settings.data_dir))


def _tables() -> dict[str, Table]:
    return {t.name: t for t in all_models().sorted_tables}


def _load_context(conn: Connection, raws: list[RawFile], ctx: Context) -> None:
    """Keys already stored, plus keys arriving in this import, for every reference the files make."""
    tables = _tables()
    incoming = {raw.spec.name: raw for raw in raws if raw.frame is not None}
    refs = {col.ref for raw in raws for col in raw.spec.columns if col.ref}
    for ref_file, ref_col in refs:
        stored = conn.execute(select(tables[ref_file].c[ref_col])).scalars().all()
        parts = [pd.Index(stored, dtype=object)]
        raw = incoming.get(ref_file)
        if raw is not None and raw.frame is not None and ref_col in raw.frame.columns:
            parts.append(pd.Index(raw.frame[ref_col].dropna().to_numpy(dtype=object)))
        ctx.known[(ref_file, ref_col)] = parts[0].append(parts[1:]).unique()
    if "customers" in incoming:
        staff = tables["staff"]
        ctx.staff_roles = {
            sid: str(role) for sid, role in conn.execute(select(staff.c.staff_id, staff.c.role))
        }
        arriving = incoming.get("staff")
        if arriving is not None and arriving.frame is not None and "role" in arriving.frame.columns:
            frame = arriving.frame.dropna(subset=["staff_id", "role"])
            ctx.staff_roles.update(zip(frame["staff_id"], frame["role"].str.lower(), strict=True))
        customers = tables["customers"]
        ctx.national_id_owner = dict(
            conn.execute(
                select(customers.c.national_id_index, customers.c.customer_id).where(
                    customers.c.national_id_index.is_not(None)
                )
            ).all()
        )


def validate_files(
    conn: Connection,
    path: Path,
    *,
    settings: Settings,
    today: date | None = None,
    progress: Progress | None = None,
) -> tuple[list[Validated], list[Problem], list[RawFile], list[str]]:
    """Read and check every file under `path` against the contract and the stored data; writes nothing."""
    found, problems, warnings = discover(path)
    raws: list[RawFile] = []
    for file_path, spec in found:
        if progress:
            progress("read", file_path.name)
        raw = read_file(file_path, spec, fallback_encoding=settings.imports.fallback_encoding)
        raws.append(raw)
        warnings.extend(raw.warnings)
    zone = settings.sla.time_zone
    ctx = Context(
        today=today or datetime.now(ZoneInfo(zone)).date(),  # the branch's today, as the files' dates are
        cipher=cipher_for(settings),
        max_future_days=settings.imports.max_future_days,
        time_zone=zone,
    )
    _load_context(conn, raws, ctx)
    validated: list[Validated] = []
    for raw in raws:
        if progress:
            progress("validate", raw.label)
        result, file_problems = validate_file(raw, ctx)
        problems.extend(file_problems)
        if result is not None:
            validated.append(result)
    return validated, problems, raws, warnings


def validate_path(
    engine: Engine, path: Path, *, settings: Settings, today: date | None = None
) -> list[Problem]:
    """Every problem the files under `path` have; an empty list means they would import."""
    with engine.connect() as conn:
        _, problems, _, _ = validate_files(conn, path, settings=settings, today=today)
    return sorted(problems, key=lambda p: (p.file, p.row or 0, p.column or "", p.message))


def import_path(
    engine: Engine,
    path: Path,
    *,
    settings: Settings,
    actor: str = "cli",
    today: date | None = None,
    progress: Progress | None = None,
    on_table_written: Callable[[str], None] | None = None,
) -> ImportResult:
    """Validate, then upsert every file in one transaction; on any problem raise ImportRejected.

    `on_table_written` is called after each table is written, inside the open transaction (progress,
    and the tests that interrupt an import half-way).
    """
    from wealthcrm.ingest.writers import upsert

    started = time.perf_counter()
    started_at = datetime.now(UTC).replace(tzinfo=None)
    result = ImportResult()
    tables = _tables()
    with engine.begin() as conn:
        validated, problems, raws, result.warnings = validate_files(
            conn, path, settings=settings, today=today, progress=progress
        )
        if problems:
            raise ImportRejected(problems)
        by_name = {raw.spec.name: raw for raw in raws}
        for item in validated:
            spec: FileSpec = item.spec
            raw = by_name[spec.name]
            if progress:
                progress("write", raw.label)
            changed = upsert(conn, tables[spec.table], item.frame, insert_only=item.insert_only)
            result.files.append(FileResult(raw.label, spec.table, raw.encoding, len(item.frame), changed))
            if on_table_written:
                on_table_written(spec.table)
        run = conn.execute(
            ImportRun.__table__.insert().values(  # type: ignore[attr-defined]
                started_at=started_at,
                finished_at=datetime.now(UTC).replace(tzinfo=None),
                actor=actor,
                source=str(path)[:500],
                files={
                    raw.label: {
                        "sha256": raw.sha256,
                        "table": raw.spec.table,
                        "rows": len(raw.frame) if raw.frame is not None else 0,
                    }
                    for raw in raws
                },
                rows=result.rows,
            )
        )
        result.run_id = run.inserted_primary_key[0] if run.inserted_primary_key else None
    refresh_statistics(engine)  # the planner's statistics, after a bulk load
    result.seconds = time.perf_counter() - started
    return result
