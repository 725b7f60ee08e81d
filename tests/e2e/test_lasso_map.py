"""The map's own lasso and box (core.lasso_map) in Chromium: exactly the points inside."""
from __future__ import annotations

import pytest

from core.lasso_probe import lasso_trial

pytestmark = pytest.mark.e2e


def test_lasso_then_shift_box_selects_exactly_the_points_inside(page, tmp_path):
    trial = lasso_trial(page, 2000, tmp_path, engine="lasso_map")
    lo, hi = trial["expected"]
    assert trial["responds"] and lo <= trial["selected"] <= hi, str(trial)

    # Shift + box adds the points of a box in data units x 5..7, y 5..7 (empty corner of
    # the lasso's quarter, so the two shapes do not overlap).
    box_count = page.evaluate("""() => {
      const gd = document.querySelector('.js-plotly-plot');
      let n = 0;
      gd._fullData.forEach(t => { for (let i = 0; i < t.x.length; i++)
        if (t.x[i] >= 5 && t.x[i] <= 7 && t.y[i] >= 5 && t.y[i] <= 7) n++; });
      return n;
    }""")
    area = page.locator(".nsewdrag").first.bounding_box()

    def px(x: float, y: float) -> tuple[float, float]:  # fixed ranges -4..10 on both axes
        return (area["x"] + (x + 4) / 14 * area["width"],
                area["y"] + (10 - y) / 14 * area["height"])

    page.get_by_role("button", name="Box").click()
    page.keyboard.down("Shift")
    page.mouse.move(*px(5, 7))
    page.mouse.down()
    page.mouse.move(*px(7, 5), steps=5)
    page.mouse.up()
    page.keyboard.up("Shift")
    page.wait_for_function(f"window.__sel && window.__sel.n !== {trial['selected']}")
    got = page.evaluate("window.__sel.n")
    assert trial["selected"] + box_count - 30 <= got <= trial["selected"] + box_count + 30
    assert page.get_by_text(f"{got:,} selected").is_visible()

    page.get_by_role("button", name="Clear").click()
    page.wait_for_function("window.__sel.n === 0")
