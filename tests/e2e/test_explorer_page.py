"""A biologist loads a data set, maps it, lassoes one family and downloads exactly those ids."""
from __future__ import annotations

import math
import os

import pytest

from tests.conftest import _families
from tests.e2e.conftest import open_with_upload, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Pixel positions of every point of the map, by trace name, inside the map's iframe.
POINTS_JS = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.getBoundingClientRect();
  // _fullData holds decoded arrays (gd.data may hold plotly's base64 typed-array specs)
  return gd._fullData.map(t => ({name: t.name, points: Array.from(t.x).map((x, i) => ({
      id: t.customdata[i][0],
      px: box.left + xa._offset + xa.l2p(x),
      py: box.top + ya._offset + ya.l2p(t.y[i])}))}));
}"""
MAP = "iframe[title*='protlens_lasso_map']"


def _inside(poly, x, y) -> bool:
    """Even-odd rule point-in-polygon (pixels)."""
    inside = False
    for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def test_lasso_a_family_and_download_exactly_its_ids(page, app_url, tmp_path):
    table = _families(n_per=20, seed=3)
    csv = tmp_path / "families.csv"
    table.to_csv(csv, index=False)
    open_with_upload(page, app_url, csv, "Embedding Explorer", "Embedding Explorer")
    page.get_by_role("button", name="Embed and map").click()
    page.frame_locator(MAP).locator(".js-plotly-plot .nsewdrag").first.wait_for()
    wait_idle(page)
    page.locator(MAP).scroll_into_view_if_needed()
    page.wait_for_timeout(1000)

    iframe = page.locator(MAP).element_handle()
    origin = iframe.bounding_box()  # the map's points are drawn inside the component's iframe
    traces = iframe.content_frame().evaluate(POINTS_JS)
    for t in traces:
        for p in t["points"]:
            p["px"] += origin["x"]
            p["py"] += origin["y"]
    family = next(t for t in traces if t["name"] == "F0")
    others = [p for t in traces if t["name"] != "F0" for p in t["points"]]
    cx = sum(p["px"] for p in family["points"]) / len(family["points"])
    cy = sum(p["py"] for p in family["points"]) / len(family["points"])
    radius = max(math.hypot(p["px"] - cx, p["py"] - cy) for p in family["points"]) + 6
    poly = [(cx + radius * math.cos(2 * math.pi * k / 32),
             cy + radius * math.sin(2 * math.pi * k / 32)) for k in range(32)]
    expected = {p["id"] for t in traces for p in t["points"] if _inside(poly, p["px"], p["py"])}
    assert {p["id"] for p in family["points"]} <= expected
    assert not any(_inside(poly, p["px"], p["py"]) for p in others), "family not separated"

    page.mouse.move(*poly[0])
    page.mouse.down()
    for x, y in poly[1:] + poly[:1]:
        page.mouse.move(x, y, steps=3)
    page.mouse.up()
    page.get_by_text(f"{len(expected)} selected").wait_for()
    wait_idle(page)
    shot = os.environ.get("PROTLENS_SCREENSHOT_DIR")
    if shot:
        page.screenshot(path=os.path.join(shot, "explorer_lasso.png"), full_page=True)
    page.get_by_role("tab", name="Selection", exact=True).click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Ids (txt)").click()
    ids = open(download.value.path(), encoding="utf-8").read().split()
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == expected
