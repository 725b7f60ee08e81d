"""A biologist uploads sequences with descriptions, trains the retrieval model, types a query
and sees ranked proteins and the score-distribution plot."""
from __future__ import annotations

import pytest

from tests.core.test_text import tiny_table
from tests.e2e.conftest import open_with_upload, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_upload_train_search_and_see_score_shift(page, app_url, tmp_path):
    csv = tmp_path / "amr_tiny.csv"
    tiny_table().to_csv(csv, index=False)

    open_with_upload(page, app_url, csv, "Text search", "Text search")
    page.get_by_text("Thresholds and training").click()
    for label, value in (("Base epochs", "3"), ("Fine-tune epochs", "2")):
        box = page.get_by_label(label)
        box.fill(value)
        box.press("Enter")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_role("tab", name="Score shift").wait_for(timeout=600_000)
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0

    page.get_by_label("Query").fill("confers resistance to carbapenems")
    page.get_by_role("button", name="Search").click()
    wait_idle(page)
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0

    page.get_by_role("tab", name="Score shift").click()
    page.locator(".js-plotly-plot").filter(has_text="Score distribution shift").wait_for()
