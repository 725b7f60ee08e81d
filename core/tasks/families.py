"""Job ``families.fit`` and ``python -m core train families``: the seed-001 pipeline
(:mod:`core.families.pipeline`) stored as a run, plus helpers the page uses on a finished run
(reload the residue VAE, fingerprint a new sequence, rank families by Minkowski distance).
"""
from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np

from core.families.evaluate import KMEANS_SPACES

log = logging.getLogger(__name__)


def _payload_table(payload: dict):
    table = payload["table"].reset_index(drop=True)
    family_col = payload.get("family_col", "family_id")
    for col in ("id", "aligned", family_col):
        if col not in table.columns:
            raise KeyError(f"the families pipeline needs a column {col!r}")
    return table, family_col


def fit_job(payload: dict, ctx) -> Any:
    """Payload: ``table`` (id, aligned, family column, optional sequence), ``family_col``
    (default family_id), ``config`` (dict of :class:`FamiliesConfig` fields, nested dicts for
    preprocess / vae / cnn)."""
    from core.families.pipeline import FamiliesConfig, run_pipeline
    from core.jobs import RunResult

    table, family_col = _payload_table(payload)
    cfg = FamiliesConfig.from_dict(payload.get("config"))
    out = run_pipeline(table, cfg, family_col=family_col, seed=ctx.seed, device=ctx.device,
                       on_progress=ctx.on_progress)
    names, split = out["names"], out["split"]
    members = out["tables"]["members"]
    arrays = {"ids": np.asarray(members["id"], dtype=str), "labels": out["labels"],
              "split": np.asarray(split, dtype=str), "coords": out["coords"]}
    for k, v in out["fingerprints"].items():
        arrays[f"fingerprints_{k}"] = v
    for k, v in out["family_fingerprints"].items():
        arrays[f"family_fingerprints_{k}"] = v.astype(np.float32)
    weights = {f"vae_{k}": m.state_dict() for k, m in out["vaes"].items()}
    weights.update({k: m.state_dict() for k, m in out["cnns"].items()})
    metrics = out["metrics"]
    main = "cnn_all" if "cnn_all" in out["cnns"] else "cnn_residue"
    summary = {"key_metric": {"name": "f1_macro", "value": metrics[f"f1_macro_{main}"]},
               "class_names": names, "width": out["width"], "features": out["features"],
               "feature_info": out["feature_info"], "baseline_info": out["baseline_info"],
               "timings": out["timings"], "n": int(len(members)),
               "config": json.loads(json.dumps(cfg, default=lambda o: o.__dict__))}
    return RunResult(metrics=metrics, history=out["history"], summary=summary,
                     weights=weights, arrays=arrays, tables=out["tables"])


# --------------------------------------------------------------------------- on a finished run


def load_vae(store, run, feature: str = "residue"):
    """The run's VAE for one feature type (CPU, eval mode)."""
    from core.families.features import FEATURES
    from core.models.family_vae import FamilyVAE

    state = store.load_weights(run.id)[f"vae_{feature}"]
    vcfg = run.summary["config"]["vae"]
    model = FamilyVAE(run.summary["width"], len(FEATURES[feature]), hidden=vcfg["hidden"],
                      latent=vcfg["latent"], epsilon_std=vcfg["epsilon_std"],
                      decoder=vcfg.get("decoder", "sigmoid"))
    model.load_state_dict(state)
    return model.eval()


def family_hmms(members, names: list[str]) -> dict:
    """One profile HMM per family from its training rows."""
    from core.families.hmm import build_hmm

    train = members[members["split"] == "train"]
    return {n: build_hmm(n, train.loc[train["family"] == n, "aligned"].tolist()) for n in names}


def fingerprint_sequence(sequence: str, hmms: dict, vae, width: int) -> dict[str, Any]:
    """Align ``sequence`` onto the best-scoring family HMM, encode it and return its residue
    fingerprint, the HMM it was aligned to, and the aligned row."""
    from core.families.features import residue_onehot
    from core.families.hmm import align_to_hmm, best_family
    from core.families.train import vae_outputs

    seq = "".join(sequence.split()).upper()
    best, scores = best_family(hmms, [seq])
    if best[0] is None:
        raise ValueError("no family HMM matched the sequence (no hit at E <= 1000)")
    row = align_to_hmm(hmms[best[0]], [seq])[0]
    z, _ = vae_outputs(vae, residue_onehot([row], width))
    return {"fingerprint": z[0], "aligned_to": best[0], "aligned": row,
            "hmm_scores": dict(zip(hmms, scores[0].tolist(), strict=True))}


# --------------------------------------------------------------------------- command line


def add_arguments(parser) -> None:
    """Options of ``python -m core train families``."""
    parser.add_argument("--dataset", default="pfam25", help="built-in set (default pfam25)")
    parser.add_argument("--input", nargs="*", default=None,
                        help="alignment files (one family each: Stockholm/A2M/aligned FASTA)")
    parser.add_argument("--families", default=None,
                        help="comma-separated subset of families of the data set")
    parser.add_argument("--per-family", type=int, default=500,
                        help="class balancing: sequences per family (0 = smallest family)")
    parser.add_argument("--min-len", type=int, default=50)
    parser.add_argument("--max-len", type=int, default=1200)
    parser.add_argument("--vae-epochs", type=int, default=None)
    parser.add_argument("--vae-decoder", choices=("sigmoid", "softmax"), default="sigmoid",
                        help="sigmoid: the paper's output layer; softmax: one symbol per "
                             "position (categorical cross-entropy), outside the paper")
    parser.add_argument("--kmeans-space", choices=KMEANS_SPACES, default=None,
                        help="fingerprint transform before K-means, fitted on the training "
                             "folds (default: the pipeline's)")
    parser.add_argument("--cnn-epochs", type=int, default=None)
    parser.add_argument("--no-reprof", action="store_true", help="residues only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None)


def table_from_files(paths: list[str]):
    """Aligned rows of several alignment files, the file name as the family."""
    from pathlib import Path

    import pandas as pd

    from core.io import read_sequences

    parts = []
    for p in paths:
        t = read_sequences(p).table
        if "aligned" not in t.columns:
            raise ValueError(f"{p}: not an alignment (no gapped rows)")
        parts.append(t.assign(family_id=Path(p).stem))
    return pd.concat(parts, ignore_index=True)


def config_from_args(args) -> dict:
    cfg: dict[str, Any] = {"preprocess": {"per_family": args.per_family, "min_len": args.min_len,
                                          "max_len": args.max_len},
                           "use_reprof": not args.no_reprof}
    cfg["vae"] = {"decoder": args.vae_decoder}
    if args.vae_epochs:
        cfg["vae"]["epochs"] = args.vae_epochs
    if args.cnn_epochs:
        cfg["cnn"] = {"epochs": args.cnn_epochs}
    if args.kmeans_space:
        cfg["kmeans_space"] = args.kmeans_space
    return cfg


def cli_train(args) -> int:
    from core import datasets
    from core.jobs import print_outcome, run_inline
    from core.store import RunStore

    if args.input:
        table, name = table_from_files(args.input), "upload"
    else:
        table, name = datasets.load(args.dataset), args.dataset
    if args.families:
        keep = [f.strip() for f in args.families.split(",")]
        table = table[table["family_id"].isin(keep)]
    config = config_from_args(args)
    store = RunStore()
    run_id = run_inline("families.fit", {"table": table, "config": config}, store,
                        method="families", name=f"Family fingerprints on {name}",
                        config=config, dataset={"name": name, "n": len(table)},
                        seed=args.seed, device=args.device)
    code = print_outcome(store, run_id)
    if code == 0:
        print(json.dumps(store.get(run_id).timings))
    return code
