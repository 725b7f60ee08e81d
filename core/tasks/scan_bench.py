"""Benchmark of SCAN on ``scan10``: every encoder x {SCAN, SCAN + self-label, baselines}.

Rows (see DESIGN.md "Benchmarks"), dataset ``scan10``, split ``all`` (clustering uses every
sequence; labels only score it), model ``<encoder>/<method>``:

- ``<enc>/scan`` and ``<enc>/scan_selflabel`` (role ours; the self-labelled head continues the
  SCAN head of the same seed, so both come from one fit),
- ``<enc>/pca_kmeans``, ``<enc>/kmeans``, ``<enc>/agglomerative`` (role baseline, on the same
  preprocessed features as SCAN), and ``length/kmeans`` (sequence length only),
- metrics ``nmi``, ``ari``, ``acc``, ``aupr`` (macro) and ``aupr_micro``; ``value`` is the mean
  over seeds, ``se`` the standard error of that mean (``min``/``max`` beside it); ``seconds``
  is the mean clustering wall time per seed (features excluded),
- ``<enc>/knn`` rows with ``purity_k5``, ``purity_k20``, ``purity_k50`` (neighbour purity of the
  mined kNN), and ``<enc>/features`` rows with ``feature_seconds`` (feature extraction, for
  ``masked_lm`` including its training; cached features report the time measured when they
  were computed).

All defaults are :class:`core.tasks.scan.ScanConfig`'s; only ``n_clusters`` is set, to the
number of families, and ``self_label`` switched on to score both stages.
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import replace

import numpy as np

log = logging.getLogger(__name__)

DATASET = "scan10"
ENCODERS = ("kmer", "near", "masked_lm")
METRICS = ("nmi", "ari", "acc", "aupr", "aupr_micro")


def _rows(model: str, role: str, runs: list[dict], seconds: list[float]) -> list[dict]:
    rows = []
    for metric in runs[0]:
        values = np.array([r[metric] for r in runs], dtype=float)
        row = {"dataset": DATASET, "model": model, "role": role, "split": "all",
               "metric": metric, "value": float(values.mean()), "n_seeds": len(values),
               "min": float(values.min()), "max": float(values.max())}
        if len(values) > 1:
            row["se"] = float(values.std(ddof=1) / np.sqrt(len(values)))
        if seconds:
            row["seconds"] = float(np.mean(seconds))
        rows.append(row)
    return rows


def run(*, quick: bool = False, seeds: int | None = None,
        encoders: tuple[str, ...] | None = None) -> list[dict]:
    """Run the benchmark; ``quick`` = one seed, k-mer and NEAR only."""
    import torch

    from core import cluster_metrics as cm
    from core.datasets import get_spec, load
    from core.tasks.scan import ScanConfig, encode_table, fit_scan, mine_neighbours, preprocess

    torch.set_num_threads(1)  # a benchmark on a shared machine: one core, comparable times
    table = load(DATASET)
    labels, names = cm.encode_labels(table[get_spec(DATASET).label])
    seqs = table["sequence"].astype(str).tolist()
    n_seeds = seeds or (1 if quick else 3)
    encoders = encoders or (ENCODERS[:2] if quick else ENCODERS)
    cfg = replace(ScanConfig(), n_clusters=len(names), self_label=True)
    rows: list[dict] = []

    runs, secs = [], []
    for seed in range(n_seeds):
        t0 = time.perf_counter()
        pred = cm.length_kmeans(seqs, len(names), random_state=seed)
        secs.append(time.perf_counter() - t0)
        runs.append({m: v for m, v in cm.clustering_scores(labels, pred).items() if m in METRICS})
    rows += _rows("length/kmeans", "baseline", runs, secs)

    for enc in encoders:
        scores: dict[str, list[dict]] = defaultdict(list)
        seconds: dict[str, list[float]] = defaultdict(list)
        feature_s, purity, agglo = [], [], {}
        for seed in range(n_seeds):
            features, info = encode_table(table, enc, seed=seed)
            feature_s.append(info["seconds"])
            t0 = time.perf_counter()
            fit = fit_scan(features, cfg, seed=seed)
            total_s = time.perf_counter() - t0
            scan_s = total_s * cfg.epochs / (cfg.epochs + cfg.self_label_epochs)  # share
            x = preprocess(features, cfg.normalize)[0]
            purity.append(cm.neighbour_purity(mine_neighbours(x, 50), labels))  # K = 5, 20, 50
            for method, probs, s in (("scan", fit.scan_probabilities, scan_s),
                                     ("scan_selflabel", fit.probabilities, total_s)):
                sc = cm.clustering_scores(labels, probs.argmax(1), probs)
                scores[method].append({m: sc[m] for m in METRICS})
                seconds[method].append(s)
            for method in ("pca_kmeans", "kmeans", "agglomerative"):
                key = (method, hash(features.tobytes()))
                t0 = time.perf_counter()
                if method == "agglomerative" and key in agglo:  # deterministic: same features
                    sc = agglo[key]
                else:
                    pred = cm.baseline_clustering(method, x, len(names), random_state=seed)
                    sc = {m: v for m, v in cm.clustering_scores(labels, pred).items()
                          if m in METRICS}
                    seconds[method].append(time.perf_counter() - t0)
                    if method == "agglomerative":
                        agglo[key] = sc
                scores[method].append(sc)
            log.info("%s seed %d: scan nmi %.4f, self-label nmi %.4f", enc, seed,
                     scores["scan"][-1]["nmi"], scores["scan_selflabel"][-1]["nmi"])
        rows += _rows(f"{enc}/features", "ours", [{"feature_seconds": s} for s in feature_s], [])
        rows += _rows(f"{enc}/knn", "ours", purity, [])
        for method, runs in scores.items():
            role = "ours" if method.startswith("scan") else "baseline"
            rows += _rows(f"{enc}/{method}", role, runs, seconds[method])
    return rows
