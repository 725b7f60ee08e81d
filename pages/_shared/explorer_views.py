"""Embedding Explorer widgets: the cached embed + map, the map itself and the selection table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import plots_explorer as px_ex
from core.explorer import density_grid, in_box, in_polygon, stratified_sample
from core.io import to_csv_bytes, to_fasta_bytes, to_npy_bytes, to_parquet_bytes
from core.lasso_map import standalone_html
from core.projection import METHODS, ProjectionConfig
from pages._shared import state
from pages._shared.cache import get_store
from pages._shared.progress import InlineProgress

RESULT = "explorer.result"  # dict: source, dataset, fingerprint, config, ids, coords, how
SELECTION = state.EXPLORER_SELECTION  # list of ids: the current selection, read by other pages
SHAPE = "explorer.selection_shape"  # {"lasso": [...], "box": [...]} of the current selection
HIGHLIGHT = "explorer.highlight"  # ids of a reloaded selection, highlighted on the map
PLACED = "explorer.placed"  # DataFrame id, x, y of new sequences placed on the map
COMPARE = "explorer.compare"  # dict like RESULT for the second map
DRAWN = "explorer.drawn"  # the map's last selection as drawn: {ids, lasso, box}
SELECTION_KEYS = (SELECTION, SHAPE, DRAWN)  # what one selection on the map leaves in the session
# Above SAMPLE_ABOVE points the scatter shows a stratified sample (and says so); above
# AGGREGATE_ABOVE the overview is a density grid computed here, with drill-down to points.
# 100,000: the lasso probe (core.lasso_probe, python -m core bench explorer) draws the lasso on
# pages._shared.lasso_map's overlay in ~0.03 s per mouse move at every size up to 200,000
# points and has the exact selection 1.6 s after release at 100,000 (3.0 s at 200,000: too
# slow); plotly's own lasso (st.plotly_chart) already lagged at 10,000 (0.25 s per move
# against 0.12 s at 1,000).
SAMPLE_ABOVE = 100_000
AGGREGATE_ABOVE = 250_000
LABELS = {"pca": "PCA", "tsne": "t-SNE (openTSNE)", "umap": "UMAP"}
PARAMS = {"pca": ("seed",), "tsne": ("perplexity", "metric", "seed"),
          "umap": ("n_neighbors", "min_dist", "metric", "seed")}  # what each method reads
METRICS = ("euclidean", "cosine", "correlation", "manhattan")


def forget(*keys: str) -> None:
    """Drop these page-state keys (absent ones are fine)."""
    for key in keys:
        st.session_state.pop(key, None)


def map_controls(*, key: str, n_points: int) -> ProjectionConfig:
    """Projection and its main parameters (inside the caller's form)."""
    cols = st.columns([2, 1, 1, 1, 1])
    method = cols[0].radio("Projection", list(METHODS), format_func=LABELS.get, horizontal=True,
                           key=f"{key}.w.method",
                           help="UMAP's first use takes ~20 s to load; t-SNE and UMAP can place "
                                "new sequences later without moving the map.")
    perplexity = cols[1].number_input("Perplexity (t-SNE)", 2.0, 100.0,
                                      float(min(30, max(2, (n_points - 1) // 3))), step=1.0,
                                      key=f"{key}.w.perplexity")
    neighbours = cols[2].number_input("Neighbours (UMAP)", 2, 200, min(15, max(2, n_points - 1)),
                                      key=f"{key}.w.neighbours")
    min_dist = cols[3].number_input("min_dist (UMAP)", 0.0, 1.0, 0.1, step=0.05,
                                    key=f"{key}.w.min_dist")
    metric = cols[4].selectbox("Metric", METRICS, key=f"{key}.w.metric",
                               help="Distance in the embedding (t-SNE and UMAP).")
    return ProjectionConfig(method=method, perplexity=float(perplexity),
                            n_neighbors=int(neighbours), min_dist=float(min_dist), metric=metric,
                            seed=int(st.session_state.get("app.seed", 0)))


@st.cache_data(show_spinner=False, max_entries=16)
def builtin_fingerprint(name: str) -> str:
    from core.io import dataset_fingerprint
    from pages._shared.cache import load_builtin

    return dataset_fingerprint(load_builtin(name))


@st.cache_resource(show_spinner=False, max_entries=4)
def table_embedding(source: str, fingerprint: str, seed: int, device: str, _table: pd.DataFrame):
    """Embeddings (and the fitted encoder) per (source, data set); shared, read-only."""
    from core.embedding import embed_table

    bar = InlineProgress(f"Embedding {len(_table):,} proteins with {source}…")
    try:
        return embed_table(source, _table, store=get_store(), seed=seed,
                           device=None if device == "auto" else device, on_progress=bar)
    finally:
        bar.done()


@st.cache_resource(show_spinner="Fitting the map…", max_entries=8)
def fitted_map(source: str, fingerprint: str, seed: int, device: str, config: ProjectionConfig,
               _table: pd.DataFrame):
    """The fitted projection per (source, data set, parameters); its ``place`` adds points."""
    from core.explorer import fit_map

    emb = table_embedding(source, fingerprint, seed, device, _table)
    return fit_map(emb.features, config)


def result_frame(table: pd.DataFrame, result: dict) -> pd.DataFrame:
    """The data set's rows in map order, with x, y and (when there is a parent) mutations."""
    from core.explorer import mutations_vs_parent

    frame = table.drop(columns=[c for c in ("line",) if c in table]).copy()
    frame["id"] = frame["id"].astype(str)
    frame = frame.set_index("id").loc[list(result["ids"])].reset_index()
    coords = np.asarray(result["coords"])
    frame["x"], frame["y"] = coords[:, 0], coords[:, 1]
    if len(frame) <= 50_000:
        muts = mutations_vs_parent(frame)
        if muts is not None:
            frame["mutations"] = muts
    return frame


def style_controls(frame: pd.DataFrame, *, key: str) -> dict:
    """Colour, size, hover columns and a numeric range filter; returns the choices."""
    skip = {"id", "sequence", "aligned", "aligned_pfam", "x", "y"}
    columns = [c for c in frame.columns if c not in skip]
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])]
    cols = st.columns([1, 1, 2])
    color = cols[0].selectbox("Colour by", ["(none)"] + columns, key=f"{key}.w.color",
                              index=1 if columns else 0)
    size = cols[1].selectbox("Size by", ["(none)"] + numeric, key=f"{key}.w.size")
    default_hover = [c for c in columns if c not in ("license", "origin", "original_name")][:4]
    hover = cols[2].multiselect("Hover shows", columns, default=default_hover,
                                key=f"{key}.w.hover")
    color = None if color == "(none)" else color
    keep = np.ones(len(frame), dtype=bool)
    if color and not px_ex.is_categorical(frame[color]):
        values = pd.to_numeric(frame[color], errors="coerce")
        lo, hi = float(values.min()), float(values.max())
        if hi > lo:
            low, high = st.slider(f"Show {color} between", lo, hi, (lo, hi),
                                  key=f"{key}.w.range.{color}")
            keep = values.between(low, high).to_numpy()
            if not keep.all():
                st.caption(f"Range filter: {keep.sum():,} of {len(frame):,} proteins shown.")
    elif color:
        st.caption("Click a legend entry to hide or show its proteins; double-click to show "
                   "it alone.")
    return {"color": color, "size": None if size == "(none)" else size, "hover": hover,
            "keep": keep}


def shown_rows(frame: pd.DataFrame, keep: np.ndarray, color: str | None, *,
               limit: int = SAMPLE_ABOVE, seed: int = 0, extend_hint: bool = True) -> np.ndarray:
    """Indices drawn as markers: all kept rows, or a stratified sample above ``limit``."""
    idx = np.flatnonzero(keep)
    if len(idx) <= limit:
        return idx
    strata = frame[color].to_numpy()[idx] if color else None
    picked = idx[stratified_sample(len(idx), limit, strata=strata, seed=seed)]
    st.warning(f"Showing a stratified sample of **{limit:,} of {len(idx):,}** proteins"
               + (f" (every {color} kept in proportion)" if color else "") + f": above "
               f"{limit:,} points the map is sampled so the lasso stays responsive."
               + (" A lasso can be extended to every protein inside it below."
                  if extend_hint else ""), icon=":material/filter_alt:")
    return picked


def valid_selection(picked: dict, frame: pd.DataFrame) -> dict:
    """A map's selection ({ids, lasso, box}) keeping only ids of this map, each once."""
    known = set(frame["id"])
    ids = list(dict.fromkeys(i for i in picked.get("ids", []) if i in known))
    return {"ids": ids, "lasso": list(picked.get("lasso", [])), "box": list(picked.get("box", []))}


def ids_inside(frame: pd.DataFrame, shape: dict) -> list[str]:
    """Every protein of the full map inside the drawn lasso/box (sampled-out ones included)."""
    coords = frame[["x", "y"]].to_numpy()
    mask = np.zeros(len(frame), dtype=bool)
    for lasso in shape.get("lasso", []):
        mask |= in_polygon(coords, lasso["x"], lasso["y"])
    for box in shape.get("box", []):
        mask |= in_box(coords, box["x"], box["y"])
    return frame.loc[mask, "id"].tolist()


def density_view(frame: pd.DataFrame, *, key: str, axis: str) -> np.ndarray:
    """All points as a density grid, then a region (drill-down) whose points are returned."""
    st.info(f"{len(frame):,} points are more than a browser can draw one by one, so this "
            "overview counts them in a grid on the server (every point counted, none dropped). "
            "Pick a region to see its proteins as points.", icon=":material/grid_on:")
    coords = frame[["x", "y"]].to_numpy()
    grid = density_grid(coords, bins=300)
    st.plotly_chart(px_ex.density_map(grid, axis=axis, title=f"Density of {grid.total:,} "
                                      "points"), key=f"{key}.density")
    lo, hi = coords.min(0), coords.max(0)
    cols = st.columns(2)
    xr = cols[0].slider("Region x", float(lo[0]), float(hi[0]),
                        (float(lo[0]), float(lo[0] + (hi[0] - lo[0]) / 10)), key=f"{key}.w.xr")
    yr = cols[1].slider("Region y", float(lo[1]), float(hi[1]),
                        (float(lo[1]), float(hi[1])), key=f"{key}.w.yr")
    inside = np.flatnonzero(in_box(coords, xr, yr))
    st.caption(f"{len(inside):,} proteins in the region.")
    return inside


def selection_table(frame: pd.DataFrame, ids: list[str], features: np.ndarray | None, *,
                    key: str) -> None:
    """The selected proteins with downloads: ids, FASTA, CSV, embeddings (NPY, Parquet)."""
    picked = frame.set_index("id").loc[ids].reset_index()
    st.dataframe(picked.drop(columns=[c for c in ("aligned_pfam",) if c in picked]),
                 hide_index=True, width="stretch", height=min(400, 38 + 35 * len(picked)))
    cols = st.columns(5)
    cols[0].download_button("Ids (txt)", ("\n".join(ids) + "\n").encode(),
                            file_name="selection_ids.txt", mime="text/plain",
                            key=f"{key}.w.dl_ids", icon=":material/download:")
    cols[1].download_button("FASTA", to_fasta_bytes(picked), file_name="selection.fasta",
                            mime="text/plain", key=f"{key}.w.dl_fasta",
                            icon=":material/download:")
    cols[2].download_button("CSV", to_csv_bytes(picked.drop(columns=["x", "y"])),
                            file_name="selection.csv", mime="text/csv", key=f"{key}.w.dl_csv",
                            icon=":material/download:")
    if features is not None:
        pos = pd.Series(np.arange(len(frame)), index=frame["id"]).loc[ids].to_numpy()
        emb = np.asarray(features)[pos]
        table = pd.DataFrame(emb, columns=[f"e{i}" for i in range(emb.shape[1])])
        table.insert(0, "id", ids)
        cols[3].download_button("Embeddings (NPY, rows as the ids)", to_npy_bytes(emb),
                                file_name="selection_embeddings.npy", key=f"{key}.w.dl_npy",
                                icon=":material/download:")
        cols[4].download_button("Embeddings (Parquet, with ids)", to_parquet_bytes(table),
                                file_name="selection_embeddings.parquet",
                                key=f"{key}.w.dl_parquet", icon=":material/download:")


def figure_downloads(fig, *, key: str, stem: str) -> None:
    """Interactive HTML always (with the lasso and "Save ids", opens offline); PNG/SVG
    rendered on request by Kaleido (local Chromium). The HTML is built only when clicked."""
    cols = st.columns([1, 1, 1, 2])
    cols[0].download_button("Figure (HTML)", lambda: standalone_html(fig).encode("utf-8"),
                            file_name=f"{stem}.html", mime="text/html", key=f"{key}.w.html",
                            icon=":material/download:",
                            help="One file with the map: hover, zoom, lasso and box selection, "
                                 "and a button that saves the selected ids.")
    fmt = cols[1].selectbox("Static format", ["png", "svg"], key=f"{key}.w.fmt",
                            label_visibility="collapsed")
    if cols[2].button("Render image", key=f"{key}.w.render",
                      help="Kaleido draws the figure in the local Chromium (~15 s)."):
        with st.spinner("Rendering with Kaleido…"):
            data, how = px_ex.figure_bytes(fig, fmt)
        if data is None:
            st.warning(how, icon=":material/warning:")
        else:
            st.session_state[f"{key}.image"] = (fmt, data)
    image = st.session_state.get(f"{key}.image")
    if image:
        cols[3].download_button(f"Figure ({image[0].upper()})", image[1],
                                file_name=f"{stem}.{image[0]}", key=f"{key}.w.dl_image",
                                icon=":material/download:")


def dataset_key(result: dict) -> dict:
    """The cache keys of a map's data set: fingerprint, seed, device."""
    return {k: result[k] for k in ("fingerprint", "seed", "device")}
