"""Cross-column checks of each contract file (the "checks" listed in the data contract)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from wealthcrm.ingest import parsing
from wealthcrm.vocab import Role

if TYPE_CHECKING:
    from wealthcrm.ingest.validate import Context, RowProblems

Check = Callable[[pd.DataFrame, "Context", "RowProblems"], None]
_RM_ROLES = {Role.rm.value, Role.team_lead.value}


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series(pd.NA, index=frame.index, dtype=object)


def _both_or_neither(frame: pd.DataFrame, a: str, b: str, out: RowProblems, message: str) -> None:
    has_a = _col(frame, a).notna().to_numpy()
    has_b = _col(frame, b).notna().to_numpy()
    out.add(has_a & ~has_b, b, message)
    out.add(~has_a & has_b, a, message)


def _not_before(frame: pd.DataFrame, later: str, earlier: str, out: RowProblems) -> None:
    if later in frame.columns and earlier in frame.columns:
        bad = (frame[later] < frame[earlier]).fillna(False).to_numpy(dtype=bool)
        out.add(bad, later, f"is before {earlier}", frame[later].dt.strftime("%Y-%m-%d"))


def _status_needs_date(
    frame: pd.DataFrame, status_values: set[str], date_col: str, out: RowProblems, what: str
) -> None:
    status = _col(frame, "status")
    closed = status.isin(status_values).to_numpy()
    has_date = _col(frame, date_col).notna().to_numpy()
    statuses = "/".join(sorted(status_values))
    out.add(closed & ~has_date, date_col, f"required when status is {statuses}")
    out.add(
        ~closed & has_date & status.notna().to_numpy(),
        date_col,
        f"given, but status is not {statuses} ({what})",
    )


def staff(frame: pd.DataFrame, ctx: Context, out: RowProblems) -> None:
    _not_before(frame, "left_on", "joined_on", out)
    _status_needs_date(frame, {"left"}, "left_on", out, "a leaving date needs status left")


def customers(frame: pd.DataFrame, ctx: Context, out: RowProblems) -> None:
    _both_or_neither(
        frame, "risk_level", "risk_assessed_on", out, "risk_level and risk_assessed_on must be given together"
    )
    _not_before(frame, "closed_on", "onboarded_on", out)
    _not_before(frame, "onboarded_on", "birth_date", out)
    if "status" in frame.columns:
        _status_needs_date(frame, {"closed"}, "closed_on", out, "a closing date needs status closed")
    elif "closed_on" in frame.columns:
        out.add(frame["closed_on"].notna().to_numpy(), "closed_on", "given without a status column")
    if "rm_id" in frame.columns:
        roles = frame["rm_id"].map(ctx.staff_roles)
        not_rm = (
            frame["rm_id"].notna().to_numpy() & roles.notna().to_numpy() & ~roles.isin(_RM_ROLES).to_numpy()
        )
        shown = frame["rm_id"] + " (" + roles.fillna("") + ")"
        out.add(not_rm, "rm_id", "is not an RM or team lead", shown)
    if "national_id" in frame.columns:
        _national_ids(frame, ctx, out)


def _national_ids(frame: pd.DataFrame, ctx: Context, out: RowProblems) -> None:
    ids = frame["national_id"]
    present = ids.notna().to_numpy()
    if "birth_date" in frame.columns:
        encoded = ids.map(parsing.birth_date_of_id, na_action="ignore")
        given = frame["birth_date"].dt.date
        differ = present & given.notna().to_numpy() & (encoded != given).to_numpy()
        out.add(differ, "birth_date", "differs from the birth date in national_id")
    dup = present & ids.duplicated(keep="first").to_numpy()
    out.add(dup, "national_id", "the same national ID is on an earlier row of this file")
    if ctx.national_id_owner:
        idx = np.full(len(ids), None, dtype=object)
        for i in np.flatnonzero(present).tolist():
            idx[i] = ctx.cipher.blind_index(str(ids.iat[i]))
        owners = pd.Series(idx, index=ids.index).map(ctx.national_id_owner)
        taken = owners.notna().to_numpy() & (owners != frame["customer_id"]).to_numpy()
        shown = "belongs to customer " + owners.fillna("")
        out.add(taken, "national_id", "national ID already stored for another customer", shown)


def positions(frame: pd.DataFrame, ctx: Context, out: RowProblems) -> None:
    _not_before(frame, "maturity_on", "opened_on", out)
    _not_before(frame, "closed_on", "opened_on", out)
    _status_needs_date(
        frame, {"matured", "redeemed"}, "closed_on", out, "an open position has no closing date"
    )


def digital_activity(frame: pd.DataFrame, ctx: Context, out: RowProblems) -> None:
    if "last_login_on" in frame.columns:
        month_end = frame["month"] + pd.offsets.MonthEnd(0)
        late = (frame["last_login_on"] > month_end).fillna(False).to_numpy(dtype=bool)
        out.add(
            late, "last_login_on", "is after the end of month", frame["last_login_on"].dt.strftime("%Y-%m-%d")
        )


def service_requests(frame: pd.DataFrame, ctx: Context, out: RowProblems) -> None:
    for later in ("acknowledged_at", "resolved_at"):
        _not_before(frame, later, "opened_at", out)
    _status_needs_date(
        frame, {"resolved", "closed"}, "resolved_at", out, "an open request has no resolution time"
    )


def survey_answers(frame: pd.DataFrame, ctx: Context, out: RowProblems) -> None:
    for column in ("customer_id", "questionnaire_id"):
        owners = frame.groupby("response_id")[column].transform("nunique")
        out.add((owners > 1).to_numpy(), column, f"a response has rows with different {column} values")


CHECKS: dict[str, Check] = {
    "staff": staff,
    "customers": customers,
    "positions": positions,
    "digital_activity": digital_activity,
    "service_requests": service_requests,
    "survey_answers": survey_answers,
}


def run(file: str, frame: pd.DataFrame, ctx: Context, out: RowProblems) -> None:
    check = CHECKS.get(file)
    if check is not None:
        check(frame, ctx, out)
