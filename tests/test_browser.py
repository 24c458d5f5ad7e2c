"""The teaching page in a real browser: `diplosim app` served on loopback, driven by Playwright
in Debian's Chromium (no browser download). Deselect locally with ``-m 'not browser'``; under
``CI=1`` a missing browser is a failure, not a skip."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
CHROMIUM_ARGS = [  # quiet on a machine with no outside network
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

pytestmark = pytest.mark.browser


def _chromium() -> str:
    path = os.environ.get("DIPLOSIM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        message = "Debian's chromium is not installed (make test installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """`diplosim app` on a free loopback port, stopped after the module."""
    port = _free_port()
    log = RESULTS / "app-server.log"
    RESULTS.mkdir(exist_ok=True)
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from sim.cli import main; raise SystemExit(main())",
             "app", "--port", str(port)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the page did not come up; server log:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture()
def page(server):
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            tab = browser.new_page(viewport={"width": 1600, "height": 1200})
            tab.set_default_timeout(60_000)
            tab.goto(server)
            tab.wait_for_selector(".diplosim-probability")
            yield tab
        finally:
            browser.close()


def _texts(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def _slider(page, label: str):
    """The thumb (role=slider) of the Vuetify slider labelled ``label``."""
    return page.locator(".v-input", has_text=label).locator("[role=slider]").first


def _wait_for_change(page, selector: str, before: list[str], timeout_s: float = 60.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = _texts(page, selector)
        if now and now != before:
            return now
        page.wait_for_timeout(250)
    raise AssertionError(f"{selector} did not change from {before}")


TABS = ["The run and its decision", "The ensemble against the baseline",
        "Where the ranges come from"]


def test_tabs_are_named_and_each_slider_shows_its_quote(page):
    assert _texts(page, "[role=tab]") == [name.upper() for name in TABS]  # Vuetify capitalises
    slider = page.locator(".diplosim-slider", has_text="South Korea: initial opposition")
    quote = slider.locator(".diplosim-quote")
    assert quote.inner_text() == "\u201c47.9% opposed concluding the pact, 15.8% in favour\u201d (record)"
    assert quote.is_visible()
    box, thumb = quote.bounding_box(), slider.locator("[role=slider]").bounding_box()
    assert 0 <= box["y"] - (thumb["y"] + thumb["height"]) < 40  # right under its slider
    page.get_by_role("tab", name=TABS[2]).click()
    page.wait_for_selector("text=how the words became the range")


def _pick(page, label: str) -> None:
    """Choose ``label`` in the page's scenario selector and wait for its page."""
    page.locator(".v-select", has_text="scenario or what-if").first.click()
    page.get_by_role("option", name=label, exact=True).click()
    page.wait_for_selector(".diplosim-probability")


def test_a_slider_and_reset_change_the_ensemble(page):
    """On the 2019 page (in 2012 at the middle of every range no run postpones, whatever one
    slider does), a slider moved to the end of its range and Reset give new probabilities."""
    _pick(page, "gsomia_2019")
    started = time.monotonic()
    while not any(t.startswith("termination_notice: ")
                  for t in _texts(page, ".diplosim-probability")):
        assert time.monotonic() - started < 60, _texts(page, ".diplosim-probability")
        page.wait_for_timeout(250)
    before = _texts(page, ".diplosim-probability")
    thumb = _slider(page, "United States: escalation")
    thumb.focus()
    thumb.press("Home")  # to the bottom of the sourced range
    page.get_by_role("button", name="Reset").click()
    started = time.monotonic()
    while not (page.locator(".diplosim-progress").count()
               or (_texts(page, ".diplosim-probability") not in ([], before))):
        assert time.monotonic() - started < 1.0, "no answer and no progress a second after Reset"
        page.wait_for_timeout(20)
    after = _wait_for_change(page, ".diplosim-probability", before)
    p_before = float(before[0].split(" = ")[1].split()[0])
    p_after = float(after[0].split(" = ")[1].split()[0])
    assert p_after != p_before  # less escalation: the ensemble moves


def test_step_and_run_change_what_the_page_shows(page):
    before = _texts(page, ".diplosim-probability")
    assert before and before[0].startswith("signing: P(postpone, recorded) = ")
    assert "Press Step" in page.inner_text("body")

    status = _texts(page, ".diplosim-status")
    page.get_by_role("button", name="Step").click()
    stepped = _wait_for_change(page, ".diplosim-status", status)
    assert stepped[0].startswith("Step 1 of ")
    chart = page.wait_for_selector(".diplosim-timeline canvas")  # ECharts draws on a canvas
    width = page.locator(".v-tabs-items, .v-window").first.bounding_box()["width"]
    assert chart.bounding_box()["width"] > 0.8 * width  # the page's width, not a thumbnail
    assert chart.bounding_box()["height"] >= 400

    page.get_by_role("button", name="▶").click()  # play to the end of the clock
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if any(line.startswith("signing: decided ") for line in _texts(page, ".diplosim-status")):
            break
        page.wait_for_timeout(500)
    else:
        raise AssertionError(f"the run did not reach its decision: {_texts(page, '.diplosim-status')}")
    page.wait_for_selector(".diplosim-event")  # the events listed under the chart
    page.wait_for_timeout(500)  # the chart's last frame
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "app.png"))


def test_picking_a_counterfactual_shows_its_decisions(page):
    page.locator(".v-select", has_text="scenario or what-if").click()
    page.get_by_role("option", name="gsomia_2019 + what if: no_us_pressure_2019").click()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = _texts(page, ".diplosim-probability")
        if lines and lines[0].startswith("termination_notice:"):
            break
        page.wait_for_timeout(250)
    else:
        raise AssertionError(f"the page did not switch scenario: {lines}")
    assert any(line.startswith("termination_takes_effect: P(suspend_conditionally, recorded)")
               for line in lines)
    page.wait_for_selector("text=Fixed by the overlay")
    assert "united_states.escalation" in page.inner_text("body")
    page.get_by_role("tab", name=TABS[1]).click()
    page.wait_for_selector(".diplosim-ensemble")
    page.screenshot(path=str(RESULTS / "app-counterfactual.png"))
