"""The console page in a real browser: Debian's chromium, driven by selenium."""

from __future__ import annotations

import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import ALICE, ALICE_ID
from tests.push_helpers import api_call, push_stack

C = "/buckets/b/collections/c"


def chromium(tmp_path):
    """Headless chromium on a fresh profile; fails (never skips) when it is not installed."""
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.fail("chromium and chromium-driver are needed (.ci/run installs them with apt-get)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


@pytest.mark.slow
def test_the_console_shows_a_record_created_over_http(tmp_path, redis_url, listname):
    settings = {
        "notifier.outbox.admin_principals": ALICE_ID,
        # A listener that always fails, so that the console has dead letters to replay.
        "notifier.event_listeners": "stream broken",
        "notifier.event_listeners.broken.use": "tests.listeners.recorder",
        "notifier.event_listeners.broken.fail_first": "1000000",
        "notifier.outbox.max_attempts": "1",
    }
    with push_stack(tmp_path, redis_url, listname, **settings) as stack:
        api_call(stack.api, "PUT", "/buckets/b", ALICE, {})
        api_call(stack.api, "PUT", C, ALICE, {})
        browser = chromium(tmp_path)
        try:
            wait = WebDriverWait(browser, 30)
            browser.get(stack.push + "/console")
            browser.find_element(By.ID, "user").send_keys("token")
            browser.find_element(By.ID, "password").send_keys("alice-token")
            bucket = browser.find_element(By.ID, "bucket")
            bucket.clear()
            bucket.send_keys("b")
            browser.find_element(By.ID, "collection").send_keys("c")
            browser.find_element(By.ID, "subscribe").click()
            wait.until(lambda b: b.find_element(By.ID, "status").text == "live")
            api_call(stack.api, "PUT", f"{C}/records/from-http", ALICE, {"data": {"n": 1}})
            row = wait.until(
                lambda b: b.find_elements(By.CSS_SELECTOR, '#events tr[data-id="from-http"]')
            )[0]
            assert row.get_attribute("data-action") == "create"
            listener = wait.until(
                lambda b: b.find_elements(By.CSS_SELECTOR, "#listeners button[data-listener]")
            )[0]
            assert listener.get_attribute("data-listener") == "stream"
            screenshot = tmp_path / "console.png"
            assert browser.save_screenshot(str(screenshot))
            assert screenshot.stat().st_size > 1000
        finally:
            browser.quit()
