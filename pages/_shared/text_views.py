"""Result views and search of a finished protein–text retrieval run."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from core import plots_text
from core.io import to_csv_bytes
from pages._shared.cache import get_store, run_arrays, run_table
from pages._shared.views import run_zip_button

KINDS = {"hard": "Hard (twins)", "easy": "Easy (random negative)"}


@st.cache_resource(show_spinner="Loading the retrieval model…", max_entries=4)
def _searcher(run_id: str, finished: str | None, library_key: str | None, _library=None):
    from core.tasks.text_search import searcher_for_run

    return searcher_for_run(get_store(), run_id, _library)


@st.cache_data(show_spinner="Projecting texts and proteins…", max_entries=8)
def _joint_projection(run_id: str, finished: str | None, which: str, method: str, seed: int):
    from core.projection import ProjectionConfig, project

    arrays = run_arrays(run_id, finished)
    prefix = "base_" if which == "baseline" else ""
    both = np.concatenate([arrays[f"{prefix}protein_emb"], arrays[f"{prefix}text_emb"]])
    return project(both, ProjectionConfig(method=method, seed=seed,
                                          perplexity=float(min(30, (len(both) - 1) // 3))))


FEATURE_LABELS = {"kmer": "trained k-mer bag", "near": "frozen NEAR embeddings",
                  "kmer+near": "trained k-mer bag + frozen NEAR embeddings"}


def _headline(run) -> None:
    m, final = run.metrics, run.summary.get("final_model", "")
    base = "baseline_infonce/"
    cols = st.columns(5)
    for col, (key, name) in zip(cols, [("pairwise_acc_hard", "Hard accuracy"),
                                       ("pairwise_acc_strict", "Strict accuracy"),
                                       ("pairwise_acc_easy", "Easy accuracy"),
                                       ("recall_at_10", "Recall@10 (text→protein)"),
                                       ("p2t_recall_at_1", "Recall@1 (protein→text)")],
                                strict=True):
        value, ref = m.get(key), m.get(base + key)
        col.metric(name, "–" if value is None else f"{value:.3f}",
                   delta=None if value is None or ref is None or final == "baseline_infonce"
                   else f"{value - ref:+.3f} vs baseline")
    features = FEATURE_LABELS.get(run.summary.get("protein_features", "kmer"), "k-mer bag")
    exp = run.summary.get("experiment") or {}
    if exp.get("neighbour_stats"):
        among = {"all": "all proteins' sequences", "train": "the training proteins"}.get(
            exp.get("stats_reference"), exp.get("stats_reference"))
        features += f" + neighbourhood statistics ({exp.get('stats_measure')}, among {among})"
    st.caption(f"Final model: **{plots_text.LABELS.get(final, final)}**; protein features: "
               f"**{features}**; protocol "
               f"**{run.summary.get('protocol')}**; {run.summary.get('n_test')} held-out "
               f"proteins, {m.get('n_hard', 0)} hard cases ({m.get('n_strict', 0)} strict), "
               f"{run.summary.get('n_triplets', 0)} training triplets.")


def _results(run, summary: pd.DataFrame) -> None:
    st.plotly_chart(plots_text.accuracy_bars(summary), key="text.bars")
    shown = summary.copy()
    shown["model"] = shown["model"].map(lambda m: plots_text.LABELS.get(m, m))
    st.dataframe(shown.round(4), hide_index=True, width="stretch")
    st.caption("P / R / F1 at the F1-maximising τ of each score set (the seed's sweep, "
               "optimistic); `f1_hard_valtau` uses τ fixed on validation proteins (honest). "
               "Errors are binomial standard errors over cases.")


def _sweep(run, cases: pd.DataFrame) -> None:
    kind = st.segmented_control("Pairs", list(KINDS), default="hard", format_func=KINDS.get,
                                key="text.w.sweep_kind") or "hard"
    fixed = {m: run.metrics[f"{m}/tau_{kind}_valtau"] for m in cases["model"].unique()
             if f"{m}/tau_{kind}_valtau" in run.metrics}
    st.plotly_chart(plots_text.threshold_sweep(cases, kind=kind, fixed=fixed),
                    key="text.sweep")
    st.caption("Vertical lines: each model's threshold fixed on validation data.")


def _shift(cases: pd.DataFrame) -> None:
    kind = st.segmented_control("Pairs", list(KINDS), default="hard", format_func=KINDS.get,
                                key="text.w.shift_kind") or "hard"
    st.plotly_chart(plots_text.score_shift(cases, kind=kind), key="text.shift")


def _map(run) -> None:
    arrays = run_arrays(run.id, run.finished)
    cases = run_table(run.id, run.finished, "cases")
    texts = run_table(run.id, run.finished, "texts")["text"].tolist()
    c1, c2, c3 = st.columns([2, 2, 1])
    which = c1.segmented_control("Embedding", ["fine-tuned", "baseline"], default="fine-tuned",
                                 key="text.w.map_which") or "fine-tuned"
    method = c2.segmented_control("Projection", ["tsne", "umap", "pca"], default="tsne",
                                  key="text.w.map_method") or "tsne"
    n_links = c3.number_input("Triplets linked", 0, 200, 20, key="text.w.map_links")
    coords = _joint_projection(run.id, run.finished, which, method,
                               int(st.session_state.get("app.seed", 0)))
    ids, n = arrays["ids"], len(arrays["ids"])
    points = pd.DataFrame({"kind": ["protein"] * n + ["text"] * len(texts),
                           "hover": [f"{i}: {texts[t][:80]}" for i, t in
                                     zip(ids, arrays["text_ids"], strict=True)]
                           + [t[:120] for t in texts]})
    row = {str(i): k for k, i in enumerate(ids)}
    hard = cases[(cases["kind"] == "hard") & (cases["model"] == run.summary["final_model"])]
    hard = hard.head(int(n_links))
    trip = pd.DataFrame({"text_row": [n + int(arrays["text_ids"][row[a]]) for a in hard["id_a"]],
                         "pos_row": [row[a] for a in hard["id_a"]],
                         "neg_row": [row[b] for b in hard["id_b"]]})
    st.plotly_chart(plots_text.joint_map(coords, points, trip), key="text.map")


def _library_upload():
    from core.tasks.text_data import read_text_table

    up = st.file_uploader("Library (CSV/TSV with sequence and optional text, or FASTA)",
                          type=["csv", "tsv", "fasta", "fa", "txt"], key="text.w.library")
    if up is None:
        return None, None
    data = up.getvalue()
    parsed = read_text_table(data, filename=up.name)
    errors = [p for p in parsed.report.errors if p.code != "missing_text_column"]
    if errors:
        st.error(f"{len(errors)} error(s) in {up.name}, e.g. {errors[0].record_id}: "
                 f"{errors[0].message}", icon=":material/error:")
        return None, None
    return parsed.table, hashlib.sha1(data, usedforsecurity=False).hexdigest()


def show_search(run) -> None:
    """Text -> proteins or sequence -> descriptions, over the run's set or an upload."""
    c1, c2 = st.columns(2)
    mode = c1.radio("Search", ["Text → proteins", "Sequence → descriptions"], horizontal=True,
                    key="text.w.mode")
    source = c2.radio("Library", ["This run's proteins", "Upload"], horizontal=True,
                      key="text.w.lib_source")
    library, lib_key = _library_upload() if source == "Upload" else (None, None)
    if source == "Upload" and library is None:
        st.info("Upload a library to search it.")
        return
    exp = run.summary.get("experiment") or {}
    if library is not None and exp.get("neighbour_stats") and exp.get("stats_reference") == "all":
        st.caption(f"This model reads how crowded each protein's neighbourhood is: relatives "
                   f"of your {len(library):,} proteins are counted among the run's proteins "
                   "and the library itself (sequences only), as in training.")
    with st.form("text.w.search_form"):
        query = st.text_area("Query", key="text.w.query", height=80,
                             placeholder="confers resistance to carbapenems" if mode[0] == "T"
                             else "MSIQHFRVALIPFFAAFCLPVFA…")
        k = st.number_input("Results", 1, 200, 10, key="text.w.k")
        go = st.form_submit_button("Search", type="primary", icon=":material/search:")
    if go and query.strip():
        searcher = _searcher(run.id, run.finished, lib_key, library)
        try:
            hits = (searcher.search_text(query, int(k)) if mode[0] == "T"
                    else searcher.search_sequence(query, int(k)))
        except ValueError as exc:
            st.error(str(exc))
            return
        st.session_state["text.hits"] = hits
    hits = st.session_state.get("text.hits")
    if hits is not None:
        st.dataframe(hits, hide_index=True, width="stretch", key="text.hits_table",
                     column_config={"score": st.column_config.ProgressColumn(
                         "score", min_value=-1.0, max_value=1.0, format="%.3f")})
        st.download_button("Results (CSV)", to_csv_bytes(hits), file_name="search_results.csv",
                           mime="text/csv", key="text.w.dl_hits", icon=":material/download:")


def show_results(run) -> None:
    summary = run_table(run.id, run.finished, "summary")
    cases = run_table(run.id, run.finished, "cases")
    _headline(run)
    tabs = st.tabs(["Search", "Accuracy", "Threshold sweep", "Score shift", "Training", "Map",
                    "Downloads"])
    with tabs[0]:
        show_search(run)
    with tabs[1]:
        _results(run, summary)
    with tabs[2]:
        _sweep(run, cases)
    with tabs[3]:
        _shift(cases)
    with tabs[4]:
        st.plotly_chart(plots_text.loss_curves(run.history), key="text.loss")
    with tabs[5]:
        _map(run)
    with tabs[6]:
        cols = st.columns(3)
        cols[0].download_button("Results table (CSV)", to_csv_bytes(summary),
                                file_name=f"{run.id}_results.csv", mime="text/csv",
                                key="text.w.dl_summary", icon=":material/download:")
        cols[1].download_button("Scores of every case (CSV)", to_csv_bytes(cases),
                                file_name=f"{run.id}_scores.csv", mime="text/csv",
                                key="text.w.dl_cases", icon=":material/download:")
        run_zip_button(cols[2], run, key="text.w.dl_run")
