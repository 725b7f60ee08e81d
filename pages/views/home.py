"""Home: what ProtLens does, where to start, and the measured benchmarks."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.bench import bench_frame, load_bench
from pages._shared.cache import builtin_catalogue, get_store

HERE = Path(__file__).resolve().parent

METHODS = [
    ("Property models", "Triplet-trained CNN + Gaussian-process read-out on a few dozen "
     "measured variants: MAE against baselines, uncertainty, embedding maps (seed 000).",
     "property"),
    ("Family fingerprints", "VAE fingerprints of family alignments and a CNN family "
     "classifier, with BLOSUM62 reconstruction bars (seed 001).", "families"),
    ("Clustering without labels", "SeqSCAN: self-supervised features, neighbour mining and a "
     "SCAN head, judged by NMI and Hungarian-matched confusion (seed 002).", "clustering"),
    ("Protein–text retrieval", "Dual encoder with twin hard negatives and triplet fine-tuning; "
     "score-distribution shift and text → protein search (seed 003).", "text"),
]

st.image(str(HERE.parents[1] / "assets" / "logo.png"), width=320)
st.markdown(
    "**See what deep models learn about proteins.** Upload FASTA, CSV or alignments, train "
    "or load a model on the GPU or CPU, and explore its embeddings — with the validation, "
    "uncertainty and baselines a careful biologist expects.")

st.subheader("Start here")
c1, c2 = st.columns(2)
with c1.container(border=True):
    st.markdown("**1. Bring data**  \nUpload sequences or pick one of the built-in benchmark "
                "sets; read the validation report.")
    st.page_link(str(HERE / "data.py"), label="Open Data", icon=":material/upload_file:")
with c2.container(border=True):
    runs = get_store().list()
    done = sum(r.status == "done" for r in runs)
    st.markdown(f"**2. Revisit runs**  \n{len(runs)} run(s) in this workspace, {done} finished. "
                "Reopen, rename, export or import them.")
    st.page_link(str(HERE / "runs.py"), label="Open Runs", icon=":material/history:")

st.subheader("Methods")
available = [m for m in METHODS if (HERE / f"{m[2]}.py").is_file()]
if not available:
    st.caption("No method page is in this build; the README lists the plan.")
cols = st.columns(2)
for i, (title, text, page) in enumerate(available):
    with cols[i % 2].container(border=True):
        st.markdown(f"**{title}**  \n{text}")
        st.page_link(str(HERE / f"{page}.py"), label=f"Open {title}",
                     icon=":material/arrow_forward:")

st.subheader("Built-in data")
catalogue = builtin_catalogue()
st.caption(f"{int(catalogue['found'].sum())} of {len(catalogue)} benchmark sets found.")
st.dataframe(catalogue[["name", "kind", "title", "found", "licence"]], hide_index=True,
             width="stretch")

st.subheader("Benchmarks")
records = load_bench()
if not records:
    st.caption("No benchmark has been recorded yet (`python -m core bench all`).")
for method, record in records.items():
    frame = bench_frame(record)
    with st.expander(f"{method} — {record.get('created', '')}, "
                     f"{record.get('machine', {}).get('cpu', '')}", expanded=False):
        st.caption(f"`{record.get('command', '')}`")
        st.dataframe(frame, hide_index=True, width="stretch")
