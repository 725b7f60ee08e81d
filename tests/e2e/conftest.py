"""Browser end-to-end fixtures: `streamlit run app.py` on a free port, headless Chromium."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PROTLENS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_app(home: Path, log_path: Path):
    """`streamlit run app.py` with workspace ``home`` on a free port; yields its base URL."""
    port = _free_port()
    env = dict(os.environ, PROTLENS_HOME=str(home))
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
           "--server.headless", "true", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    log = open(log_path, "w+")  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"streamlit exited early:\n{log.read()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not answer its health check within 120 s")
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """A running dashboard with its own empty workspace; yields its base URL."""
    with serve_app(tmp_path_factory.mktemp("e2e_ws"),
                   tmp_path_factory.mktemp("e2e_log") / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(90_000)
    yield page
    context.close()


def wait_idle(page, quiet_s: float = 1.5, timeout_s: float = 120) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector('[data-testid="stApp"]')
    t0, quiet_since = time.time(), None
    while time.time() - t0 < timeout_s:
        running = page.locator('[data-testid="stStatusWidget"]').count() > 0
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.time()
        elif time.time() - quiet_since > quiet_s:
            return
        time.sleep(0.25)
    raise AssertionError(f"the app kept running for more than {timeout_s:.0f} s")


def activate_upload(page, app_url: str, path: Path):
    """Open the dashboard, upload ``path`` on the Data page and make it the active data set;
    returns the sidebar navigation locator."""
    page.goto(app_url)
    wait_idle(page)
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_role("link", name="Data").click()
    page.get_by_role("heading", name="Data").wait_for()
    wait_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    page.get_by_role("button", name="Use this data set").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Use this data set").click()
    page.get_by_text("is the active data set").wait_for()
    return nav


def open_with_upload(page, app_url: str, path: Path, link: str, heading: str) -> None:
    """Upload ``path`` as the active data set, open the page ``link`` (its title ``heading``)
    and pick "Active data set" as its data."""
    nav = activate_upload(page, app_url, path)
    nav.get_by_role("link", name=link).click()
    page.get_by_role("heading", name=heading).wait_for()
    wait_idle(page)
    page.get_by_text("Active data set").click()
    wait_idle(page)
