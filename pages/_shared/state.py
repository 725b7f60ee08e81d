"""Session-state keys (``"<page>.<name>"``) and their initialisation.

Widget keys (``*.w.*``) are separate from result keys: Streamlit drops a widget's state when
the user leaves its page, so values needed later are copied into result keys.
"""
from __future__ import annotations

import streamlit as st

# app-wide (sidebar widgets and what they decided)
DEVICE_W = "app.w.device"
SEED_W = "app.w.seed"
DEVICE = "app.device"
SEED = "app.seed"
ACTIVE_DATASET = "app.dataset"  # dict: key, name, fingerprint, n, source
FLASH = "app.flash"  # a message to show once after a rerun

# Data page
DATA_PARSED = "data.parsed"  # dict: name -> {"table", "report", "format"} of the last upload
DATA_UPLOAD_SIG = "data.upload_sig"

# Runs page
RUNS_SELECTED = "runs.selected"
RUNS_CONFIRM_DELETE = "runs.confirm_delete"

# Embedding map -> other pages: ids of the proteins the user selected on a map
# (list of str, or None). The Saliency page offers them in its protein picker.
EXPLORER_SELECTION = "explorer.selection_ids"

DEFAULTS = {
    DEVICE: "auto",
    SEED: 0,
    ACTIVE_DATASET: None,
    FLASH: None,
    DATA_PARSED: None,
    DATA_UPLOAD_SIG: None,
    RUNS_SELECTED: None,
    RUNS_CONFIRM_DELETE: None,
}


def init_state() -> None:
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)
