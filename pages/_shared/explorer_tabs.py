"""Embedding Explorer tabs beyond the map: place new sequences, compare maps, saved selections."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import plots_explorer as px_ex
from core.explorer import Selection, knn_overlap, list_selections, neighbourhood_scores
from core.io import ValidationError, read_sequences
from pages._shared import explorer_views as ev
from pages._shared.lasso_map import lasso_map


@st.cache_data(show_spinner="Scoring neighbourhoods…", max_entries=16)
def map_scores(source: str, fingerprint: str, config_key: str, _x: np.ndarray,
               _coords: np.ndarray) -> dict:
    """Trustworthiness and kNN overlap of one map (cached per source, data and parameters)."""
    return neighbourhood_scores(_x, _coords, k=10, max_points=3000)


def show_scores(result: dict, features: np.ndarray | None, *, where=st) -> None:
    if features is None:
        where.caption("No embedding behind this map: neighbourhood scores need one.")
        return
    s = map_scores(result["source"], result["fingerprint"], str(result["config"]), features,
                   np.asarray(result["coords"]))
    c = where.columns(2)
    c[0].metric("Trustworthiness", f"{s['trustworthiness']:.3f}",
                help="scikit-learn's trustworthiness (1 = no false neighbours on the map).")
    c[1].metric(f"kNN overlap (k={s['k']})", f"{s['knn_overlap']:.3f}",
                help="Mean share of each protein's k nearest neighbours in the embedding that "
                     "are also its k nearest on the map.")
    where.caption(f"On {s['n']:,} proteins (a random subset above 3,000: both scores are "
                  "quadratic).")


def place_tab(result: dict, frame: pd.DataFrame, emb, fitted) -> None:
    """Upload or paste new sequences; embed them the same way and place them on the map."""
    st.markdown(f"New sequences are embedded by **{result['source']}** and placed with the "
                f"fitted {ev.LABELS[result['config']['method']]}'s own transform; the map's "
                f"{len(frame):,} points are not refitted and keep their coordinates.")
    upload = st.file_uploader("Sequences (FASTA or CSV)", key="explorer.w.place_file",
                              type=["fasta", "fa", "faa", "txt", "csv", "tsv"])
    pasted = st.text_area("…or paste FASTA", key="explorer.w.place_text", height=120)
    if not st.button("Place on the map", key="explorer.w.place", type="primary"):
        placed = st.session_state.get(ev.PLACED)
        if placed is not None:
            st.dataframe(placed, hide_index=True, width="stretch")
        return
    data = upload.getvalue() if upload is not None else pasted.encode()
    try:
        parsed = read_sequences(data, filename=upload.name if upload else "pasted.fasta")
    except ValidationError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    if parsed.report.errors or not len(parsed.table):
        st.error("Nothing to place: " + ("; ".join(f"{p.record_id} (line {p.line}): "
                                                   f"{p.message}" for p in
                                                   parsed.report.errors[:5]) or "no records"))
        return
    new = parsed.table
    before = np.array(fitted.coords_, copy=True)
    column = emb.column if emb.column in new else "sequence"
    x_new = emb.embed_new(new[column].astype(str).tolist())
    xy = fitted.place(x_new)
    moved = float(np.abs(fitted.coords_ - before).max()) if len(before) else 0.0
    nearest = _nearest(emb.features, x_new, frame["id"].to_numpy())
    placed = pd.DataFrame({"id": new["id"].astype(str), "x": xy[:, 0], "y": xy[:, 1],
                           "nearest on the map": nearest})
    st.session_state[ev.PLACED] = placed
    st.success(f"Placed {len(placed):,} sequence(s) as red stars on the map; the old points "
               f"moved by at most {moved:g}.", icon=":material/add_location:")
    st.dataframe(placed, hide_index=True, width="stretch")


def _nearest(features: np.ndarray, x_new: np.ndarray, ids: np.ndarray) -> list[str]:
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=1).fit(features)
    return [str(ids[i]) for i in nn.kneighbors(x_new, return_distance=False)[:, 0]]


def compare_tab(result: dict, frame: pd.DataFrame, features, table: pd.DataFrame,
                sources: list[dict], style: dict) -> None:
    """A second map of the same proteins (another source or projection), linked selection."""
    labels = {s["source"]: s["label"] for s in sources}
    with st.form("explorer.w.cmp_form"):
        source = st.selectbox("Second embedding", list(labels), format_func=labels.get,
                              key="explorer.w.cmp_source")
        cfg = ev.map_controls(key="explorer.cmp", n_points=len(frame))
        go = st.form_submit_button("Make the second map")
    info = ev.dataset_key(result)
    if go:
        ev.fitted_map(source, info["fingerprint"], info["seed"], info["device"], cfg, table)
        st.session_state[ev.COMPARE] = {"source": source, "config": cfg}
    other = st.session_state.get(ev.COMPARE)
    if not other:
        st.info("Pick a second embedding or projection to compare with the first map.")
        return
    fitted_b = ev.fitted_map(other["source"], info["fingerprint"], info["seed"], info["device"],
                             other["config"], table)
    emb_b = ev.table_embedding(other["source"], info["fingerprint"], info["seed"],
                               info["device"], table)
    result_b = dict(result, source=other["source"], config=other["config"].to_dict(),
                    coords=fitted_b.coords_)
    linked = set(st.session_state.get("explorer.cmp_ids") or [])
    # the same proteins on both maps; two maps share the page's point budget
    shown = ev.shown_rows(frame, np.ones(len(frame), bool), style["color"],
                          limit=ev.SAMPLE_ABOVE // 2, seed=info["seed"], extend_hint=False)
    cols = st.columns(2)
    for col, res, name in ((cols[0], result, "a"), (cols[1], result_b, "b")):
        title = f"{res['source']} · {ev.LABELS[res['config']['method']]}"
        fig = px_ex.explorer_map(np.asarray(res["coords"])[shown], frame.iloc[shown],
                                 color=style["color"],
                                 hover=style["hover"], highlight=linked or None, title=title,
                                 axis=ev.LABELS[res["config"]["method"]].split(" ")[0],
                                 height=480)
        with col:
            picked = lasso_map(fig, key=f"explorer.cmp_{name}")
        show_scores(res, features if name == "a" else emb_b.features, where=col)
        if picked is not None:  # a new selection on either map is shown on both
            st.session_state["explorer.cmp_ids"] = ev.valid_selection(picked, frame)["ids"]
            st.rerun()
    if linked:
        st.caption(f"{len(linked):,} proteins selected; they are highlighted on both maps.")
    st.metric("kNN overlap between the two maps (k=10)",
              f"{_maps_overlap(result, result_b):.3f}")


@st.cache_data(show_spinner=False, max_entries=16)
def _maps_overlap(a: dict, b: dict) -> float:
    idx = np.random.default_rng(0).permutation(len(a["coords"]))[:3000]
    return knn_overlap(np.asarray(a["coords"])[idx], np.asarray(b["coords"])[idx], k=10)


def saved_tab(result: dict, frame: pd.DataFrame) -> None:
    """Reload a selection kept in the workspace or uploaded as JSON; it is highlighted."""
    saved = list_selections()
    chosen = None
    if saved:
        names = [f"{s.name} · {len(s.ids):,} ids · {s.created}" for s in saved]
        pick = st.selectbox("Saved in this workspace", range(len(saved)),
                            format_func=names.__getitem__, key="explorer.w.saved")
        if st.button("Reload", key="explorer.w.reload", type="primary"):
            chosen = saved[pick]
    else:
        st.caption("No saved selections yet: select proteins on the map, then save them on "
                   "the Selection tab.")
    upload = st.file_uploader("…or a selection file (JSON)", type=["json"],
                              key="explorer.w.sel_file")
    if upload is not None and st.button("Load file", key="explorer.w.load_file"):
        try:
            chosen = Selection.from_json(upload.getvalue())
        except ValueError as exc:
            st.error(str(exc), icon=":material/error:")
    if chosen is None:
        return
    present = [i for i in chosen.ids if i in set(frame["id"])]
    st.session_state[ev.HIGHLIGHT] = present
    st.session_state[ev.SELECTION] = present
    st.session_state[ev.SHAPE] = {"lasso": chosen.lasso, "box": chosen.box}
    same = chosen.projection == result["config"] and chosen.source == result["source"]
    st.success(f"Reloaded **{chosen.name}**: {len(present):,} of {len(chosen.ids):,} ids are "
               "on this map and highlighted.", icon=":material/restore:")
    if not same:
        st.warning(f"It was drawn on another map ({chosen.source}, {chosen.projection}); its "
                   "shape may not match these coordinates, the ids do.")
