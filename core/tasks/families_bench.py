"""Benchmark of the family-fingerprint pipeline on ``pfam25`` (``python -m core bench families``).

Two runs of :func:`core.families.pipeline.run_pipeline` with the paper's defaults:

1. ``full``: residues only on every family that survives preprocessing (balanced to the
   smallest family), model names ``vae_residue``, ``cnn_residue``, ``hmm``, ``kmer_logreg``;
2. ``ss_sa`` (when reprof is installed): a balanced subset of ``SUBSET_PER_FAMILY`` sequences
   per family with reprof's SS and SA channels: ``cnn_ss_sa`` (3 x 30 fingerprints) beside
   ``cnn_residue`` and the baselines on the same subset (model names suffixed ``@subset``).
   reprof takes ~0.5 s per sequence on one core, too slow for every sequence on 2 shared cores.

Rows: split ``test`` (K-means accuracy: mean over the held-out folds of 10-fold CV), plus
stage wall times (``seconds``) and peak memory (``peak_mb``); paper figures with role ``paper``.
"""
from __future__ import annotations

import logging
import os
from dataclasses import replace

from core.papers import FAMILIES_SEED_001 as PAPER

log = logging.getLogger(__name__)
DATASET = "pfam25"
SUBSET_PER_FAMILY = int(os.environ.get("PROTLENS_FAMILIES_SUBSET", "60"))


def _row(model: str, role: str, metric: str, value: float, **extra) -> dict:
    return {"dataset": DATASET, "model": model, "role": role, "split": "test",
            "metric": metric, "value": float(value), "n_seeds": 1, **extra}


def _rows(out: dict, suffix: str) -> list[dict]:
    m, t = out["metrics"], out["timings"]
    n = {"n_families": len(out["names"]), "n_sequences": int(len(out["labels"]))}
    rows = [_row(f"vae_residue{suffix}", "ours", k, m[k], seconds=t["vae_s"], **n)
            for k in ("recon_acc", "recon_acc_residues", "recon_acc_gaps",
                      "common_residue_agreement", "common_residue_agreement_residue_cols")]
    rows.append(_row(f"vae_residue{suffix}", "ours", "kmeans_acc", m["kmeans_acc"],
                     se=m["kmeans_acc_se"], seconds=t["kmeans_s"], protocol="10-fold CV", **n))
    names = {"cnn_all": "cnn_ss_sa", "cnn_residue": "cnn_residue", "hmm": "hmm",
             "kmer_logreg": "kmer_logreg"}
    secs = {"cnn_all": t["cnn_s"], "cnn_residue": t["cnn_s"], "hmm": t.get("hmm_s"),
            "kmer_logreg": t.get("kmer_logreg_s")}
    for key, label in names.items():
        if f"f1_macro_{key}" not in m:
            continue
        role = "baseline" if key in ("hmm", "kmer_logreg") else "ours"
        for metric in ("f1_macro", "acc"):
            rows.append(_row(f"{label}{suffix}", role, metric, m[f"{metric}_{key}"],
                             seconds=secs[key], **n))
    for stage, secs_ in t.items():
        if stage.endswith("_s"):
            rows.append(_row(f"pipeline{suffix}", "ours", f"seconds_{stage[:-2]}", secs_, **n))
    rows.append(_row(f"pipeline{suffix}", "ours", "peak_mb", t["peak_mb"], **n))
    if out["feature_info"].get("s_per_seq"):
        rows.append(_row(f"reprof{suffix}", "ours", "seconds_per_sequence",
                         out["feature_info"]["s_per_seq"], **n))
    return rows


def _paper_rows() -> list[dict]:
    rows = [_row("paper_vae", "paper", k, PAPER[k])
            for k in ("recon_acc", "common_residue_agreement", "kmeans_acc")]
    rows.append(_row("paper_cnn", "paper", "f1_macro", PAPER["table1_average"]["f1"],
                     note="48 UniProt families, not pfam25"))
    return rows


def run(*, quick: bool = False, seeds: int | None = None) -> list[dict]:
    """Both runs (``quick``: 3 families, few epochs, a smoke run)."""
    from core.datasets import load
    from core.families import reprof
    from core.families.pipeline import FamiliesConfig, run_pipeline

    table = load(DATASET)
    cfg = FamiliesConfig(use_reprof=False)
    if quick:
        keep = sorted(table["family_id"].unique())[:3]
        table = table[table["family_id"].isin(keep)]
        cfg = replace(cfg, vae=replace(cfg.vae, epochs=3), cnn=replace(cfg.cnn, epochs=3))
    cfg = replace(cfg, preprocess=replace(cfg.preprocess, per_family=0))
    rows = _paper_rows()
    log.info("families bench: residues only, all families")
    rows += _rows(run_pipeline(table, cfg, seed=seeds or 0), "")
    if reprof.available():
        sub = replace(cfg, use_reprof=True,
                      preprocess=replace(cfg.preprocess,
                                         per_family=10 if quick else SUBSET_PER_FAMILY))
        log.info("families bench: SS/SA on %d per family", sub.preprocess.per_family)
        rows += _rows(run_pipeline(table, sub, seed=seeds or 0), "@subset")
    return rows
