"""How many points the explorer's map keeps interactive: a lasso probe in headless Chromium.

For each size N, the explorer's own figure (:func:`core.plots_explorer.explorer_map`, WebGL,
ids in customdata, 5 categories) of N clustered points is written as a self-contained HTML
file and opened in Debian's Chromium (Playwright, ``--disable-gpu``: WebGL runs in software).
A lasso (a 24-gon around one quarter of the plot) is drawn with the mouse. ``engine`` picks
what draws the lasso: ``"lasso_map"`` (the page's map, :mod:`core.lasso_map`: outline on an
overlay, points tested once on release) or ``"plotly"`` (plotly.js's own lasso, which re-tests
and re-draws every point while the mouse moves).

**Responds** means all three: (1) while the lasso is drawn, the mean time per mouse move is
at most ``lag_s`` (0.1 s) above that of the first, 1,000-point map (the outline follows the
hand; the baseline absorbs the browser-automation overhead on a loaded machine), (2) plotly's
``plotly_selected`` event arrives within ``limit_s`` (2 s) of releasing the mouse, and (3) it
holds exactly the points whose coordinates lie inside the drawn polygon (counted independently
with matplotlib's Path; points within 1.5 pixels of the edge are ignored in that
comparison, because browsers report mouse positions in whole pixels). ``max_interactive_points`` is the largest N that responds.
Needs the ``playwright`` package and a Chromium; returns ``None`` without them.
"""
from __future__ import annotations

import logging
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

EDGE_PX = 1.5  # mouse events carry whole-pixel positions: points this close to the edge may go
# either way
SIZES = (1_000, 10_000, 30_000, 100_000, 200_000, 300_000, 500_000, 1_000_000)
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
POST = """
window.__sel = null; window.__ready = performance.now();
var gd = document.getElementById('{plot_id}');
gd.on('plotly_selected', function(e) {
  window.__sel = {n: e && e.points ? e.points.length : 0, t: performance.now(),
                  ids: e && e.points ? e.points.slice(0, 5).map(p => p.customdata[0]) : []};
});
"""


def probe_figure(n: int, seed: int = 0):
    """The explorer map of ``n`` synthetic points in 5 Gaussian clusters (and the coords)."""
    from core.plots_explorer import explorer_map

    rng = np.random.default_rng(seed)
    group = rng.integers(0, 5, n)
    centres = np.array([[0, 0], [6, 0], [0, 6], [6, 6], [3, 3]], dtype=np.float32)
    coords = (centres[group] + rng.normal(size=(n, 2))).astype(np.float32)
    table = pd.DataFrame({"id": [f"p{i}" for i in range(n)], "family": group.astype(str)})
    fig = explorer_map(coords, table, color="family", hover=["family"], height=700)
    fig.update_layout(width=1000, xaxis_range=[-4, 10], yaxis_range=[-4, 10])
    return fig, coords


def _lasso_polygon(box: dict, k: int = 24) -> list[tuple[float, float]]:
    """A k-gon (pixels) around the lower-left quarter of the plot area."""
    cx, cy = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.7
    r = min(box["width"], box["height"]) * 0.22
    return [(cx + r * math.cos(2 * math.pi * i / k), cy + r * math.sin(2 * math.pi * i / k))
            for i in range(k)]


def _expected(coords: np.ndarray, poly_px, box: dict) -> tuple[int, int]:
    """Points inside the pixel polygon, mapped to data units (fixed ranges -4..10): (sure, edge)."""
    from matplotlib.path import Path as MplPath

    px = np.array(poly_px)
    xd = -4 + (px[:, 0] - box["x"]) / box["width"] * 14
    yd = 10 - (px[:, 1] - box["y"]) / box["height"] * 14
    path = MplPath(np.column_stack([xd, yd]))
    edge = EDGE_PX * 14 / min(box["width"], box["height"])
    inner = path.contains_points(coords, radius=-edge).sum()
    outer = path.contains_points(coords, radius=edge).sum()
    lo, hi = sorted((int(inner), int(outer)))
    return lo, hi


ENGINES = ("lasso_map", "plotly")
HOOK = "window.__sel = {n: sel.ids.length, t: performance.now(), ids: sel.ids.slice(0, 5)};"


def _write_map(fig, html: Path, engine: str) -> None:
    from core.config import check_choice

    check_choice("engine", engine, ENGINES)
    if engine == "plotly":
        fig.write_html(html, include_plotlyjs=True, post_script=POST)
    else:
        from core.lasso_map import standalone_html

        html.write_text(standalone_html(fig, on_select=HOOK), encoding="utf-8")


def lasso_trial(page, n: int, folder: Path, *, limit_s: float = 2.0,
                engine: str = "lasso_map") -> dict:
    """Load the map of ``n`` points, draw the lasso, time the selection event."""
    fig, coords = probe_figure(n)
    html = folder / f"map_{engine}_{n}.html"
    _write_map(fig, html, engine)
    t0 = time.perf_counter()
    page.goto(html.as_uri(), timeout=600_000)
    page.wait_for_function("window.__ready !== undefined", timeout=600_000)
    page.wait_for_timeout(500)
    load_s = time.perf_counter() - t0
    box = page.locator(".nsewdrag").first.bounding_box()
    poly = _lasso_polygon(box)
    t0 = time.perf_counter()
    page.mouse.move(*poly[0])
    page.mouse.down()
    for x, y in poly[1:] + poly[:1]:
        page.mouse.move(x, y, steps=2)
    page.mouse.up()
    released = time.perf_counter()
    drag_s = released - t0
    got = None
    while time.perf_counter() - released < max(limit_s, 10.0):
        got = page.evaluate("window.__sel")
        if got is not None:
            break
        page.wait_for_timeout(20)
    response_s = time.perf_counter() - released if got is not None else None
    lo, hi = _expected(coords, poly, box)
    exact = got is not None and lo <= got["n"] <= hi
    responds = bool(exact and response_s is not None and response_s <= limit_s)
    trial = {"n": n, "engine": engine, "load_s": round(load_s, 2), "drag_s": round(drag_s, 2),
             "move_s": round(drag_s / (2 * len(poly)), 4),
             "response_s": None if response_s is None else round(response_s, 3),
             "selected": None if got is None else got["n"], "expected": [lo, hi],
             "responds": responds}
    log.info("lasso probe %s", trial)
    return trial


def max_interactive_points(sizes=None, *, limit_s: float = 2.0, lag_s: float = 0.1,
                           engine: str = "lasso_map") -> dict | None:
    """Largest N whose lasso responds (module docstring); ``None`` without a browser."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        log.warning("playwright is not installed: no lasso probe")
        return None
    if not Path(CHROMIUM).exists():
        log.warning("no Chromium at %s: no lasso probe", CHROMIUM)
        return None
    trials, best = [], 0
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for n in sizes or SIZES:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            try:
                trial = lasso_trial(page, n, Path(tmp), limit_s=limit_s, engine=engine)
            except Exception as exc:  # a page that crashes or times out does not respond
                trial = {"n": n, "responds": False, "error": str(exc).splitlines()[0][:200]}
            finally:
                page.close()
            if trials and "move_s" in trial and "move_s" in trials[0]:
                trial["lag_ok"] = trial["move_s"] <= trials[0]["move_s"] + lag_s
                trial["responds"] = bool(trial["responds"] and trial["lag_ok"])
            trials.append(trial)
            if not trial["responds"]:
                break
            best = n
        browser.close()
    return {"max_interactive_points": best, "engine": engine, "trials": trials,
            "definition": f"mean lasso mouse-move time within {lag_s:g} s of the 1,000-point "
                          f"map's, plotly_selected within {limit_s:g} s of releasing a 24-gon "
                          "lasso, with exactly the points inside it (headless Chromium, "
                          "--disable-gpu)"}
