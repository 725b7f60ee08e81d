"""Result views of a finished family-fingerprint run (steps 2 and 5-7 of the Families page)."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import streamlit as st

from core import plots
from core.io import to_csv_bytes
from core.papers import FAMILIES_SEED_001 as PAPER
from core.plots_families import BARS, blosum_bars, logo_pair
from pages._shared.cache import get_store, run_arrays, run_table

MODELS = {"cnn_all": "CNN on 3 x 30 fingerprints (residue + SS + SA)",
          "cnn_residue": "CNN on the residue fingerprint (1 x 30)",
          "hmm": "Baseline: profile HMM per family (pyhmmer hmmsearch)",
          "kmer_logreg": "Baseline: 3-mer logistic regression"}


def _pct(v) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{v:.1%}"


def preprocessing(run) -> None:
    st.subheader("2 · Preprocessing")
    report = run_table(run.id, run.finished, "preprocess_report")
    totals = report.groupby("step", sort=False)[["sequences_removed", "columns_removed"]].sum()
    st.dataframe(totals.reset_index(), hide_index=True, width="stretch")
    info = run.summary.get("feature_info", {})
    st.caption(f"{run.summary.get('n', 0):,} sequences kept over "
               f"{len(run.summary.get('class_names', []))} families, padded to "
               f"{run.summary.get('width')} columns. Features: "
               f"{', '.join(run.summary.get('features', []))} (reprof: {info.get('reprof')}).")
    with st.expander("Per family"):
        st.dataframe(report, hide_index=True, width="stretch")


def reconstruction(run) -> None:
    st.subheader("5 · Reconstruction (test split)")
    m = run.metrics
    cols = st.columns(4)
    cols[0].metric("Residue accuracy, all positions", _pct(m.get("recon_acc")),
                   help="Arg-max of the decoder vs input over each family's own columns "
                        "(gaps count, padding does not). Paper: 89 %.")
    cols[1].metric("Residue accuracy, residue positions", _pct(m.get("recon_acc_residues")),
                   help="The same over positions whose input is an amino acid (no gaps).")
    cols[2].metric("Most-common-residue agreement", _pct(m.get("common_residue_agreement")),
                   help="Columns whose most common symbol (gap counted) is the same in the "
                        "input and reconstructed alignment. Paper: 95 %.")
    cols[3].metric("… over residue columns",
                   _pct(m.get("common_residue_agreement_residue_cols")))
    st.caption(f"Paper: {PAPER['recon_acc']:.0%} residues and "
               f"{PAPER['common_residue_agreement']:.0%} most-common agreement (48 UniProt "
               "families; it does not say whether gaps count).")
    if "recon_acc_train" in m:
        st.caption(f"Training split: {_pct(m['recon_acc_train'])} of all positions "
                   f"({_pct(m['recon_acc_residues_train'])} of residue positions); a large gap "
                   "to the test figure means the VAE memorises its training rows. Most-common "
                   "agreement over all members of each family (the paper reconstructs 'all the "
                   f"sequences'): {_pct(m['common_residue_agreement_all_rows'])}.")
    columns = run_table(run.id, run.finished, "columns")
    names = list(run.summary["class_names"])
    family = st.selectbox("Family", names, key="families.w.family")
    fam = columns[columns["family"] == family]
    for value in BARS:
        fig = blosum_bars(fam, value=value)
        st.plotly_chart(fig, key=f"families.bars.{value}")
        st.download_button("Figure (HTML)", fig.to_html(include_plotlyjs="cdn"),
                           file_name=f"blosum62_{value}_{family}.html", mime="text/html",
                           key=f"families.w.bars_html.{value}", icon=":material/download:")
    recon = run_table(run.id, run.finished, "reconstruction")
    rows = recon[recon["family"] == family]
    width = len(rows["aligned"].iloc[0]) if len(rows) else 1
    start, end = st.slider("Logo window", 1, width, (1, min(width, 30)),
                           key=f"families.w.window.{family}")
    if len(rows):
        fig = logo_pair(rows["aligned"].tolist(), rows["reconstructed"].tolist(),
                        start=start, end=end)
        st.pyplot(fig, clear_figure=False)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=150)
        st.download_button("Logo (PNG)", buf.getvalue(), file_name=f"logo_{family}.png",
                           mime="image/png", key="families.w.logo_png",
                           icon=":material/download:")
    st.download_button("Per-position table (CSV)", to_csv_bytes(columns),
                       file_name="reconstruction_columns.csv", mime="text/csv",
                       key="families.w.columns_csv", icon=":material/download:")


def classification(run) -> None:
    st.subheader("6 · Family classifier")
    m = run.metrics
    present = [k for k in MODELS if f"f1_macro_{k}" in m]
    cols = st.columns(len(present))
    for col, key in zip(cols, present, strict=True):
        col.metric(f"Macro-F1 · {key}", f"{m[f'f1_macro_{key}']:.3f}", help=MODELS[key])
    key = st.radio("Table for", present, format_func=MODELS.get, horizontal=True,
                   key="families.w.model")
    table = run_table(run.id, run.finished, f"per_family_{key}")
    paper = pd.DataFrame([{"family": "Paper average (48 families)", **PAPER["table1_average"]},
                          {"family": "Zhang et al. [27] average", **PAPER["table1_zhang"]}])
    st.dataframe(pd.concat([table, paper], ignore_index=True), hide_index=True,
                 width="stretch", key="families.table1",
                 column_config={c: st.column_config.NumberColumn(format="%.4f")
                                for c in ("f1", "precision", "recall", "accuracy")})
    conf = run_table(run.id, run.finished, "confusion").set_index("true")
    fig = plots.confusion_heatmap(conf, title="Confusion matrix (CNN, test split)")
    fig.update_xaxes(title="predicted family")
    st.plotly_chart(fig, key="families.confusion")
    preds = run_table(run.id, run.finished, "predictions")
    st.download_button("Predictions (CSV)", to_csv_bytes(preds), file_name="predictions.csv",
                       mime="text/csv", key="families.w.pred_csv", icon=":material/download:")


def fingerprint_space(run) -> None:
    st.subheader("7 · Fingerprint space")
    m = run.metrics
    st.metric("K-means accuracy (10-fold CV, Hungarian matching)", _pct(m.get("kmeans_acc")),
              help=f"Paper: {PAPER['kmeans_acc']:.0%}. Fingerprint space: "
                   f"{run.summary['config'].get('kmeans_space', 'raw')} (fitted on the "
                   "training folds; l2 = K-means on the fingerprints' directions).")
    arrays = run_arrays(run.id, run.finished)
    names = list(run.summary["class_names"])
    members = run_table(run.id, run.finished, "members")
    frame = members[["id", "family", "split"]]
    st.plotly_chart(plots.embedding_map(arrays["coords"], frame, color="family",
                                        hover=["id", "split"], title="Family map (t-SNE of "
                                        "residue fingerprints)"), key="families.map")
    fp = pd.DataFrame(arrays["fingerprints_residue"],
                      columns=[f"z{i}" for i in range(arrays["fingerprints_residue"].shape[1])])
    st.download_button("Fingerprints (CSV)", to_csv_bytes(pd.concat([frame, fp], axis=1)),
                       file_name="fingerprints.csv", mime="text/csv",
                       key="families.w.fp_csv", icon=":material/download:")
    _search(run, arrays, names, members)


def _search(run, arrays, names, members) -> None:
    from core.families.evaluate import inverse_variance_weights, minkowski_rank

    st.markdown("**Family search** (Minkowski distance to each family's mean fingerprint)")
    with st.form("families.w.search"):
        query = st.text_area("A protein sequence (aligned through the family HMMs) or 30 "
                             "comma-separated fingerprint values", key="families.w.query")
        c1, c2 = st.columns(2)
        p = c1.number_input("p", 0.5, 10.0, 2.0, step=0.5, key="families.w.p")
        weighted = c2.toggle("Weighted (1 / variance per dimension)", key="families.w.weighted")
        go = st.form_submit_button("Search", icon=":material/search:")
    if not go or not query.strip():
        return
    try:
        vec = _query_vector(run, query, names, members)
    except ValueError as exc:
        st.error(str(exc))
        return
    w = inverse_variance_weights(arrays["fingerprints_residue"]) if weighted else None
    st.dataframe(minkowski_rank(vec, arrays["family_fingerprints_residue"], names, p=p,
                                weights=w), hide_index=True, width="stretch")


def _query_vector(run, query: str, names, members) -> np.ndarray:
    text = query.strip()
    if any(ch.isdigit() for ch in text[:20]):
        try:
            vec = np.array([float(v) for v in text.replace("\n", ",").split(",") if v.strip()])
        except ValueError:
            raise ValueError("fingerprint values must be numbers separated by commas") from None
        if len(vec) != run.summary["config"]["vae"]["latent"]:
            raise ValueError(f"a fingerprint has {run.summary['config']['vae']['latent']} "
                             f"values, got {len(vec)}")
        return vec
    from core.tasks.families import fingerprint_sequence, load_vae

    if len(text) > 5000:
        raise ValueError("sequence longer than 5,000 residues")
    hmms = _hmms(run.id, run.finished, members, tuple(names))
    out = fingerprint_sequence(text, hmms, load_vae(get_store(), run), run.summary["width"])
    st.caption(f"Aligned onto the {out['aligned_to']} HMM: `{out['aligned']}`")
    return out["fingerprint"]


@st.cache_resource(show_spinner="Building family HMMs…", max_entries=2)
def _hmms(run_id: str, finished: str | None, _members, names: tuple[str, ...]):
    from core.tasks.families import family_hmms

    return family_hmms(_members, list(names))


def show_results(run) -> None:
    preprocessing(run)
    reconstruction(run)
    classification(run)
    fingerprint_space(run)
