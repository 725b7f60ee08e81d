"""Text search: protein–text dual encoder, twin hard negatives, triplet fine-tuning (seed 003)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.datasets import by_kind
from core.io import dataset_fingerprint
from core.tasks.text_data import validate_texts
from pages._shared import state
from pages._shared.cache import get_jobs
from pages._shared.method import pick_data, pick_run
from pages._shared.text_views import show_results
from pages._shared.views import show_report

st.title("Text search")
st.caption("A protein–text dual encoder (seed 003): a trained k-mer protein tower and MiniLM "
           "text features meet in one space (CLIP InfoNCE, the baseline), then the model is "
           "fine-tuned on *twins* — near-identical sequences with different descriptions — "
           "with the triplet margin loss, alone or mixed with InfoNCE (with the paper protocol "
           "the kept model also adds the scores of a plain k-mer model fine-tuned the same "
           "way; with novel families the protein tower reads frozen NEAR embeddings "
           "instead of k-mers, and how crowded each protein's neighbourhood is among all "
           "proteins). Search by text or by sequence; see whether twins are told apart.")

choice = pick_data(by_kind("text"), key="text")
table = choice.table
if table is None or "text" not in table.columns:
    st.warning("These data have no `text` column: upload a CSV with `sequence` and `text` on "
               "the Data page, or pick the built-in set.")
    st.stop()
if not choice.builtin:
    report = validate_texts(table)
    if report.problems:
        show_report(report, key="text.report")
    if report.errors:
        st.stop()
has_split = "split" in table.columns and table["split"].isin(["train", "valid", "test"]).all()
st.caption(f"{len(table):,} proteins, {table['text'].nunique():,} distinct texts.")

with st.form("text.w.form"):
    c1, c2, c3 = st.columns(3)
    protocols = ["paper"] + (["novel_families"] if has_split else [])
    protocol = c1.selectbox("Protocol", protocols, key="text.w.protocol",
                            help="paper: a random 10 % of proteins held out (their families "
                                 "are known); novel_families: the `split` column, whole "
                                 "sequence groups held out.")
    twin_sources = (["shipped", "mine"] if choice.builtin else ["mine"])
    twins = c2.selectbox("Twins", twin_sources, key="text.w.twins",
                         help="shipped: resfinder_twins.csv; mine: difflib (autojunk off) "
                              "after a RapidFuzz/length prefilter, cached.")
    finetune = c3.multiselect("Fine-tunes (last one is kept)", ["triplet", "mixed"],
                              default=["triplet", "mixed"], key="text.w.finetune")
    with st.expander("Thresholds and training"):
        d1, d2, d3, d4 = st.columns(4)
        min_ratio = d1.number_input("Min sequence ratio", 0.1, 1.0, 0.7, 0.05,
                                    key="text.w.min_ratio")
        max_ratio = d2.number_input("Max sequence ratio", 0.1, 1.0, 0.9999, 0.0001,
                                    format="%.4f", key="text.w.max_ratio")
        max_cos = d3.number_input("Max text cosine", 0.05, 1.0, 0.5, 0.05, key="text.w.max_cos")
        margin = d4.number_input("Margin", 0.0, 1.0, 0.2, 0.05, key="text.w.margin")
        e1, e2, e3, e4 = st.columns(4)
        base_epochs = e1.number_input("Base epochs", 1, 500, 12, key="text.w.base_epochs")
        ft_epochs = e2.number_input("Fine-tune epochs", 1, 200, 6, key="text.w.ft_epochs")
        weight = e3.number_input("Triplet weight (mixed)", 0.0, 10.0, 1.0, 0.1,
                                 key="text.w.weight")
        accum = e4.number_input("Gradient accumulation", 1, 64, 1, key="text.w.accum")
        f1, f2, f3, f4 = st.columns(4)
        text_ft = f1.checkbox("Fine-tune MiniLM", key="text.w.text_ft",
                              help="Train the MiniLM text transformer itself, not only the "
                                   "head on its frozen features (slow on a CPU).")
        features = f3.selectbox(
            "Protein features", ["auto", "kmer", "near", "kmer+near"], key="text.w.features",
            help="kmer: a trained k-mer bag (with lexical text features); near: frozen "
                 "mean-pooled NEAR embeddings (pretrained CNN, computed once and cached) and "
                 "the MiniLM head only; kmer+near: both; each with the neighbourhood "
                 "statistics below. auto: kmer for the paper protocol, near for novel "
                 "families (chosen on validation data).")
        ensemble = f2.selectbox(
            "Plain k-mer companion weight", ["auto", 0.0, 0.25, 0.5, 0.75], key="text.w.ensemble",
            help="With 'mixed', a second model (k-mer tower and MiniLM head only) is trained "
                 "and the final model adds its scores with this weight; 0 keeps the mixed "
                 "model alone; auto: 0.5 for the paper protocol, 0 for novel families.")
        twin_share = f4.selectbox(
            "Twin share of InfoNCE batches", ["auto", 0.0, 0.25, 0.5, 1.0],
            key="text.w.twin_fraction",
            help="Share of each in-batch-negative batch made of (protein, twin) pairs, so "
                 "the contrastive loss itself sees the hard negatives; auto: 0.5 for the "
                 "paper protocol, 0 for novel families.")
        g1, g2, _, _ = st.columns(4)
        reference = g1.selectbox(
            "Relatives counted among", ["auto", "train", "all"], key="text.w.stats_reference",
            help="The protein tower reads how crowded each protein's neighbourhood is (how "
                 "many proteins lie above 90 … 99.8 % identity, the best identities) — the "
                 "well-studied protein of a family is its hub. train: relatives among the "
                 "training proteins; all: among every protein's sequence, the held-out ones "
                 "and at search time the library too (transductive; sequences only, never "
                 "their texts); auto: train for the paper protocol, all for novel families.")
        measure = g2.selectbox(
            "Neighbourhood statistics", ["auto", "identity", "identity_length", "kmer"],
            key="text.w.stats_measure",
            help="identity: sequence identity (RapidFuzz); identity_length: plus the "
                 "protein's length against its closest relatives; kmer: k-mer cosine; auto: "
                 "identity for the paper protocol, identity_length for novel families.")
    submitted = st.form_submit_button("Train", type="primary", icon=":material/play_arrow:")
if submitted:
    config = {"train": {"epochs": int(base_epochs), "triplet_weight": float(weight),
                        "margin": float(margin), "grad_accum": int(accum)},
              "finetune_epochs": int(ft_epochs), "finetune": list(finetune),
              "text_finetune": text_ft, "protein_features": features,
              "ensemble_plain": None if ensemble == "auto" else float(ensemble),
              "twin_fraction": None if twin_share == "auto" else float(twin_share),
              "stats_reference": reference, "stats_measure": measure}
    twin_config = {"min_ratio": float(min_ratio), "max_ratio": float(max_ratio),
                   "max_text_cosine": float(max_cos)}
    keep = [c for c in ("id", "sequence", "text", "split") if c in table.columns]
    dataset = {"name": choice.name, "n": len(table), "fingerprint": dataset_fingerprint(table),
               "source": "builtin" if choice.builtin else "upload"}
    st.session_state["text.run_id"] = get_jobs().submit(
        "text.fit", {"table": pd.DataFrame(table[keep]), "protocol": protocol, "twins": twins,
                     "twin_config": twin_config, "config": config},
        method="text", name=f"Text retrieval ({protocol}) on {choice.name}",
        config=config | {"protocol": protocol, "twins": twins} | twin_config, dataset=dataset,
        seed=int(st.session_state[state.SEED]), device=st.session_state[state.DEVICE])

run = pick_run("text", key="text",
               empty="No retrieval model yet: pick the data and press **Train**.")
show_results(run)
