"""The overview in Debian's Chromium (Playwright): log in, charts drawn, switch to English, screenshot.

The app runs under uvicorn in a background thread on a free port, against a SQLite file holding the
test branch. Screenshots land in test-artifacts/overview.png (English) and overview-zh.png (git-ignored)
for a human to look at.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright

from wealthcrm.config import Settings
from wealthcrm.db import make_engine
from wealthcrm.web import create_app

from .branch import PASSWORD, load_branch

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's Chromium (/usr/bin/chromium) is not installed"
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path, settings: Settings, sqlite_template: Path) -> Iterator[str]:
    """The base URL of the app served by uvicorn in a thread, with the test branch loaded."""
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    load_branch(engine, settings, tmp_path / "branch")
    port = _free_port()
    config = uvicorn.Config(create_app(settings, engine), host="127.0.0.1", port=port, log_level="warning")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvicorn_server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


def _chart_size(page: Page, element_id: str) -> dict[str, float]:
    """Size of the canvas ECharts drew into #element_id, and how many series it holds."""
    page.wait_for_selector(f"#{element_id} canvas", state="attached")
    result: dict[str, float] = page.evaluate(
        """(id) => {
            const el = document.getElementById(id);
            const canvas = el.querySelector("canvas");
            const chart = echarts.getInstanceByDom(el);
            return {width: canvas.width, height: canvas.height, series: chart.getOption().series.length};
        }""",
        element_id,
    )
    return result


def test_overview_in_the_browser(server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.on(
                "console",
                lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on(
                "request",
                lambda r: (
                    problems.append(f"off-site request: {r.url}")
                    if urlparse(r.url).hostname not in ("127.0.0.1", None) and not r.url.startswith("data:")
                    else None
                ),
            )

            page.goto(f"{server}/")
            assert urlparse(page.url).path == "/login"
            page.fill("#username", "boss")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/")
            assert page.locator("h1").first.inner_text() == "支行概览"

            for chart in ("tier-chart", "migration-chart"):
                size = _chart_size(page, chart)
                assert size["width"] > 0 and size["height"] > 0, (chart, size)
                assert size["series"] >= 1, (chart, size)

            page.wait_for_timeout(700)  # let the charts' entry animation finish before the picture
            page.screenshot(path=str(ARTIFACTS / "overview-zh.png"), full_page=True)

            page.click("a[hreflang=en]")
            page.wait_for_selector("html[lang=en]")
            assert page.locator("h1").first.inner_text() == "Branch overview"
            assert page.locator("#tier-table tfoot tr").inner_text().split("\t") == [
                "Total",
                "3",
                "100.0%",
                "¥6,900,000",
                "100.0%",
            ]
            for chart in ("tier-chart", "migration-chart"):
                assert _chart_size(page, chart)["width"] > 0
            page.wait_for_timeout(700)  # let the charts' entry animation finish before the picture
            page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert (ARTIFACTS / "overview.png").stat().st_size > 10_000
