"""Runs: every saved run; open, rename, delete, export and import bundles."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from core import plots
from core.embedding import RUN_ENCODERS
from core.store import StoreError
from pages._shared import state
from pages._shared.cache import get_store, run_bundle
from pages._shared.progress import status_label, watch_run

PAGES = Path(__file__).resolve().parent
# method -> the page that made its runs (it shows the run again from "<method>.run_id").
# A method whose page is named after it needs no entry.
RUN_PAGES = {"scan": "clustering.py", "scan_sweep": "clustering.py"}
store = get_store()


def key_metric(run) -> str:
    km = run.summary.get("key_metric")
    if km:
        return f"{km['name']} {km['value']:.4g}"
    return ""


def confirm_delete(run_id: str, name: str) -> None:
    """Ask once more before a run's weights and results are removed."""
    with st.container(border=True):
        st.warning(f"Delete **{name}** (`{run_id}`) with its weights, embeddings and tables? "
                   "Export it first if you may need it again.", icon=":material/delete:")
        left, right, _ = st.columns([1, 1, 4])
        if left.button("Yes, delete", type="primary", key="runs.w.delete_yes"):
            store.delete(run_id)
            st.session_state[state.RUNS_SELECTED] = None
            st.session_state[state.RUNS_CONFIRM_DELETE] = None
            st.rerun()
        if right.button("Keep it", key="runs.w.delete_no"):
            st.session_state[state.RUNS_CONFIRM_DELETE] = None
            st.rerun()


st.title("Runs")
st.caption("Every model trained in this workspace, with its data, config, metrics and weights. "
           "A finished run reopens without retraining.")

with st.expander("Import a run bundle (.zip)", icon=":material/upload:"):
    bundle = st.file_uploader("Bundle exported from ProtLens", type=["zip"], key="runs.w.import")
    if bundle is not None and st.button("Import", key="runs.w.import_go"):
        try:
            run = store.import_bundle(bundle.getvalue())
            st.session_state[state.RUNS_SELECTED] = run.id
            st.success(f"Imported **{run.name}** as `{run.id}`.")
        except StoreError as exc:
            st.error(f"Bundle refused: {exc}", icon=":material/block:")

runs = store.list()
if not runs:
    st.info("No runs yet. Train a model on a method page; it appears here.")
    st.stop()

table = pd.DataFrame([{
    "name": r.name, "method": r.method, "dataset": r.dataset.get("name", ""),
    "status": status_label(r.status), "key metric": key_metric(r), "created": r.created,
    "duration (s)": r.duration_s, "id": r.id} for r in runs])
picked = st.dataframe(table, hide_index=True, width="stretch", on_select="rerun",
                      selection_mode="single-row", key="runs.w.table")
rows = picked.selection.rows if picked else []
if rows:
    st.session_state[state.RUNS_SELECTED] = table.iloc[rows[0]]["id"]
run_id = st.session_state[state.RUNS_SELECTED]
if not run_id or not store.exists(run_id):
    st.caption("Select a run in the table to see it.")
    st.stop()

run = store.get(run_id)
st.subheader(run.name)
st.caption(f"`{run.id}` · {run.method} · {status_label(run.status)} · data "
           f"{run.dataset.get('name', '?')} ({run.dataset.get('n', '?')} sequences, fingerprint "
           f"`{str(run.dataset.get('fingerprint', ''))[:12]}`) · seed {run.seed} · "
           f"{run.device or ''}")
if run.active:
    watch_run(run.id)
if run.error:
    st.error(run.error, icon=":material/error:")

page = PAGES / RUN_PAGES.get(run.method, f"{run.method}.py")
actions = st.columns([1, 1, 2, 1, 1])
if page.is_file() and run.status == "done" and actions[0].button(
        "Open", type="primary", key="runs.w.open",
        help="Show this run again on the page that made it (no retraining)."):
    st.session_state[f"{run.method}.run_id"] = run.id
    st.switch_page(str(page))
if run.status == "done" and run.method in RUN_ENCODERS and actions[1].button(
        "Explore", key="runs.w.explore", icon=":material/scatter_plot:",
        help="Map proteins with this run's encoder in the Embedding Explorer."):
    st.session_state["explorer.open_source"] = f"run:{run.id}"
    st.switch_page(str(PAGES / "explorer.py"))
with actions[2].popover("Rename", icon=":material/edit:"):
    new_name = st.text_input("New name", value=run.name, key=f"runs.w.name.{run.id}")
    if st.button("Save name", key="runs.w.rename"):
        try:
            store.rename(run.id, new_name)
            st.rerun()
        except StoreError as exc:
            st.error(str(exc))
if not run.active:
    actions[3].download_button("Export", data=run_bundle(run.id, run.finished, run.name),
                               file_name=f"{run.id}.zip", mime="application/zip",
                               key="runs.w.export", icon=":material/download:")
if actions[4].button("Delete", key="runs.w.delete", icon=":material/delete:",
                     disabled=run.active, help="Cancel a running job before deleting it."):
    st.session_state[state.RUNS_CONFIRM_DELETE] = run.id
if st.session_state[state.RUNS_CONFIRM_DELETE] == run.id:
    confirm_delete(run.id, run.name)

if run.metrics:
    st.markdown("**Metrics**")
    flat = pd.json_normalize(run.metrics, sep=" / ").T.reset_index()
    flat.columns = ["metric", "value"]
    st.dataframe(flat, hide_index=True, width="stretch")
if run.history:
    st.plotly_chart(plots.loss_curve(run.history, title="Training history"), key="runs.history")
with st.expander("Config"):
    st.json(run.config)
with st.expander("Files, timings and versions"):
    st.write({"artifacts": run.artifacts, "timings": run.timings, "versions": run.versions,
              "created": run.created, "started": run.started, "finished": run.finished})
with st.expander("Log"):
    st.code(store.read_log(run.id) or "(empty)", language=None)
