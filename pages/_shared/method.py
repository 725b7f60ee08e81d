"""The two halves every method page shares: where the data come from, and which run to show."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.datasets import DatasetNotFound, get_spec
from pages._shared.cache import get_store, load_builtin
from pages._shared.data import active_info, active_table
from pages._shared.progress import watch_run

BUILTIN = "Built-in data set"
ACTIVE = "Active data set"


@dataclass
class DataChoice:
    table: pd.DataFrame
    name: str
    default_label: str | None
    builtin: bool


def pick_data(builtin: list[str], *, key: str) -> DataChoice:
    """A built-in set of this method's kind, or the active data set from the Data page."""
    active = active_info()
    sources = [BUILTIN] + ([ACTIVE] if active else [])
    source = st.radio("Data", sources, horizontal=True, key=f"{key}.w.source",
                      index=1 if active and active["source"] != "builtin" else 0)
    if source == BUILTIN:
        name = st.selectbox(BUILTIN, builtin, key=f"{key}.w.builtin",
                            format_func=lambda n: f"{n} — {get_spec(n).title}")
        try:
            table = load_builtin(name)
        except DatasetNotFound as exc:
            st.warning(f"{exc}\n\nYou can still upload your own data on the **Data** page and "
                       "pick **Active data set** here.", icon=":material/cloud_off:")
            st.stop()
        return DataChoice(table, name, get_spec(name).label, True)
    return DataChoice(active_table(), active["name"], None, False)


def pick_run(method: str, *, key: str, empty: str):
    """Choose one of the method's runs (the last submitted first); returns a finished run.

    A queued or running run shows its live progress and stops the page there; a failed one
    shows why. ``empty`` is the hint shown when the method has no run yet.
    """
    store = get_store()
    runs = store.list(method=method)
    if not runs:
        st.info(empty)
        st.stop()
    ids = [r.id for r in runs]
    run_key = f"{key}.run_id"
    current = st.session_state.get(run_key)
    run_id = st.selectbox("Run", ids, index=ids.index(current) if current in ids else 0,
                          format_func=lambda i: next(f"{r.name} · {r.created}" for r in runs
                                                     if r.id == i), key=f"{key}.w.run")
    st.session_state[run_key] = run_id
    run = store.get(run_id)
    if run.active:
        watch_run(run.id)
        st.stop()
    if run.status != "done":
        st.error(f"This run {run.status}: {run.error}", icon=":material/error:")
        st.stop()
    return run
