"""A biologist trains family fingerprints on three pfam25 families and reads the BLOSUM62
reconstruction bars and the per-family classification table."""
from __future__ import annotations

import os

import pytest

from tests.conftest import shared_data_or_skip
from tests.e2e.conftest import open_with_upload, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
FAMILIES = ["HTH_1", "Maf", "SRP54_N"]


def _number(page, label: str, value: int) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Tab")


def test_three_families_bars_and_classification_table(page, app_url, tmp_path):
    shared_data_or_skip("pfam25")
    from core.datasets import load

    table = load("pfam25")
    subset = table[table["family_id"].isin(FAMILIES)].groupby("family_id").head(40)
    csv = tmp_path / "three_families.csv"
    subset[["id", "sequence", "aligned", "family_id"]].to_csv(csv, index=False)

    open_with_upload(page, app_url, csv, "Families", "Family fingerprints")
    page.get_by_text("in 3 families").wait_for()
    _number(page, "Sequences per family", 20)
    _number(page, "VAE epochs", 3)
    _number(page, "CNN epochs", 3)
    page.get_by_role("button", name="Train", exact=True).click()
    bars = page.locator(".js-plotly-plot").filter(has_text="mean BLOSUM62")
    bars.wait_for(timeout=600_000)
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.locator(".js-plotly-plot").filter(has_text="most common original").wait_for()
    page.get_by_role("heading", name="6 · Family classifier").wait_for()
    table = page.locator('[data-testid="stDataFrame"]').filter(has_text="Paper average")
    table.wait_for()
    shots = os.environ.get("PROTLENS_SHOTS")
    if shots:
        page.screenshot(path=os.path.join(shots, "families.png"), full_page=True)
