"""Result views of a finished clustering (SCAN) run."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core import plots
from core.io import to_csv_bytes
from pages._shared.cache import run_arrays, run_projection, run_table
from pages._shared.scan_logo_view import cluster_logo
from pages._shared.views import projection_controls, run_zip_button

METRICS = [("nmi", "NMI"), ("ari", "ARI"), ("acc", "Accuracy (matched)"), ("aupr", "AUPR")]


def _headline(run) -> None:
    m = run.metrics
    if "nmi" not in m:
        cols = st.columns(3)
        cols[0].metric("Silhouette", f"{m.get('silhouette', float('nan')):.3f}")
        cols[1].metric("Clusters used", int(m.get("n_used_clusters", 0) or 0))
        cols[2].metric("Mean confidence", f"{m.get('mean_confidence', float('nan')):.3f}")
        return
    cols = st.columns(len(METRICS))
    base = run.summary.get("pca_kmeans_nmi")
    for col, (key, name) in zip(cols, METRICS, strict=True):
        value = m.get(key)
        delta = f"{value - base:+.3f} vs PCA+K-means" if key == "nmi" and base is not None \
            else None
        col.metric(name, "–" if value is None else f"{value:.3f}", delta=delta)
    purity = {k: v for k, v in m.items() if k.startswith("purity_k")}
    if purity:
        st.caption("Neighbour purity (share of mined neighbours with the same label): "
                   + ", ".join(f"K={k[8:]} {v:.3f}" for k, v in sorted(purity.items())))


def _curve(run) -> None:
    baselines = {name.replace("_nmi", "").replace("_", " "): run.summary[name]
                 for name in ("pca_kmeans_nmi", "length_kmeans_nmi") if name in run.summary}
    metric = "nmi" if any("nmi" in h for h in run.history) else "loss"
    st.plotly_chart(plots.training_curve(run.history, metric=metric,
                                         baselines=baselines if metric == "nmi" else None,
                                         title=f"{metric.upper()} during SeqSCAN training"),
                    key="scan.curve")


def _pick_cell(event, raw: pd.DataFrame) -> None:
    """A click on a confusion cell chooses the class and cluster pickers below (once)."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    cell = next((p.get("customdata") for p in points if p.get("customdata")), None)
    if not cell or st.session_state.get("scan.last_cell") == list(cell):
        return
    st.session_state["scan.last_cell"] = list(cell)
    cls, clu = (str(v) for v in cell[:2])
    if cls in map(str, raw.index) and clu in map(str, raw.columns):
        st.session_state["scan.w.cell_class"] = cls
        st.session_state["scan.w.cell_cluster"] = clu


def _confusion(run, assignments: pd.DataFrame) -> None:
    raw = run_table(run.id, run.finished, "confusion").set_index("class")
    raw.index, raw.columns = raw.index.astype(str), raw.columns.astype(str)
    normalized = st.toggle("Row-normalised", key="scan.w.normalized")
    shown = raw.div(raw.sum(axis=1).replace(0, 1), axis=0) if normalized else raw
    event = st.plotly_chart(plots.confusion_heatmap(shown, normalized=normalized),
                            key="scan.confusion", on_select="rerun", selection_mode="points")
    _pick_cell(event, raw)
    st.caption("Click a cell to list its proteins, or pick the class and cluster here:")
    left, right = st.columns(2)
    cls = left.selectbox("True class", list(raw.index), key="scan.w.cell_class")
    clusters = list(raw.columns)
    clu = right.selectbox("Cluster", clusters, key="scan.w.cell_cluster",
                          index=clusters.index(raw.loc[cls].idxmax()))
    cell = assignments[(assignments["label"].astype(str) == str(cls))
                       & (assignments["cluster"] == clu)]
    st.caption(f"{len(cell)} protein(s) of {cls} in cluster {clu}")
    if len(cell):
        st.dataframe(cell[["id", "cluster", "confidence", "label"]], hide_index=True,
                     width="stretch", height=min(300, 38 + 35 * len(cell)))
    st.markdown("**Per family** — precision, recall and AUPR of the matched cluster(s)")
    st.dataframe(run_table(run.id, run.finished, "per_class"), hide_index=True, width="stretch")


def _maps(run, assignments: pd.DataFrame) -> None:
    arrays = run_arrays(run.id, run.finished)
    table = assignments[[c for c in ("id", "cluster", "confidence", "label")
                         if c in assignments]].copy()
    params = projection_controls(key="scan.map", n_points=len(table))
    coords = run_projection(run.id, run.finished, "features", **params)
    colours = ["cluster"] + (["label"] if "label" in table else [])
    cols = st.columns(len(colours))
    for col, colour in zip(cols, colours, strict=True):
        col.plotly_chart(plots.embedding_map(coords, table, color=colour,
                                             hover=["cluster", "label", "confidence"],
                                             title=f"Coloured by {colour}",
                                             axis=params["method"].upper()),
                         key=f"scan.map.{colour}")
    st.caption(f"{len(arrays['ids']):,} proteins, {run.summary.get('encoder')} features.")


def _clusters(run) -> None:
    clusters = run_table(run.id, run.finished, "clusters")
    protos = run_table(run.id, run.finished, "prototypes")
    st.dataframe(clusters, hide_index=True, width="stretch")
    pick = st.selectbox("Cluster", clusters["cluster"].tolist(), key="scan.w.proto_cluster")
    st.caption("Most central members (cosine similarity to the cluster centre):")
    st.dataframe(protos[protos["cluster"] == pick], hide_index=True, width="stretch")
    cluster_logo(run, pick)
    hist = run_table(run.id, run.finished, "confidence_hist")
    st.bar_chart(hist, x=hist.columns[0], y=hist.columns[-1], height=220)


def show_results(run) -> None:
    """Headline metrics, the NMI curve, confusion, maps, clusters, baselines and downloads."""
    assignments = run_table(run.id, run.finished, "assignments")
    _headline(run)
    tabs = st.tabs(["Training", "Confusion", "Maps", "Clusters", "Baselines", "Downloads"])
    with tabs[0]:
        _curve(run)
    with tabs[1]:
        if "label" in assignments:
            _confusion(run, assignments)
        else:
            st.info("No labels were given, so there is no confusion matrix.")
    with tabs[2]:
        _maps(run, assignments)
    with tabs[3]:
        _clusters(run)
    with tabs[4]:
        st.dataframe(run_table(run.id, run.finished, "baselines"), hide_index=True,
                     width="stretch")
        st.caption("Baselines cluster the same features (or, for length K-means, the lengths "
                   "alone) into the same number of clusters.")
    with tabs[5]:
        cols = st.columns(3)
        cols[0].download_button("Assignments with probabilities (CSV)", to_csv_bytes(assignments),
                                file_name=f"{run.id}_assignments.csv", mime="text/csv",
                                key="scan.w.dl_assign", icon=":material/download:")
        if "label" in assignments:
            confusion = run_table(run.id, run.finished, "confusion")
            cols[1].download_button("Confusion matrix (CSV)", to_csv_bytes(confusion),
                                    file_name=f"{run.id}_confusion.csv", mime="text/csv",
                                    key="scan.w.dl_conf", icon=":material/download:")
        run_zip_button(cols[2], run, key="scan.w.dl_run")
