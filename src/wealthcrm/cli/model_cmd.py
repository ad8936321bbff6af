"""`wealthcrm model`: churn models — evaluate an analyst's own table by cross-validation."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import typer
from rich.table import Table

from wealthcrm.analytics.evaluate import METRICS, EvaluationResult, evaluate_table, read_table
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
