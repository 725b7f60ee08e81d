"""Embedding Explorer: one map for every encoder and saved run; select, export, place, compare."""
from __future__ import annotations

import numpy as np
import streamlit as st

from core import plots_explorer as px_ex
from core.datasets import list_datasets
from core.embedding import source_status
from core.explorer import Selection, save_selection
from core.projection import ProjectionConfig
from pages._shared import explorer_tabs as et
from pages._shared import explorer_views as ev
from pages._shared import state
from pages._shared.cache import get_store
from pages._shared.data import active_info
from pages._shared.lasso_map import clear as clear_map
from pages._shared.lasso_map import lasso_map
from pages._shared.method import pick_data

st.title("Embedding Explorer")
st.caption("Embed proteins with a built-in encoder or a trained run, project them (PCA, t-SNE, "
           "UMAP), colour by any column, lasso a group and export it. New sequences can be "
           "placed on a map without moving it; two maps can be compared side by side.")

choice = pick_data(list_datasets()["name"].tolist(), key="explorer")
table = choice.table
# The active data set's fingerprint is known; a built-in one is computed once per name.
fingerprint = ev.builtin_fingerprint(choice.name) if choice.builtin else \
    active_info()["fingerprint"]
equal = "aligned" in table or table["sequence"].str.len().nunique() == 1
sources = source_status(get_store(), equal_length=equal)
usable = [s for s in sources if s["available"]]
labels = {s["source"]: s["label"] for s in usable}
wanted = st.session_state.pop("explorer.open_source", None)  # set by the Runs page's "Explore"
if wanted in labels:
    st.session_state["explorer.w.encoder"] = wanted
with st.form("explorer.w.form"):
    source = st.selectbox("Embedding", list(labels), format_func=labels.get,
                          key="explorer.w.encoder",
                          help="Built-in encoders need no training; a run embeds with the "
                               "encoder it learned (its own proteins come from its saved "
                               "embeddings).")
    config = ev.map_controls(key="explorer", n_points=len(table))
    go = st.form_submit_button("Embed and map", type="primary", icon=":material/scatter_plot:")
off = [s for s in sources if not s["available"]]
if off:
    st.caption("Not available here: " + "; ".join(f"{s['label']} ({s['reason']})" for s in off))
seed, device = int(st.session_state[state.SEED]), str(st.session_state[state.DEVICE])
if go:
    emb = ev.table_embedding(source, fingerprint, seed, device, table)
    fitted = ev.fitted_map(source, fingerprint, seed, device, config, table)
    st.session_state[ev.RESULT] = {
        "source": source, "dataset": choice.name, "fingerprint": fingerprint, "seed": seed,
        "device": device, "config": config.to_dict(), "ids": table["id"].astype(str).tolist(),
        "coords": fitted.coords_, "how": emb.how}
    ev.forget(ev.PLACED, ev.HIGHLIGHT, ev.COMPARE, *ev.SELECTION_KEYS)  # a new map

result = st.session_state.get(ev.RESULT)
if not result:
    st.info("Choose an embedding and a projection, then press **Embed and map**.")
    st.stop()
if result["fingerprint"] != fingerprint:
    st.warning(f"The map was made on **{result['dataset']}**; press **Embed and map** to map "
               f"**{choice.name}**.", icon=":material/sync_problem:")
    st.stop()

frame = ev.result_frame(table, result)
cfg = result["config"]
emb = fitted = None
if result["source"]:
    emb = ev.table_embedding(result["source"], fingerprint, seed, device, table)
    fitted = ev.fitted_map(result["source"], fingerprint, seed, device,
                           ProjectionConfig(**cfg), table)
features = emb.features if emb is not None else None
axis = ev.LABELS[cfg["method"]].split(" ")[0]
st.caption(f"{len(frame):,} proteins of **{result['dataset']}** · {result['source']} "
           f"({result.get('how', '')}) · {ev.LABELS[cfg['method']]} "
           + ", ".join(f"{k} {cfg[k]}" for k in ev.PARAMS[cfg["method"]]))

# Keyed tabs remember the open one across reruns (a button in a tab keeps you in that tab).
tabs = st.tabs(["Map", "Selection", "Place new sequences", "Compare", "Saved selections"],
               key="explorer.w.tab", on_change="rerun")
with tabs[0]:
    style = ev.style_controls(frame, key="explorer")
    rows = np.flatnonzero(style["keep"])
    if len(frame) > ev.AGGREGATE_ABOVE:
        region = ev.density_view(frame, key="explorer", axis=axis)
        rows = np.intersect1d(rows, region)
    shown = ev.shown_rows(frame, np.isin(np.arange(len(frame)), rows), style["color"],
                          seed=seed)
    fig = px_ex.explorer_map(frame[["x", "y"]].to_numpy()[shown], frame.iloc[shown],
                             color=style["color"], size=style["size"], hover=style["hover"],
                             highlight=set(st.session_state.get(ev.HIGHLIGHT) or []) or None,
                             placed=st.session_state.get(ev.PLACED), axis=axis,
                             title=f"{result['source']} · {ev.LABELS[cfg['method']]}")
    picked = lasso_map(fig, key="explorer.map")
    if picked is not None:  # a new lasso/box (or "Clear" in the map)
        st.session_state[ev.DRAWN] = ev.valid_selection(picked, frame)
    drawn = st.session_state.get(ev.DRAWN)
    if drawn and drawn["ids"]:
        ids, shape = drawn["ids"], {"lasso": drawn["lasso"], "box": drawn["box"]}
        if len(shown) < len(frame) and st.checkbox(
                "Extend the selection to every protein inside the shape (also those not drawn)",
                key="explorer.w.extend"):
            ids = ev.ids_inside(frame, shape)
        st.session_state[ev.SELECTION], st.session_state[ev.SHAPE] = ids, shape
    elif drawn is not None:
        ev.forget(*ev.SELECTION_KEYS)
    chosen = st.session_state.get(ev.SELECTION) or []
    left, right = st.columns([3, 1])
    left.caption(f"**{len(chosen):,} selected** (lasso or box on the map, Shift adds; the "
                 "Selection tab lists and exports them)." if chosen else
                 "Draw a lasso or box to select (Shift adds to the selection).")
    if chosen and right.button("Clear selection", key="explorer.w.clear"):
        ev.forget(ev.HIGHLIGHT, *ev.SELECTION_KEYS)
        clear_map("explorer.map")
        st.rerun()
    ev.figure_downloads(fig, key="explorer.fig", stem=f"map_{cfg['method']}")
    with st.expander("How well does the map keep neighbourhoods?"):
        et.show_scores(result, features)
with tabs[1]:
    chosen = st.session_state.get(ev.SELECTION) or []
    if not chosen:
        st.info("Nothing selected yet: draw a lasso or a box on the map.")
    else:
        st.markdown(f"**{len(chosen):,} proteins selected**")
        ev.selection_table(frame, chosen, features, key="explorer.sel")
        name = st.text_input("Name", value=f"selection of {len(chosen)}", key="explorer.w.name")
        sel = Selection(name=name, ids=chosen, source=result["source"],
                        dataset={"name": result["dataset"], "fingerprint": fingerprint},
                        projection=cfg, **st.session_state.get(ev.SHAPE, {}))
        c = st.columns(2)
        if c[0].button("Save in the workspace", key="explorer.w.save", icon=":material/save:"):
            st.success(f"Saved as `{save_selection(sel).name}`; reload it from Saved "
                       "selections.", icon=":material/check_circle:")
        c[1].download_button("Selection file (JSON: ids, shape, projection)", sel.to_json(),
                             file_name="selection.json", mime="application/json",
                             key="explorer.w.dl_sel", icon=":material/download:")
with tabs[2]:
    if fitted is None:
        st.info("This map has no fitted projection to place sequences with.")
    else:
        et.place_tab(result, frame, emb, fitted)
with tabs[3]:
    et.compare_tab(result, frame, features, table, usable, style)
with tabs[4]:
    et.saved_tab(result, frame)
