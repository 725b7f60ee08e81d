"""Family fingerprints: VAE on MSAs, CNN family classifier, BLOSUM62 reconstruction bars."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.datasets import by_kind
from core.families import reprof
from core.io import dataset_fingerprint
from pages._shared import state
from pages._shared.cache import get_jobs
from pages._shared.families_views import show_results
from pages._shared.method import pick_data, pick_run

st.title("Family fingerprints")
st.caption("Seed 001: (1) per-family alignments → (2) the paper's preprocessing → (3) one-hot "
           "residues, predicted secondary structure and solvent accessibility → (4) one VAE "
           "per feature type, whose 30-float latent is the fingerprint → (5) reconstruction "
           "and BLOSUM62 bars → (6) a CNN on the stacked fingerprints beside profile HMMs → "
           "(7) K-means, a family map and Minkowski family search.")
has_reprof = reprof.available()
if not has_reprof:
    st.info("reprof is not installed here: the pipeline runs on residues alone "
            "(no secondary-structure or accessibility channels).", icon=":material/info:")

st.subheader("1 · Alignments")
choice = pick_data(by_kind("families"), key="families")
table, data_name = choice.table, choice.name
if "aligned" not in table.columns:
    st.warning("These data have no aligned rows. Upload per-family alignments (Stockholm, "
               "A2M or aligned FASTA) with a family column on the Data page.")
    st.stop()
candidates = [c for c in table.columns if c not in ("id", "sequence", "aligned", "line")
              and 1 < table[c].nunique() <= max(2, len(table) // 5)]
if not candidates:
    st.warning("No family column found (a column with a few repeated values).")
    st.stop()
family_col = st.selectbox("Family column", candidates, key="families.w.family_col",
                          index=candidates.index("family_id") if "family_id" in candidates
                          else 0)
all_families = sorted(table[family_col].astype(str).unique())
chosen = st.multiselect("Families", all_families, default=all_families,
                        key=f"families.w.subset.{data_name}")
subset = table[table[family_col].astype(str).isin(chosen)]
st.caption(f"{len(subset):,} aligned rows in {len(chosen)} families.")

with st.form("families.w.form"):
    st.markdown("**Preprocessing and training** (paper defaults)")
    c = st.columns(4)
    min_len = c[0].number_input("Min length", 1, 5000, 50, key="families.w.min_len")
    max_len = c[1].number_input("Max length", 1, 20000, 1200, key="families.w.max_len")
    per_family = c[2].number_input("Sequences per family", 0, 10000, 500,
                                   key="families.w.per_family",
                                   help="Class balancing; capped at the smallest family.")
    use_reprof = c[3].checkbox("SS/SA from reprof", value=False, disabled=not has_reprof,
                               key="families.w.reprof",
                               help="~0.5 s per sequence on one core (cached per sequence).")
    c = st.columns(4)
    seq_gap = c[0].number_input("Gap rule 1 (column gap fraction)", 0.5, 1.0, 0.995,
                                step=0.005, format="%.3f", key="families.w.seq_gap")
    col_gap = c[1].number_input("Gap rule 2 (column gap fraction)", 0.05, 1.0, 0.75,
                                step=0.05, key="families.w.col_gap")
    vae_epochs = c[2].number_input("VAE epochs", 1, 2000, 150, key="families.w.vae_epochs")
    cnn_epochs = c[3].number_input("CNN epochs", 1, 1000, 60, key="families.w.cnn_epochs")
    submitted = st.form_submit_button("Train", type="primary", icon=":material/play_arrow:")
if submitted:
    if len(chosen) < 2:
        st.error("Pick at least two families.")
        st.stop()
    config = {"preprocess": {"min_len": int(min_len), "max_len": int(max_len),
                             "per_family": int(per_family), "seq_gap_column": float(seq_gap),
                             "column_gap": float(col_gap)},
              "vae": {"epochs": int(vae_epochs)}, "cnn": {"epochs": int(cnn_epochs)},
              "use_reprof": bool(use_reprof and has_reprof)}
    keep = [col for col in ("id", "sequence", "aligned", family_col) if col in subset.columns]
    dataset = {"name": data_name, "n": len(subset), "fingerprint": dataset_fingerprint(subset),
               "source": "builtin" if choice.builtin else "upload"}
    st.session_state["families.run_id"] = get_jobs().submit(
        "families.fit", {"table": pd.DataFrame(subset[keep]), "family_col": family_col,
                         "config": config},
        method="families", name=f"Fingerprints on {data_name} ({len(chosen)} families)",
        config=config, dataset=dataset, seed=int(st.session_state[state.SEED]),
        device=st.session_state[state.DEVICE])

run = pick_run("families", key="families",
               empty="No fingerprint run yet: pick families and press **Train**.")
show_results(run)
