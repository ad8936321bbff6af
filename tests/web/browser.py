"""What the browser tests share: the app served by uvicorn in a thread, Debian's Chromium driven by
Playwright with the flags this closed network needs, and a record of everything that went wrong in the
page (console errors, script errors, requests to other sites)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]

#: pytestmark of every browser test module
BROWSER_MARKS = [
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


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """The base URL of ``app`` served by uvicorn in a background thread, stopped afterwards."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def browser_page(problems: list[str]) -> Iterator[Page]:
    """A page in headless Chromium; console errors, page errors and off-site requests go to ``problems``."""
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
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
            yield page
        finally:
            browser.close()


def chart_size(page: Page, element_id: str) -> dict[str, float]:
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
