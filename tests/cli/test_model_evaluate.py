"""`wealthcrm model evaluate`, in-process, on a fresh app (the lead registers `model` in cli/main.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from wealthcrm.cli import model_cmd

runner = CliRunner()
BANK = Path("/work/shared/datasets/bank_churn_modelling.csv")


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    model_cmd.register(app)
    return app


def run(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["model", "evaluate", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def table(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 300
    x = rng.normal(size=n)
    churned = rng.random(n) < 1 / (1 + np.exp(-2 * x))
    df = pd.DataFrame(
        {
            "cust": [f"C{i:04d}" for i in range(n)],
            "balance": [f"{v:,.2f}" for v in 10_000 + 5_000 * x],
            "branch": "B01",
            "status": np.where(churned, "churned", "stayed"),
        }
    )
    df.loc[[3, 4], "status"] = ""
    path = tmp_path / "mine.csv"
    df.to_csv(path, index=False)
    return path


def test_help_has_an_example(app: typer.Typer) -> None:
    result = runner.invoke(app, ["model", "evaluate", "--help"])
    assert result.exit_code == 0
    assert "Example: wealthcrm model evaluate --table" in result.stdout


def test_json_and_predictions(app: typer.Typer, table: Path, tmp_path: Path) -> None:
    out = tmp_path / "oof.csv"
    args = ["--table", str(table), "--target", "status", "--id", "cust", "--positive", "churned"]
    code, stdout, stderr = run(
        app, *args, "--folds", "4", "--seed", "1", "--predictions-out", str(out), "--json"
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    assert {"roc_auc", "pr_auc", "lift_top10", "brier", "folds", "base_rate", "rows", "rows_dropped"} <= set(
        report
    )
    assert (report["rows"], report["rows_dropped"], report["positive"]) == (298, 2, "churned")
    assert report["features"] == ["balance"]
    assert report["cleaned_numbers"] == ["balance"]
    assert report["dropped_columns"] == [
        {"column": "cust", "reason": "the id column (--id): identifies rows"},
        {"column": "branch", "reason": "constant: every row is 'B01'"},
    ]
    assert len(report["folds"]) == 4 and report["roc_auc"] > 0.75
    predictions = pd.read_csv(out, dtype={"id": str})
    assert list(predictions.columns) == ["id", "label", "p"]
    assert len(predictions) == 298 and predictions["id"].is_unique
    assert "C0003" not in set(predictions["id"])
    assert set(predictions["label"]) == {0, 1} and predictions["p"].between(0, 1).all()


def test_tables_for_people(app: typer.Typer, table: Path) -> None:
    code, stdout, stderr = run(app, "--table", str(table), "--target", "status", "--positive", "churned")
    assert code == 0, stderr
    for text in (
        "ROC AUC",
        "PR AUC",
        "lift, top 10%",
        "Brier",
        "dropped columns",
        "constant",
        "298 rows used",
    ):
        assert text in stdout
    assert "cust" in stdout and "ID-like" in stdout  # without --id, customer numbers are caught as IDs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--table", "missing.csv", "--target", "x"], "missing.csv: no such file"),
        (["--target", "nope"], "target column 'nope' is not in the table"),
        (["--target", "status"], "cannot tell which value of 'status' (churned, stayed) is the positive"),
        (["--target", "status", "--positive", "left"], "positive value 'left' is not a value of 'status'"),
        (["--target", "balance"], "target 'balance' has 300 class(es)"),
    ],
)
def test_bad_input_exits_1_with_a_message(
    app: typer.Typer, table: Path, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(table.parent)
    if "--table" not in args:
        args = ["--table", str(table), *args]
    code, _, stderr = run(app, *args)
    assert code == 1
    assert message in " ".join(stderr.split())
    assert "Traceback" not in stderr


def test_bank_churn_from_the_command_line(app: typer.Typer) -> None:
    code, stdout, stderr = run(
        app, "--table", str(BANK), "--target", "Exited", "--id", "CustomerId", "--json"
    )
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["roc_auc"] >= 0.865
    assert {d["column"] for d in report["dropped_columns"]} == {"CustomerId", "RowNumber", "Surname"}
    assert "CustomerId" not in report["features"]
