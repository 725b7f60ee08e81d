"""Score-level ensembles of protein–text models, chosen on validation designs only.

A weighted sum of two models' standardised cosines, ``s = w * s1 / sd1 + (1 - w) * s2 / sd2``,
is the cosine-like score of concatenated embeddings ``[a1 * P1, a2 * P2]`` and
``[a1 * Q1, a2 * Q2]`` with ``a1 = sqrt(w / sd1)``, ``a2 = sqrt((1 - w) / sd2)``, so every
metric and the search index work on it unchanged. ``sd`` is the standard deviation of a model's
scores between the training texts and training proteins (test rows are never used).

Component models come from :func:`~core.tasks.text_pipeline.run_experiment` with a few
configurations (:data:`COMPONENTS`); their embeddings are cached per design under
``workspace/text_ensemble`` so that weights can be swept offline::

    python -m core.tasks.text_ensemble inner      # the 6 inner designs (choice of w)
    python -m core.tasks.text_ensemble paper      # the outer paper protocol, 3 seeds
"""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

_LEX = {"finetune": ["mixed"], "ensemble_plain": 0.0, "protein_features": "kmer"}
_PLAIN = _LEX | {"text_lexical": False, "neighbour_stats": False}
#: name -> (config overrides, frozen protein features for the dense branch (None, "svd":
#: k-mer TF-IDF SVD-256, "near": mean-pooled NEAR), offset of the training seed: the same
#: model from another initialisation and batch order)
COMPONENTS: dict[str, tuple[dict, str | None, int]] = {
    "lex": (_LEX, None, 0),
    "plain": (_PLAIN, None, 0),
    "svd": (_PLAIN | {"kmer_bag": False}, "svd", 0),
    "lex1": (_LEX, None, 101),
    "plain1": (_PLAIN, None, 101),
    "near": (_PLAIN | {"kmer_bag": False}, "near", 0),
    "plain_near": (_PLAIN, "near", 0),
    "lex_near": (_LEX, "near", 0),
    "lexlen": (_LEX | {"stats_measure": "identity_length"}, None, 0),
}
DEFAULT_COMPONENTS = ("lex", "plain", "svd", "lex1", "plain1")
METRICS = ("pairwise_acc_hard", "pairwise_acc_strict", "pairwise_acc_easy", "recall_at_1",
           "recall_at_10", "f1_hard", "n_hard", "n_strict")


def score_scale(P: np.ndarray, Q: np.ndarray, text_ids: np.ndarray, rows: np.ndarray) -> float:
    """Standard deviation of the cosines between the distinct texts of ``rows`` and ``rows``."""
    S = Q[np.unique(text_ids[rows])] @ P[rows].T
    return float(S.std()) + 1e-9


def combine(parts: list[tuple[np.ndarray, np.ndarray, float]], weights: list[float]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated (P, Q) whose dot product is sum_i w_i * P_i Q_i / sd_i."""
    P = np.concatenate([np.sqrt(w / sd) * p for (p, _, sd), w in zip(parts, weights, strict=True)], 1)
    Q = np.concatenate([np.sqrt(w / sd) * q for (_, q, sd), w in zip(parts, weights, strict=True)], 1)
    return P.astype(np.float32), Q.astype(np.float32)


def design_embeddings(table, text_features, twins, protocol, *, texts, dense: dict, seed: int,
                      cache: Path, components=DEFAULT_COMPONENTS
                      ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(P, Q) of every component model (``<component>_<stage>``) on one design, cached."""
    from core.tasks.text_pipeline import TextExperimentConfig, run_experiment

    out = {}
    for comp in components:
        over, source, offset = COMPONENTS[comp]
        path = cache / f"{protocol.name}_s{seed}_{comp}.npz"
        if not path.exists():
            cfg = TextExperimentConfig.from_dict(over)
            exp = run_experiment(table, text_features, twins, protocol, cfg, texts=texts,
                                 dense=dense.get(source), seed=seed + offset)
            arrays = {}
            for model, res in exp.results.items():
                arrays[f"{model}_P"], arrays[f"{model}_Q"] = res.protein_emb, res.text_emb
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, **arrays)
        with np.load(path, allow_pickle=False) as z:
            for key in z.files:
                if key.endswith("_P"):
                    model = key[:-2]
                    out[f"{comp}_{'base' if model == 'baseline_infonce' else model}"] = (
                        z[key], z[model + "_Q"])
    return out


def sweep(embs: dict, pairs: list[tuple[tuple[str, ...], tuple[str, ...]]], grid: np.ndarray,
          text_ids, twins, protocol, seed: int) -> list[dict]:
    """Metrics of every single model and of every pair of groups at every weight of ``grid``
    (the weight of the first group; models within a group share their group's weight)."""
    from core.tasks.text_eval import evaluate

    scales = {k: score_scale(P, Q, text_ids, protocol.train) for k, (P, Q) in embs.items()}
    rows = []
    for name, (P, Q) in embs.items():
        m, _ = evaluate(P, Q, text_ids, twins, protocol.test, protocol.valid, seed=seed)
        rows.append({"combo": name, "w": 1.0} | {k: m.get(k) for k in METRICS})
    for a, b in pairs:
        parts = [(*embs[k], scales[k]) for k in a + b]
        for w in (grid if b else [1.0]):
            weights = [w / len(a)] * len(a) + [(1 - w) / max(len(b), 1)] * len(b)
            P, Q = combine(parts, weights)
            m, _ = evaluate(P, Q, text_ids, twins, protocol.test, protocol.valid, seed=seed)
            rows.append({"combo": "+".join(a) + ("|" + "+".join(b) if b else ""),
                         "w": float(w)} | {k: m.get(k) for k in METRICS})
    return rows


def main(argv: list[str] | None = None) -> None:
    import torch

    from core.encoders import KmerEncoder, cache_root, embed_cached
    from core.tasks.text_data import Protocol, get_protocol, inner_paper_protocols, load_builtin
    from core.tasks.text_features import embed_texts

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("design", choices=("inner", "paper", "novel_families", "novel_valid"),
                        help="novel_valid: train on the novel-families training split, "
                             "evaluate on its validation split")
    parser.add_argument("--components", default=",".join(DEFAULT_COMPONENTS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", default="workspace/text_ensemble")
    args = parser.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or 1))
    table, texts, twins = load_builtin()
    tf = embed_texts(texts)
    seqs = table["sequence"].astype(str).tolist()
    components = args.components.split(",")
    dense = {"svd": embed_cached(KmerEncoder(), seqs)}
    if any(COMPONENTS[c][1] == "near" for c in components):
        from core.encoders import NearEncoder

        dense["near"] = embed_cached(NearEncoder(), seqs)
    text_ids = table["text_id"].to_numpy(np.int64)
    cache = Path(args.out)
    log.info("cache %s (encoders at %s)", cache, cache_root())
    pairs = [(("lex_mixed",), ("plain_base",)), (("lex_mixed",), ("plain_mixed",)),
             (("lex_mixed",), ("svd_mixed",)), (("lex_base",), ("plain_mixed",)),
             (("lex_mixed", "lex1_mixed"), ()), (("plain_mixed", "plain1_mixed"), ()),
             (("lex_mixed", "lex1_mixed"), ("plain_mixed", "plain1_mixed")),
             (("lex_mixed", "lex1_mixed"), ("plain_mixed", "plain1_mixed", "svd_mixed")),
             (("lex_mixed",), ("near_mixed",)), (("plain_mixed",), ("near_mixed",)),
             (("lex_mixed",), ("plain_near_mixed",)), (("lexlen_mixed",), ("plain_mixed",))]
    grid = np.round(np.arange(0.1, 0.95, 0.1), 2)
    rows = []
    seeds = args.seeds  # novel families: one split, the seed varies the models
    for seed in range(seeds):
        outer = get_protocol(table, {"inner": "paper", "novel_valid": "novel_families"}.get(
            args.design, args.design), seed=seed)
        if args.design == "novel_valid":  # the test rows are never touched
            outer = Protocol("novel_valid", outer.train, outer.valid, outer.valid)
        designs = (inner_paper_protocols(table, outer, repeats=args.repeats, seed=seed)
                   if args.design == "inner" else [outer])
        for r, proto in enumerate(designs):
            embs = design_embeddings(table, tf, twins, proto, texts=texts, dense=dense,
                                     seed=seed, cache=cache, components=components)
            todo = [(a, b) for a, b in pairs if all(k in embs for k in a + b)]
            for row in sweep(embs, todo, grid, text_ids, twins, proto, seed):
                rows.append({"seed": seed, "design": r} | row)
            log.info("%s seed %d design %d done", args.design, seed, r)
            out = pd.DataFrame(rows)
            out.to_csv(cache / f"sweep_{args.design}_{'-'.join(components)}.csv",
                       index=False)
    out = pd.DataFrame(rows)
    print(out.groupby(["combo", "w"])[list(METRICS[:5])].mean().round(4).to_string())


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    main()
