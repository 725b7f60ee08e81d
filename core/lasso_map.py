"""The explorer's lasso map outside Streamlit: its front-end files and a self-contained HTML page.

The map is plotly.js (from the installed ``plotly`` package, so nothing is downloaded) plus
``assets/components/lasso_map/lasso_map.js``, which draws the lasso/box outline on an overlay
and selects the points inside once, on release (see that file for why). The same script serves
the Streamlit component (:mod:`pages._shared.lasso_map`), the downloadable interactive HTML and
the lasso probe (:mod:`core.lasso_probe`).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "components" / "lasso_map"
SCRIPT = ASSETS / "lasso_map.js"
PAGE = ASSETS / "index.html"


def figure_json(fig) -> str:
    """Plotly JSON of ``fig`` (numpy arrays as base64 typed arrays), safe inside <script>."""
    return fig.to_json().replace("</", "<\\/")


def figure_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def component_dir(cache: Path) -> Path:
    """A folder with the component's page, script and plotly.js, rebuilt when any changes.

    Streamlit serves a component from one folder and refuses links that leave it, so the
    installed plotly.js is copied (4.8 MB, once per plotly version and script version).
    """
    import plotly
    from plotly.offline import get_plotlyjs

    tag = figure_hash(plotly.__version__ + SCRIPT.read_text() + PAGE.read_text())
    folder = Path(cache) / f"lasso_map-{tag}"
    if not (folder / "plotly.min.js").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for src in (SCRIPT, PAGE):
            (folder / src.name).write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
        tmp = folder / "plotly.min.js.part"
        tmp.write_text(get_plotlyjs(), encoding="utf-8")
        tmp.replace(folder / "plotly.min.js")  # atomic: a half-written copy is never served
    return folder


def standalone_html(fig, *, mode: str = "lasso", on_select: str = "",
                    title: str = "ProtLens map") -> str:
    """One HTML file that opens offline: the map with lasso/box selection and "Save ids".

    ``on_select`` is JavaScript run with the selection in ``sel`` ({seq, ids, lasso, box});
    the page sets ``window.__ready`` once plotly has drawn.
    """
    from plotly.offline import get_plotlyjs

    options = json.dumps({"mode": mode, "standalone": True})
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{title.replace('<', '&lt;')}</title>"
        f"<script>{get_plotlyjs()}</script><script>{SCRIPT.read_text(encoding='utf-8')}</script>"
        "</head><body style='margin:0;font-family:sans-serif'><div id='map'></div><script>"
        f"var FIG = {figure_json(fig)};"
        f"var MAP = LassoMap.mount(document.getElementById('map'), FIG, {options},"
        f" function (sel) {{ {on_select} }});"
        "MAP.ready.then(function () { window.__ready = performance.now(); });"
        "</script></body></html>")
