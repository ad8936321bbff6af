"""The survey report in Debian's Chromium (Playwright): the HTML file opened from disk in Chinese and
in English (every chart drawn, an SVG in each placeholder; no console error; no request outside
``file://``), and the Survey analysis page inside the app (its content security policy allows the
charts; the download link gives the file).

Screenshots land in test-artifacts/survey-report-zh.png, survey-report-en.png and
survey-analysis-page.png (git-ignored) for a human to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.surveys.conftest import simulated
from wealthcrm.config import Settings
from wealthcrm.db import make_engine
from wealthcrm.surveys.analysis import analyze
from wealthcrm.surveys.data import prepare
from wealthcrm.surveys.questionnaire import shipped_questionnaire
from wealthcrm.surveys.report import Locale, build_report, render_html, sample_profile
from wealthcrm.web import create_app

from ..customers.workbench import PASSWORD, load_workbench
from .browser import ARTIFACTS, BROWSER_MARKS, browser_page, serve
from .test_survey_analysis import add_answers

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def analysis() -> tuple[dict[str, Any], dict[str, dict[str, int]]]:
    q = shipped_questionnaire()
    data = prepare(simulated(400, seed=12, blanks=0.02), q)
    result = analyze(data, q, groups=["tier", "rm_id"], models=False)
    return result, sample_profile(data, ["tier", "rm_id"])


@pytest.mark.parametrize(
    ("locale", "heading", "shot"), [("zh_CN", "样本概况", "zh"), ("en", "Sample profile", "en")]
)
def test_the_report_file_renders_offline(
    analysis: tuple[dict[str, Any], dict[str, dict[str, int]]],
    tmp_path: Path,
    locale: Locale,
    heading: str,
    shot: str,
) -> None:
    result, profile = analysis
    report = build_report(result, shipped_questionnaire(), locale=locale, profile=profile)
    path = tmp_path / f"survey-report-{shot}.html"
    path.write_text(render_html(report), encoding="utf-8")
    charts = [c["id"] for c in report.charts()]
    assert {"alpha", "scree", "means", "nps", "ipa", "drivers"} <= set(charts)

    problems: list[str] = []
    requests: list[str] = []
    with browser_page(problems) as page:
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.as_uri())
        assert page.locator("html").get_attribute("lang") == locale.replace("_", "-")
        assert page.locator("#sr-sample-title").inner_text().endswith(heading)
        for chart in charts:
            page.wait_for_selector(f"#sr-chart-{chart} svg", state="attached")
            size = page.evaluate(
                """(id) => {
                    const svg = document.querySelector(`#sr-chart-${id} svg`);
                    const box = svg.getBoundingClientRect();
                    const marks = svg.querySelectorAll("path, rect").length;
                    return {width: box.width, height: box.height, marks: marks};
                }""",
                chart,
            )
            assert size["width"] > 200 and size["height"] > 100, (chart, size)
            assert size["marks"] > 3, (chart, size)
        # the quadrant chart names every dimension
        labels = page.locator("#sr-chart-ipa svg text").all_text_contents()
        for point in next(c for c in report.charts() if c["id"] == "ipa")["data"]["points"]:
            assert point["name"] in labels
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"survey-report-{shot}.png"), full_page=True)
    assert problems == []
    assert requests and all(url.startswith(("file://", "data:")) for url in requests), requests
    assert (ARTIFACTS / f"survey-report-{shot}.png").stat().st_size > 50_000


@pytest.fixture
def server(tmp_path: Path, settings: Settings, sqlite_template: Path) -> Iterator[str]:
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    load_workbench(engine, settings, tmp_path / "branch")
    add_answers(engine)
    try:
        with serve(create_app(settings, engine)) as url:
            yield url
    finally:
        engine.dispose()


def test_the_page_draws_the_report_in_the_app(server: str) -> None:
    problems: list[str] = []
    with browser_page(problems) as page:
        page.goto(f"{server}/login")
        page.fill("#username", "boss")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/")
        page.goto(f"{server}/surveys/analysis?models=false")
        assert page.locator("h1").first.inner_text() == "问卷分析"
        for chart in ("alpha", "scree", "means", "nps", "ipa", "drivers"):
            page.wait_for_selector(f"#sr-chart-{chart} svg", state="attached")
            width = page.evaluate(
                f"document.querySelector('#sr-chart-{chart} svg').getBoundingClientRect().width"
            )
            assert width > 200, chart
        # the report's own style sheet applies (it is served by the page's route, not inlined)
        weight = page.evaluate(
            "getComputedStyle(document.querySelector('.sr-table thead th')).borderBottomWidth"
        )
        assert weight == "2px"
        with page.expect_download() as download:
            page.click("#download-html")
        assert download.value.suggested_filename.startswith("survey-branch_default-")
        page.screenshot(path=str(ARTIFACTS / "survey-analysis-page.png"), full_page=False)
    assert problems == []
