"""ProtLens: see what deep models learn about proteins.

The navigation frame: page config, the sidebar (device, seed, workspace, active data set)
and the page list. Each page is a thin view over ``core``.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.config import Settings
from pages._shared import state
from pages._shared.cache import device_choices, device_description

HERE = Path(__file__).parent
# Views live one folder down: Streamlit treats top-level pages/*.py as old-style pages and
# would run them without this frame when a browser first opens their URL.
VIEWS = HERE / "pages" / "views"

st.set_page_config(page_title="ProtLens", page_icon="🔬",
                   layout="wide", initial_sidebar_state="expanded")
state.init_state()

PAGES = {
    "": [st.Page(VIEWS / "home.py", title="Home", icon=":material/home:",
                 default=True)],
    "Data": [st.Page(VIEWS / "data.py", title="Data", icon=":material/upload_file:",
                     url_path="data")],
    "Methods": [st.Page(VIEWS / "property.py", title="Property models",
                        icon=":material/query_stats:", url_path="property"),
                st.Page(VIEWS / "clustering.py", title="Clustering",
                        icon=":material/bubble_chart:", url_path="clustering"),
                st.Page(VIEWS / "saliency.py", title="Saliency", icon=":material/highlight:",
                        url_path="saliency"),
                st.Page(VIEWS / "families.py", title="Families",
                        icon=":material/family_history:", url_path="families"),
                st.Page(VIEWS / "text.py", title="Text search", icon=":material/manage_search:",
                        url_path="text")],
    "Results": [st.Page(VIEWS / "runs.py", title="Runs", icon=":material/history:",
                        url_path="runs"),
                st.Page(VIEWS / "explorer.py", title="Embedding Explorer",
                        icon=":material/scatter_plot:", url_path="explorer")],
}
page = st.navigation(PAGES)

with st.sidebar:
    st.logo(str(HERE / "assets" / "logo.png"), size="large")
    choices = device_choices()
    current = st.session_state[state.DEVICE]
    st.selectbox("Device", choices, index=choices.index(current) if current in choices else 0,
                 key=state.DEVICE_W, help="Where models train and embed. 'auto' takes CUDA, "
                 "then Apple MPS, then the CPU.")
    st.session_state[state.DEVICE] = st.session_state[state.DEVICE_W]
    st.caption(f"In use: {device_description(st.session_state[state.DEVICE])}")
    st.number_input("Random seed", min_value=0, max_value=2**31 - 1, step=1,
                    value=int(st.session_state[state.SEED]), key=state.SEED_W,
                    help="Seeds training, splits and projections, so a run can be repeated.")
    st.session_state[state.SEED] = int(st.session_state[state.SEED_W])
    active = st.session_state[state.ACTIVE_DATASET]
    if active:
        st.caption(f"Data set: **{active['name']}** ({active['n']:,} sequences)")
    else:
        st.caption("Data set: none yet — pick one on the Data page.")
    st.caption(f"Workspace: `{Settings.from_env().home}`")

page.run()
