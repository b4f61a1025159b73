"""In a real browser (the system's headless Chromium, driven by Playwright)
against a real ``onewindow run``: a citizen files a request in the web chat;
a caseworker signs in with the link the shell gives, filters the queue,
replies, and the reply appears on the citizen's page. Screenshots of the
overview, on a desk and on a phone, are kept in ``test-artefacts/``."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI
from tests.test_cli import onewindow
from tests.test_webchat import _free_port

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT / "test-artefacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
GULISTAN = {"latitude": 40.4897, "longitude": 68.7842}

if CHROMIUM is None:
    if IN_CI:
        pytest.fail("the browser tests need Chromium in CI (.ci/run installs Debian's chromium)", pytrace=False)
    pytest.skip("no Chromium on this machine (apt-get install chromium)", allow_module_level=True)

playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def server(tmp_path):
    """``onewindow run`` with no channel: the web chat and the dashboard on a port of its own."""
    port = _free_port()
    env = {"WEB_PORT": str(port), "DASHBOARD_SECRET": "a-dashboard-secret-for-tests", "EXPORT_PSEUDONYM_KEY": "a-pseudonym-key-for-tests",
           "PUBLIC_URL": f"http://127.0.0.1:{port}"}
    assert onewindow("staff", "add", "--console", "karim", "--role", "caseworker", "--department", "utilities", "--name", "Karim",
                     cwd=tmp_path, env=env).returncode == 0
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TWILIO_", "DATABASE_URL"))}
    environment.update({"DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}, **env)
    bot = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=environment,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    yield url, (lambda: onewindow("staff", "link", "--name", "Karim", cwd=tmp_path, env=env).stdout.splitlines()[-1])
    bot.send_signal(signal.SIGTERM)
    bot.wait(timeout=30)


def test_a_request_from_the_web_chat_answered_from_the_dashboard(server):
    url, link = server
    ARTEFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        citizen = browser.new_context(locale="en-GB", geolocation=GULISTAN, permissions=["geolocation"]).new_page()
        citizen.goto(f"{url}/chat")
        citizen.fill("#text", "hello")
        citizen.press("#text", "Enter")
        citizen.get_by_text("Where do you live?").wait_for()
        citizen.click("#where")  # shares the browser's location
        citizen.get_by_role("button", name="Yes, I agree").click()
        citizen.fill("#text", "Three days without electricity in our street")
        citizen.press("#text", "Enter")
        citizen.get_by_role("button", name=re.compile("Yes, send it")).last.click()
        filed = citizen.get_by_text(re.compile(r"[A-Z0-9]{3}-[A-Z0-9]{3}")).last
        try:
            filed.wait_for()
        finally:
            citizen.screenshot(path=ARTEFACTS / "chat.png", full_page=True)
        code = re.search(r"[A-Z0-9]{3}-[A-Z0-9]{3}", filed.inner_text()).group(0)

        staff = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900}).new_page()
        staff.goto(link())
        staff.get_by_role("button", name="Sign in").click()
        staff.get_by_role("heading", name="Overview").wait_for()
        staff.screenshot(path=ARTEFACTS / "overview-desk.png", full_page=True)
        staff.get_by_role("link", name="Queue").click()
        staff.select_option("select[name=category]", "utilities")
        staff.get_by_role("button", name="Show").click()
        staff.get_by_role("link", name=code).click()
        staff.locator("form:has(input[value=reply]) textarea").fill("A crew comes tomorrow at 9")
        staff.get_by_role("button", name="Reply to the citizen").click()
        assert f"Your reply on {code}" in staff.locator(".answer").inner_text()

        citizen.get_by_text("A crew comes tomorrow at 9").wait_for(timeout=15_000)  # the page reads it from the store

        phone = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        phone_page = phone.new_page()
        phone_page.goto(link())
        phone_page.get_by_role("button", name="Sign in").click()
        phone_page.get_by_role("heading", name="Overview").wait_for()
        assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # no sideways scrolling
        phone_page.screenshot(path=ARTEFACTS / "overview-phone.png", full_page=True)
        browser.close()
    assert (ARTEFACTS / "overview-desk.png").stat().st_size > 10_000
