"""A protein engineer opens the Saliency page on an absorption run: three tracks, a heatmap."""
from __future__ import annotations

import os

import pytest

from tests.conftest import shared_data_or_skip
from tests.e2e.conftest import serve_app, wait_idle
from tests.saliency_fixtures import train_tiny_absorption_run

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def saliency_url(tmp_path_factory):
    """A dashboard whose workspace holds one quick absorption property run."""
    shared_data_or_skip("absorption")
    home = tmp_path_factory.mktemp("saliency_ws")
    train_tiny_absorption_run(home)
    with serve_app(home, tmp_path_factory.mktemp("saliency_log") / "streamlit.log") as url:
        yield url


def test_saliency_page_shows_three_tracks_and_mutation_heatmap(page, saliency_url):
    page.goto(saliency_url)
    wait_idle(page)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Saliency").click()
    page.get_by_role("heading", name="Saliency").wait_for()
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    tracks = page.locator(".js-plotly-plot").filter(has_text="Saliency per residue").first
    tracks.wait_for()
    labels = tracks.locator(".ytick text").all_text_contents()
    assert len(labels) == 3, labels
    assert sorted(lab.split()[0] for lab in labels) == ["least", "most", "parent"]
    assert tracks.locator(".textpoint").count() >= 1  # mutation labels (W122A notation)
    page.get_by_role("tab", name="In-silico mutagenesis").click()
    wait_idle(page)
    heatmap = page.locator(".js-plotly-plot").filter(has_text="Every single substitution")
    heatmap.first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    shot = os.environ.get("PROTLENS_SCREENSHOT_DIR")
    if shot:
        page.screenshot(path=os.path.join(shot, "saliency.png"), full_page=True)
