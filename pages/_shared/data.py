"""The active data set: what the Data page chose, as a table any page can read."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from pages._shared import state
from pages._shared.cache import get_store, load_builtin


def set_active(*, source: str, name: str, n: int, fingerprint: str,
               key: str | None = None, message: str | None = None) -> None:
    """Make a data set the active one for every page of this session, then rerun.

    The rerun lets the sidebar, drawn before the page, show the new data set at once;
    ``message`` is shown on the next run by :func:`show_flash`.
    """
    st.session_state[state.ACTIVE_DATASET] = {"source": source, "name": name, "n": int(n),
                                              "fingerprint": fingerprint, "key": key}
    st.session_state[state.FLASH] = message
    st.rerun()


def clear_active() -> None:
    st.session_state[state.ACTIVE_DATASET] = None


def show_flash() -> None:
    """Show (once) the message left by the last action that reran the page."""
    message = st.session_state.pop(state.FLASH, None)
    if message:
        st.success(message, icon=":material/check_circle:")


def active_info() -> dict | None:
    return st.session_state.get(state.ACTIVE_DATASET)


@st.cache_data(show_spinner=False, max_entries=4)
def _kept(key: str) -> pd.DataFrame:
    return get_store().load_dataset(key)[0]


def active_table() -> pd.DataFrame | None:
    """The active data set's table (cached; a copy is cheap to take if a page edits it)."""
    info = active_info()
    if not info:
        return None
    if info["source"] == "builtin":
        return load_builtin(info["name"])
    return _kept(info["key"])
