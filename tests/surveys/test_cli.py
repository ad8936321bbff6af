"""`wealthcrm survey validate` and `wealthcrm survey analyze`, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.surveys.conftest import BFI, DATA, simulated
from tests.surveys.test_reliability import PSYCH_ALPHA
from wealthcrm.cli.main import app

runner = CliRunner()
SHIPPED = Path(__file__).parents[2] / "src/wealthcrm/surveys/questionnaires/branch_default.yaml"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["survey", *args])
    return result.exit_code, result.stdout, result.stderr


def test_validate_prints_the_dimensions() -> None:
    code, out, _ = run("validate", str(SHIPPED))
    assert code == 0
    assert "TAN1 TAN2 TAN3 TAN4" in out and "valid" in out
    code, out, _ = run("validate", str(DATA / "bfi.yaml"))
    assert code == 0 and "A1® A2 A3 A4 A5" in out


def test_validate_json_is_the_questionnaire() -> None:
    code, out, _ = run("validate", str(DATA / "bfi.yaml"), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["id"] == "bfi" and data["dimensions"][1]["reverse"] == ["C4", "C5"]


def test_validate_reports_problems_with_lines(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: x\nscale: {min: 1, max: 5}\ndimensions:\n  - id: d\n    items: [a, b]\n    reverse: [c]\n"
    )
    code, _, err = run("validate", str(bad))
    assert code == 1
    assert "line 6: dimensions[0].reverse[0]: 'c' is not one of the dimension's items" in err
    code, _, err = run("validate", str(tmp_path / "missing.yaml"))
    assert code == 1 and "no such file" in err


def test_analyze_bfi_json_has_psych_alphas_and_kmo() -> None:
    code, out, _ = run(
        "analyze",
        str(BFI),
        "--questionnaire",
        str(DATA / "bfi.yaml"),
        "--json",
        "--no-models",
        "--missing",
        "pairwise",
    )
    assert code == 0
    result = json.loads(out)
    alphas = {d: round(v["alpha"], 3) for d, v in result["dimensions"].items()}
    assert alphas == PSYCH_ALPHA
    assert result["kmo"]["n"] == 2436 and round(result["kmo"]["overall"], 3) == 0.849
    assert result["bartlett"]["df"] == 300
    a1 = result["dimensions"]["agreeableness"]["items"]["A1"]
    assert set(a1) >= {"alpha_if_deleted", "item_total_r"}
    assert "cfa" not in result


def test_analyze_prints_tables_for_people(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    simulated(300, seed=8, blanks=0.0).to_csv(path, index=False)
    code, out, _ = run("analyze", str(path), "--group", "tier", "--missing", "listwise")
    assert code == 0, out
    expected = ["Reliability", "reliability", "KMO", "NPS", "Key drivers of satisfaction", "structural model"]
    for text in [*expected, "CFA (n = ", "By tier", "welch_anova"]:
        assert text in out, text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--missing", "sometimes"], "--missing: 'sometimes'; use pairwise or listwise"),
        (["--group", "branch"], "group 'branch' is not a column of the answers"),
    ],
)
def test_analyze_refuses_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    path = tmp_path / "answers.csv"
    simulated(60, seed=8).to_csv(path, index=False)
    code, _, err = run("analyze", str(path), "--no-models", *args)
    assert code == 1
    assert message in err
