"""Clustering without labels: sequence features + SCAN, judged by NMI and Hungarian matching."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.datasets import by_kind
from core.io import dataset_fingerprint
from pages._shared import state
from pages._shared.cache import encoder_choices, get_jobs
from pages._shared.method import pick_data, pick_run
from pages._shared.scan_sweep_view import sweep_panel
from pages._shared.scan_views import show_results

RUN_KEY = "scan.run_id"
NO_LABEL = "(none: judge without labels)"

st.title("Clustering without labels")
st.caption("SeqSCAN (seed 002): embed every protein, mine each one's nearest neighbours, and "
           "train a clustering head to agree with its neighbours (SCAN). With labels, the "
           "clusters are judged by NMI, ARI and accuracy after Hungarian matching, against "
           "PCA + K-means and a length-only K-means on the same data.")

choice = pick_data(by_kind("clustering") + by_kind("families"), key="scan")
table, default_label, data_name = choice.table, choice.default_label, choice.name
candidates = [c for c in table.columns if c not in ("id", "sequence", "aligned", "line")
              and 1 < table[c].nunique() <= max(2, len(table) // 2)]
if default_label is None and len(candidates) == 1:
    default_label = candidates[0]  # one class-like column: judge by it unless told otherwise
label = st.selectbox("Label column (used only to judge the clusters)",
                     [NO_LABEL] + candidates, key="scan.w.label",
                     index=1 + candidates.index(default_label) if default_label in candidates
                     else 0)
label = None if label == NO_LABEL else label
n_classes = int(table[label].nunique()) if label else None
st.caption(f"{len(table):,} sequences" + (f", {n_classes} classes in `{label}`" if label
                                          else ", no labels: silhouette and cluster sizes only"))

encoders = encoder_choices()
usable = [e["name"] for e in encoders if e["available"]]
encoder = st.selectbox("Encoder", usable, key="scan.w.encoder",
                       index=usable.index("near") if "near" in usable else 0,
                       help="; ".join(f"{e['name']}: {e['reason']}" for e in encoders))
dataset = {"name": data_name, "n": len(table), "fingerprint": dataset_fingerprint(table),
           "source": "builtin" if choice.builtin else "upload"}
k_key = f"scan.w.k.{data_name}.{label}"  # the default follows the data and label
sweep_panel(table, label=label, encoder=encoder, dataset=dataset, k_key=k_key)
with st.form("scan.w.form"):
    c2, c3, c4 = st.columns(3)
    n_clusters = c2.number_input("Clusters", 2, 500, n_classes or 10, key=k_key,
                                 help="May exceed the expected number of families "
                                      "(over-clustering); matching is then many-to-one.")
    knn = c3.number_input("Neighbours mined (K)", 1, 200, 20, key="scan.w.knn")
    self_label = c4.checkbox("Self-labelling step", value=True, key="scan.w.self_label",
                             help="Retrain on the confident assignments (SCAN's step 3); on "
                                  "scan10 with NEAR it raised NMI from 0.947 to 0.966.")
    submitted = st.form_submit_button("Cluster", type="primary", icon=":material/play_arrow:")
unavailable = [e for e in encoders if not e["available"]]
if unavailable:
    st.caption("Not available here: " + "; ".join(f"{e['name']} ({e['reason']})"
                                                   for e in unavailable))
if submitted:
    config = {"n_clusters": int(n_clusters), "knn": int(knn), "self_label": bool(self_label)}
    keep = [c for c in ("id", "sequence", label) if c]
    st.session_state[RUN_KEY] = get_jobs().submit(
        "scan.fit", {"table": pd.DataFrame(table[keep]), "label": label, "encoder": encoder,
                     "config": config},
        method="scan", name=f"{encoder} SCAN on {data_name}", config={**config,
                                                                      "encoder": encoder},
        dataset=dataset, seed=int(st.session_state[state.SEED]),
        device=st.session_state[state.DEVICE])

run = pick_run("scan", key="scan",
               empty="No clustering yet: choose an encoder and press **Cluster**.")
show_results(run)
