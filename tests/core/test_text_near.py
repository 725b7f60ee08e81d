"""NEAR protein features in text retrieval: chosen by protocol, used in training and search."""
from __future__ import annotations

import numpy as np

from core.tasks.text_pipeline import TextExperimentConfig, resolved_config
from tests.core.test_text import tiny_table

TINY = {"train": {"epochs": 2, "batch_size": 8}, "finetune_epochs": 1, "dim": 8,
        "n_buckets": 256, "finetune": ["mixed"]}


def test_protein_features_follow_the_protocol_unless_set():
    auto = TextExperimentConfig()
    near = resolved_config(auto, "novel_families")
    assert near.protein_features == "near" and not near.kmer_bag
    assert not near.text_lexical and near.ensemble_plain == 0
    # novel families: relatives and length counted among every protein's sequence
    assert near.neighbour_stats and (near.stats_measure, near.stats_reference) == (
        "identity_length", "all")
    assert resolved_config(auto, "novel_valid").protein_features == "near"
    for name in ("paper", "inner0"):
        cfg = resolved_config(auto, name)
        assert cfg.protein_features == "kmer" and cfg.kmer_bag and cfg.text_lexical
        assert (cfg.stats_measure, cfg.stats_reference) == ("identity", "train")
    chosen = resolved_config(TextExperimentConfig(stats_reference="train"), "novel_families")
    assert chosen.stats_reference == "train" and chosen.stats_measure == "identity_length"
    both = resolved_config(TextExperimentConfig(protein_features="kmer+near"), "paper")
    assert both.kmer_bag and both.neighbour_stats


def test_novel_families_run_searches_with_near_features(workspace):
    from core.jobs import run_inline
    from core.store import RunStore
    from core.tasks.text_search import searcher_for_run

    table = tiny_table(n_fam=4, per=4)
    table["split"] = np.repeat(["train", "train", "valid", "test"], 4)
    store = RunStore(workspace)
    run_id = run_inline("text.fit", {"table": table, "protocol": "novel_families",
                                     "twins": "mine", "twin_config": {"workers": 1},
                                     "config": TINY}, store, method="text", name="near", seed=0)
    run = store.get(run_id)
    assert run.status == "done", run.error
    assert run.summary["protein_features"] == "near" and run.summary["final_model"] == "mixed"
    # NEAR (256) then the identity statistics with lengths (11), relatives among all proteins
    assert run.summary["model_config"]["dense_dim"] == 256 + 11
    assert str(store.load_arrays(run_id)["stats_reference"]) == "all"
    assert not run.summary["model_config"]["kmer_bag"]
    searcher = searcher_for_run(store, run_id)
    assert searcher.tower.near
    own = store.load_arrays(run_id)["protein_emb"]
    # the search tower computes the same features as training did, for queries too
    assert np.allclose(searcher.tower.embed(table["sequence"].tolist()[:3]), own[:3], atol=1e-4)
    hits = searcher.search_sequence(table["sequence"][13], k=3)
    assert len(hits) == 3 and hits["score"].is_monotonic_decreasing
    library = table.iloc[8:12][["id", "sequence", "text"]]
    lib = searcher_for_run(store, run_id, library)
    assert np.allclose(lib.protein_index.vectors, own[8:12], atol=1e-4)
