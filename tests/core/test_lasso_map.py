"""The lasso map's front-end files and its self-contained HTML page."""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.lasso_map import component_dir, figure_json, standalone_html
from core.plots_explorer import explorer_map


def _fig(ids):
    table = pd.DataFrame({"id": ids, "family": ["x", "y"] * (len(ids) // 2)})
    return explorer_map(np.arange(2 * len(ids), dtype=float).reshape(-1, 2), table,
                        color="family")


def test_component_folder_holds_page_script_and_plotly_once(tmp_path):
    folder = component_dir(tmp_path)
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["index.html", "lasso_map.js", "plotly.min.js"]
    assert "streamlit:componentReady" in (folder / "index.html").read_text()
    stamp = (folder / "plotly.min.js").stat().st_mtime_ns
    assert component_dir(tmp_path) == folder  # same versions: reused, not rewritten
    assert (folder / "plotly.min.js").stat().st_mtime_ns == stamp


def test_ids_cannot_close_the_script_tag():
    fig = _fig(["a</script><script>alert(1)</script>", "b"])
    assert "</script><script>alert" not in figure_json(fig)
    html = standalone_html(fig, title="<b>map</b>")
    assert html.count("</script>") == 3  # plotly.js, lasso_map.js, the mount script
    assert "<title>&lt;b>map&lt;/b></title>" in html
