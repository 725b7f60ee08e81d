"""Rendering pieces more than one page uses: validation reports, data overviews, run cards."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core import describe, plots
from core.io import ValidationReport, to_csv_bytes, to_fasta_bytes, to_parquet_bytes
from pages._shared.cache import run_bundle


def show_report(report: ValidationReport, *, key: str) -> None:
    """A validation report: headline counts, then every problem with its record and line."""
    errors, warnings = len(report.errors), len(report.warnings)
    cols = st.columns(4)
    cols[0].metric("Records", f"{report.n_records:,}")
    cols[1].metric("Format", report.format)
    cols[2].metric("Errors", errors)
    cols[3].metric("Warnings", warnings)
    if errors:
        first = "\n".join(f"- {_where(p)}{p.message}" for p in report.errors[:5])
        more = f"\n- … and {errors - 5} more in the table below" if errors > 5 else ""
        st.error(f"{errors} error(s) in {report.source}: these records need attention before "
                 f"training. Nothing was removed or changed.\n{first}{more}",
                 icon=":material/error:")
    elif warnings:
        st.warning(f"{warnings} warning(s) in {report.source}; the data can be used as it is.",
                   icon=":material/warning:")
    else:
        st.success(f"{report.source}: no problems found.", icon=":material/check_circle:")
    frame = report.to_frame()
    if len(frame):
        levels = st.segmented_control("Show", ["error", "warning"], default=["error", "warning"],
                                      selection_mode="multi", key=f"{key}.w.levels")
        shown = frame[frame["level"].isin(levels or [])]
        st.dataframe(shown, hide_index=True, width="stretch", height=min(400, 38 + 35 * len(shown)))
        st.download_button("Download the report (CSV)", to_csv_bytes(frame),
                           file_name="validation_report.csv", mime="text/csv",
                           key=f"{key}.w.report_csv", icon=":material/download:")
    if report.counts:
        st.caption("Counts: " + ", ".join(f"{k} {v:,}" for k, v in sorted(report.counts.items())))


def _where(problem) -> str:
    parts = [f"**{problem.record_id}**" if problem.record_id else "",
             f"line {problem.line}" if problem.line else ""]
    label = ", ".join(p for p in parts if p)
    return f"{label}: " if label else ""


def show_overview(table: pd.DataFrame, *, key: str) -> None:
    """Preview table, length histogram and residue composition of a data set."""
    info = describe.summary(table)
    cols = st.columns(4)
    cols[0].metric("Sequences", f"{info['sequences']:,}")
    cols[1].metric("Shortest", f"{info['min_length']:,}")
    cols[2].metric("Median length", f"{info['median_length']:,.0f}")
    cols[3].metric("Longest", f"{info['max_length']:,}")
    preview = table.drop(columns=[c for c in ("line",) if c in table.columns]).head(1000)
    st.dataframe(preview, hide_index=True, width="stretch", height=300,
                 column_config={"sequence": st.column_config.TextColumn(width="large")})
    if len(table) > len(preview):
        st.caption(f"Showing the first {len(preview):,} of {len(table):,} records.")
    left, right = st.columns(2)
    left.plotly_chart(plots.length_histogram(table), key=f"{key}.lengths")
    right.plotly_chart(plots.composition_bar(table), key=f"{key}.composition")
    download_table(table, key=key, stem="sequences")


def download_table(table: pd.DataFrame, *, key: str, stem: str) -> None:
    """CSV, FASTA and Parquet downloads of a sequence table, side by side."""
    cols = st.columns(3)
    cols[0].download_button("CSV", to_csv_bytes(table), file_name=f"{stem}.csv",
                            mime="text/csv", key=f"{key}.w.csv", icon=":material/download:")
    cols[1].download_button("FASTA", to_fasta_bytes(table), file_name=f"{stem}.fasta",
                            mime="text/plain", key=f"{key}.w.fasta", icon=":material/download:")
    cols[2].download_button("Parquet", to_parquet_bytes(table), file_name=f"{stem}.parquet",
                            mime="application/octet-stream", key=f"{key}.w.parquet",
                            icon=":material/download:")


def run_zip_button(where, run, *, key: str, label: str = "Run (zip)") -> None:
    """The run's export bundle as a download button in ``where`` (a column or ``st``)."""
    where.download_button(label, run_bundle(run.id, run.finished, run.name),
                          file_name=f"{run.id}.zip", mime="application/zip", key=key,
                          icon=":material/download:")


PROJECTION_LABELS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


def projection_controls(*, key: str, n_points: int) -> dict:
    """Projection method and its main parameters; returns keyword arguments for the cache."""
    cols = st.columns([2, 1, 1, 1])
    method = cols[0].segmented_control("Projection", list(PROJECTION_LABELS), default="pca",
                                       format_func=PROJECTION_LABELS.get, key=f"{key}.w.method",
                                       help="UMAP's first use in a session takes ~20 s to load.")
    method = method or "pca"
    perplexity = cols[1].number_input("Perplexity", 2.0, 100.0,
                                      float(min(30, max(2, (n_points - 1) // 3))), step=1.0,
                                      key=f"{key}.w.perplexity", disabled=method != "tsne")
    neighbours = cols[2].number_input("Neighbours", 2, 200, min(15, max(2, n_points - 1)),
                                      key=f"{key}.w.neighbours", disabled=method != "umap")
    min_dist = cols[3].number_input("min_dist", 0.0, 1.0, 0.1, step=0.05,
                                    key=f"{key}.w.min_dist", disabled=method != "umap")
    return {"method": method, "perplexity": float(perplexity), "n_neighbors": int(neighbours),
            "min_dist": float(min_dist), "seed": int(st.session_state.get("app.seed", 0))}
