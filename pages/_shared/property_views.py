"""Result views of a finished property run (the Property page's lower half)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core import plots
from core.io import ValidationError, read_sequences, to_csv_bytes, to_npy_bytes, to_parquet_bytes
from core.papers import PROPERTY_TABLE_I
from pages._shared.cache import property_model, run_arrays, run_projection, run_table
from pages._shared.views import projection_controls, run_zip_button

OURS = "triplet_cnn_gp"
SCORE_COLUMNS = ["model", "role", "mae", "spearman", "r2", "coverage_1sd", "coverage_2sd",
                 "seconds"]


def _scores(run) -> None:
    rows = pd.DataFrame(run.summary.get("models", []))
    if rows.empty or "mae" not in rows:
        st.info("This run has no test split, so nothing was scored; predictions and the "
                "embedding are below.")
    else:
        st.dataframe(rows[[c for c in SCORE_COLUMNS if c in rows]], hide_index=True,
                     width="stretch", column_config={
                         "mae": st.column_config.NumberColumn("MAE", format="%.3f"),
                         "coverage_1sd": st.column_config.NumberColumn("in ±1σ", format="percent"),
                         "coverage_2sd": st.column_config.NumberColumn("in ±2σ", format="percent"),
                         "seconds": st.column_config.NumberColumn("fit (s)", format="%.1f")})
        paper = PROPERTY_TABLE_I.get(run.summary.get("dataset") or "")
        if paper:
            st.caption(f"Paper, Table I (test MAE): triplet {paper['triplet']} · non-triplet "
                       f"{paper['non_triplet']}. With {run.summary.get('n_test')} test "
                       "proteins, differences below about one standard error are noise.")
        st.caption("Coverage: the share of test values inside the GP's ±1σ and ±2σ bands "
                   "(about 68 % and 95 % when the uncertainty is calibrated).")
    c = run.summary
    st.caption(f"{c.get('n_train')} training, {c.get('n_test')} test, {c.get('n_unlabelled')} "
               f"unlabelled rows · CNN read the {c.get('input')} · stopped after "
               f"{c.get('epochs_run')} epochs (best {c.get('best_epoch')}).")
    if c.get("committee_kernel"):
        trend = c.get("trend")
        st.caption(f"GP read-out: label scale {c.get('label_scale')} · committee kernel "
                   f"{c.get('committee_kernel')} · merged columns {c.get('merged_columns')} · "
                   "mean: " + ("training mean" if not trend else
                               f"{trend[0]:.3g} + {trend[1]:.3g} × distance to the parent"))
    if run.history:
        st.plotly_chart(plots.loss_curve(run.history, title="Triplet training"),
                        key="property.history")


def _predictions(run, preds: pd.DataFrame) -> None:
    models = list(dict.fromkeys(preds["model"]))
    model = st.selectbox("Model", models, key="property.w.pred_model")
    part = preds[(preds["model"] == model) & preds["measured"].notna()]
    splits = sorted(part["split"].unique())
    shown = st.multiselect("Rows", splits, default=[s for s in splits if s == "test"] or splits,
                           key="property.w.pred_splits")
    st.plotly_chart(plots.pred_vs_measured(part[part["split"].isin(shown)],
                                           label=run.summary.get("label", "")),
                    key="property.pred")


def _embedding_map(run, preds: pd.DataFrame, arrays: dict) -> None:
    ours = preds[preds["model"] == OURS].set_index("id")
    table = pd.DataFrame({"id": arrays["ids"]}).join(ours, on="id")
    label = run.summary.get("label", "property")
    table = table.rename(columns={"measured": label, "m": "mutations"})
    if table["mutations"].notna().any():
        table["mutations"] = table["mutations"].astype("Int64").astype(str)
    params = projection_controls(key="property.map", n_points=len(table))
    coords = run_projection(run.id, run.finished, "embedding", **params)
    colours = [c for c in (label, "mutations", "split", "predicted", "std") if c in table]
    left, right = st.columns(2)
    for col, colour in zip((left, right), colours[:2], strict=False):
        col.plotly_chart(plots.embedding_map(coords, table, color=colour,
                                             hover=[label, "predicted", "std", "mutations"],
                                             title=f"Coloured by {colour}",
                                             axis=params["method"].upper()),
                         key=f"property.map.{colour}")


def _cluster_map(run, preds: pd.DataFrame, arrays: dict) -> None:
    from core.tasks.property import cluster_order

    emb = arrays["embedding"].astype(np.float64)
    unit = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    order, _ = cluster_order(unit, metric="cosine")
    ours = preds[preds["model"] == OURS].set_index("id")["measured"]
    annotation = pd.Series(ours.reindex(arrays["ids"]).to_numpy(),
                           name=run.summary.get("label", "property"))
    st.plotly_chart(plots.cluster_map(unit @ unit.T, list(arrays["ids"]), order, annotation),
                    key="property.cluster")
    st.caption("Rows and columns in the order of average-linkage clustering of the embedding; "
               "the left strip is the measured property.")


def _predict_new(run) -> None:
    st.markdown("Upload or paste variants (FASTA, or CSV with id and sequence); the model "
                "predicts the property with its GP standard deviation.")
    upload = st.file_uploader("Variants", type=["fasta", "fa", "faa", "txt", "csv", "tsv"],
                              key="property.w.new_file")
    pasted = st.text_area("…or paste FASTA", key="property.w.new_text", height=120)
    data = upload.getvalue() if upload is not None else pasted.encode()
    if not data.strip():
        return
    try:
        parsed = read_sequences(data, filename=upload.name if upload else "pasted.fasta")
    except ValidationError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    if parsed.report.errors:
        st.error("Fix these records first: " + "; ".join(
            f"{p.record_id} (line {p.line}): {p.message}" for p in parsed.report.errors[:5]))
        return
    model = property_model(run.id, run.finished)
    mean, std = model.predict(parsed.table["sequence"].tolist())
    out = pd.DataFrame({"id": parsed.table["id"], "predicted": mean, "std": std,
                        "low_2sd": mean - 2 * std, "high_2sd": mean + 2 * std})
    st.dataframe(out, hide_index=True, width="stretch")
    st.download_button("Predictions (CSV)", to_csv_bytes(out), file_name="new_predictions.csv",
                       mime="text/csv", key="property.w.new_csv", icon=":material/download:")


def _downloads(run, preds: pd.DataFrame, arrays: dict) -> None:
    emb = pd.DataFrame(arrays["embedding"], columns=[f"e{i}" for i in
                                                     range(arrays["embedding"].shape[1])])
    emb.insert(0, "id", arrays["ids"])
    cols = st.columns(4)
    cols[0].download_button("Predictions (CSV)", to_csv_bytes(preds),
                            file_name=f"{run.id}_predictions.csv", mime="text/csv",
                            key="property.w.dl_pred", icon=":material/download:")
    cols[1].download_button("Embeddings (Parquet)", to_parquet_bytes(emb),
                            file_name=f"{run.id}_embeddings.parquet", key="property.w.dl_emb",
                            icon=":material/download:")
    cols[2].download_button("Embeddings (NPY, rows as in the CSV)",
                            to_npy_bytes(arrays["embedding"]), file_name=f"{run.id}_embeddings.npy",
                            key="property.w.dl_npy", icon=":material/download:")
    run_zip_button(cols[3], run, key="property.w.dl_run", label="Trained run (zip)")


def show_results(run) -> None:
    """Scores, predictions, maps, new-variant predictions and downloads of one run."""
    preds = run_table(run.id, run.finished, "predictions")
    arrays = run_arrays(run.id, run.finished)
    tabs = st.tabs(["Scores", "Predicted vs. measured", "Embedding map", "Cluster map",
                    "Predict new variants", "Downloads"])
    with tabs[0]:
        _scores(run)
    with tabs[1]:
        _predictions(run, preds)
    with tabs[2]:
        _embedding_map(run, preds, arrays)
    with tabs[3]:
        _cluster_map(run, preds, arrays)
    with tabs[4]:
        _predict_new(run)
    with tabs[5]:
        _downloads(run, preds, arrays)
