"""The clustering page's "how many clusters?" panel: a SCAN sweep run and its suggestion."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core import plots
from core.tasks.scan_sweep import candidate_ks
from pages._shared import state
from pages._shared.cache import get_jobs, get_store, run_table
from pages._shared.progress import watch_run


def _latest_sweep(fingerprint: str, encoder: str):
    for run in get_store().list(method="scan_sweep"):
        if run.dataset.get("fingerprint") == fingerprint and run.config.get("encoder") == encoder:
            return run
    return None


def _use(k_key: str, k: int) -> None:
    st.session_state[k_key] = int(k)


def sweep_panel(table: pd.DataFrame, *, label: str | None, encoder: str, dataset: dict,
                k_key: str) -> None:
    """Sweep SCAN over candidate numbers of clusters; offer the suggestion for ``k_key``."""
    expected = int(table[label].nunique()) if label else None
    with st.expander("Not sure how many clusters? Sweep and let the silhouette suggest one"):
        st.caption("A quick SCAN fit per candidate (3 heads, 300 updates) on the same "
                   f"**{encoder}** features; the suggestion is the highest cosine silhouette. "
                   "Labels, if chosen, are only drawn for reference.")
        options = list(range(2, max(3, min(len(table) // 5, 100)) + 1))
        default = [k for k in candidate_ks(len(table), expected) if k in options]
        ks = st.multiselect("Candidates", options, default=default, key="scan.w.sweep_ks")
        if st.button("Sweep", icon=":material/tune:", key="scan.w.sweep", disabled=len(ks) < 2):
            keep = [c for c in ("id", "sequence", label) if c]
            get_jobs().submit(
                "scan.sweep", {"table": pd.DataFrame(table[keep]), "label": label,
                               "encoder": encoder, "ks": sorted(ks)},
                method="scan_sweep", name=f"{encoder} cluster sweep on {dataset['name']}",
                config={"encoder": encoder, "ks": sorted(ks)}, dataset=dataset,
                seed=int(st.session_state[state.SEED]), device=st.session_state[state.DEVICE])
        run = _latest_sweep(dataset["fingerprint"], encoder)
        if run is None:
            return
        if run.active:
            watch_run(run.id)
            return
        if run.status != "done":
            st.error(f"The last sweep {run.status}: {run.error}", icon=":material/error:")
            return
        sweep = run_table(run.id, run.finished, "sweep")
        best = int(run.metrics["suggested_k"])
        st.plotly_chart(plots.cluster_sweep(sweep, suggested=best), key="scan.sweep_plot")
        left, right = st.columns([1, 3])
        left.button(f"Use {best} clusters", on_click=_use, args=(k_key, best),
                    key="scan.w.use_k", type="primary")
        right.caption(f"Suggested **{best}** (silhouette {sweep['silhouette'].max():.3f}); "
                      f"sweep of {len(sweep)} candidates took "
                      f"{sweep['seconds'].sum():.0f} s.")
