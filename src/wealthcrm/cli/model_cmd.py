"""`wealthcrm model`: churn models — evaluate an analyst's own table by cross-validation."""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from wealthcrm.analytics.evaluate import METRICS, EvaluationResult, evaluate_table, read_table
from wealthcrm.analytics.models import ModelVersion
from wealthcrm.cli.common import JsonOption, console, err_console, fail, print_json
from wealthcrm.errors import DomainError

model_app = typer.Typer(help="Churn models.", no_args_is_help=True)

_SHORT = {"roc_auc": "ROC AUC", "pr_auc": "PR AUC", "lift_top10": "lift top 10%", "brier": "Brier"}
_LABELS = {
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC (average precision)",
    "lift_top10": "lift, top 10%",
    "brier": "Brier score",
}


@model_app.command("evaluate")
def evaluate(
    table: Path = typer.Option(..., "--table", help="The table: CSV (UTF-8 or GB18030) or Parquet."),
    target: str = typer.Option(..., "--target", help="The binary target column."),
    id_col: str | None = typer.Option(
        None, "--id", help="Column identifying rows (never a feature); default: the row number."
    ),
    positive: str | None = typer.Option(
        None, "--positive", help="Target value of the positive class; default: 1 / yes / true / Y / 是."
    ),
    folds: int = typer.Option(5, "--folds", min=2, help="Number of stratified cross-validation folds."),
    seed: int = typer.Option(0, "--seed", help="Seed of the folds and the model."),
    predictions_out: Path | None = typer.Option(
        None, "--predictions-out", help="Write out-of-fold predictions here as CSV: id,label,p."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Cross-validate a LightGBM churn classifier on your own table of one row per customer.

    Prints ROC AUC, PR AUC, lift in the top 10% and Brier score, pooled out of fold and as mean ± sd
    across folds, and the features used. Constant, ID-like, free-text and leaky columns are dropped
    and listed with the reason. Rows with a blank target are dropped and counted.

    Example: wealthcrm model evaluate --table churn.csv --target Exited --id CustomerId --json
    """
    try:
        frame = read_table(table)
        with nullcontext() if as_json else err_console.status(f"cross-validating {table.name}"):
            result = evaluate_table(
                frame, target=target, id_col=id_col, positive=positive, folds=folds, random_state=seed
            )
    except DomainError as exc:
        fail(str(exc))
    if predictions_out is not None:
        try:
            result.predictions.to_csv(predictions_out, index=False)
        except OSError as exc:
            fail(f"{predictions_out}: cannot write ({exc.strerror or exc})")
    if as_json:
        print_json(result.to_dict())
        return
    _print(result, predictions_out)


def _print(result: EvaluationResult, predictions_out: Path | None) -> None:
    console.print(
        f"[bold]{result.target}[/]: {result.rows:,} rows used, {result.rows_dropped:,} dropped "
        f"(blank target); positive class {result.positive!r}, base rate {result.base_rate:.1%}",
        highlight=False,
    )
    summary = result.fold_summary()
    metrics = Table("metric", "out of fold", f"mean ± sd over {len(result.folds)} folds", title="metrics")
    for name in METRICS:
        metrics.add_row(
            _LABELS[name],
            f"{getattr(result, name):.3f}",
            f"{summary[name]['mean']:.3f} ± {summary[name]['sd']:.3f}",
        )
    console.print(metrics)
    per_fold = Table("fold", "rows", "base rate", "trees", *(_SHORT[name] for name in METRICS), title="folds")
    for f in result.folds:
        per_fold.add_row(
            str(f.fold),
            f"{f.rows:,}",
            f"{f.base_rate:.1%}",
            str(f.trees),
            *(f"{getattr(f, name):.3f}" for name in METRICS),
        )
    console.print(per_fold)
    if result.dropped_columns:
        dropped = Table("column", "reason", title="dropped columns")
        for d in result.dropped_columns:
            dropped.add_row(d.column, d.reason)
        console.print(dropped)
    kinds = result.columns.kinds
    console.print(
        f"features ({len(result.features)}): "
        + ", ".join(f"{name} ({kinds[name]})" for name in result.features),
        highlight=False,
    )
    if result.columns.cleaned:
        console.print("numbers cleaned of separators, spaces or %: " + ", ".join(result.columns.cleaned))
    if predictions_out is not None:
        console.print(f"out-of-fold predictions written to {predictions_out}", highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")


# --- models trained on the database ----------------------------------------------------------------


@model_app.command("train")
def train(
    ctx: typer.Context,
    until: str | None = typer.Option(
        None, "--until", help="Use data (labels included) up to this month, YYYY-MM; default: all."
    ),
    test_months: int = typer.Option(6, "--test-months", min=1, help="Months held out in the backtest."),
    activate: bool | None = typer.Option(
        None, "--activate/--no-activate", help="Make it the active model (default: if none is active)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Train the churn model: a time-based backtest for its metrics, then a fit on every labelled month;
    stored as a new version in the model registry.

    Example: wealthcrm model train --until 2026-06
    """
    from wealthcrm.analytics import registry
    from wealthcrm.analytics.training import fit_final, run_backtest, training_data
    from wealthcrm.cli.common import state
    from wealthcrm.cli.tiers_cmd import parse_month
    from wealthcrm.db import session_scope

    st = state(ctx)
    engine = st.ready_engine()
    with session_scope(engine) as session:
        last = _latest(session) if until is None else parse_month(until)
    try:
        with nullcontext() if as_json else err_console.status("training"):
            frame = training_data(engine, until=last, settings=st.settings)
            result = run_backtest(frame, settings=st.settings, test_months=test_months)
            model = fit_final(frame, settings=st.settings)
        with session_scope(engine) as session:
            make_active = activate if activate is not None else registry.get_active(session) is None
            version = registry.save(session, model=model, metrics=result.to_dict(), activate=make_active)
            shown = _version_dict(version)
    except DomainError as exc:
        fail(str(exc))
    if as_json:
        print_json(shown)
        return
    _print_version(shown)


@model_app.command("backtest")
def backtest_cmd(
    ctx: typer.Context,
    until: str | None = typer.Option(None, "--until", help="Use data up to this month, YYYY-MM."),
    test_months: int = typer.Option(6, "--test-months", min=1, help="Months held out."),
    ground_truth: Path | None = typer.Option(
        None, "--ground-truth", help="A simulator's ground_truth.csv: compare with the true probabilities."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Train on earlier months, test on the later ones, print ROC AUC, top-decile lift, calibration
    error and Brier score; with --ground-truth, also the oracle ROC AUC on the same customer-months.

    Example: wealthcrm model backtest --ground-truth ./branch/ground_truth.csv
    """
    from wealthcrm.analytics.training import compare_with_oracle, run_backtest, training_data
    from wealthcrm.cli.common import state
    from wealthcrm.cli.tiers_cmd import parse_month
    from wealthcrm.db import session_scope

    st = state(ctx)
    engine = st.ready_engine()
    with session_scope(engine) as session:
        last = _latest(session) if until is None else parse_month(until)
    try:
        with nullcontext() if as_json else err_console.status("backtesting"):
            frame = training_data(engine, until=last, settings=st.settings)
            result = run_backtest(frame, settings=st.settings, test_months=test_months)
            report = result.to_dict()
            if ground_truth is not None:
                report["oracle"] = compare_with_oracle(result.predictions, ground_truth).to_dict()
    except DomainError as exc:
        fail(str(exc))
    if as_json:
        print_json(report)
        return
    table = Table("measure", "value", title="backtest")
    for key, value in report.items():
        if key != "oracle":
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    for key, value in report.get("oracle", {}).items():
        table.add_row(f"oracle {key}", f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)


@model_app.command("list")
def list_cmd(ctx: typer.Context, as_json: bool = JsonOption) -> None:
    """The stored model versions, newest first, with their backtest ROC AUC.

    Example: wealthcrm model list
    """
    from wealthcrm.analytics import registry
    from wealthcrm.cli.common import state
    from wealthcrm.db import session_scope

    with session_scope(state(ctx).ready_engine()) as session:
        versions = [_version_dict(v) for v in registry.list(session)]
    if as_json:
        print_json(versions)
        return
    table = Table("id", "active", "created", "trained on", "ROC AUC", "lift", "ECE", title="churn models")
    for v in versions:
        bt = v["metrics"].get("backtest", {})
        table.add_row(
            str(v["id"]),
            "●" if v["is_active"] else "",
            v["created_at"][:16],
            f"{v['train_from']} … {v['train_until']}",
            _num(bt.get("roc_auc")),
            _num(bt.get("lift_top10")),
            _num(bt.get("ece")),
        )
    console.print(table)


@model_app.command("show")
def show(
    ctx: typer.Context,
    version_id: int = typer.Argument(..., help="Model version id."),
    as_json: bool = JsonOption,
) -> None:
    """Everything stored about one model version: window, features, parameters, metrics.

    Example: wealthcrm model show 3
    """
    from wealthcrm.analytics import registry
    from wealthcrm.cli.common import state
    from wealthcrm.db import session_scope

    try:
        with session_scope(state(ctx).ready_engine()) as session:
            shown = _version_dict(registry.get(session, id=version_id), features=True)
    except DomainError as exc:
        fail(str(exc))
    if as_json:
        print_json(shown)
        return
    _print_version(shown)


@model_app.command("activate")
def activate_cmd(ctx: typer.Context, version_id: int = typer.Argument(..., help="Model version id.")) -> None:
    """Make a model version the one the nightly batch scores with (exactly one is active).

    Example: wealthcrm model activate 3
    """
    from wealthcrm.analytics import registry
    from wealthcrm.cli.common import state
    from wealthcrm.db import session_scope

    try:
        with session_scope(state(ctx).ready_engine()) as session:
            registry.activate_version(session, id=version_id)
    except DomainError as exc:
        fail(str(exc))
    console.print(f"model {version_id} is active")


def _latest(session: Session) -> date:
    from wealthcrm.holdings.service import latest_month

    month = latest_month(session)
    if month is None:
        fail("no AUM data yet: import aum_monthly first")
    return month


def _num(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else ""


def _version_dict(version: ModelVersion, *, features: bool = False) -> dict[str, Any]:
    v: dict[str, Any] = {
        "id": version.id,
        "kind": version.kind,
        "is_active": version.is_active,
        "created_at": version.created_at.isoformat(),
        "train_from": version.train_from.isoformat(),
        "train_until": version.train_until.isoformat(),
        "horizon_months": version.horizon_months,
        "metrics": version.metrics,
    }
    if features:
        v["features"] = version.features
        v["params"] = version.params
    return v


def _print_version(v: dict[str, Any]) -> None:
    table = Table("field", "value", title=f"churn model {v['id']}")
    for key, value in v.items():
        table.add_row(
            key,
            json.dumps(value, ensure_ascii=False, default=str)
            if isinstance(value, dict | list)
            else str(value),
        )
    console.print(table)
