"""Model registry: trained models as ``ModelVersion`` rows; list, get, activate, load. Never commits.

The artefact is the model's own JSON (:meth:`ChurnModel.to_bytes`: LightGBM model string, calibration,
feature list) rather than a pickle, so loading a stored model cannot run code.
"""

from __future__ import annotations

import builtins
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from wealthcrm.analytics.churn import ChurnModel
from wealthcrm.analytics.models import ModelVersion
from wealthcrm.errors import Invalid, NotFound

CHURN = "churn"


def save(
    session: Session,
    *,
    model: ChurnModel,
    metrics: dict[str, Any] | None = None,
    kind: str = CHURN,
    notes: str | None = None,
    activate: bool = False,
    now: datetime | None = None,
) -> ModelVersion:
    """Store a fitted model with its training window, features, params and backtest ``metrics``."""
    if not hasattr(model, "booster_"):
        raise Invalid("only a fitted model can be saved")
    summary = model.summary()
    train_from: date = model.train_months_[0]
    train_until: date = model.train_months_[1]
    version = ModelVersion(
        kind=kind,
        created_at=now or datetime.now(UTC).replace(tzinfo=None),
        train_from=train_from,
        train_until=train_until,
        horizon_months=model.horizon,
        features=builtins.list(model.features_),
        params={k: v for k, v in summary.items() if k not in ("train_oof_metrics", "importance")},
        metrics={"backtest": metrics or {}, "train_oof": summary["train_oof_metrics"]},
        is_active=False,
        artifact=model.to_bytes(),
        notes=notes,
    )
    session.add(version)
    session.flush()
    if activate:
        activate_version(session, id=version.id)
    return version


def list(session: Session, *, kind: str | None = None) -> builtins.list[ModelVersion]:
    """Versions, newest first (optionally of one kind)."""
    stmt = select(ModelVersion).order_by(ModelVersion.created_at.desc(), ModelVersion.id.desc())
    if kind is not None:
        stmt = stmt.where(ModelVersion.kind == kind)
    return builtins.list(session.scalars(stmt))


def get(session: Session, *, id: int) -> ModelVersion:
    version = session.get(ModelVersion, id)
    if version is None:
        raise NotFound(f"model version {id} does not exist")
    return version


def activate_version(session: Session, *, id: int) -> ModelVersion:
    """Make this version the active one of its kind (exactly one active per kind)."""
    version = get(session, id=id)
    session.execute(
        update(ModelVersion)
        .where(ModelVersion.kind == version.kind, ModelVersion.id != version.id)
        .values(is_active=False)
    )
    version.is_active = True
    session.flush()
    return version


activate = activate_version


def get_active(session: Session, *, kind: str = CHURN) -> ModelVersion | None:
    return session.scalars(
        select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.is_active.is_(True))
    ).one_or_none()


def load(version: ModelVersion) -> ChurnModel:
    """The fitted model stored in a version."""
    return ChurnModel.from_bytes(version.artifact)
