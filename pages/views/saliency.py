"""Saliency: what a property model looks at, and which mutant to make next (seed 000, Fig. 4)."""
from __future__ import annotations

import streamlit as st

from core.saliency_analysis import tracks
from pages._shared.method import pick_run
from pages._shared.saliency_views import (
    device_choice,
    pick_config,
    pick_proteins,
    proteins,
    saliency,
    saliency_model,
    show_mutagenesis,
    show_rank_summary,
    show_tracks,
)

st.title("Saliency")
st.caption("Which residues drive a property model's prediction (seed 000, Figure 4: the parent "
           "and its least and most extreme mutants, mutations marked), whether the mutations "
           "fall where the model looks, and what every single substitution is predicted to do.")

run = pick_run("property", key="saliency",
               empty="No property model yet: train one on the **Property models** page, then "
                     "come back here to see what it looks at.")
table = proteins(run.id, run.finished)
label = run.summary.get("label", "property")
device = device_choice()
model = saliency_model(run.id, run.finished, device)

parent, shown, names = pick_proteins(table, label)
config, reference, value = pick_config(model.encoders_[0].config.out_dim, table["id"].tolist())
scores = saliency(run.id, run.finished, tuple(shown), config, parent, reference, device)
long, marks = tracks(table, scores, shown, parent)

tabs = st.tabs(["Parent vs. mutants", "Mutations vs. saliency", "In-silico mutagenesis"])
with tabs[0]:
    show_tracks(long, marks, names, value, run.id)
with tabs[1]:
    show_rank_summary(long, marks, parent, scores)
with tabs[2]:
    show_mutagenesis(run, table, parent, device)
