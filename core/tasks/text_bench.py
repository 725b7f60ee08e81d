"""Benchmark of protein–text retrieval on ``protein_text`` (ResFinder), seed 003.

Rows (DESIGN.md "Benchmarks"), dataset ``protein_text``:

* split ``paper`` and ``novel_families`` (see :mod:`core.tasks.text_data`), models
  ``baseline_infonce`` (role baseline; CLIP InfoNCE on random batches with the trained k-mer
  tower and the MiniLM text head), ``plain_infonce`` (role baseline: the same with the
  protocol's twin-aware batches, ``twin_fraction`` auto, the InfoNCE stage of
  ``plain_mixed``), ``triplet`` and ``mixed`` (role ours; the model with lexical text
  features (:class:`~core.tasks.text_features.TextLexicon`), fine-tuned from its own InfoNCE
  stage with the triplet margin loss alone, or mixed with in-batch InfoNCE), that InfoNCE
  stage itself as ``lexical_infonce`` (role baseline: the lexical features without any
  fine-tuning, to tell the two changes apart), and the ablation ``kmer_svd_infonce`` /
  ``kmer_svd_mixed`` (role baseline: frozen k-mer TF-IDF SVD-256 features, the issue's
  orientation setting, with trained heads only), ``plain_mixed`` (role baseline: the plain
  model fine-tuned with the mixed loss) and ``mixed_ensemble`` (role ours: ``mixed`` and
  ``plain_mixed`` with weights 0.5 / 0.5 on standardised scores, the final model of the paper
  protocol; see :mod:`core.tasks.text_ensemble`), and ``near_infonce`` (role baseline),
  ``near_triplet`` and ``near_mixed`` (role ours: frozen mean-pooled NEAR features through
  the tower's dense branch, MiniLM head; ``near_mixed`` is the final model of the
  novel-families protocol, ``protein_features`` auto; with the protocol's neighbourhood
  statistics), ``near_nostats_*`` (role baseline: the same without the statistics, the
  novel-families recipe until session 6): pairwise accuracy hard / strict / easy,
  P / R / F1 / tau (sweep) and F1 at the validation threshold, recall@1/10 and MRR both
  directions. ``value`` is the mean over seeds, ``se`` the standard error over seeds,
  ``case_se`` the mean within-seed (binomial) standard error; ``seconds`` the training time.
* split ``all``, model ``difflib_rapidfuzz``: ``twin_pairs``, ``twin_seconds`` (mining with
  the prefilter, all proteins), ``plain_difflib_seconds_est`` (extrapolated from a sample),
  ``prefilter_speedup``, and the overlap with the shipped ``resfinder_twins.csv``.
"""
from __future__ import annotations

import logging
import os
import time
from collections import defaultdict

import numpy as np

log = logging.getLogger(__name__)

DATASET = "protein_text"
METRICS = ("pairwise_acc_hard", "pairwise_acc_strict", "pairwise_acc_easy", "precision_hard",
           "recall_hard", "f1_hard", "tau_hard", "f1_hard_valtau", "precision_hard_valtau",
           "recall_hard_valtau", "precision_easy", "recall_easy", "f1_easy", "tau_easy",
           "f1_easy_valtau", "recall_at_1", "recall_at_10", "mrr", "p2t_recall_at_1",
           "p2t_recall_at_10", "p2t_mrr", "n_hard", "n_strict", "n_easy")
ROLES = {"baseline_infonce": "baseline", "lexical_infonce": "baseline",
         "plain_infonce": "baseline",
         "kmer_svd_infonce": "baseline", "plain_mixed": "baseline", "mixed_ensemble": "ours",
         "kmer_svd_mixed": "baseline", "triplet": "ours", "mixed": "ours",
         "near_infonce": "baseline", "near_triplet": "ours", "near_mixed": "ours",
         "near_nostats_infonce": "baseline", "near_nostats_triplet": "baseline",
         "near_nostats_mixed": "baseline"}


def _row(model: str, split: str, metric: str, values: list[float], **extra) -> dict:
    v = np.asarray(values, dtype=float)
    row = {"dataset": DATASET, "model": model, "role": ROLES.get(model, "ours"),
           "split": split, "metric": metric, "value": float(v.mean()), "n_seeds": len(v),
           "min": float(v.min()), "max": float(v.max())}
    if len(v) > 1:
        row["se"] = float(v.std(ddof=1) / np.sqrt(len(v)))
    return row | extra


def twin_rows(table, shipped) -> list[dict]:
    """Mine twins over all proteins (fresh, no cache) and compare with the shipped table."""
    from core.tasks.twins import TwinConfig, mine_twins, overlap_with, plain_difflib_seconds

    found, info = mine_twins(table, TwinConfig())
    plain = plain_difflib_seconds(table)
    overlap = overlap_with(found, shipped)
    base = {"dataset": DATASET, "model": "difflib_rapidfuzz", "role": "ours", "split": "all"}
    rows = [base | {"metric": "twin_pairs", "value": float(info["twin_pairs"]),
                    "seconds": info["seconds"]},
            base | {"metric": "twin_seconds", "value": info["seconds"]},
            base | {"metric": "twin_prefilter_seconds", "value": info["prefilter_seconds"]},
            base | {"metric": "twin_candidates_difflib", "value": float(info["pairs_text_ok"])},
            base | {"metric": "twin_pairs_rapidfuzz_ok",
                    "value": float(info["pairs_rapidfuzz_ok"])},
            base | {"metric": "plain_difflib_seconds_est", "value": plain["estimated_seconds"]},
            base | {"metric": "prefilter_speedup",
                    "value": plain["estimated_seconds"] / max(info["seconds"], 1e-9)},
            base | {"metric": "twin_overlap_shared", "value": float(overlap["shared"])},
            base | {"metric": "twin_only_ours", "value": float(overlap["only_found"])},
            base | {"metric": "twin_only_shipped", "value": float(overlap["only_reference"])}]
    log.info("twins: %s; overlap %s; plain difflib est. %.0f s", info, overlap,
             plain["estimated_seconds"])
    return rows


def run(*, quick: bool = False, seeds: int | None = None) -> list[dict]:
    """The benchmark; ``quick``: one seed, paper protocol, fewer epochs, no mining."""
    import torch

    from core.encoders import KmerEncoder, embed_cached
    from core.tasks.text_data import get_protocol, load_builtin
    from core.tasks.text_features import embed_texts
    from core.tasks.text_pipeline import TextExperimentConfig, companion_config, run_experiment

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or 2))
    table, texts, twins = load_builtin()
    text_features = embed_texts(texts)
    n_seeds = seeds or (1 if quick else 3)
    protocols = ("paper",) if quick else ("paper", "novel_families")
    cfg = TextExperimentConfig.from_dict({"train": {"epochs": 10}, "finetune_epochs": 4}
                                         if quick else {})
    seqs = table["sequence"].astype(str).tolist()
    svd = embed_cached(KmerEncoder(), seqs)  # frozen features of the ablation (issue's setting)
    rows: list[dict] = []
    if not quick:
        from core.datasets import load_file

        rows += twin_rows(table, load_file(DATASET, "resfinder_twins.csv"))
    from dataclasses import replace

    # (prefix, config, dense features, name of the InfoNCE stage)
    # the ensemble is measured under both protocols (its default weight is 0 for novel
    # families: there the final model is ``mixed``)
    cfg = replace(cfg, ensemble_plain=0.5, protein_features="kmer")
    plain = companion_config(cfg)  # also the ensemble's companion (given to the lexical run)
    # the baseline is InfoNCE on random batches (the paper's); the companion's own InfoNCE
    # stage (``plain_infonce``) uses the protocol's twin-aware batches like every other model
    variants = (("random_", replace(plain, twin_fraction=0.0, finetune=()), None,
                 "baseline_infonce"),
                ("plain_", plain, None, "plain_infonce"),
                ("", cfg, None, "lexical_infonce"),
                ("kmer_svd_", replace(plain, kmer_bag=False), svd, "kmer_svd_infonce"),
                ("near_", replace(cfg, protein_features="near", ensemble_plain=None), None,
                 "near_infonce"),
                # the NEAR recipe without neighbourhood statistics (novel families' final
                # model until session 6): what the transductive statistics add
                ("near_nostats_", replace(cfg, protein_features="near", ensemble_plain=None,
                                          neighbour_stats=False), None, "near_nostats_infonce"))
    for name in protocols:
        scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for seed in range(n_seeds):
            protocol = get_protocol(table, name, seed=seed)
            companion = None
            for prefix, vcfg, dense, base_name in variants:
                t0 = time.perf_counter()
                exp = run_experiment(table, text_features, twins, protocol, vcfg, dense=dense,
                                     texts=texts, seed=seed, companion=companion)
                if prefix == "plain_":
                    companion = exp
                log.info("%s seed %d %s: %.0f s", name, seed, prefix or "kmer_bag",
                         time.perf_counter() - t0)
                for model, res in exp.results.items():
                    key = base_name if model == "baseline_infonce" else prefix + model
                    for metric in METRICS:
                        if metric in res.metrics:
                            scores[key][metric].append(res.metrics[metric])
                            if f"{metric}_se" in res.metrics:
                                scores[key][f"{metric}_se"].append(res.metrics[f"{metric}_se"])
                    scores[key]["seconds"].append(res.seconds)
        for model, per in scores.items():
            secs = float(np.mean(per["seconds"]))
            for metric in METRICS:
                if per.get(metric):
                    extra = {"seconds": secs}
                    if per.get(f"{metric}_se"):
                        extra["case_se"] = float(np.mean(per[f"{metric}_se"]))
                    rows.append(_row(model, name, metric, per[metric], **extra))
    return rows
