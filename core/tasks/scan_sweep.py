"""How many clusters? A sweep of SCAN over candidate numbers of clusters, judged without labels.

For each candidate C, a quick SCAN fit (fewer heads and updates than a full run) gives the
cosine silhouette of its assignments on the preprocessed features, the neighbour consistency
(mean −log <p_i, p_j> over mined neighbours; it grows as C splits true groups), the clusters
actually used and the mean confidence. The suggestion is the C with the highest silhouette;
SCAN's raw loss is not comparable across C (its entropy term grows with log C), so it is shown
but never used to choose. Labels, when given, only add NMI per C for the reader.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from core.progress import ProgressCallback, report
from core.tasks.scan import ScanConfig, fit_scan, mine_neighbours, preprocess

#: A sweep's fits are cheaper than a full run: 3 heads and 300 updates each.
SWEEP_OVERRIDES = {"n_heads": 3, "min_steps": 300, "epochs": 20, "self_label": False}


def candidate_ks(n: int, expected: int | None = None) -> list[int]:
    """A spread of candidates: 2..20 (and around ``expected``), capped so clusters average
    at least five members."""
    base = {2, 3, 4, 5, 6, 8, 10, 12, 15, 20}
    if expected:
        base |= {max(2, expected - 2), max(2, expected - 1), expected, expected + 1,
                 expected + 2, 2 * expected}
    cap = max(2, n // 5)
    return sorted(k for k in base if 2 <= k <= cap)


def sweep_clusters(features: np.ndarray, ks: Sequence[int], *, cfg: ScanConfig | None = None,
                   seed: int = 0, device=None, labels: np.ndarray | None = None,
                   on_progress: ProgressCallback | None = None) -> pd.DataFrame:
    """One row per candidate: ``k, silhouette, consistency, scan_loss, clusters_used,
    confidence, seconds`` and ``nmi`` when labels are given."""
    from sklearn.metrics import normalized_mutual_info_score

    from core.cluster_metrics import unsupervised_scores

    ks = sorted({int(k) for k in ks})
    if not ks or ks[0] < 2:
        raise ValueError("candidate numbers of clusters must be at least 2")
    if ks[-1] > len(features):
        raise ValueError(f"cannot make {ks[-1]} clusters of {len(features)} proteins")
    cfg = cfg or ScanConfig()
    x = preprocess(features, cfg.normalize)[0]
    neighbours = mine_neighbours(x, cfg.knn)  # the same for every candidate: mine once
    rows = []
    for step, k in enumerate(ks, start=1):
        t0 = time.perf_counter()
        quick = replace(cfg, n_clusters=k, **SWEEP_OVERRIDES)
        fit = fit_scan(features, quick, seed=seed, device=device, neighbours=neighbours)
        last = fit.history[-1]
        row = {"k": k, "scan_loss": last["loss"], "consistency": last["consistency"],
               **unsupervised_scores(x, fit.assignments, fit.probabilities,
                                     random_state=seed)}
        if labels is not None and (np.asarray(labels) >= 0).sum() > 1:
            known = np.asarray(labels) >= 0
            row["nmi"] = float(normalized_mutual_info_score(np.asarray(labels)[known],
                                                            fit.assignments[known]))
        row["seconds"] = time.perf_counter() - t0
        rows.append(row)
        report(on_progress, "sweep", step, len(ks), f"{k} clusters",
               **{m: row[m] for m in ("silhouette", "consistency") if m in row})
    return pd.DataFrame(rows)


def suggest_k(sweep: pd.DataFrame) -> int:
    """The candidate with the highest silhouette (the smaller one on a tie)."""
    scored = sweep.dropna(subset=["silhouette"]) if "silhouette" in sweep else sweep.iloc[:0]
    if scored.empty:
        raise ValueError("no candidate produced two or more clusters")
    best = scored["silhouette"].max()
    return int(scored.loc[np.isclose(scored["silhouette"], best), "k"].min())


def sweep_job(payload: dict, ctx):
    """Job ``scan.sweep``: encode (cached, shared with ``scan.fit``), then :func:`sweep_clusters`.

    Payload: ``table`` (id, sequence[, label]), ``label`` (column or None), ``encoder``,
    ``ks`` (candidates; default :func:`candidate_ks`), ``config`` (ScanConfig fields).
    """
    from core.cluster_metrics import encode_labels
    from core.jobs import RunResult
    from core.tasks.scan import encode_table

    table = payload["table"].reset_index(drop=True)
    label = payload.get("label")
    labels = encode_labels(table[label])[0] if label else None
    expected = int(table[label].nunique()) if label else None
    ks = payload.get("ks") or candidate_ks(len(table), expected)
    cfg = replace(ScanConfig(), **payload.get("config", {}))
    encoder = payload.get("encoder", "near")
    features, info = encode_table(table, encoder, encoder_kw=payload.get("encoder_kw"),
                                  seed=ctx.seed, device=ctx.device, on_progress=ctx.on_progress)
    sweep = sweep_clusters(features, ks, cfg=cfg, seed=ctx.seed, device=ctx.device,
                           labels=labels, on_progress=ctx.on_progress)
    best = suggest_k(sweep)
    summary = {"key_metric": {"name": "suggested_k", "value": best}, "encoder": encoder,
               "n": len(table), "label": label, "ks": [int(k) for k in sweep["k"]],
               "timings": {"features_s": round(info["seconds"], 3),
                           "sweep_s": round(float(sweep["seconds"].sum()), 3)}}
    metrics = {"suggested_k": float(best),
               "best_silhouette": float(sweep["silhouette"].max())}
    return RunResult(metrics=metrics, summary=summary, tables={"sweep": sweep})
