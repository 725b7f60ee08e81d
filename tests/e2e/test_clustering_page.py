"""A biologist uploads three families, clusters them and reads the NMI curve and confusion."""
from __future__ import annotations

import pytest

from tests.conftest import shared_data_or_skip
from tests.e2e.conftest import open_with_upload

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_upload_cluster_and_see_curve_and_confusion(page, app_url, tmp_path):
    shared_data_or_skip("scan10")
    from core.datasets import load

    table = load("scan10")
    families = sorted(table["family_name"].unique())[:3]
    subset = table[table["family_name"].isin(families)].groupby("family_name").head(30)
    csv = tmp_path / "three_families.csv"
    subset[["id", "sequence", "family_name"]].to_csv(csv, index=False)

    open_with_upload(page, app_url, csv, "Clustering", "Clustering without labels")
    page.get_by_role("button", name="Cluster", exact=True).click()
    plot = page.locator(".js-plotly-plot").filter(has_text="NMI during SeqSCAN training")
    plot.wait_for(timeout=600_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.get_by_role("tab", name="Confusion").click()
    page.locator(".js-plotly-plot").filter(has_text="Hungarian-matched confusion").wait_for()

    # A click on a confusion cell lists that cell's proteins.
    confusion = page.locator(".js-plotly-plot").filter(has_text="Hungarian-matched confusion")
    confusion.scroll_into_view_if_needed()
    confusion.locator(".heatmaplayer").wait_for()  # drawn: axes and data are laid out
    x, y, cluster, family, count = confusion.evaluate(
        """(el) => { const L = el._fullLayout, xa = L.xaxis, ya = L.yaxis, d = el.data[0];
                     const r = el.getBoundingClientRect();
                     return [r.left + xa._offset + xa.l2p(1), r.top + ya._offset + ya.l2p(1),
                             d.x[1], d.y[1], d.text[1][1]]; }""")  # z travels base64-packed
    page.mouse.click(x, y)
    page.get_by_text(f"{int(count)} protein(s) of {family} in cluster {cluster}").wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
