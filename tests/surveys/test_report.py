"""The survey report: on bfi, the HTML (parsed) and the XLSX (openpyxl) hold R psych's α and the
analysis's KMO and Bartlett numbers, in both languages; on simulated answers, every section and the
"what to do" sentences follow from the result."""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from tests.surveys.conftest import simulated
from tests.surveys.test_reliability import PSYCH_ALPHA
from tests.web.html import Node, parse
from wealthcrm.errors import Invalid
from wealthcrm.surveys.analysis import analyze
from wealthcrm.surveys.data import prepare
from wealthcrm.surveys.questionnaire import Questionnaire, parse_questionnaire, shipped_questionnaire
from wealthcrm.surveys.report import (
    Locale,
    build_report,
    fmt,
    parse_locale,
    render_fragment,
    render_html,
    sample_profile,
    translator,
)
from wealthcrm.surveys.report_xlsx import sheet_name, xlsx_bytes

LOCALES: list[Locale] = ["zh_CN", "en"]
BFI_DIMS = list(PSYCH_ALPHA)


# --- reading the report back ------------------------------------------------------------------------


def html_table(root: Node, table_id: str) -> list[dict[str, str]]:
    """The rows of the report's table ``table_id`` as {column key: cell text}."""
    table = root.find(id=f"sr-table-{table_id}")
    assert table is not None, f"no table {table_id}"
    return [
        {str(cell.attrs["data-key"]): cell.text() for cell in row.iter("td")}
        for row in table.iter("tr")
        if row.iter("td")
    ]


def xlsx_table(content: bytes, sheet: str, title: str) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of the table titled ``title`` in ``sheet``: the header is the row after the title,
    the rows follow until a row with nothing beyond column A (a note, or the blank row after)."""
    ws = load_workbook(io.BytesIO(content))[sheet]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r and r[0] == title)
    header = [str(c) for c in rows[start + 1] if c is not None]
    body: list[list[Any]] = []
    for r in rows[start + 2 :]:
        if all(c is None for c in r[1:]):
            break
        body.append(r[: len(header)])
    return header, body


# --- bfi ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bfi_result(bfi_q: Questionnaire, bfi_raw: pd.DataFrame) -> dict[str, Any]:
    return analyze(prepare(bfi_raw, bfi_q), bfi_q, groups=["gender"], models=True)


@pytest.fixture(scope="module", params=LOCALES)
def bfi_report(request: pytest.FixtureRequest, bfi_result: dict[str, Any], bfi_q: Questionnaire) -> Any:
    return build_report(bfi_result, bfi_q, locale=request.param, source="bfi.csv")


def test_html_reliability_table_holds_psych_alphas(bfi_report: Any, bfi_result: dict[str, Any]) -> None:
    root = parse(render_html(bfi_report))
    rows = html_table(root, "reliability")
    assert [r["alpha"] for r in rows] == [f"{PSYCH_ALPHA[d]:.3f}" for d in BFI_DIMS]
    assert [r["alpha"] for r in rows] == ["0.703", "0.727", "0.762", "0.814", "0.600"]
    for row, dim in zip(rows, BFI_DIMS, strict=True):
        d = bfi_result["dimensions"][dim]
        assert row["dimension"] == dim
        assert row["alpha_std"] == f"{d['alpha_std']:.3f}"
        assert (row["ci_low"], row["ci_high"]) == tuple(f"{v:.3f}" for v in d["alpha_ci"])
        assert row["n"] == f"{d['n']:,}"
    items = html_table(root, "reliability_items")
    a1 = next(r for r in items if r["item"] == "A1")
    entry = bfi_result["dimensions"]["agreeableness"]["items"]["A1"]
    assert a1["reversed"] == "®"
    assert a1["alpha_if_deleted"] == f"{entry['alpha_if_deleted']:.3f}"
    assert a1["item_total_r"] == f"{entry['item_total_r']:.3f}"
    missing = html_table(root, "reliability_missing")
    assert [r["n_complete"] for r in missing] == [
        f"{bfi_result['dimensions'][d]['n_complete']:,}" for d in BFI_DIMS
    ]


def test_html_kmo_and_bartlett_equal_the_json(bfi_report: Any, bfi_result: dict[str, Any]) -> None:
    root = parse(render_html(bfi_report))
    kmo, bartlett = bfi_result["kmo"], bfi_result["bartlett"]
    [row] = html_table(root, "adequacy")
    assert row["kmo"] == f"{kmo['overall']:.3f}" == "0.849"
    assert row["n"] == "2,436" and row["df"] == "300" == str(bartlett["df"])
    assert row["chi2"] == f"{bartlett['chi2']:.1f}"
    assert row["p"] == "< 0.001"
    per_item = {r["item"]: r["kmo"] for r in html_table(root, "kmo_items")}
    assert per_item == {i: f"{v:.3f}" for i, v in kmo["items"].items()}
    # EFA: both rotations, as many factor columns as extracted, and the retention table
    k = bfi_result["efa"]["n_factors"]
    varimax = html_table(root, "efa_varimax")
    assert {f"F{j + 1}" for j in range(k)} <= set(varimax[0])
    assert html_table(root, "efa_oblimin")[0]["item"] == "A1"
    retention = html_table(root, "factor_retention")
    eig = bfi_result["efa"]["factor_retention"]["eigenvalues"]
    assert [r["eigenvalue"] for r in retention[:5]] == [f"{v:.3f}" for v in eig[:5]]
    fit = bfi_result["cfa"]["fit"]
    [cfa] = html_table(root, "cfa_fit")
    assert (cfa["cfi"], cfa["rmsea"], cfa["srmr"]) == tuple(f"{fit[k]:.3f}" for k in ("cfi", "rmsea", "srmr"))
    factors = {r["dimension"]: r for r in html_table(root, "cfa_factors")}
    ave = bfi_result["cfa"]["factors"]["neuroticism"]["ave"]
    assert factors["neuroticism"]["ave"] == f"{ave:.3f}"


def test_xlsx_holds_the_same_numbers(bfi_report: Any, bfi_result: dict[str, Any]) -> None:
    _ = translator(bfi_report.locale)
    content = xlsx_bytes(bfi_report)
    sheets = load_workbook(io.BytesIO(content)).sheetnames
    assert sheets[1:] == [s.title[:31] for s in bfi_report.sections]
    header, rows = xlsx_table(content, _("Reliability analysis"), _("Internal consistency (Cronbach's α)"))
    assert header[:4] == [_("Dimension"), _("Items"), _("Respondents"), _("α raw")]
    alphas = [r[3] for r in rows]
    assert all(isinstance(a, float) for a in alphas)
    assert [round(a, 3) for a in alphas] == [PSYCH_ALPHA[d] for d in BFI_DIMS]
    assert alphas == [bfi_result["dimensions"][d]["alpha"] for d in BFI_DIMS]  # unrounded
    header, [row] = xlsx_table(content, _("Validity analysis"), _("KMO and Bartlett's test of sphericity"))
    values = dict(zip(header, row, strict=True))
    assert values[_("KMO")] == bfi_result["kmo"]["overall"]
    assert values[_("Bartlett's χ²")] == bfi_result["bartlett"]["chi2"]
    assert values[_("df")] == 300 and values[_("Respondents")] == 2436
    assert values[_("p")] == bfi_result["bartlett"]["p"]
    ws = load_workbook(io.BytesIO(content))[_("Reliability analysis")]
    alpha_cell = next(c for row in ws.iter_rows() for c in row if c.value == alphas[0])
    assert alpha_cell.number_format == "0.000"


def test_languages(bfi_result: dict[str, Any], bfi_q: Questionnaire) -> None:
    zh = build_report(bfi_result, bfi_q, locale="zh_CN")
    en = build_report(bfi_result, bfi_q, locale="en")
    zh_html, en_html = render_html(zh), render_html(en)
    assert '<html lang="zh-CN">' in zh_html and '<html lang="en">' in en_html
    assert [s.title for s in en.sections][:3] == [
        "Sample profile",
        "Reliability analysis",
        "Validity analysis",
    ]
    assert [s.title for s in zh.sections][:3] == ["样本概况", "信度分析", "效度分析"]
    # every word of the Chinese report is translated: no section, table, column or note is English
    for section in zh.sections:
        texts = [section.title, *section.paragraphs]
        for table in section.tables:
            texts += [table.title, *table.notes, *(c.label for c in table.columns)]
        for text in texts:
            assert not re.search(r"\b(the|of|and|is|are)\b", text), text
    assert "克朗巴哈 α" in zh_html and "Cronbach's α" in en_html


def test_the_html_needs_no_network(bfi_report: Any) -> None:
    html = render_html(bfi_report)
    root = parse(html)
    scripts = root.iter("script")
    assert all("src" not in s.attrs for s in scripts)
    assert [s.attrs.get("type") for s in scripts] == ["application/json", None, None]
    assert "echarts" in html and "Apache Software Foundation" in html  # the vendored file, licence kept
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "</script" not in scripts[1].text()  # nothing inside ends the inlined library early
    # one placeholder per chart, each fed by the embedded JSON
    placeholders = [d.attrs["id"] for d in root.iter("div") if d.attrs.get("data-chart")]
    assert placeholders == [f"sr-chart-{c['id']}" for c in bfi_report.charts()]
    assert {"alpha", "scree", "means"} <= {c["id"] for c in bfi_report.charts()}


def test_fragment_is_the_body_only(bfi_report: Any) -> None:
    fragment = str(render_fragment(bfi_report))
    assert fragment.lstrip().startswith("<article") and "<html" not in fragment and "<style" not in fragment


def test_bfi_advice_names_the_weak_scale(bfi_result: dict[str, Any], bfi_q: Questionnaire) -> None:
    en = build_report(bfi_result, bfi_q, locale="en")
    advice = en.section("advice").bullets
    weak = [b for b in advice if "not reliable enough" in b]
    assert len(weak) == 1 and "openness" in weak[0] and "0.600" in weak[0]
    zh = build_report(bfi_result, bfi_q, locale="zh_CN")
    assert any("openness量表的信度不足" in b and "0.600" in b for b in zh.section("advice").bullets)


# --- the simulated branch questionnaire: outcomes, IPA, drivers, SEM, groups, advice ---------------------


@pytest.fixture(scope="module")
def sim() -> tuple[dict[str, Any], pd.DataFrame]:
    frame = simulated(400, seed=21, blanks=0.02)
    q = shipped_questionnaire()
    return analyze(prepare(frame, q), q, groups=["tier", "rm_id"], models=True), frame


def test_outcome_sections_follow_the_result(sim: tuple[dict[str, Any], pd.DataFrame]) -> None:
    result, frame = sim
    q = shipped_questionnaire()
    report = build_report(result, q, locale="en", profile=sample_profile(prepare(frame, q), ["tier"]))
    ids = [s.id for s in report.sections]
    assert ids == [
        "sample",
        "reliability",
        "validity",
        "descriptives",
        "groups",
        "nps",
        "ipa",
        "drivers",
        "sem",
        "advice",
        "notes",
    ]
    root = parse(render_html(report))
    nps = result["outcomes"]["nps"]
    [row] = html_table(root, "nps")
    assert row["nps"] == f"{nps['nps']:+.1f}"
    assert (row["ci_low"], row["ci_high"]) == tuple(f"{v:+.1f}" for v in nps["ci"])
    assert row["detractors"] == str(nps["detractors"])
    ipa = {r["dimension"]: r["quadrant"] for r in html_table(root, "ipa")}
    quadrant_words = {
        "concentrate_here": "Concentrate here",
        "keep_up_the_good_work": "Keep up the good work",
    }
    for dim, d in result["outcomes"]["ipa"]["dimensions"].items():
        name = q.dimension(dim).name
        assert name is not None
        if d["quadrant"] in quadrant_words:
            assert ipa[name.en] == quadrant_words[d["quadrant"]]
    drivers = html_table(root, "drivers")
    shares = [c["relative_share"] for c in result["outcomes"]["drivers"]["coefficients"].values()]
    assert drivers[0]["share"] == f"{100 * max(shares):.1f}%"
    profile = html_table(root, "profile_tier")
    counts = frame["tier"].value_counts()
    assert {r["group"]: r["n"] for r in profile} == {
        "Diamond": str(counts["diamond"]),
        "Private banking": str(counts["private"]),
        "Sunflower": str(counts["sunflower"]),
    }
    groups = html_table(root, "groups_tier")
    sat = next(r for r in groups if r["score"] == "Overall satisfaction")
    assert sat["test"] in ("One-way ANOVA", "Welch's ANOVA", "Kruskal–Wallis H test")
    assert sat["p"] == "< 0.001" and sat["magnitude"] == "large"
    paths = html_table(root, "sem_paths")
    assert paths[-1]["source"] == "Overall satisfaction" and paths[-1]["target"] == "Loyalty intentions"
    charts = {c["id"]: c for c in report.charts()}
    assert {"alpha", "scree", "means", "nps", "ipa", "drivers"} <= set(charts)
    assert len(charts["ipa"]["data"]["points"]) == len(result["outcomes"]["ipa"]["dimensions"])


def test_what_to_do_follows_the_result(sim: tuple[dict[str, Any], pd.DataFrame]) -> None:
    result, _frame = sim
    q = shipped_questionnaire()
    en = build_report(result, q, locale="en").section("advice").bullets
    zh = build_report(result, q, locale="zh_CN").section("advice").bullets
    nps = result["outcomes"]["nps"]
    share = f"{100 * nps['detractors'] / nps['n']:.1f}%"
    assert en[0].startswith(f"{share} of respondents are detractors")
    assert zh[0].startswith(f"{share} 的受访者是贬损者")
    focus = [
        d for d, v in result["outcomes"]["ipa"]["dimensions"].items() if v["quadrant"] == "concentrate_here"
    ]
    assert focus, "the simulated answers have a dimension to concentrate on"
    sentence = next(b for b in en if b.startswith("Concentrate on"))
    for dim in focus:
        name = q.dimension(dim).name
        assert name is not None
        assert name.en in sentence
        assert any(name.zh in b and "重点改进" in b for b in zh)
    assert any("Overall satisfaction differs by tier: lowest among Sunflower" in b for b in en)
    assert any(b.startswith("Satisfaction carries to loyalty") for b in en)
    assert len(en) == len(zh)


def test_servqual_gaps_when_expectations_were_asked() -> None:
    q = parse_questionnaire(
        "id: gapq\nscale: {min: 1, max: 7}\ndimensions:\n"
        "  - id: reliability\n    items: [R1, R2, R3]\n    expectations: {R1: ER1, R2: ER2, R3: ER3}\n"
        "  - id: empathy\n    items: [M1, M2, M3]\n    expectations: {M1: EM1, M2: EM2, M3: EM3}\n"
    )
    rng = np.random.default_rng(3)
    n = 120
    cols: dict[str, Any] = {}
    for prefix, perceived, expected in (("R", 4.0, 5.8), ("M", 5.0, 5.2)):
        trait = rng.standard_normal(n)
        for i in range(1, 4):
            cols[f"{prefix}{i}"] = np.clip(np.rint(perceived + trait + rng.normal(0, 0.7, n)), 1, 7)
            cols[f"E{prefix}{i}"] = np.clip(np.rint(expected + 0.5 * trait + rng.normal(0, 0.7, n)), 1, 7)
    result = analyze(pd.DataFrame(cols), q, models=False)
    report = build_report(result, q, locale="en")
    root = parse(render_html(report))
    rows = {r["dimension"]: r for r in html_table(root, "gaps")}
    for dim in ("reliability", "empathy"):
        assert rows[dim]["gap"] == f"{result['gaps'][dim]['dimension']['gap']:.2f}"
    assert float(rows["reliability"]["gap"]) < float(rows["empathy"]["gap"])
    assert len(html_table(root, "gap_items")) == 6
    gap = -result["gaps"]["reliability"]["dimension"]["gap"]
    assert (
        "Close the largest service gap, reliability: what customers get falls short of what they expect "
        f"by {gap:.2f} points."
    ) in report.section("advice").bullets
    assert "gaps" in {c["id"] for c in report.charts()}


def test_a_tiny_sample_still_gives_a_report() -> None:
    frame = simulated(6, seed=1, blanks=0.0)
    q = shipped_questionnaire()
    result = analyze(prepare(frame, q), q, models=False)
    report = build_report(result, q, locale="zh_CN")
    html = render_html(report)
    assert "样本概况" in html
    assert report.section("advice").bullets[0].startswith("只有 6 名受访者")
    assert xlsx_bytes(report)[:2] == b"PK"


# --- the small parts ----------------------------------------------------------------------------------


def test_fmt() -> None:
    assert fmt(0.70312, "num3") == "0.703"
    assert fmt(0.0004, "p") == "< 0.001" and fmt(0.0412, "p") == "0.041"
    assert fmt(None, "num2") == fmt(float("nan"), "num2") == "–"
    assert fmt(2436, "int") == "2,436" and fmt(0.3104, "pct") == "31.0%" and fmt(1.06, "signed1") == "+1.1"
    assert fmt("diamond", "num2") == "diamond"


def test_parse_locale() -> None:
    assert [parse_locale(v) for v in ("zh_CN", "zh-CN", "zh", "en", "EN")] == [
        "zh_CN",
        "zh_CN",
        "zh_CN",
        "en",
        "en",
    ]
    with pytest.raises(Invalid, match="use zh_CN or en"):
        parse_locale("fr")


def test_sheet_names_are_valid_and_unique() -> None:
    taken: set[str] = set()
    assert sheet_name("Gaps: by item/dimension [SERVQUAL]?", taken) == "Gaps  by item dimension  SERVQU"
    long = "x" * 40
    assert sheet_name(long, taken) == "x" * 31
    assert sheet_name(long, taken) == "x" * 27 + " (2)"


def test_sample_profile_counts_blanks(bfi_q: Questionnaire) -> None:
    frame = pd.DataFrame({"A1": [1, 2, 3, 4], "tier": ["gold", "gold", "", None]})
    data = prepare(frame, bfi_q)
    assert sample_profile(data, ["tier", "absent"]) == {"tier": {"": 2, "gold": 2}}
