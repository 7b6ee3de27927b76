"""The playground and the dashboard in headless Chromium (Debian's package), driven by Selenium.

The app runs for real on 127.0.0.1 (its own event loop in a thread) on the real brain and a real
SQLite store; the browser runs the served JavaScript, so these tests cover what the HTTP tests
cannot: the enhanced forms, keyboard use, and that typed markup never runs.

Skipped, with the reason, when Selenium, /usr/bin/chromium or /usr/bin/chromedriver is missing
(`.ci/run` installs them where apt-get is available). With CAREERBOT_TEST_SCREENSHOTS=docs/img the
screenshots in the README are (re)written there.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from web_support import ADMIN_TOKEN

from adapters.web import build_web_app
from bot.brain import Brain
from bot.config import Settings
from bot.messages import Inbound, Reply
from bot.store import Store

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("CAREERBOT_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CAREERBOT_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT_SECONDS = 60  # a contended CI machine answers slowly; the wait ends as soon as the page is ready


def _why_no_browser() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).is_file():
            return f"{path} not found: install Debian's {package} (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    if reason := _why_no_browser():
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="careerbot-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1200,1000"):
        options.add_argument(flag)
    try:
        browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    except Exception as exc:  # an installed but unusable browser: say why, don't fail every test
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"Chromium did not start: {str(exc).splitlines()[0]}")
    browser.set_page_load_timeout(WAIT_SECONDS)
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def driver_without_js() -> Iterator[Any]:
    """The same browser with JavaScript switched off: the plain forms must work on their own."""
    if reason := _why_no_browser():
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="careerbot-chromium-nojs-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1200,1000"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    try:
        browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    except Exception as exc:
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"Chromium did not start: {str(exc).splitlines()[0]}")
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)


@contextmanager
def _serve(app: web.Application) -> Iterator[str]:
    """`app` on a free port of 127.0.0.1, served from its own thread and event loop; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app, access_log=None)
    started = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(30), "the web app did not start"
    yield f"http://127.0.0.1:{port}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)


@pytest.fixture
def site(settings: Settings, brain: Brain, store: Store) -> Iterator[str]:
    """The web app on the real brain and store."""
    with _serve(build_web_app(replace(settings, admin_token=ADMIN_TOKEN, public_url=""), brain, store)) as url:
        yield url


class HeldBrain:
    """The real brain, with its replies held back until `release()`: a press can be caught in flight.

    Only the timing is the test's; every reply is the real brain's.
    """

    def __init__(self, brain: Brain) -> None:
        self.brain = brain
        self.held = threading.Event()
        self.arrived = threading.Event()
        self.inbounds: list[Inbound] = []

    def hold(self) -> None:
        self.arrived.clear()
        self.held.set()

    def release(self) -> None:
        self.held.clear()

    async def handle(self, inbound: Inbound) -> Reply:
        self.inbounds.append(inbound)
        self.arrived.set()
        while self.held.is_set():
            await asyncio.sleep(0.01)
        return await self.brain.handle(inbound)


@pytest.fixture
def held_site(settings: Settings, brain: Brain, store: Store) -> Iterator[tuple[str, HeldBrain]]:
    """The web app on a `HeldBrain`."""
    held = HeldBrain(brain)
    with _serve(build_web_app(replace(settings, admin_token=ADMIN_TOKEN, public_url=""), held, store)) as url:
        yield url, held


@pytest.fixture
def browser(driver: Any, site: str) -> Any:
    driver.delete_all_cookies()
    driver.get(site + "/")
    driver.delete_all_cookies()  # a fresh browser session per test
    driver.set_window_size(1200, 1000)
    driver.get(site + "/")
    return driver


def _wait(driver: Any, condition: Any) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # The enhanced page swaps the transcript's HTML: an element read just before may be gone.
    return WebDriverWait(driver, WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def _transcript_html(driver: Any) -> str:
    return driver.execute_script("return document.getElementById('transcript').innerHTML")


def _bot_entries(driver: Any) -> list[Any]:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, "#transcript .entry.bot")


def _last_bot_text(driver: Any) -> str:
    """The newest bot entry's text, or "" while the page is between loads (a form post redirects)."""
    entries = _bot_entries(driver)
    return entries[-1].text if entries else ""


def _ask(driver: Any, text: str) -> Any:
    """Type into the labelled box and press Enter; return the new bot entry once it is shown."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    before = len(_bot_entries(driver))
    box = driver.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)
    box.send_keys(Keys.ENTER)
    _wait(driver, lambda d: len(_bot_entries(d)) > before)
    return _bot_entries(driver)[-1]


def _screenshot(driver: Any, name: str, tmp_path: Path) -> None:
    driver.save_screenshot(str(tmp_path / name))
    target = os.environ.get("CAREERBOT_TEST_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tmp_path / name, Path(target) / name)


def test_question_gets_a_cited_answer(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    label = browser.find_element(By.CSS_SELECTOR, "label[for=text]")
    assert label.text == "Your message"
    entry = _ask(browser, "What does an AI engineer do day to day?")
    announced = browser.find_element(By.ID, "announce").get_attribute("textContent")
    assert announced.startswith("careerbot: ") and len(announced) > 40  # read once by screen readers
    links = entry.find_elements(By.CSS_SELECTOR, ".sources a")
    assert links and all(a.get_attribute("href").startswith("http") for a in links)
    assert entry.find_elements(By.CSS_SELECTOR, "a.cite") or links  # "[1]" links to the source list
    _ask(browser, "Do I need calculus to become an AI engineer?")
    browser.execute_script("window.scrollTo(0, 0)")
    _screenshot(browser, "playground.png", tmp_path)


def test_follow_up_uses_the_previous_turn(browser: Any) -> None:
    _ask(browser, "What does an ML engineer do?")
    follow_up = _ask(browser, "and what about the pay?")
    text = follow_up.text.lower()
    assert ("salar" in text or "pay" in text or "$" in text) and "can't help with that" not in text


def test_typed_script_is_shown_as_text_and_never_runs(browser: Any) -> None:
    from selenium.webdriver.common.by import By

    typed = "<script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\">"
    _ask(browser, typed)
    mine = browser.find_elements(By.CSS_SELECTOR, "#transcript .entry.user")[-1]
    assert typed in mine.text
    assert browser.execute_script("return window.pwned === undefined")
    browser.refresh()  # the server-rendered page (no JavaScript swap) shows it as text as well
    assert typed in browser.find_elements(By.CSS_SELECTOR, "#transcript .entry.user")[-1].text
    assert browser.execute_script("return window.pwned === undefined")


def test_quiz_to_the_end_shows_the_chart(browser: Any, site: str, tmp_path: Path) -> None:
    """Every question answered once, by mouse and by keyboard, up to the chart."""
    from selenium.webdriver.common.by import By

    browser.find_element(By.XPATH, "//button[normalize-space()='Take the fit quiz']").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#transcript .entry.bot .buttons button"))
    for step in range(40):
        if browser.find_elements(By.CSS_SELECTOR, "#transcript figure.chart img"):
            break
        shown = re.search(r"Question (\d+) of (\d+)", _bot_entries(browser)[-1].text)
        assert shown and int(shown.group(1)) == step + 1, "each press moves on by exactly one question"
        _press_and_wait(browser, lambda d, step=step: _press_option(d, step, keyboard=step % 2 == 1))
    image = _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#transcript figure.chart img"))
    _wait(browser, lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image))
    assert "quiz profile" in image.get_attribute("alt").lower()
    notes = [n.text for n in browser.find_elements(By.CSS_SELECTOR, "#transcript .note")]
    assert not notes, notes  # no press was refused or counted twice
    browser.execute_script("arguments[0].scrollIntoView()", image)
    _screenshot(browser, "quiz.png", tmp_path)


def test_a_pressed_question_takes_no_second_press(held_site: tuple[str, HeldBrain], driver: Any) -> None:
    """While a press is answered, the question's other buttons are disabled, so it is answered once."""
    from selenium.webdriver.common.by import By

    site, held = held_site
    driver.delete_all_cookies()
    driver.get(site + "/")
    driver.find_element(By.XPATH, "//button[normalize-space()='Take the fit quiz']").click()
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#transcript .entry.bot .buttons button"))
    held.hold()
    _bot_entries(driver)[-1].find_elements(By.CSS_SELECTOR, ".buttons button")[0].click()
    assert held.arrived.wait(WAIT_SECONDS), "the press did not reach the server"
    entry = _bot_entries(driver)[-1]
    buttons = entry.find_elements(By.CSS_SELECTOR, ".buttons button")
    assert len(buttons) > 2 and all(not b.is_enabled() for b in buttons)
    assert driver.execute_script("return document.getElementById('transcript').getAttribute('aria-busy')") == "true"
    buttons[1].click()  # a second option of the same question, before the reply: nothing is sent
    held.release()
    _wait(driver, lambda d: _settled(d) and "Question 2 of" in _last_bot_text(d))
    assert [i.action for i in held.inbounds if i.action] == [held.inbounds[-1].action]
    assert not driver.find_elements(By.CSS_SELECTOR, "#transcript .note")


def _settled(driver: Any) -> bool:
    """No post of the page is in flight (app.js marks the transcript aria-busy meanwhile)."""
    return bool(driver.execute_script("return !document.getElementById('transcript').hasAttribute('aria-busy')"))


def _press_and_wait(driver: Any, press: Any) -> None:
    """Press, then wait for the reply: the transcript changed and no post is in flight.

    A change alone is not the reply: app.js disables the pressed entry's buttons at once, which
    changes the transcript's HTML before the server has answered.
    """
    before = _transcript_html(driver)
    _wait(driver, press)
    _wait(driver, lambda d: _settled(d) and _transcript_html(d) != before)


def _press_option(driver: Any, step: int, *, keyboard: bool = False) -> bool:
    """Press one of the current question's options (alternating, so the answers differ).

    By keyboard: the page moved focus to the new question, so Tab reaches its options in order
    and Space presses the one reached.
    """
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    entry = _bot_entries(driver)[-1]
    rows = entry.find_elements(By.CSS_SELECTOR, ".buttons")
    if not rows:
        return False
    options = rows[0].find_elements(By.TAG_NAME, "button")
    choice = options[step % len(options)]
    if not keyboard:
        choice.click()
        return True
    assert driver.switch_to.active_element == entry, "after a reply the focus is on it"
    ActionChains(driver).send_keys(Keys.TAB * (step % len(options) + 1)).perform()
    assert driver.switch_to.active_element == choice
    ActionChains(driver).send_keys(Keys.SPACE).perform()
    return True


def test_helpful_vote_shows_on_the_dashboard(browser: Any, site: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    entry = _ask(browser, "Do AI engineers need to know calculus?")
    entry.find_element(By.XPATH, ".//button[normalize-space()='Helpful']").send_keys(Keys.ENTER)  # by keyboard
    _wait(browser, lambda d: "Thanks for the feedback" in _last_bot_text(d))
    other = _ask(browser, "What is the first skill to learn for ML engineering?")
    other.find_element(By.XPATH, ".//button[normalize-space()='Not helpful']").click()
    _wait(browser, lambda d: "Thanks for the feedback" in _last_bot_text(d))
    _ask(browser, "What is the best sourdough bread recipe?")

    browser.get(site + "/admin")
    browser.find_element(By.ID, "token").send_keys(ADMIN_TOKEN)
    browser.find_element(By.XPATH, "//button[normalize-space()='Sign in']").click()
    _wait(browser, lambda d: d.find_elements(By.ID, "votes-helpful"))
    assert browser.find_element(By.ID, "votes-helpful").text == "1"
    assert browser.find_element(By.ID, "votes-not-helpful").text == "1"
    table = browser.find_element(By.ID, "feedback-table").text
    assert "Do AI engineers need to know calculus?" in table
    assert table.index("first skill to learn") < table.index("need to know calculus")  # worst first
    assert "sourdough" in browser.find_element(By.ID, "oos-title").find_element(By.XPATH, "..").text
    browser.set_window_size(1200, 2000)
    _screenshot(browser, "dashboard.png", tmp_path)


def test_dashboard_refuses_missing_and_wrong_tokens(browser: Any, site: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(site + "/admin")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Admin sign-in"
    assert not browser.find_elements(By.ID, "votes-helpful")
    browser.find_element(By.ID, "token").send_keys("not-the-admin-token")
    browser.find_element(By.XPATH, "//button[normalize-space()='Sign in']").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "p.error"))
    assert "not right" in browser.find_element(By.CSS_SELECTOR, "p.error").text
    assert not browser.find_elements(By.ID, "votes-helpful")
    browser.get(site + "/admin/feedback.csv")
    assert "Admin sign-in" in browser.page_source


def test_the_plain_forms_work_without_javascript(driver_without_js: Any, site: str) -> None:
    from selenium.webdriver.common.by import By

    browser = driver_without_js
    browser.get(site + "/")
    browser.find_element(By.ID, "text").send_keys("What does an ML engineer do?")
    browser.find_element(By.XPATH, "//button[normalize-space()='Send']").click()
    _wait(browser, lambda d: _bot_entries(d))
    assert "/#e" in browser.current_url  # the post-and-redirect path, not the script's in-place swap
    entry = _bot_entries(browser)[-1]
    assert entry.find_elements(By.CSS_SELECTOR, ".sources a")
    entry.find_element(By.XPATH, ".//button[normalize-space()='Helpful']").click()
    _wait(browser, lambda d: "Thanks for the feedback" in _last_bot_text(d))
