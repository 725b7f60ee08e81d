"""Benchmark of the family-fingerprint pipeline on ``pfam25`` (``python -m core bench families``).

Two runs of :func:`core.families.pipeline.run_pipeline` with the paper's defaults:

1. ``full``: residues only on every family that survives preprocessing (balanced to the
   smallest family), model names ``vae_residue``, ``cnn_residue``, ``hmm``, ``kmer_logreg``;
2. ``ss_sa`` (when reprof is installed): a balanced subset of ``SUBSET_PER_FAMILY`` sequences
   per family with reprof's SS and SA channels: ``cnn_ss_sa`` (3 x 30 fingerprints) beside
   ``cnn_residue`` and the baselines on the same subset (model names suffixed ``@subset``).
   reprof takes ~0.5 s per sequence on one core, too slow for every sequence on 2 shared cores.

The bench trains the VAEs for at most ``VAE_EPOCHS`` epochs (the page's default, 150) with
the :class:`~core.families.train.VAEConfig` defaults: early stopping on the validation
reconstruction accuracy (patience 15; the best validation epoch is kept; rows record
``vae_epochs_run``, ``vae_best_epoch`` and the regularisation settings), K-means on
L2-normalised fingerprints (``kmeans_space``), and the CNNs for ``CNN_EPOCHS`` epochs (fewer
than the page's 60, to fit 2 CPU cores shared by several users). Reconstruction is also
reported on the training split (split ``train``) to separate under-fitting from generalisation,
and most-common agreement over all members of each family (split ``all``, the paper's reading).
Each part's rows are also written to ``<workspace>/bench/families_<part>.json`` as soon as the
part ends, so a long bench that is stopped keeps what it finished.

Rows: split ``test`` (K-means accuracy: mean over the held-out folds of 10-fold CV), plus
stage wall times (``seconds``) and peak memory (``peak_mb``); paper figures with role ``paper``.
"""
from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import replace

from core.papers import FAMILIES_SEED_001 as PAPER

log = logging.getLogger(__name__)
DATASET = "pfam25"
SUBSET_PER_FAMILY = int(os.environ.get("PROTLENS_FAMILIES_SUBSET", "40"))
VAE_EPOCHS = int(os.environ.get("PROTLENS_FAMILIES_VAE_EPOCHS", "150"))
CNN_EPOCHS = int(os.environ.get("PROTLENS_FAMILIES_CNN_EPOCHS", "10"))
PARTS = tuple(os.environ.get("PROTLENS_FAMILIES_PARTS", "full,ss_sa").split(","))


def _row(model: str, role: str, metric: str, value: float, **extra) -> dict:
    return {"dataset": DATASET, "model": model, "role": role, "split": "test",
            "metric": metric, "value": float(value), "n_seeds": 1, **extra}


REFERENCES = {
    "consensus": "no model: each test row scored against its family's most common training "
                 "symbol per column",
    "nearest_train": "no model: each test row scored against its family's most identical "
                     "training row",
}


def _rows(out: dict, suffix: str, cfg) -> list[dict]:
    m, t = out["metrics"], out["timings"]
    n = {"n_families": len(out["names"]), "n_sequences": int(len(out["labels"])),
         "vae_epochs": cfg.vae.epochs, "cnn_epochs": cfg.cnn.epochs,
         "vae_epochs_run": t.get("vae_residue_epochs_run"),
         "vae_best_epoch": t.get("vae_residue_best_epoch"), "vae_decoder": cfg.vae.decoder,
         "vae_select": cfg.vae.select, "vae_input_dropout": cfg.vae.input_dropout,
         "vae_weight_decay": cfg.vae.weight_decay, "vae_lr_schedule": cfg.vae.lr_schedule,
         "kmeans_n_init": cfg.kmeans_n_init, "kmeans_space": cfg.kmeans_space,
         "per_family": int(len(out["labels"]) // max(1, len(out["names"])))}
    model = f"vae_residue{suffix}" if cfg.vae.decoder == "sigmoid" else \
        f"vae_residue_{cfg.vae.decoder}{suffix}"
    rows = [_row(model, "ours", k, m[k], seconds=t["vae_s"], **n)
            for k in ("recon_acc", "recon_acc_residues", "recon_acc_gaps",
                      "common_residue_agreement", "common_residue_agreement_residue_cols")]
    rows += [dict(_row(model, "ours", k, m[f"{k}_train"], seconds=t["vae_s"], **n),
                  split="train") for k in ("recon_acc", "recon_acc_residues")]
    rows.append(dict(_row(model, "ours", "common_residue_agreement",
                          m["common_residue_agreement_all_rows"], seconds=t["vae_s"], **n),
                     split="all", note="all members of each family (the paper's reading: "
                     "'reconstruct all the sequences'), training rows included"))
    rows += [_row(f"{ref}{suffix}", "baseline", "recon_acc", m[f"recon_acc_{ref}"],
                  note=note, **n) for ref, note in REFERENCES.items()]
    rows.append(_row(model, "ours", "kmeans_acc", m["kmeans_acc"],
                     se=m["kmeans_acc_se"], seconds=t["kmeans_s"], protocol="10-fold CV", **n))
    rows += [dict(_row(model, "ours", k, m[k], **n), split="all",
                  note="diagnostic on all fingerprints (see evaluate.kmeans_objective_check)")
             for k in ("kmeans_sse_ratio", "kmeans_from_family_centroids_acc")]
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


def _log_progress(event) -> None:
    if event.step == event.total or event.step % 10 == 0:
        log.info("%s %d/%d %s", event.stage, event.step, event.total,
                 " ".join(f"{k}={v:.4g}" for k, v in event.metrics.items()))


def _part_path(part: str):
    from core.config import Settings

    return Settings.from_env().home / "bench" / f"families_{part}.json"


def _save_part(part: str, rows: list[dict]) -> None:
    path = _part_path(part)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=1))


def _saved_part(part: str) -> list[dict] | None:
    """Rows a stopped or split bench saved (``PROTLENS_FAMILIES_REUSE=1``), else None."""
    path = _part_path(part)
    if os.environ.get("PROTLENS_FAMILIES_REUSE") != "1" or not path.is_file():
        return None
    log.info("families bench: reusing %s", path)
    return [dict(r, reused_from=str(path.name)) for r in json.loads(path.read_text())]


def run(*, quick: bool = False, seeds: int | None = None) -> list[dict]:
    """Both runs (``quick``: 3 families, few epochs, a smoke run)."""
    from core.datasets import load
    from core.families import reprof
    from core.families.pipeline import FamiliesConfig, run_pipeline

    table = load(DATASET)
    cfg = FamiliesConfig(use_reprof=False, projection="pca")  # the map is not measured
    epochs = (3, 3) if quick else (VAE_EPOCHS, CNN_EPOCHS)
    if quick:
        keep = sorted(table["family_id"].unique())[:3]
        table = table[table["family_id"].isin(keep)]
    cfg = replace(cfg, vae=replace(cfg.vae, epochs=epochs[0]),
                  cnn=replace(cfg.cnn, epochs=epochs[1]),
                  preprocess=replace(cfg.preprocess, per_family=0))
    rows = _paper_rows()
    if "full" in PARTS and (saved := _saved_part("full")) is not None:
        rows += saved
    elif "full" in PARTS:
        log.info("families bench: residues only, all families")
        part = _rows(run_pipeline(table, cfg, seed=seeds or 0, on_progress=_log_progress),
                     "", cfg)
        _save_part("full", part)
        rows += part
    if "ss_sa" in PARTS and (saved := _saved_part("ss_sa")) is not None:
        rows += saved
    elif "ss_sa" in PARTS and reprof.available():
        sub = replace(cfg, use_reprof=True,
                      preprocess=replace(cfg.preprocess,
                                         per_family=10 if quick else SUBSET_PER_FAMILY))
        log.info("families bench: SS/SA on %d per family", sub.preprocess.per_family)
        part = _rows(run_pipeline(table, sub, seed=seeds or 0, on_progress=_log_progress),
                     "@subset", sub)
        _save_part("ss_sa", part)
        rows += part
    return [r for r in rows if math.isfinite(r["value"])]  # a figure not measured: no row
