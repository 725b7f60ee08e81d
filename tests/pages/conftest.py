"""AppTest helpers: start from app.py, switch to a page, generous timeout (torch imports)."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TIMEOUT = 90


@pytest.fixture
def app(workspace):
    """An AppTest of app.py with an isolated workspace; call ``open_page`` on it."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    at.switch_page(f"pages/views/{page}")  # relative to app.py, as AppTest expects
    at.run()
    return at


def wait_for_run(store, run_id: str, seconds: float = 600):
    """The run once it is no longer queued or running (or after ``seconds``)."""
    import time

    deadline = time.time() + seconds
    while store.get(run_id).active and time.time() < deadline:
        time.sleep(1)
    return store.get(run_id)
