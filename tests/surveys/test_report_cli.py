"""`wealthcrm survey analyze --report --xlsx --lang`: the files are written, the JSON stays clean."""

from __future__ import annotations

import io
import json
from pathlib import Path

from openpyxl import load_workbook

from tests.surveys.conftest import BFI, DATA
from tests.surveys.test_cli import run
from tests.surveys.test_reliability import PSYCH_ALPHA
from tests.surveys.test_report import html_table
from tests.web.html import parse

BFI_ARGS = ("analyze", str(BFI), "-q", str(DATA / "bfi.yaml"))


def test_report_and_workbook_in_english(tmp_path: Path) -> None:
    html, xlsx = tmp_path / "bfi.html", tmp_path / "bfi.xlsx"
    code, out, err = run(
        "analyze",
        str(BFI),
        "-q",
        str(DATA / "bfi.yaml"),
        "--no-models",
        "-g",
        "gender",
        "--report",
        str(html),
        "--xlsx",
        str(xlsx),
        "--lang",
        "en",
        "--json",
    )
    assert code == 0, err
    result = json.loads(out)  # the messages about the files go to stderr
    assert f"written: {html}" in err and f"written: {xlsx}" in err
    root = parse(html.read_text(encoding="utf-8"))
    assert [r["alpha"] for r in html_table(root, "reliability")] == [f"{a:.3f}" for a in PSYCH_ALPHA.values()]
    assert root.find(id="sr-table-profile_gender") is not None  # the sample profile of the group column
    facts = root.find(**{"class": "sr-facts"})
    assert facts is not None and "bfi.csv" in facts.text()
    wb = load_workbook(io.BytesIO(xlsx.read_bytes()))
    assert wb.sheetnames[:3] == ["Survey analysis report", "Sample profile", "Reliability analysis"]
    kmo = next(
        row[0]
        for row in wb["Validity analysis"].iter_rows(values_only=True)
        if isinstance(row[0], float) and row[1] == "meritorious"
    )
    assert kmo == result["kmo"]["overall"]


def test_report_language_defaults_to_the_settings(tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    code, _out, err = run(
        "analyze", str(BFI), "-q", str(DATA / "bfi.yaml"), "--no-models", "--report", str(html)
    )
    assert code == 0, err
    assert '<html lang="zh-CN">' in html.read_text(encoding="utf-8")  # the settings' default locale


def test_bad_language_and_unwritable_file(tmp_path: Path) -> None:
    code, _out, err = run(
        "analyze", str(BFI), "-q", str(DATA / "bfi.yaml"), "--report", "x.html", "--lang", "fr"
    )
    assert code == 1 and "language 'fr': use zh_CN or en" in err
    target = tmp_path / "missing" / "r.xlsx"
    code, _out, err = run(
        "analyze", str(BFI), "-q", str(DATA / "bfi.yaml"), "--no-models", "--xlsx", str(target)
    )
    assert code == 1 and "cannot write the report" in err
