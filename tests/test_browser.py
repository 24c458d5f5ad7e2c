"""The teaching page in a real browser: `diplosim app` served on loopback, driven by Playwright
in Debian's Chromium (no browser download). Deselect locally with ``-m 'not browser'``; under
``CI=1`` a missing browser is a failure, not a skip. The screenshots land in ``results/page-*.png``
(``make docs-images`` copies them to docs/img for the README)."""

from __future__ import annotations

import json
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
US_NOVEMBER = "termination_takes_effect.united_states.salience"  # sourced range [0.4, 0.6]
ZERO = "+0.000 [+0.000, +0.000]"

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
    """`diplosim app` (sim/serve.py, loopback only) on a free port, stopped after the module."""
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
            tab = browser.new_page(viewport={"width": 1500, "height": 1300})
            tab.set_default_timeout(60_000)
            tab.goto(server)
            tab.wait_for_selector(".dp-status")
            yield tab
        finally:
            browser.close()


# -- helpers ------------------------------------------------------------------------------------


def _text(page, selector: str) -> str:
    return page.locator(selector).first.inner_text().strip()


def _wait_for(page, selector: str, predicate, what: str, timeout_s: float = 90.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.locator(selector).count():
            text = _text(page, selector)
            if predicate(text):
                return text
        page.wait_for_timeout(200)
    raise AssertionError(f"{what}: {selector} reads {page.locator(selector).all_inner_texts()}")


def _button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def _play_to_the_end(page, run: int) -> None:
    _button(page, "\u25b6").click()
    _wait_for(page, ".dp-guide", lambda t: t.startswith(f"Run {run} is over"),
              f"run {run} did not play to its end")
    assert _button(page, "\u25b6").is_enabled()  # ▶ again, not a greyed ❚❚
    assert _button(page, "Step").is_enabled()


def _pick(page, typed: str, label_start: str) -> None:
    """Choose an episode by typing into the searchable picker."""
    box = page.locator(".dp-episode input").first
    box.click()
    box.fill(typed)
    page.get_by_role("option").filter(has_text=label_start).first.click()
    page.wait_for_selector(f"header >> text={label_start}")


def _shot(page, name: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    page.wait_for_timeout(600)  # the charts' last frame
    page.screenshot(path=str(RESULTS / f"page-{name}.png"))


def _rows(page) -> dict[tuple[str, str], tuple[str, str, str]]:
    """The what-if table as shown: (decision, option) -> (as sourced, what if, difference)."""
    out = {}
    for row in page.locator(".dp-row").all():
        cells = [row.locator(c).inner_text().strip() for c in (".dp-base", ".dp-changed",
                                                                ".dp-difference")]
        out[(row.get_attribute("data-decision"), row.get_attribute("data-option"))] = tuple(cells)
    return out


def _rows_when(page, predicate, what: str, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = _rows(page)
        if rows and predicate(rows):
            return rows
        page.wait_for_timeout(200)
    raise AssertionError(f"{what}: {_rows(page)}")


def _fix_us_salience_at_its_low_end(page) -> None:
    page.get_by_role("button", name="\u25b8 termination_takes_effect (17 numbers)").click()
    slider = page.locator(f".dp-slider[data-key='{US_NOVEMBER}']")
    thumb = slider.locator("[role=slider]")
    thumb.focus()
    thumb.press("Home")  # the bottom of the sourced range
    _wait_for(page, ".dp-overlay", lambda t: f"{US_NOVEMBER}: {{value: 0.4," in t,
              "the what-if did not take the slider")
    assert "fixed at 0.4 in every run" in slider.inner_text()


def _expected(overlay_text: str, runs: int, seed: int):
    """What whatif.compare gives for the overlay the page shows."""
    import yaml

    from sim import orchestrator

    data = yaml.safe_load(overlay_text)
    return orchestrator.whatif(data["base"], set={k: v["value"] for k, v in data["set"].items()},
                               remove_events=data["remove_events"], runs=runs, seed=seed)


def _as_shown(share: float, ci) -> str:
    return f"{share:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


# -- the controls ----------------------------------------------------------------------------------


def test_play_to_the_end_then_step_again(page):
    assert _text(page, ".dp-guide").startswith("Press Step for one moment, or \u25b6")
    _button(page, "\u25b6").click()
    _wait_for(page, ".dp-status", lambda t: "moment 2" in t, "▶ did not play")
    assert _button(page, "\u275a\u275a").is_enabled() and _button(page, "Step").is_disabled()
    _wait_for(page, ".dp-guide", lambda t: t.startswith("Run 0 is over"), "no end of run 0")
    assert page.locator(".dp-decision").count() == 3
    assert "This run: chose " in page.locator(".dp-decision").first.inner_text()
    assert page.locator(".dp-story-line").count() >= 5
    _shot(page, "run")
    _button(page, "Step").click()
    _wait_for(page, ".dp-status", lambda t: t.startswith("Run 1 of seed 20190822: moment 1"),
              "Step after the end did not start the next run")
    _play_to_the_end(page, 1)
    _button(page, "\u25b6").click()  # ▶ after the end: the next run plays
    _wait_for(page, ".dp-status", lambda t: t.startswith("Run 2 "), "▶ after the end")


def test_switch_episode_while_playing_then_play_and_reset(page):
    _button(page, "\u25b6").click()
    _wait_for(page, ".dp-status", lambda t: "moment 2" in t, "▶ did not play")
    _pick(page, "2012", "South Korea 2012")
    status = _wait_for(page, ".dp-status", lambda t: "moment 0" in t, "no fresh run after a switch")
    assert status.startswith("Run 0 of seed 20190822")
    assert _button(page, "\u25b6").is_enabled() and _button(page, "Step").is_enabled()
    _play_to_the_end(page, 0)
    assert "signing" in page.locator(".dp-decision").first.inner_text()
    _button(page, "Step").click()
    _wait_for(page, ".dp-status", lambda t: t.startswith("Run 1 "), "Step after the end")
    _button(page, "Reset").click()
    _wait_for(page, ".dp-status", lambda t: t.startswith("Run 0 of seed 20190822: moment 0"),
              "Reset did not go back to run 0")
    page.get_by_role("tab", name="About this episode").click()
    page.wait_for_selector("h3:has-text('What happened')")
    page.wait_for_selector(".dp-decision-info >> text=What happened:")
    _shot(page, "info")


# -- the what-if ----------------------------------------------------------------------------------


def test_a_moved_slider_gives_the_numbers_of_whatif_compare(page):
    page.get_by_role("tab", name="What if: many runs").click()
    page.wait_for_selector(".dp-row")
    untouched = _rows(page)
    assert untouched and all(diff == ZERO for _, _, diff in untouched.values())
    _fix_us_salience_at_its_low_end(page)
    shown = _rows_when(page, lambda rows: any(diff != ZERO for _, _, diff in rows.values()),
                       "the numbers did not move")
    expected = _expected(_text(page, ".dp-overlay"), runs=400, seed=20190822)
    for d in expected.decisions:
        for o in d.options:
            m, lo, hi = d.difference[o]
            assert shown[(d.decision, o)] == (_as_shown(d.base_shares[o], d.base_ci[o]),
                                              _as_shown(d.changed_shares[o], d.changed_ci[o]),
                                              f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]"), (d.decision, o)
    _shot(page, "whatif")
    page.locator(".dp-result").nth(2).scroll_into_view_if_needed()
    _shot(page, "whatif-decision")
    page.get_by_role("button", name="Back to as sourced (1 fixed)").click()
    _rows_when(page, lambda rows: all(diff == ZERO for _, _, diff in rows.values()),
               "back to as sourced did not zero the differences")


def test_the_page_agrees_with_diplosim_counterfactual(page, tmp_path):
    page.get_by_role("tab", name="What if: many runs").click()
    _fix_us_salience_at_its_low_end(page)
    overlay = tmp_path / "whatif.yaml"
    overlay.write_text(_text(page, ".dp-overlay") + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", "from sim.cli import main; raise SystemExit(main())",
         "counterfactual", str(overlay), "--runs", "400", "--seed", "20190822", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    shown = _rows(page)
    answer = json.loads(done.stdout)
    assert answer["set"] == {US_NOVEMBER: 0.4}  # the command ran the what-if the page shows
    for d in answer["decisions"]:
        for o in d["options"]:
            diff = d["difference"][o]
            assert shown[(d["decision"], o)][1:] == (
                _as_shown(d["counterfactual"][o], d["counterfactual_ci"][o]),
                f"{diff['mean']:+.3f} [{diff['ci_low']:+.3f}, {diff['ci_high']:+.3f}]")


# -- the layout --------------------------------------------------------------------------------


def test_long_names_keep_the_layout(page):
    _pick(page, "Philippines", "Philippines 1991")  # the library's longest title
    side = page.locator(".dp-side").bounding_box()
    main = page.locator(".dp-main").bounding_box()
    long_name = "a_what_if_with_a_very_long_name_" * 12
    page.evaluate("""name => {
        document.querySelector('.dp-episode .v-select__selection, .dp-episode input')
            .closest('.v-card').insertAdjacentHTML('beforeend', `<div class="dp-who">${name}</div>`);
        document.querySelector('.dp-main').insertAdjacentHTML('afterbegin', `<p>${name}</p>`);
    }""", long_name)
    page.wait_for_timeout(300)
    assert page.locator(".dp-side").bounding_box()["width"] == pytest.approx(side["width"], abs=1)
    assert page.locator(".dp-main").bounding_box()["x"] == pytest.approx(main["x"], abs=1)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert side["x"] + side["width"] <= main["x"]
    _shot(page, "long-name")
