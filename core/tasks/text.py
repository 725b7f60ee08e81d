"""Protein-text retrieval: dual encoder, twin hard negatives, triplet fine-tuning (seed 003).

Job ``text.fit``: text features (MiniLM, cached) -> twins (shipped or mined) -> baseline
InfoNCE -> fine-tunes (triplet, mixed) -> evaluation -> a run with the final model, the
embeddings of baseline and final model, score tables, sweeps and the loss curve.
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

MODEL_LABELS = {"baseline_infonce": "Baseline (InfoNCE)", "triplet": "Fine-tuned (triplet)",
                "mixed": "Fine-tuned (mixed)",
                "mixed_ensemble": "Fine-tuned (mixed) + plain k-mer model"}


def experiment_config(overrides: dict | None = None):
    from core.tasks.text_pipeline import TextExperimentConfig

    return TextExperimentConfig.from_dict(overrides)


def _twins_for(table: pd.DataFrame, payload: dict, ctx) -> tuple[pd.DataFrame, dict]:
    from core.tasks.text_data import twin_index
    from core.tasks.twins import TwinConfig, mine_twins

    source = payload.get("twins", "mine")
    if isinstance(source, pd.DataFrame):
        return twin_index(table, source), {"source": "given", "twin_pairs": len(source)}
    if source == "shipped":
        from core.datasets import load_file

        shipped = load_file("protein_text", "resfinder_twins.csv")
        return twin_index(table, shipped), {"source": "shipped", "twin_pairs": len(shipped)}
    from core.encoders import cache_root

    cfg = TwinConfig(**payload.get("twin_config", {}))
    found, info = mine_twins(table, cfg, cache_dir=cache_root(), on_progress=ctx.on_progress)
    return twin_index(table, found), info | {"source": "mined", "config": asdict(cfg)}


def fit_job(payload: dict, ctx) -> Any:
    """Job ``text.fit``. Payload: ``table`` (id, sequence, text[, split]), ``protocol``
    ("paper", "novel_families"), ``twins`` ("shipped", "mine" or a DataFrame id_a/id_b),
    ``twin_config`` (dict of :class:`~core.tasks.twins.TwinConfig`), ``config`` (dict of
    :class:`~core.tasks.text_pipeline.TextExperimentConfig`)."""

    from core.jobs import RunResult
    from core.tasks.text_data import get_protocol, with_text_ids
    from core.tasks.text_features import embed_texts
    from core.tasks.text_pipeline import BASELINE, ENSEMBLE, run_experiment

    table, texts = with_text_ids(payload["table"].reset_index(drop=True))
    cfg = experiment_config(payload.get("config"))
    protocol = get_protocol(table, payload.get("protocol", "paper"), seed=ctx.seed)
    t0 = time.perf_counter()
    text_features = embed_texts(texts, device=ctx.device, on_progress=ctx.on_progress)
    text_s = time.perf_counter() - t0
    twins, twin_info = _twins_for(table, payload, ctx)
    exp = run_experiment(table, text_features, twins, protocol, cfg, texts=texts, seed=ctx.seed,
                         device=ctx.device, on_progress=ctx.on_progress)
    cfg = exp.config  # as run: the protein input decided for the protocol
    final = list(exp.results.values())[-1]
    base = exp.results[BASELINE]
    metrics = dict(final.metrics)
    for name, res in exp.results.items():
        metrics |= {f"{name}/{k}": v for k, v in res.metrics.items()}
    state = {k: (v.half() if k.startswith("protein.") or ".protein." in k else v)
             for k, v in final.state.items()}
    ids = np.asarray(table["id"].astype(str).tolist(), dtype=str)
    arrays = {"ids": ids, "protein_emb": final.protein_emb, "text_emb": final.text_emb,
              "base_protein_emb": base.protein_emb, "base_text_emb": base.text_emb,
              "text_ids": table["text_id"].to_numpy(np.int64),
              "split": protocol.split_of(len(table)).astype(str),
              "kmers": np.asarray(exp.vocab.kmers_, dtype=str), "idf": exp.vocab.idf_,
              "protein_features": np.asarray(cfg.protein_features)}
    if exp.lexicon is not None:
        arrays |= {"lex_terms": exp.lexicon.terms_, "lex_idf": exp.lexicon.idf_}
    if exp.stats_scale is not None:
        arrays |= {"stats_mean": exp.stats_scale[0], "stats_std": exp.stats_scale[1],
                   "stats_measure": np.asarray(cfg.stats_measure),
                   "stats_reference": np.asarray(cfg.stats_reference)}
    cases = pd.concat([r.cases for r in exp.results.values()], ignore_index=True)
    cases["id_a"], cases["id_b"] = ids[cases["a"]], ids[cases["b"]]
    tables = {"cases": cases.drop(columns=["a", "b"]),
              "texts": pd.DataFrame({"text_id": np.arange(len(texts)), "text": texts}),
              "proteins": pd.DataFrame({"id": ids, "sequence": table["sequence"].astype(str),
                                        "text_id": table["text_id"],
                                        "split": arrays["split"]}),
              "twins": twins.drop(columns=["a", "b"]),
              "summary": summary_table(exp)}
    history = [row | {"model": name} for name, r in exp.results.items() for row in r.history]
    if exp.companion is not None:  # the ensemble's plain member: its own two stages
        history += [row | {"model": f"plain_{name}"}
                    for name, r in exp.companion.results.items() for row in r.history]
    summary = {"key_metric": {"name": "pairwise_acc_hard",
                              "value": metrics.get("pairwise_acc_hard", float("nan"))},
               "final_model": final.name, "models": list(exp.results),
               "protocol": protocol.name, "protein_features": cfg.protein_features,
               "n": len(table), "n_texts": len(texts),
               "n_train": len(protocol.train), "n_test": len(protocol.test),
               "n_triplets": exp.n_triplets, "twins": twin_info,
               "model_config": exp.model_cfg.to_dict(), "vocab": exp.vocab.describe(),
               "ensemble": exp.ensemble if final.name == ENSEMBLE else None,
               "lexicon_terms": len(exp.lexicon) if exp.lexicon is not None else 0,
               "experiment": json.loads(json.dumps(asdict(cfg))),
               "timings": {"text_features_s": round(text_s, 3),
                           **{f"{n}_s": round(r.seconds, 3) for n, r in exp.results.items()}}}
    return RunResult(metrics=metrics, history=history, summary=summary,
                     weights={"model": state}, arrays=arrays, tables=tables)


SUMMARY_METRICS = ("pairwise_acc_hard", "pairwise_acc_strict", "pairwise_acc_easy",
                   "precision_hard", "recall_hard", "f1_hard", "tau_hard", "f1_hard_valtau",
                   "precision_easy", "recall_easy", "f1_easy", "tau_easy", "recall_at_1",
                   "recall_at_10", "mrr", "p2t_recall_at_1", "p2t_recall_at_10", "p2t_mrr")


def summary_table(exp) -> pd.DataFrame:
    """The paper's results table: one row per model, the main metrics as columns."""
    rows = []
    for name, res in exp.results.items():
        row = {"model": name}
        for key in SUMMARY_METRICS:
            if key in res.metrics:
                row[key] = res.metrics[key]
                if f"{key}_se" in res.metrics:
                    row[f"{key}_se"] = res.metrics[f"{key}_se"]
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- command line


def add_arguments(parser) -> None:
    """Options of ``python -m core train text``."""
    from core.tasks.text_pipeline import PROTEIN_FEATURES, STATS_MEASURES, STATS_REFERENCES
    from core.tasks.text_pipeline import TextExperimentConfig as C

    parser.add_argument("--input", default=None,
                        help="CSV/TSV with sequence and text columns instead of the built-in set")
    parser.add_argument("--protocol", default="paper", choices=["paper", "novel_families"])
    parser.add_argument("--twins", default="shipped", choices=["shipped", "mine"],
                        help="twin pairs: the shipped table (built-in set) or mined here")
    parser.add_argument("--min-ratio", type=float, default=0.7)
    parser.add_argument("--max-ratio", type=float, default=0.9999)
    parser.add_argument("--max-text-cosine", type=float, default=0.5)
    parser.add_argument("--base-epochs", type=int, default=C.train.epochs)
    parser.add_argument("--finetune-epochs", type=int, default=C.finetune_epochs)
    parser.add_argument("--finetune", default="triplet,mixed",
                        help="comma-separated fine-tunes from the baseline; the last is kept")
    parser.add_argument("--triplet-weight", type=float, default=C.train.triplet_weight)
    parser.add_argument("--margin", type=float, default=C.train.margin)
    parser.add_argument("--grad-accum", type=int, default=C.train.grad_accum)
    parser.add_argument("--ensemble-plain", type=float, default=C.ensemble_plain,
                        help="weight of the plain k-mer companion in the final model "
                             "(0: the mixed model alone; default: 0.5 for the paper "
                             "protocol, 0 for novel families)")
    # choices decided per protocol when "auto" (chosen on validation data, see the README)
    for field, choices, text in (
            ("protein_features", PROTEIN_FEATURES,
             "protein tower input: kmer (trained k-mer bag), near (frozen NEAR embeddings), "
             "kmer+near; auto: kmer for the paper protocol, near for novel families"),
            ("stats_reference", STATS_REFERENCES,
             "neighbourhood statistics count relatives among the training proteins (train) "
             "or every protein's sequence, the library's at search time (all, "
             "transductive); auto: train for the paper protocol, all for novel families"),
            ("stats_measure", STATS_MEASURES,
             "identity, identity_length (plus the length against the closest relatives) or "
             "kmer; auto: identity for the paper protocol, identity_length for novel "
             "families")):
        parser.add_argument("--" + field.replace("_", "-"), default=getattr(C, field),
                            choices=list(choices), help=text)
    parser.add_argument("--twin-fraction", type=float, default=C.twin_fraction,
                        help="share of each InfoNCE batch made of (protein, twin) pairs "
                             "(0: random batches; default: 0.5 for the paper protocol, 0 for "
                             "novel families)")
    parser.add_argument("--text-finetune", action="store_true",
                        help="train the MiniLM transformer too (slow on a CPU)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None)


def load_table(path: str | None) -> tuple[pd.DataFrame, str]:
    """The built-in set, or a user's CSV/TSV (texts validated; errors stop with the records)."""
    if path is None:
        from core.datasets import load

        return load("protein_text"), "protein_text"
    from core.tasks.text_data import read_text_table

    parsed = read_text_table(path)
    if parsed.report.errors:
        lines = "; ".join(f"{p.record_id or ''} line {p.line}: {p.message}"
                          for p in parsed.report.errors[:10])
        raise ValueError(f"{path}: {len(parsed.report.errors)} error(s): {lines}")
    return parsed.table, path


def cli_train(args) -> int:
    """Run ``text.fit`` in this process and print the results table."""
    from core.jobs import print_outcome, run_inline
    from core.store import RunStore

    table, name = load_table(args.input)
    twins = "mine" if args.input else args.twins
    config = {"train": {"epochs": args.base_epochs, "triplet_weight": args.triplet_weight,
                        "margin": args.margin, "grad_accum": args.grad_accum},
              "finetune_epochs": args.finetune_epochs,
              "finetune": [s for s in args.finetune.split(",") if s],
              "text_finetune": args.text_finetune, "ensemble_plain": args.ensemble_plain,
              "protein_features": args.protein_features, "twin_fraction": args.twin_fraction,
              "stats_reference": args.stats_reference, "stats_measure": args.stats_measure}
    twin_config = {"min_ratio": args.min_ratio, "max_ratio": args.max_ratio,
                   "max_text_cosine": args.max_text_cosine}
    keep = [c for c in ("id", "sequence", "text", "split") if c in table.columns]
    store = RunStore()
    run_id = run_inline("text.fit", {"table": table[keep], "protocol": args.protocol,
                                     "twins": twins, "twin_config": twin_config,
                                     "config": config},
                        store, method="text", name=f"Text retrieval on {name}",
                        config=config | {"protocol": args.protocol, "twins": twins},
                        dataset={"name": name, "n": len(table)}, seed=args.seed,
                        device=args.device)
    return print_outcome(store, run_id, show=lambda run: store.load_table(
        run.id, "summary").round(4).to_string(index=False))
