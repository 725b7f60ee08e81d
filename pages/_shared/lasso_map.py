"""The explorer's map as a Streamlit component: plotly drawing, overlay lasso/box selection.

``st.plotly_chart``'s lasso re-tests and re-draws every point on each mouse move, which stalls
above ~10,000 points in a browser without GPU (``core.lasso_probe``); this component keeps the
outline on an overlay and selects once on release (``assets/components/lasso_map``).
"""
from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from core.config import Settings
from core.lasso_map import component_dir, figure_hash, figure_json

CLEAR = "{key}.clear"  # a counter: bumping it clears the drawn selection
SEEN = "{key}.seen"  # seq of the last selection handed to the page


@st.cache_resource(show_spinner=False)
def _component():
    folder = component_dir(Settings.from_env().home / "cache" / "components")
    return components.declare_component("protlens_lasso_map", path=str(folder))


def lasso_map(fig, *, key: str, height: int | None = None, mode: str = "lasso") -> dict | None:
    """Draw ``fig``; return a *new* selection ({ids, lasso, box}) once, else ``None``.

    Ids come from ``customdata[0]`` of the points inside the drawn shapes (Shift adds a
    shape to the selection); "Clear" in the map returns an empty selection.
    """
    text = figure_json(fig)
    value = _component()(figure=text, figure_hash=figure_hash(text), mode=mode,
                         height=height or int(fig.layout.height or 600),
                         clear=st.session_state.get(CLEAR.format(key=key), 0),
                         key=key, default=None)
    if not value or value.get("seq") == st.session_state.get(SEEN.format(key=key)):
        return None
    st.session_state[SEEN.format(key=key)] = value.get("seq")
    return {"ids": [str(i) for i in value.get("ids") or []],
            "lasso": list(value.get("lasso") or []), "box": list(value.get("box") or [])}


def clear(key: str) -> None:
    """Erase the selection drawn on map ``key`` (on its next render)."""
    name = CLEAR.format(key=key)
    st.session_state[name] = st.session_state.get(name, 0) + 1
