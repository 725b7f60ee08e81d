"""Widgets and cached calls of the Saliency page."""
from __future__ import annotations

import io
from dataclasses import asdict

import pandas as pd
import streamlit as st

from core.io import to_csv_bytes
from pages._shared import state
from pages._shared.cache import get_store

ROLES = ("parent", "least", "most")
SOURCES = ("Parent, least and most (the paper's Figure 4)", "Selection on the embedding map",
           "Choose proteins")


# ------------------------------------------------------------------ cached backend calls
def device_choice() -> str | None:
    choice = st.session_state.get(state.DEVICE, "auto")
    return None if choice == "auto" else choice


@st.cache_resource(show_spinner="Loading the trained model…", max_entries=4)
def saliency_model(run_id: str, finished: str | None, device: str | None):
    """The run's model on the chosen device (shared, read-only: never trained)."""
    from core.device import get_device
    from core.tasks.property import load_property_model

    return load_property_model(get_store(), run_id, device=get_device(device))


@st.cache_data(show_spinner=False, max_entries=8)
def proteins(run_id: str, finished: str | None) -> pd.DataFrame:
    from core.saliency_analysis import run_proteins

    return run_proteins(get_store(), run_id)


@st.cache_data(show_spinner="Computing saliency…", max_entries=32)
def saliency(run_id: str, finished: str | None, ids: tuple[str, ...], config: dict,
             parent: str, reference: str | None, device: str | None) -> pd.DataFrame:
    from core.saliency import SaliencyConfig, compute_saliency

    table = proteins(run_id, finished).set_index("id")
    rows = table.loc[list(ids)]
    return compute_saliency(
        saliency_model(run_id, finished, device), rows["sequence"].tolist(), ids=list(ids),
        config=SaliencyConfig(**config),
        aligned=rows["aligned"].tolist() if "aligned" in rows else None,
        parent=table.at[parent, "sequence"],
        reference=table.at[reference, "sequence"] if reference else None)


@st.cache_data(show_spinner="Scoring every single mutant…", max_entries=8)
def mutants(run_id: str, finished: str | None, pid: str, device: str | None):
    from core.mutagenesis import mutagenesis

    row = proteins(run_id, finished).set_index("id").loc[pid]
    return mutagenesis(saliency_model(run_id, finished, device), row["sequence"],
                       aligned=row["aligned"] if "aligned" in row else None)


# ------------------------------------------------------------------ inputs
def pick_proteins(table: pd.DataFrame, label: str) -> tuple[str, list[str], dict[str, str]]:
    """Parent, the proteins to show and a role name for each (parent / least / most)."""
    from core.saliency_analysis import default_proteins, pick_parent

    ids = table["id"].tolist()
    selection = [i for i in (st.session_state.get(state.EXPLORER_SELECTION) or []) if i in ids]
    sources = [SOURCES[0]] + ([SOURCES[1]] if selection else []) + [SOURCES[2]]
    source = st.radio("Proteins", sources, horizontal=True, key="saliency.w.source")
    default_parent = pick_parent(table)
    parent = st.selectbox("Parent", ids, index=ids.index(default_parent),
                          key="saliency.w.parent",
                          help="The data set's parent column, else the protein with the "
                               "fewest mutations. Mutations are marked relative to it.")
    paper = default_proteins(table, label)
    names = dict(zip(paper, ROLES, strict=False))
    if source == SOURCES[0]:
        shown = [parent] + [i for i in paper[1:] if i != parent]
    elif source == SOURCES[1]:
        shown = list(dict.fromkeys([parent, *selection]))[:12]
    else:
        chosen = st.multiselect("Mutants", [i for i in ids if i != parent], default=[
            i for i in paper[1:] if i != parent], key="saliency.w.mutants", max_selections=11)
        shown = [parent, *chosen]
    names = {i: ("parent" if i == parent else names.get(i, "")) for i in shown}
    return parent, shown, names


def pick_config(model_width: int, ids: list[str]) -> tuple[dict, str | None, str]:
    """Attribution settings; returns (SaliencyConfig fields, reference id, value column)."""
    from core.saliency import SaliencyConfig

    c1, c2, c3, c4 = st.columns(4)
    labels = {"maxpool": "Max-pool importance (paper)", "ig": "Integrated gradients",
              "gradxinput": "Gradient × input"}
    method = c1.selectbox("Method", list(labels), format_func=labels.get,
                          key="saliency.w.method")
    baseline = c2.selectbox("IG baseline", ["padding", "parent", "composition"],
                            key="saliency.w.baseline", disabled=method != "ig",
                            help="All-padding (zero embeddings), the parent sequence, or the "
                                 "protein's composition-weighted mean residue at every "
                                 "position.")
    targets = {"property": "Predicted property (GP mean)", "embedding_dim": "One embedding "
               "dimension", "distance": "Distance to another protein"}
    target = c3.selectbox("Explain", list(targets), format_func=targets.get,
                          key="saliency.w.target")
    value = c4.radio("Scores", ["signed", "absolute"], horizontal=True, key="saliency.w.value")
    dim, reference = 0, None
    if target == "embedding_dim":
        dim = int(st.number_input("Embedding dimension", 0, model_width - 1, 0,
                                  key="saliency.w.dim"))
    elif target == "distance":
        reference = st.selectbox("Distance to", ids, key="saliency.w.reference")
    return asdict(SaliencyConfig(method=method, baseline=baseline, target=target, dim=dim)), \
        reference, value


def window_slider(length: int, *, key: str, focus: list[int] | None = None) -> tuple[int, int]:
    """Columns [start, stop) to draw; a long protein opens on 100 positions around the first
    columns in ``focus`` (e.g. its mutations), else on its first 100."""
    if length <= 150:
        return 0, length
    start = max(0, min(focus) - 10) if focus else 0
    start = min(start, length - 100)
    lo, hi = st.slider("Window (positions)", 1, length, (start + 1, start + 100), key=key)
    return lo - 1, hi


# ------------------------------------------------------------------ views
def show_tracks(long: pd.DataFrame, marks: dict, names: dict, value: str, run_id: str) -> None:
    from core.plots_saliency import saliency_logo, saliency_tracks

    focus = [m.column for ms in marks.values() for m in ms]
    window = window_slider(int(long["column"].max()) + 1, key="saliency.w.window", focus=focus)
    st.plotly_chart(saliency_tracks(long, marks, names=names, value=value, window=window),
                    key="saliency.tracks")
    fig = saliency_logo(long, marks, names=names, value=value, window=window)
    st.pyplot(fig, clear_figure=False)
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=150, bbox_inches="tight")
    c1, c2 = st.columns(2)
    c1.download_button("Logo (PNG)", png.getvalue(), file_name=f"{run_id}_saliency_logo.png",
                       mime="image/png", key="saliency.w.dl_logo", icon=":material/download:")
    table = long.assign(mutation=[
        next((m.label for m in marks.get(i, []) if m.column == c), "")
        for i, c in zip(long["id"], long["column"], strict=True)])
    c2.download_button("Per-residue scores (CSV)", to_csv_bytes(table),
                       file_name=f"{run_id}_saliency.csv", mime="text/csv",
                       key="saliency.w.dl_scores", icon=":material/download:")
    st.caption("Hover a cell for position, residue and score; red squares and labels mark "
               "substitutions relative to the parent (W122A: W at 122 became A). The figure "
               "downloads from its toolbar.")


def show_rank_summary(long: pd.DataFrame, marks: dict, parent: str, scores: pd.DataFrame
                      ) -> None:
    from core.saliency_analysis import rank_summary

    summary = rank_summary(long, marks, parent, n_permutations=10000)
    st.dataframe(summary, hide_index=True, width="stretch", column_config={
        "mean_percentile": st.column_config.NumberColumn("mean saliency percentile",
                                                         format="%.2f"),
        "p_value": st.column_config.NumberColumn("permutation p", format="%.4f")})
    st.caption("Mean percentile rank (1 = most salient) of the mutated positions by absolute "
               "saliency, and the share of 10,000 random position sets of the same size that "
               "rank at least as high (one-sided permutation p-value). 0.5 is chance.")
    delta = scores.groupby("id")["delta"].first()
    if delta.notna().any():
        st.caption("Integrated-gradients completeness error (attributions minus the output "
                   "change), per protein: " + ", ".join(f"{i}: {d:.3g}" for i, d in
                                                         delta.items()))


def show_mutagenesis(run, table: pd.DataFrame, parent: str, device: str | None) -> None:
    from core.mutagenesis import heatmap_matrix, rank_mutants
    from core.plots_saliency import mutagenesis_heatmap, std_matrix

    ids = table["id"].tolist()
    c1, c2, c3, c4, c5 = st.columns(5)
    pid = c1.selectbox("Protein", ids, index=ids.index(parent), key="saliency.w.mut_protein")
    kind = c2.radio("Rank by", ["ei", "ucb"], horizontal=True, key="saliency.w.acq",
                    format_func={"ei": "expected improvement", "ucb": "upper bound"}.get)
    weight = c3.number_input("Exploration weight", 0.0, 10.0, 0.0 if kind == "ei" else 1.0,
                             step=0.1, key="saliency.w.weight",
                             help="EI: the margin ξ (label units) a gain must exceed; "
                                  "UCB: κ in mean + κσ.")
    goal = c4.radio("Goal", ["increase", "decrease"], horizontal=True, key="saliency.w.goal")
    top = int(c5.number_input("Top N", 1, 200, 20, key="saliency.w.top"))
    muts, info = mutants(run.id, run.finished, pid, device)
    sequence = table.set_index("id").at[pid, "sequence"]
    label = run.summary.get("label", "property")
    st.caption(f"{info['n_variants']:,} single mutants of **{pid}** scored in "
               f"{info['seconds']:.2f} s · wild type {info['wild_type_mean']:.3f} ± "
               f"{info['wild_type_std']:.3f} (GP mean ± σ).")
    window = window_slider(len(sequence), key="saliency.w.mut_window")
    mat = heatmap_matrix(muts, sequence, wild=info["wild_type_mean"])
    sd = std_matrix(muts, sequence, info["wild_type_std"])
    st.plotly_chart(mutagenesis_heatmap(mat, sequence, std=sd, label=f"predicted {label}",
                                        window=window), key="saliency.mutagenesis")
    ranked = rank_mutants(muts, kind=kind, weight=float(weight), maximize=goal == "increase",
                          incumbent=info["wild_type_mean"])
    st.dataframe(ranked.head(top), hide_index=True, width="stretch")
    st.download_button("All single mutants, ranked (CSV)", to_csv_bytes(ranked),
                       file_name=f"{run.id}_{pid}_mutants.csv", mime="text/csv",
                       key="saliency.w.dl_mutants", icon=":material/download:")

